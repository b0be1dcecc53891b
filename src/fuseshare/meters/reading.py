"""One meter sample, and why a sample was refused.

A :class:`Reading` is what every meter adapter produces (Amp Guard over MQTT,
Modbus TCP, HTTP push, the simulated Amp Guard) and what the control side
consumes. Times are UNIX epoch seconds (float, UTC) so that a virtual clock and
the wall clock look the same to every consumer.

Invariants (checked by :mod:`fuseshare.meters.plausibility`, not here, so that a
bad sample can still be carried to the place that counts and explains it):

* ``current_a`` holds one value per grid line in grid order L1, L2, L3 (one
  value on a one-phase supply). The values are magnitudes in amperes: what the
  fuse sees. A meter's direction of flow is carried by the sign of ``power_w``
  (negative = export), see :attr:`Reading.signed_current_a`.
* ``voltage_v`` and ``power_w``, when present, have as many values as
  ``current_a``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fuseshare.balancing.topology import ALL_LINES, Line


@dataclass(frozen=True, slots=True)
class Reading:
    """One sample of one meter.

    ``received_at_s`` is when fuseshare got it; ``meter_ts_s`` is the meter's own
    clock where it has one. ``seq`` is the meter's message counter where it has
    one (Modbus pollers number their polls).
    """

    serial: str
    current_a: tuple[float, ...]
    received_at_s: float
    voltage_v: tuple[float, ...] | None = None
    power_w: tuple[float, ...] | None = None
    energy_kwh: float | None = None
    meter_ts_s: float | None = None
    seq: int | None = None
    source: str = "unknown"

    @property
    def lines(self) -> tuple[Line, ...]:
        """The grid lines the values belong to, in order."""
        return ALL_LINES[: len(self.current_a)]

    @property
    def measured_at_s(self) -> float:
        """When the sample was taken: the meter's clock if it has one, else arrival.

        A reading that says it is old *is* old (e.g. delivered late by a broker),
        so age is counted from the meter's clock when there is one; but never from
        later than its arrival, so a meter clock running ahead cannot make a
        reading look fresher than it is.
        """
        if self.meter_ts_s is None:
            return self.received_at_s
        return min(self.meter_ts_s, self.received_at_s)

    def age_s(self, now_s: float) -> float:
        """Seconds since the sample was taken, never negative."""
        return max(0.0, now_s - self.measured_at_s)

    @property
    def signed_current_a(self) -> tuple[float, ...]:
        """Per-line current with the sign of that line's power (negative = export).

        Meters such as the SDM630 report current as an unsigned magnitude; the
        direction only shows in the power. Without power the magnitude is returned
        as is (import assumed, the safe side for a fuse).
        """
        if self.power_w is None:
            return self.current_a
        return tuple(
            -abs(i) if p < 0 else abs(i) for i, p in zip(self.current_a, self.power_w, strict=False)
        )

    def current_by_line(self) -> dict[Line, float]:
        return dict(zip(self.lines, self.current_a, strict=False))

    def to_json_dict(self) -> dict[str, Any]:
        """JSON-safe dict in the Amp Guard payload shape plus serial, source and arrival."""
        out: dict[str, Any] = {
            "serial": self.serial,
            "seq": self.seq,
            "ts": format_ts(self.meter_ts_s) if self.meter_ts_s is not None else None,
            "current_a": list(self.current_a),
        }
        if self.voltage_v is not None:
            out["voltage_v"] = list(self.voltage_v)
        if self.power_w is not None:
            out["power_w"] = list(self.power_w)
        if self.energy_kwh is not None:
            out["energy_kwh"] = self.energy_kwh
        out["received_at"] = format_ts(self.received_at_s)
        out["source"] = self.source
        return out

    @classmethod
    def from_json_dict(cls, data: dict[str, Any]) -> Reading:
        """Inverse of :meth:`to_json_dict` (for a store that keeps the latest reading)."""

        def opt_tuple(key: str) -> tuple[float, ...] | None:
            value = data.get(key)
            return None if value is None else tuple(float(v) for v in value)

        ts = data.get("ts")
        return cls(
            serial=str(data["serial"]),
            current_a=tuple(float(v) for v in data["current_a"]),
            received_at_s=parse_ts(str(data["received_at"])),
            voltage_v=opt_tuple("voltage_v"),
            power_w=opt_tuple("power_w"),
            energy_kwh=None if data.get("energy_kwh") is None else float(data["energy_kwh"]),
            meter_ts_s=None if ts is None else parse_ts(str(ts)),
            seq=None if data.get("seq") is None else int(data["seq"]),
            source=str(data.get("source", "unknown")),
        )


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why a message could not become a reading at all (bad JSON, missing field…).

    ``code`` is stable and machine-readable (it is counted and shown);
    ``message`` tells a person what was wrong and what would be right.
    """

    code: str
    message: str


@dataclass(frozen=True, slots=True)
class Finding:
    """Something plausibility checking noticed about a reading.

    ``severity``: ``"reject"`` (the reading is not used), ``"flag"`` (used, but
    worth knowing) or ``"fault"`` (a likely installation fault, e.g. a clamp
    mounted backwards).
    """

    code: str
    message: str
    severity: str = "reject"
    line: Line | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the hub made of a submitted reading."""

    accepted: bool
    findings: tuple[Finding, ...] = field(default_factory=tuple)

    @property
    def reason(self) -> str:
        """The rejection reasons joined, or "" when accepted."""
        return "; ".join(f.message for f in self.findings if f.severity == "reject")

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(f.code for f in self.findings)


def format_ts(epoch_s: float) -> str:
    """RFC 3339 UTC with milliseconds and a Z, the Amp Guard's ``ts`` format."""
    if not math.isfinite(epoch_s):
        raise ValueError("timestamp must be finite")
    dt = datetime.fromtimestamp(epoch_s, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def parse_ts(text: str) -> float:
    """Parse an RFC 3339 timestamp with a zone (Z or ±hh:mm) into epoch seconds.

    Raises ValueError for anything without a zone: a zone-less time is ambiguous
    by hours and would corrupt the age of every reading.
    """
    if len(text) > 40:
        raise ValueError("timestamp too long")
    norm = text.strip()
    if norm.endswith(("Z", "z")):
        norm = norm[:-1] + "+00:00"
    dt = datetime.fromisoformat(norm)
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError("timestamp has no time zone; end it with Z (UTC)")
    return dt.timestamp()
