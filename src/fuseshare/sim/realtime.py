"""A simulated site in real time against a running server: real OCPP, real meter path.

:class:`RealtimeSite` connects one :class:`~fuseshare.sim.chargepoint.SimChargePoint`
per charger (a real OCPP 1.6 / 2.0.1 client over WebSocket, with the charger's
password), plugs in :class:`~fuseshare.sim.car.VirtualCar` s, and every second:

* lets each car draw what its charger allows *from the charging profiles the
  charger received* (``SimChargePoint.effective_limit_a``: the dynamic limit while
  it lasts, the failsafe profile after), with the car's reaction delay;
* sends MeterValues with the per-terminal currents at the interval the server
  configured (on IT a one-phase car shows on the charger's L1 and L2 terminals);
* has the virtual Amp Guard publish the building's line currents (the rest of
  the building from a seeded household profile, plus the cars) through an
  Amp Guard transport: MQTT when a broker answers, else in process into the hub.

Arrivals and departures come from a seeded schedule; the first cars plug in
within the first minute. ``fuseshare demo`` runs this next to the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from fuseshare.balancing import ALL_LINES, Grid, Line, line_factors
from fuseshare.meters.simulated import AmpGuardTransport, SimulatedAmpGuard
from fuseshare.sim.base_load import household_minutes_a
from fuseshare.sim.car import VirtualCar
from fuseshare.sim.chargepoint import SimChargePoint, SimSettings
from fuseshare.sim.scenario import watts_per_amp

log = logging.getLogger("fuseshare.sim.realtime")


@dataclass(frozen=True)
class SiteCharger:
    serial: str
    password: str
    wiring: tuple[Line, ...]
    version: str = "1.6"
    max_current_a: float = 32.0


@dataclass(frozen=True)
class Visit:
    """A car's visit: when it comes (s after start), how long it stays, what it is."""

    arrive_s: float
    stay_s: float
    energy_kwh: float
    car_phases: int
    car_max_current_a: float
    index: int = -1
    """The session's index in its scenario (-1 for the demo's endless schedule)."""
    tells_needs: bool = False
    """The car says its energy and departure (ISO 15118): a 2.0.1 charger passes them on
    with NotifyEVChargingNeeds; a 1.6 charger cannot."""


def demo_schedule(serials: list[str], *, seed: int, hours: float = 24.0) -> dict[str, list[Visit]]:
    """Visits per charger: most chargers get a car within the first minute, then cars come
    and go every few minutes, so a newcomer sees arrivals, sharing and rotation at once,
    and on 2.0.1 chargers what some cars say they need."""
    rng = random.Random(seed)
    out: dict[str, list[Visit]] = {}
    cars = [(1, 32.0), (3, 16.0), (1, 16.0), (3, 32.0)]
    for k, serial in enumerate(serials):
        visits: list[Visit] = []
        t = 3.0 + 9.0 * k if k % 3 != 2 else 60.0 + 40.0 * k
        while t < hours * 3600:
            phases, max_a = cars[rng.randrange(len(cars))]
            stay = rng.uniform(6, 25) * 60
            # Every other car says what it needs (ISO 15118); 2.0.1 chargers pass it on.
            told = len(visits) % 2 == 0
            visits.append(
                Visit(t, stay, round(rng.uniform(8, 40), 1), phases, max_a, tells_needs=told)
            )
            t += stay + rng.uniform(1, 6) * 60
        out[serial] = visits
    return out


@dataclass
class _Station:
    spec: SiteCharger
    cp: SimChargePoint
    visits: list[Visit]
    car: VirtualCar | None = None
    visit: Visit | None = None
    factors: dict[Line, float] = field(default_factory=dict)
    drawn_a: float = 0.0
    applied_a: float = 0.0
    next_sample_s: float = 0.0
    energy_wh: float = 0.0
    pending_wh: float = 0.0
    status: str = ""
    """The connector status of the present car last sent."""
    finished: list[tuple[Visit, float]] = field(default_factory=list)
    """Visits that ended, with the energy delivered (kWh)."""

    def leave(self) -> None:
        if self.visit is not None and self.car is not None:
            self.finished.append((self.visit, self.car.delivered_kwh))
        self.car, self.visit, self.drawn_a, self.factors = None, None, 0.0, {}
        self.status = ""


BaseLoad = Callable[[float], list[float]]
"""Per-line current of the rest of the building at ``elapsed_s`` after the start."""
Observer = Callable[[float, "RealtimeSite"], None]
"""Called once per second after the physics, with the elapsed seconds (for recording)."""


