"""What decides the chargers' limits in a simulation: the real control loop, or a baseline.

The simulator (:mod:`fuseshare.sim.engine`) talks to a :class:`Controller`:
it delivers what the site says (links, connector states, sessions, the
chargers' per-phase currents, the Amp Guard's readings) and calls
:meth:`Controller.cycle` once per simulated second while the control side is
up. :class:`LoopController` is the product: the real
:class:`~fuseshare.control.loop.GroupLoop` with the real
:class:`~fuseshare.meters.hub.MeterHub` (readings arrive as Amp Guard payload
bytes through the MQTT ingestion code), the real
:class:`~fuseshare.control.telemetry.ChargerTelemetry` and the balancing
algorithm, on the virtual clock. :meth:`Controller.start` after a
``controller_down`` fault builds the control side afresh, as a restarted
process would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Protocol

from fuseshare.balancing import GroupConfig, get_algorithm
from fuseshare.balancing.building_peak import BuildingPeak
from fuseshare.control.live import LiveBoard
from fuseshare.control.loop import (
    GroupLoop,
    GroupNotice,
    renew_every_for,
    renew_quiet_every_for,
)
from fuseshare.control.spec import GroupSpec, MemberSpec
from fuseshare.control.telemetry import ChargerTelemetry
from fuseshare.meters.hub import MeterHub, MeterSettings
from fuseshare.meters.simulated import InProcessTransport, SimulatedAmpGuard
from fuseshare.ocpp.ports import ChargingNeeds, MeterSample, PerPhase
from fuseshare.sim.scenario import Scenario
from fuseshare.sim.virtual_charger import VirtualCharger, VirtualCommands

METER_SERIAL = "SIM-AG-0001"


class Controller(Protocol):
    """The control side of a simulation."""

    label: str
    algorithm: str
    version: int

    @property
    def setpoints_sent(self) -> int: ...

    def bind(
        self, scenario: Scenario, chargers: dict[str, VirtualCharger], clock: Callable[[], float]
    ) -> None:
        """Called once before the run."""
        ...

    async def start(self) -> None:
        """(Re)start with empty memory; the site then re-announces every charger."""
        ...

    def stop(self) -> None: ...

    async def cycle(self, now_s: float) -> None: ...

    def site_limits_a(self) -> tuple[float | None, float | None, float | None]:
        """The latest per-line limit for the whole line, where one is known."""
        ...

    # What the site says (only while the control side is up and the charger's link is up).
    def link(self, serial: str, online: bool) -> None: ...
    def status(self, serial: str, status: str) -> None: ...
    def session_started(self, serial: str, tx: str) -> None: ...
    def session_stopped(self, serial: str, tx: str) -> None: ...
    def charging_needs(self, serial: str, needs: ChargingNeeds) -> None: ...
    def charger_sample(self, serial: str, terminal_a: tuple[float, float, float]) -> None: ...
    async def meter_reading(self, now_s: float, current_a: list[float]) -> None: ...


def group_spec(scenario: Scenario) -> GroupSpec:
    """The scenario's group as the control loop sees it (no database needed)."""
    g = scenario.group
    algorithm = get_algorithm(g.algorithm, g.version)
    config = GroupConfig(
        grid=scenario.grid,
        max_supply_current_a=scenario.max_supply_current_a,
        max_current_online_a=g.max_current_online_a,
        max_current_offline_a=g.max_current_offline_a,
        min_current_a=g.min_current_a,
        outlet_active=g.outlet_active,
        has_meter=True,
        margin_a=g.margin_a,
    )
    members = tuple(
        MemberSpec(
            serial=c.id,
            charger_id=k + 1,
            wiring=c.phases,
            failsafe_current_a=c.failsafe_current_a,
            weight=c.priority,
            max_current_a=c.max_current_a,
            membership_max_current_a=None,
        )
        for k, c in enumerate(scenario.chargers)
    )
    return GroupSpec(
        group_id=1,
        organization_id=1,
        name=scenario.name,
        algorithm=algorithm.name,
        version=algorithm.version,
        config=config,
        meter_serial=METER_SERIAL,
        meter_id=1,
        members=members,
        updated_at=datetime(2026, 11, 24, tzinfo=UTC),
    )


