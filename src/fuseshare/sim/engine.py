"""The simulator on a virtual clock: a site, its cars and meter, and a control side.

:func:`simulate` runs a :class:`~fuseshare.sim.scenario.Scenario` second by
second, as fast as the machine allows, with no real sleeping. Each second:

1. faults start or end; cars leave and arrive (the site tells the control side
   over its telemetry: link, connector state, session start/stop);
2. the control side runs one cycle (unless it is down) and its limits land on
   the virtual chargers;
3. physics: every charger applies its limit (or its failsafe current once the
   limit expired), every car draws what it may (:class:`~fuseshare.sim.car.VirtualCar`),
   and the line currents add up per grid line (:func:`fuseshare.balancing.line_factors`);
4. the Amp Guard publishes the line currents (every ``meter_interval_s``, with
   realistic noise, unless the meter is offline) and each charger its
   per-terminal currents (every ``charger_meter_interval_s``);
5. everything is recorded in a :class:`Trace` (one row per second).

The clock's epoch is 2026-11-24T00:00:00Z, so ``t_s`` is also the time of day.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from fuseshare.balancing import ALL_LINES
from fuseshare.ocpp.ports import ChargingNeeds
from fuseshare.sim.base_load import base_load_a
from fuseshare.sim.car import VirtualCar
from fuseshare.sim.controllers import Controller, LoopController
from fuseshare.sim.scenario import Scenario, SessionSpec, watts_per_amp
from fuseshare.sim.virtual_charger import VirtualCharger

ORIGIN_EPOCH_S = 1_795_478_400.0
"""2026-11-24T00:00:00Z: t_s = 0 of every simulation."""

Progress = Callable[[int, int], None]
"""Called with (seconds done, seconds total) now and then."""


class VirtualClock:
    def __init__(self, now_s: float = ORIGIN_EPOCH_S) -> None:
        self.now_s = now_s

    def __call__(self) -> float:
        return self.now_s


@dataclass
class SessionOutcome:
    """One session's result."""

    index: int
    charger: str
    arrive_s: float
    depart_s: float
    requested_kwh: float
    delivered_kwh: float = 0.0
    pauses: int = 0

    @property
    def met(self) -> bool:
        return self.requested_kwh - self.delivered_kwh < 0.1


@dataclass
class Trace:
    """Per-second records. ``t`` rows, ``n`` chargers (scenario order), 3 grid lines."""

    base_a: npt.NDArray[np.float64]
    total_a: npt.NDArray[np.float64]
    limit_a: npt.NDArray[np.float64]
    """The control side's limit for the whole line; NaN where none is known."""
    meter_online: npt.NDArray[np.bool_]
    setpoint_a: npt.NDArray[np.float32]
    """What each charger applied (its limit, or its failsafe current)."""
    car_a: npt.NDArray[np.float32]
    """What each charger's car drew per phase."""
    actual_a: npt.NDArray[np.float32]
    """Shape (t, n, 3): each charger's current per grid line."""
    present: npt.NDArray[np.bool_]
    reason: npt.NDArray[np.int16]
    reasons: list[str] = field(default_factory=list)


@dataclass
class SimResult:
    scenario: Scenario
    controller: str
    algorithm: str
    version: int
    trace: Trace
    sessions: list[SessionOutcome]
    setpoints_sent: int
    wall_s: float


@dataclass
class _Plug:
    """A car at a charger."""

    session: SessionOutcome
    car: VirtualCar
    factors: tuple[float, float, float]
    """Amperes per car ampere on grid L1, L2, L3."""
    terminal: tuple[float, float, float]
    """Amperes per car ampere at the charger's own L1, L2, L3 terminals."""
    tx: str
    announced: bool = False
    status: str = ""
    """The connector status last told to the control side."""
    drawing: bool = False


def simulate(
    scenario: Scenario,
    controller: Controller | None = None,
    *,
    progress: Progress | None = None,
) -> SimResult:
    """Run ``scenario`` against ``controller`` (the real control loop when None)."""
    return asyncio.run(simulate_async(scenario, controller, progress=progress))


async def simulate_async(
    scenario: Scenario, controller: Controller | None = None, *, progress: Progress | None = None
) -> SimResult:
    return await _Run(scenario, controller or LoopController(), progress).run()


def _intervals(faults: list[tuple[float, float]], t: int) -> bool:
    return any(a <= t < b for a, b in faults)