def demo_base_load(grid: Grid, *, seed: int, homes: int, start_hour: float) -> BaseLoad:
    """A household profile from ``start_hour`` on (per minute, two days, then repeating)."""
    minutes = household_minutes_a(
        {"kind": "household", "homes": homes, "scale": 0.9, "start_hour": start_hour},
        grid,
        2 * 1440,
        seed,
    )

    def load(elapsed_s: float) -> list[float]:
        return [float(v) for v in minutes[int(elapsed_s // 60) % minutes.shape[0]]]

    return load


class RealtimeSite:
    """A site of real OCPP chargers with virtual cars and a virtual Amp Guard, in real time.

    ``run`` until cancelled or until ``should_stop()`` says so. Faults: while
    ``meter_silent(elapsed_s)`` the Amp Guard sends nothing; while
    ``link_cut(serial, elapsed_s)`` that charger's WebSocket is closed (it keeps
    applying the profiles it holds, then reconnects and boots again).
    """

    def __init__(
        self,
        *,
        base_url: str,
        chargers: list[SiteCharger],
        grid: Grid,
        meter_serial: str,
        transport: AmpGuardTransport,
        visits: dict[str, list[Visit]],
        base_load: BaseLoad,
        seed: int = 2026,
        response_s: float = 5.0,
        clock: Callable[[], float] = time.time,
        should_stop: Callable[[], bool] = lambda: False,
        meter_silent: Callable[[float], bool] = lambda _t: False,
        link_cut: Callable[[str, float], bool] = lambda _serial, _t: False,
        observer: Observer | None = None,
    ) -> None:
        self.base_url = base_url
        self.grid = grid
        self.meter_serial = meter_serial
        self.transport = transport
        self.clock = clock
        self.should_stop = should_stop
        self.meter_silent = meter_silent
        self.link_cut = link_cut
        self.observer = observer
        self.response_s = response_s
        self.started_s = clock()
        self.base_load = base_load
        self.base_now: list[float] = [0.0, 0.0, 0.0]
        self.stations = [
            _Station(
                c,
                SimChargePoint(
                    SimSettings(
                        serial=c.serial,
                        password=c.password,
                        base_url=base_url,
                        version=c.version,  # type: ignore[arg-type]
                        max_current_a=c.max_current_a,
                    )
                ),
                sorted(visits.get(c.serial, []), key=lambda v: v.arrive_s),
            )
            for c in chargers
        ]
        self.guard = SimulatedAmpGuard(
            serial=meter_serial, load=self._line_currents, lines=len(grid.lines), seed=seed
        )
        self.delivered_kwh = 0.0

    # -- physics ------------------------------------------------------------------------

    def _line_currents(self, t_s: float) -> list[float]:
        self.base_now = [*self.base_load(t_s - self.started_s), 0.0, 0.0, 0.0][:3]
        lines = list(self.base_now)
        for st in self.stations:
            for line, f in st.factors.items():
                lines[ALL_LINES.index(line)] += f * st.drawn_a
        return lines[: len(self.grid.lines)]

    def _terminal_a(self, st: _Station) -> list[float]:
        return [round(st.factors.get(line, 0.0) * st.drawn_a, 1) for line in st.spec.wiring]

    def _sample_interval_s(self, st: _Station) -> float:
        config = st.cp.state.configuration
        raw = config.get("MeterValueSampleInterval") or config.get(
            "SampledDataCtrlr.TxUpdatedInterval", "10"
        )
        try:
            return max(1.0, float(raw))
        except ValueError:
            return 10.0

    # -- OCPP ---------------------------------------------------------------------------

    async def _status(self, st: _Station, status: str) -> None:
        """A connector status; 2.0.1 only knows Available/Occupied: what the car does is
        the transaction's chargingState there."""
        if st.spec.version == "2.0.1" and status not in ("Available", "Occupied"):
            if status == "Preparing":
                status = "Occupied"
            elif (
                status in ("Charging", "SuspendedEV", "SuspendedEVSE") and st.cp.state.transactions
            ):
                await st.cp.send_charging_state(1, status)
                return
            else:
                return
        await st.cp.send_status(1, status)

    async def _car_status(
        self, st: _Station, offered_a: float | None = None, *, force: bool = False
    ) -> None:
        """The connector status the charger shows for its car now, if it changed
        (``offered_a``: the charger's limit now, when the caller has it already)."""
        assert st.car is not None
        if offered_a is None:
            offered_a = st.cp.effective_limit_a()
        status = st.car.connector_status(offered_a)
        if force or status != st.status:
            st.status = status
            await self._status(st, status)

    async def _connect(self, st: _Station) -> None:
        for attempt in range(20):
            try:
                await st.cp.connect()
                await st.cp.boot()
                await self._status(st, "Available")
                return
            except Exception as exc:  # the server may still be starting
                if attempt == 19:
                    raise
                log.debug("charger %s cannot connect yet: %s", st.spec.serial, exc)
                await st.cp.close()
                await asyncio.sleep(0.5)

    async def _arrive(self, st: _Station, visit: Visit, now_s: float) -> None:
        st.visit = visit
        st.factors = line_factors(self.grid, st.spec.wiring, visit.car_phases)
        st.car = VirtualCar(
            max_current_a=visit.car_max_current_a,
            watts_per_amp=watts_per_amp(self.grid, st.spec.wiring, visit.car_phases),
            energy_kwh=visit.energy_kwh,
            arrive_s=now_s,
            response_s=self.response_s,
        )
        await self._status(st, "Preparing")
        await st.cp.start_transaction(1, id_tag=f"CAR-{st.spec.serial[-4:]}")
        if visit.tells_needs:
            stays_s = visit.arrive_s + visit.stay_s - (now_s - self.started_s)
            await st.cp.send_charging_needs(
                1,
                energy_kwh=visit.energy_kwh,
                departure=st.cp.now() + timedelta(seconds=stays_s),
                ev_max_current_a=visit.car_max_current_a,
                car_phases=visit.car_phases,
            )
        await self._car_status(st, force=True)
        st.next_sample_s = now_s + 1.0

    async def _depart(self, st: _Station) -> None:
        await st.cp.send_meter_values(1, [0.0] * len(st.spec.wiring), energy_add_wh=st.pending_wh)
        st.pending_wh = 0.0
        await st.cp.stop_transaction(1, reason="EVDisconnected")
        await self._status(st, "Available")
        st.leave()

    async def _link(self, st: _Station, elapsed: float) -> bool:
        """Cut or restore the charger's link as the faults say; True while it is up."""
        cut = self.link_cut(st.spec.serial, elapsed)
        if cut and st.cp.connected:
            await st.cp.close()
        elif not cut and not st.cp.connected:
            await self._connect(st)
            if st.car is not None:  # the session goes on: tell the server again
                await self._car_status(st, force=True)
        return not cut

    async def _tick_station(self, st: _Station, now_s: float) -> None:
        elapsed = now_s - self.started_s
        up = await self._link(st, elapsed)
        if st.visit is not None and elapsed >= st.visit.arrive_s + st.visit.stay_s:
            if up:
                await self._depart(st)
            else:
                st.leave()
        if st.visit is None and st.visits and elapsed >= st.visits[0].arrive_s and up:
            await self._arrive(st, st.visits.pop(0), now_s)
        if st.car is None:
            return
        before = st.car.delivered_kwh
        st.applied_a = st.cp.effective_limit_a()
        st.drawn_a = st.car.step(now_s, 1.0, st.applied_a)
        added_wh = (st.car.delivered_kwh - before) * 1000.0
        st.pending_wh += added_wh
        self.delivered_kwh += added_wh / 1000.0
        if not up:
            return
        await self._car_status(st, st.applied_a)
        if now_s >= st.next_sample_s:
            st.next_sample_s = now_s + self._sample_interval_s(st)
            await st.cp.send_meter_values(1, self._terminal_a(st), energy_add_wh=st.pending_wh)
            st.pending_wh = 0.0

    async def run(self) -> None:
        await asyncio.gather(*(self._connect(st) for st in self.stations))
        log.info("simulated site: %d chargers connected", len(self.stations))
        next_heartbeat = self.clock() + 240.0
        try:
            while not self.should_stop():
                now_s = self.clock()
                results = await asyncio.gather(
                    *(self._tick_station(st, now_s) for st in self.stations),
                    return_exceptions=True,
                )
                for st, outcome in zip(self.stations, results, strict=True):
                    if isinstance(outcome, Exception):
                        log.warning("charger %s: %s", st.spec.serial, outcome)
                payload = self.guard.payload(now_s)  # also computes the line currents
                if not self.meter_silent(now_s - self.started_s):
                    await self.transport.send(self.meter_serial, payload)
                if self.observer is not None:
                    self.observer(now_s - self.started_s, self)
                if now_s >= next_heartbeat:
                    next_heartbeat = now_s + 240.0
                    await asyncio.gather(
                        *(st.cp.heartbeat() for st in self.stations if st.cp.connected),
                        return_exceptions=True,
                    )
                await asyncio.sleep(max(0.05, 1.0 - (self.clock() - now_s)))
        finally:
            await self.close()

    async def close(self) -> None:
        for st in self.stations:
            with contextlib.suppress(Exception):
                await st.cp.close()

    def status(self) -> dict[str, Any]:
        return {
            "delivered_kwh": round(self.delivered_kwh, 3),
            "charging": [st.spec.serial for st in self.stations if st.drawn_a > 0],
        }