class LoopController:
    """The product: GroupLoop + MeterHub + ChargerTelemetry + the algorithm, in process."""

    def __init__(self, algorithm: str | None = None, version: int | None = None) -> None:
        self._algorithm_override = algorithm
        self._version_override = version
        self.label = ""
        self.algorithm = ""
        self.version = 0
        self._sent_before = 0
        self._commands: VirtualCommands | None = None
        self._loop: GroupLoop | None = None
        self._telemetry: ChargerTelemetry | None = None
        self._transport: InProcessTransport | None = None
        self._guard: SimulatedAmpGuard | None = None
        self._meter_values: list[float] = []
        self.hub: MeterHub | None = None
        """The running control side's meter hub (a fresh one after a restart)."""
        self.kept_building: dict[str, object] | None = None
        """The building's peak as the store would keep it: it outlives a restart."""
        self.kept_memory: dict[str, object] | None = None
        """What the sessions have had, as the store would keep it: it outlives a restart."""
        self.notices: list[GroupNotice] = []

    def bind(
        self, scenario: Scenario, chargers: dict[str, VirtualCharger], clock: Callable[[], float]
    ) -> None:
        group = scenario.group
        if self._algorithm_override is not None or self._version_override is not None:
            group = replace(
                group,
                algorithm=self._algorithm_override or group.algorithm,
                version=self._version_override,
            )
        self._scenario = replace(scenario, group=group)
        self._spec = group_spec(self._scenario)
        self.algorithm, self.version = self._spec.algorithm, self._spec.version
        self.label = f"{self.algorithm} v{self.version}"
        self._chargers = chargers
        self._clock = clock
        self._lines = len(scenario.grid.lines)
        self._guard = SimulatedAmpGuard(
            serial=METER_SERIAL,
            load=lambda _t: self._meter_values,
            lines=self._lines,
            seed=scenario.seed,
        )

    @property
    def setpoints_sent(self) -> int:
        return self._sent_before + (self._commands.sent if self._commands else 0)

    async def start(self) -> None:
        if self._commands is not None:
            self._sent_before += self._commands.sent
        hub = MeterHub(clock=self._clock)
        hub.register(
            MeterSettings(
                serial=METER_SERIAL,
                lines=self._lines,
                interval_s=self._scenario.group.meter_interval_s,
                fuse_a=self._scenario.max_supply_current_a,
            )
        )
        self.hub = hub
        self._transport = InProcessTransport(hub, clock=self._clock)
        self._telemetry = ChargerTelemetry(self._clock)
        self._commands = VirtualCommands(self._chargers, self._clock)
        self._loop = GroupLoop(
            replace(self._spec, sharing_memory=self.kept_memory),
            meters=hub,
            telemetry=self._telemetry,
            commands=self._commands,
            board=LiveBoard(),
            history=None,
            clock=self._clock,
            renew_every_s=renew_every_for(self._scenario.limit_lifetime_s),
            renew_quiet_every_s=renew_quiet_every_for(
                self._scenario.limit_lifetime_s, self._scenario.quiet_limit_lifetime_s
            ),
            notify=self.notices.append,
            building=None
            if self.kept_building is None
            else BuildingPeak.from_json(self.kept_building),
            keep_building=self._keep_building,
            keep_memory=self._keep_memory,
        )

    def _keep_building(self, _group_id: int, data: dict[str, object]) -> None:
        self.kept_building = data

    def _keep_memory(self, _group_id: int, data: dict[str, object]) -> None:
        self.kept_memory = data

    def stop(self) -> None:
        self._loop = None
        self._telemetry = None
        self._transport = None

    async def cycle(self, now_s: float) -> None:
        if self._loop is None:
            return
        allocation = await self._loop.cycle()
        if allocation is None:
            return
        for c in allocation.chargers:
            charger = self._chargers.get(c.charger_id)
            if charger is not None and charger.link_up:
                charger.limit_reason = c.reason.text

    def site_limits_a(self) -> tuple[float | None, float | None, float | None]:
        allocation = None if self._loop is None else self._loop.last_allocation
        out: list[float | None] = [None, None, None]
        if allocation is not None:
            for budget in allocation.lines:
                out[("L1", "L2", "L3").index(budget.line)] = budget.site_limit_a
        return (out[0], out[1], out[2])

    def link(self, serial: str, online: bool) -> None:
        if self._telemetry is not None:
            self._telemetry.connection_changed(serial, online)

    def status(self, serial: str, status: str) -> None:
        if self._telemetry is not None:
            self._telemetry.connector_status(serial, 1, status, None)

    def session_started(self, serial: str, tx: str) -> None:
        if self._telemetry is not None:
            self._telemetry.session_started(serial, tx, 1)

    def session_stopped(self, serial: str, tx: str) -> None:
        if self._telemetry is not None:
            self._telemetry.session_stopped(serial, tx)

    def charging_needs(self, serial: str, needs: ChargingNeeds) -> None:
        if self._telemetry is not None:
            self._telemetry.charging_needs(serial, needs)

    def charger_sample(self, serial: str, terminal_a: tuple[float, float, float]) -> None:
        if self._telemetry is None:
            return
        self._telemetry.meter_sample(
            serial,
            MeterSample(
                at=datetime.fromtimestamp(self._clock(), UTC),
                connector_id=1,
                transaction_id=None,
                current_a=PerPhase(*(round(v, 1) for v in terminal_a)),
                power_w=None,
                power_per_phase_w=PerPhase(),
                energy_wh=None,
            ),
        )

    async def meter_reading(self, now_s: float, current_a: list[float]) -> None:
        if self._transport is None or self._guard is None:
            return
        self._meter_values = current_a
        await self._transport.send(METER_SERIAL, self._guard.payload(now_s))
