"""Is a reading believable? Pure and stateful per meter; time is an argument.

A reading that fails here is never handed to the balancing as truth: a wrong
"low" current lets chargers trip the main fuse, so we would rather run on the
offline budget (fail closed) than on a number we do not believe.

Rejected (severity ``reject``):
  * ``not_finite``      NaN or ±inf anywhere (a Modbus float32 can carry them)
  * ``negative``        a negative current magnitude, voltage or energy counter
  * ``absurd``          a current far beyond the fuse (``absurd_factor`` × fuse):
                        a fuse trips long before, so the meter or the scaling is wrong.
                        Real overloads (1–2× the fuse) are kept: they matter most.
  * ``line_count``      a different number of lines than the meter is set up for
  * ``future_ts``       a meter timestamp ahead of our clock by more than a tolerance
  * ``out_of_order``    a timestamp or seq older than the last accepted one
  * ``duplicate``       the same timestamp or seq again
  * ``frozen``          every value identical for ``frozen_after_s`` (a stuck meter
                        or gateway repeating its last answer)

Flagged (used, but counted and shown): ``delayed`` (arrived long after its
timestamp), ``energy_backwards``, ``seq_restart`` (device rebooted).

Installation faults (severity ``fault``; the reading's magnitudes are still
used, the portal should tell the installer), after ``fault_after_readings``
consecutive readings of evidence, only on lines carrying at least
``min_current_for_pattern_a``:
  * ``clamp_reversed``   apparent power factor P/(V·I) below −0.9: the power
                         flows "out" at a resistive-like angle. A backwards clamp,
                         or genuine export on that line (PV); hence "likely".
  * ``clamp_wrong_phase`` apparent power factor between −0.9 and −0.2: current and
                         voltage are ~120° apart, i.e. the clamp of this line sits
                         on another phase's conductor.
  * ``clamps_same_phase`` two lines carry the identical, changing current: two
                         clamps around the same conductor.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from fuseshare.balancing.topology import ALL_LINES
from fuseshare.meters.reading import Finding, Reading, Verdict

_SAME_PHASE_SWING_A = 2.0
"""How far equal currents must move together before two clamps look like one conductor."""


@dataclass(frozen=True, slots=True)
class PlausibilityLimits:
    """Tunables. Defaults suit a 1 s Amp Guard on a 16–250 A main fuse."""

    fuse_a: float | None = None
    """The main fuse per phase (the group's max supply current); None = unknown."""
    absurd_factor: float = 3.0
    """Currents above ``absurd_factor × fuse_a`` are rejected."""
    absurd_without_fuse_a: float = 2000.0
    """Bound used while the fuse is unknown: above any building supply we serve."""
    max_voltage_v: float = 1000.0
    frozen_after_s: float = 120.0
    future_tolerance_s: float = 5.0
    """Meter clocks drift; a little ahead is tolerated, more is a wrong clock."""
    delayed_after_s: float = 5.0
    """A reading older than this on arrival is flagged ``delayed``."""
    fault_after_readings: int = 30
    min_current_for_pattern_a: float = 2.0
    """Below this the power factor of small loads (chargers, LEDs) says nothing."""
    restart_after_readings: int = 3
    """Consecutive lower-but-rising seqs (without timestamps) that mean a reboot."""

    @property
    def absurd_current_a(self) -> float:
        if self.fuse_a is None:
            return self.absurd_without_fuse_a
        return self.absurd_factor * self.fuse_a


@dataclass(slots=True)
class _PatternCounter:
    count: int = 0
    reported: bool = False
    low_a: float = math.inf
    high_a: float = -math.inf


@dataclass
class PlausibilityChecker:
    """Checks the readings of one meter, in arrival order.

    ``expected_lines`` is 3 or 1 (None accepts either). Call :meth:`check` with
    each reading and the current time; only accepted readings move the state
    (last timestamp and seq) forward.
    """

    limits: PlausibilityLimits = field(default_factory=PlausibilityLimits)
    expected_lines: int | None = None
    last_ts_s: float | None = None
    last_seq: int | None = None
    last_energy_kwh: float | None = None
    _frozen_key: tuple[object, ...] | None = None
    _frozen_since_s: float | None = None
    _restart_seqs: list[int] = field(default_factory=list)
    _patterns: dict[tuple[str, str], _PatternCounter] = field(default_factory=dict)
    active_faults: dict[tuple[str, str], Finding] = field(default_factory=dict)

    def check(self, reading: Reading, now_s: float) -> Verdict:
        findings = self._values(reading)
        if not findings:
            findings = self._order(reading, now_s)
        if any(f.severity == "reject" for f in findings):
            return Verdict(False, tuple(findings))
        frozen = self._frozen(reading)
        if frozen is not None:
            return Verdict(False, (*findings, frozen))
        # Accepted: move the state forward, then look at slower patterns.
        if reading.meter_ts_s is not None:
            self.last_ts_s = reading.meter_ts_s
        if reading.seq is not None:
            self.last_seq = reading.seq
        self._restart_seqs.clear()
        if reading.energy_kwh is not None:
            if (
                self.last_energy_kwh is not None
                and reading.energy_kwh < self.last_energy_kwh - 1e-6
            ):
                findings.append(
                    Finding(
                        "energy_backwards",
                        f"energy counter went back from {self.last_energy_kwh} to "
                        f"{reading.energy_kwh} kWh (meter replaced or reset?)",
                        "flag",
                    )
                )
            self.last_energy_kwh = reading.energy_kwh
        if (
            reading.meter_ts_s is not None
            and now_s - reading.meter_ts_s > self.limits.delayed_after_s
        ):
            findings.append(
                Finding(
                    "delayed",
                    f"reading arrived {now_s - reading.meter_ts_s:.1f} s after its timestamp "
                    "(meter clock behind, or delivery delayed)",
                    "flag",
                )
            )
        findings.extend(self._installation(reading))
        return Verdict(True, tuple(findings))

    # -- single-reading checks -------------------------------------------------

    def _values(self, r: Reading) -> list[Finding]:
        out: list[Finding] = []
        n = len(r.current_a)
        # The MQTT/HTTP parser already enforces this; in-process and Modbus
        # adapters build readings themselves, so check the shape here too.
        if n not in (1, 3) or any(v is not None and len(v) != n for v in (r.voltage_v, r.power_w)):
            return [Finding("line_count", "a reading needs 1 or 3 lines, the same in every list")]
        if self.expected_lines is not None and n != self.expected_lines:
            out.append(
                Finding(
                    "line_count",
                    f"{len(r.current_a)} line(s) reported but this meter is set up for "
                    f"{self.expected_lines}",
                )
            )
        groups = (("current", r.current_a), ("voltage", r.voltage_v), ("power", r.power_w))
        for name, values in groups:
            if values is None:
                continue
            for line, value in zip(ALL_LINES, values, strict=False):
                if not math.isfinite(value):
                    out.append(Finding("not_finite", f"{name} on {line} is {value}", line=line))
        if r.energy_kwh is not None and not math.isfinite(r.energy_kwh):
            out.append(Finding("not_finite", f"energy is {r.energy_kwh}"))
        if out:
            return out
        for line, current in zip(ALL_LINES, r.current_a, strict=False):
            if current < 0:
                out.append(
                    Finding(
                        "negative",
                        f"current on {line} is {current} A; current_a is a magnitude "
                        "(direction goes in the sign of power_w)",
                        line=line,
                    )
                )
            elif current > self.limits.absurd_current_a:
                out.append(
                    Finding(
                        "absurd",
                        f"current on {line} is {current:g} A, beyond "
                        f"{self.limits.absurd_current_a:g} A that any fuse here would carry "
                        "(wrong scaling or CT ratio?)",
                        line=line,
                    )
                )
        for line, volts in zip(ALL_LINES, r.voltage_v or (), strict=False):
            if volts < 0 or volts > self.limits.max_voltage_v:
                out.append(
                    Finding(
                        "negative" if volts < 0 else "absurd",
                        f"voltage on {line} is {volts:g} V",
                        line=line,
                    )
                )
        if r.energy_kwh is not None and r.energy_kwh < 0:
            out.append(Finding("negative", f"energy counter is negative ({r.energy_kwh} kWh)"))
        return out

    def _order(self, r: Reading, now_s: float) -> list[Finding]:
        out: list[Finding] = []
        ts = r.meter_ts_s
        if ts is not None:
            if ts > now_s + self.limits.future_tolerance_s:
                return [
                    Finding(
                        "future_ts",
                        f"timestamp is {ts - now_s:.1f} s in the future; set the meter's clock (NTP)",
                    )
                ]
            if self.last_ts_s is not None:
                if ts < self.last_ts_s:
                    return [
                        Finding(
                            "out_of_order",
                            f"timestamp is {self.last_ts_s - ts:.3f} s older than the last accepted reading",
                        )
                    ]
                if ts == self.last_ts_s and (r.seq is None or r.seq == self.last_seq):
                    return [Finding("duplicate", "same timestamp as the last accepted reading")]
        if r.seq is not None and self.last_seq is not None:
            if r.seq == self.last_seq:
                return [Finding("duplicate", f"seq {r.seq} was already received")]
            if r.seq < self.last_seq:
                if (
                    ts is not None and self.last_ts_s is not None and ts > self.last_ts_s
                ) or self._looks_like_restart(r.seq):
                    out.append(
                        Finding(
                            "seq_restart", f"seq restarted at {r.seq} (meter rebooted?)", "flag"
                        )
                    )
                else:
                    return [
                        Finding(
                            "out_of_order",
                            f"seq {r.seq} is older than the last accepted seq {self.last_seq}",
                        )
                    ]
        return out

    def _looks_like_restart(self, seq: int) -> bool:
        # Without timestamps a reboot looks like "out of order" until the new
        # counter passes the old one, which could be days. A short run of
        # rising seqs below the old one is a reboot, not a stray late message.
        if self._restart_seqs and seq <= self._restart_seqs[-1]:
            self._restart_seqs.clear()
        self._restart_seqs.append(seq)
        return len(self._restart_seqs) >= self.limits.restart_after_readings

    def _frozen(self, r: Reading) -> Finding | None:
        key = (r.current_a, r.voltage_v, r.power_w)
        at = r.measured_at_s
        if key != self._frozen_key or self._frozen_since_s is None:
            self._frozen_key = key
            self._frozen_since_s = at
            return None
        frozen_s = at - self._frozen_since_s
        if frozen_s >= self.limits.frozen_after_s:
            return Finding(
                "frozen",
                f"every value has been identical for {frozen_s:.0f} s; the meter or its "
                "gateway seems stuck",
            )
        return None

    # -- installation patterns (over many readings) ---------------------------

    def _installation(self, r: Reading) -> list[Finding]:
        evidence: dict[tuple[str, str], Finding] = {}
        lim = self.limits
        if r.voltage_v is not None and r.power_w is not None:
            for line, i, v, p in zip(ALL_LINES, r.current_a, r.voltage_v, r.power_w, strict=False):
                if i < lim.min_current_for_pattern_a or v < 50:
                    continue
                pf = p / (v * i)
                if pf < -0.9:
                    evidence[("clamp_reversed", line)] = Finding(
                        "clamp_reversed",
                        f"{line}: power flows outwards at power factor {pf:.2f} while "
                        f"{i:.1f} A flows; the current clamp of {line} is likely mounted "
                        "backwards (or this line exports, e.g. PV)",
                        "fault",
                        line,
                    )
                elif -0.9 <= pf < -0.2:
                    evidence[("clamp_wrong_phase", line)] = Finding(
                        "clamp_wrong_phase",
                        f"{line}: apparent power factor {pf:.2f}; current and voltage are about "
                        f"120° apart, so the clamp of {line} likely sits on another phase",
                        "fault",
                        line,
                    )
        # A balanced three-phase load is equal on every line too; only equal
        # currents that *move together* (by _SAME_PHASE_SWING_A) mean one conductor.
        waiting: set[tuple[str, str]] = set()
        lines = list(zip(ALL_LINES, r.current_a, strict=False))
        for a in range(len(lines)):
            for b in range(a + 1, len(lines)):
                (la, ia), (lb, ib) = lines[a], lines[b]
                if ia < lim.min_current_for_pattern_a or abs(ia - ib) > 0.05 + 0.002 * ia:
                    continue
                key = ("clamps_same_phase", f"{la}{lb}")
                pair = self._patterns.setdefault(key, _PatternCounter())
                pair.low_a, pair.high_a = min(pair.low_a, ia), max(pair.high_a, ia)
                if pair.high_a - pair.low_a < _SAME_PHASE_SWING_A:
                    waiting.add(key)
                    continue
                evidence[key] = Finding(
                    "clamps_same_phase",
                    f"{la} and {lb} carry the same current ({ia:.1f} A) reading after "
                    "reading; two clamps likely sit on the same conductor",
                    "fault",
                    la,
                )
        out: list[Finding] = []
        for key in set(self._patterns) | set(evidence):
            counter = self._patterns.setdefault(key, _PatternCounter())
            if key in evidence or key in waiting:
                counter.count += 1
                if key in evidence and counter.count >= lim.fault_after_readings:
                    self.active_faults[key] = evidence[key]
                    if not counter.reported:
                        counter.reported = True
                        out.append(evidence[key])
            else:
                # Coincidences happen; only a sustained, unbroken pattern counts.
                counter.count = 0
                counter.reported = False
                counter.low_a, counter.high_a = math.inf, -math.inf
                self.active_faults.pop(key, None)
        return out

    def installation_faults(self) -> tuple[Finding, ...]:
        """The installation faults currently believed (sustained evidence)."""
        return tuple(self.active_faults[k] for k in sorted(self.active_faults))