class _Run:
    def __init__(self, scenario: Scenario, controller: Controller, progress: Progress | None):
        self.sc = scenario
        self.ctl = controller
        self.progress = progress
        self.clock = VirtualClock()
        self.chargers = {
            c.id: VirtualCharger(
                c,
                lifetime_s=scenario.limit_lifetime_s,
                quiet_lifetime_s=scenario.quiet_limit_lifetime_s,
            )
            for c in scenario.chargers
        }
        self.index = {c.id: k for k, c in enumerate(scenario.chargers)}
        self.plugs: dict[str, _Plug] = {}
        self.outcomes: list[SessionOutcome] = []
        self.reasons: dict[str, int] = {}
        self.up = True

    # -- telemetry towards the control side ------------------------------------------------

    def _tell(self, serial: str) -> bool:
        return self.up and self.chargers[serial].link_up

    def _announce(self, serial: str) -> None:
        """A charger (re)connects: link, connector state, its session if any."""
        self.ctl.link(serial, True)
        plug = self.plugs.get(serial)
        if plug is None:
            self.ctl.status(serial, "Available")
            return
        self._tell_status(serial, plug, force=True)
        self.ctl.session_started(serial, plug.tx)
        plug.announced = True
        # The store keeps what the car said and tells it again when the session resumes.
        self._tell_needs(self.sc.sessions[plug.session.index])

    # -- events -----------------------------------------------------------------------------

    def _arrive(self, k: int, s: SessionSpec, now_s: float) -> None:
        spec = self.sc.charger(s.charger)
        factors = self.sc.factors(s)
        per_line = tuple(factors.get(line, 0.0) for line in ALL_LINES)
        terminal = tuple(factors.get(line, 0.0) for line in spec.phases) + (0.0,) * 3
        car = VirtualCar(
            max_current_a=s.car_max_current_a,
            watts_per_amp=watts_per_amp(self.sc.grid, spec.phases, s.car_phases),
            energy_kwh=s.energy_kwh,
            arrive_s=now_s,
            battery_kwh=s.battery_kwh,
            soc_start=s.start_soc,
            taper_from_soc=s.taper_from_soc,
            response_s=self.sc.ev_response_s,
        )
        outcome = SessionOutcome(k, s.charger, s.arrive_s, s.depart_s, s.energy_kwh)
        self.outcomes.append(outcome)
        plug = _Plug(outcome, car, per_line, terminal[:3], tx=f"{s.charger}-{k + 1}")  # type: ignore[arg-type]
        self.plugs[s.charger] = plug
        if self._tell(s.charger):
            self.ctl.status(s.charger, "Preparing")
            self._tell_status(s.charger, plug, force=True)
            self.ctl.session_started(s.charger, plug.tx)
            plug.announced = True
            self._tell_needs(s)

    def _tell_status(
        self, serial: str, plug: _Plug, offered_a: float | None = None, *, force: bool = False
    ) -> None:
        """Tell the connector status the charger shows for this car now, if it changed
        (``offered_a``: the charger's limit now, when the caller has it already)."""
        if offered_a is None:
            offered_a = self.chargers[serial].effective_limit_a(self.clock())
        status = plug.car.connector_status(offered_a)
        if force or status != plug.status:
            plug.status = status
            self.ctl.status(serial, status)

    def _tell_needs(self, s: SessionSpec) -> None:
        if s.tells_needs:
            # The clock is an epoch; the scenario counts from 0.
            left_s = s.depart_s - (self.clock() - ORIGIN_EPOCH_S)
            self.ctl.charging_needs(
                s.charger, ChargingNeeds(s.energy_kwh, left_s, s.car_max_current_a)
            )

    def _depart(self, serial: str) -> None:
        plug = self.plugs.pop(serial)
        plug.session.delivered_kwh = plug.car.delivered_kwh
        if self._tell(serial):
            self.ctl.session_stopped(serial, plug.tx)
            self.ctl.status(serial, "Available")

    async def _restart(self) -> None:
        await self.ctl.start()
        for serial, charger in self.chargers.items():
            if charger.link_up:
                self._announce(serial)

    # -- the run ----------------------------------------------------------------------------

    async def run(self) -> SimResult:
        sc = self.sc
        started = time.perf_counter()
        n_t, n_c = sc.duration_s, len(sc.chargers)
        base = base_load_a(sc.base_load, sc.grid, n_t, sc.seed)
        trace = Trace(
            base_a=base,
            total_a=np.zeros((n_t, 3)),
            limit_a=np.full((n_t, 3), np.nan),
            meter_online=np.zeros(n_t, dtype=bool),
            setpoint_a=np.zeros((n_t, n_c), dtype=np.float32),
            car_a=np.zeros((n_t, n_c), dtype=np.float32),
            actual_a=np.zeros((n_t, n_c, 3), dtype=np.float32),
            present=np.zeros((n_t, n_c), dtype=bool),
            reason=np.full((n_t, n_c), -1, dtype=np.int16),
        )
        self.ctl.bind(sc, self.chargers, self.clock)
        sessions = sorted(enumerate(sc.sessions), key=lambda ks: ks[1].arrive_s)
        next_session = 0
        meter_off = [(f.from_s, f.to_s) for f in sc.faults if f.kind == "meter_offline"]
        down = [(f.from_s, f.to_s) for f in sc.faults if f.kind == "controller_down"]
        cut = {
            c.id: [
                (f.from_s, f.to_s)
                for f in sc.faults
                if f.kind == "charger_offline" and f.charger == c.id
            ]
            for c in sc.chargers
        }
        cut_serials = [serial for serial, spans in cut.items() if spans]  # the others never cut
        meter_every = max(1, round(sc.group.meter_interval_s))
        sample_every = max(1, round(sc.charger_meter_interval_s))
        n_lines = len(sc.grid.lines)
        serials = [c.id for c in sc.chargers]
        await self.ctl.start()
        for serial in serials:
            self._announce(serial)
        report_every = max(1, n_t // 200)
        for t in range(n_t):
            now_s = ORIGIN_EPOCH_S + t
            self.clock.now_s = now_s
            # 1. faults
            is_down = _intervals(down, t)
            if is_down and self.up:
                self.up = False
                self.ctl.stop()
            elif not is_down and not self.up:
                self.up = True
                await self._restart()
            for serial in cut_serials:
                charger = self.chargers[serial]
                cut_now = _intervals(cut[serial], t)
                if cut_now and charger.link_up:
                    if self.up:
                        self.ctl.link(serial, False)
                    charger.link_up = False
                elif not cut_now and not charger.link_up:
                    charger.link_up = True
                    if self.up:
                        self._announce(serial)
            # 1b. cars leave, cars arrive
            for serial in list(self.plugs):
                if self.plugs[serial].session.depart_s <= t:
                    self._depart(serial)
            while next_session < len(sessions) and sessions[next_session][1].arrive_s <= t:
                k, s = sessions[next_session]
                next_session += 1
                if s.charger in self.plugs:  # validated against; a leftover would be a bug
                    self._depart(s.charger)
                self._arrive(k, s, now_s)
            # 2. control
            if self.up:
                await self.ctl.cycle(now_s)
                limits = self.ctl.site_limits_a()
                for j in range(3):
                    value = limits[j]
                    if value is not None:
                        trace.limit_a[t, j] = value
            # 3. physics
            line = [0.0, 0.0, 0.0]
            for serial, plug in self.plugs.items():
                i = self.index[serial]
                charger = self.chargers[serial]
                applied = charger.effective_limit_a(now_s)
                current = plug.car.step(now_s, 1.0, applied)
                f = plug.factors
                line[0] += current * f[0]
                line[1] += current * f[1]
                line[2] += current * f[2]
                trace.present[t, i] = True
                trace.setpoint_a[t, i] = applied
                trace.car_a[t, i] = current
                trace.actual_a[t, i] = (current * f[0], current * f[1], current * f[2])
                trace.reason[t, i] = self._reason_index(charger.limit_source(now_s))
                wants = plug.car.wants_energy
                if plug.drawing and current <= 0.0 and wants:
                    plug.session.pauses += 1
                plug.drawing = current > 0.0
                if self._tell(serial):
                    self._tell_status(serial, plug, applied)
                if ((t + i) % sample_every == 0 or charger.sample_requested) and self._tell(serial):
                    charger.sample_requested = False
                    tf = plug.terminal
                    self.ctl.charger_sample(
                        serial, (current * tf[0], current * tf[1], current * tf[2])
                    )
            b = base[t]
            total = (b[0] + line[0], b[1] + line[1], b[2] + line[2])
            trace.total_a[t] = total
            # 4. the meter
            online = not _intervals(meter_off, t)
            trace.meter_online[t] = online
            if online and self.up and t % meter_every == 0:
                seen = total if sc.group.outlet_active else (b[0], b[1], b[2])
                await self.ctl.meter_reading(now_s, [float(v) for v in seen[:n_lines]])
            if self.progress is not None and t % report_every == 0:
                self.progress(t, n_t)
        for serial in list(self.plugs):
            self._depart(serial)
        if self.progress is not None:
            self.progress(n_t, n_t)
        trace.reasons = list(self.reasons)
        self.outcomes.sort(key=lambda o: o.index)
        return SimResult(
            scenario=sc,
            controller=self.ctl.label,
            algorithm=self.ctl.algorithm,
            version=self.ctl.version,
            trace=trace,
            sessions=self.outcomes,
            setpoints_sent=self.ctl.setpoints_sent,
            wall_s=time.perf_counter() - started,
        )

    def _reason_index(self, text: str) -> int:
        index = self.reasons.get(text)
        if index is None:
            index = self.reasons[text] = len(self.reasons)
        return index
