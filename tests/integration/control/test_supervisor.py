"""The supervisor follows the store; history survives a database that goes away."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from fuseshare.control.history import HistoryBuffer, SetpointPoint
from fuseshare.control.live import LiveBoard
from fuseshare.control.loop import GroupLoop
from fuseshare.control.spec import GroupSpec
from fuseshare.control.supervisor import Supervisor
from fuseshare.control.telemetry import ChargerTelemetry
from fuseshare.store.engine import make_engine
from fuseshare.store.tables import SetpointRow
from fuseshare.workflow import Context, MembershipSettings, Workflow
from tests.integration.store.conftest import INVENTORY, OPERATOR, group_settings
from tests.unit.control.fakes import FakeCommands, ManualClock


def _site(wf: Workflow) -> None:
    wf.devices.import_inventory(OPERATOR, INVENTORY)
    wf.accounts.create_partner(OPERATOR, "P")
    wf.orgs.create(OPERATOR, partner="P", name="S")
    for n in ("0001", "0002"):
        wf.devices.add_charger(OPERATOR, organization="S", serial=f"CH-{n}", password=f"pass-{n}")
    wf.devices.add_meter(OPERATOR, organization="S", serial="AG-0001", pin="12345678")
    wf.groups.create(OPERATOR, organization="S", settings=group_settings(), meter="AG-0001")
    wf.groups.import_charger(
        OPERATOR, "Garage", charger="CH-0001", membership=MembershipSettings("L1,L2,L3", 6)
    )


async def test_the_supervisor_starts_updates_and_releases_group_loops(workflow: Workflow) -> None:
    _site(workflow)
    clock = ManualClock()
    commands = FakeCommands()
    telemetry = ChargerTelemetry(clock)

    def factory(spec: GroupSpec) -> GroupLoop:
        return GroupLoop(
            spec,
            meters=None,
            telemetry=telemetry,
            commands=commands,
            board=LiveBoard(),
            history=None,
            clock=clock,
        )

    supervisor = Supervisor(workflow.ctx, factory)
    await supervisor.sync()
    assert supervisor.loops == {}  # a draft group is not controlled
    workflow.groups.activate(OPERATOR, "Garage", confirm=True)
    await supervisor.sync()
    (loop,) = supervisor.loops.values()
    assert [m.serial for m in loop.spec.members] == ["CH-0001"]
    assert loop.spec.config.max_current_online_a == 32.0 and loop.spec.meter_serial == "AG-0001"
    # Edits and imports on an active group reach the running loop on the next sync.
    workflow.groups.update(OPERATOR, "Garage", max_current_online_a=40.0, confirm=True)
    workflow.groups.import_charger(
        OPERATOR,
        "Garage",
        charger="CH-0002",
        membership=MembershipSettings("L2,L3,L1", 6),
        confirm=True,
    )
    await supervisor.sync()
    assert supervisor.loops[loop.spec.group_id] is loop
    assert loop.spec.config.max_current_online_a == 40.0
    assert [m.serial for m in loop.spec.members] == ["CH-0001", "CH-0002"]
    workflow.groups.deactivate(OPERATOR, "Garage")
    await supervisor.sync()
    assert supervisor.loops == {}
    assert sorted(commands.released) == ["CH-0001", "CH-0002"]


async def test_loops_keep_running_when_the_store_goes_away(workflow: Workflow) -> None:
    _site(workflow)
    workflow.groups.activate(OPERATOR, "Garage", confirm=True)
    clock = ManualClock()
    telemetry = ChargerTelemetry(clock)

    def factory(spec: GroupSpec) -> GroupLoop:
        return GroupLoop(
            spec,
            meters=None,
            telemetry=telemetry,
            commands=FakeCommands(),
            board=LiveBoard(),
            history=None,
            clock=clock,
        )

    supervisor = Supervisor(workflow.ctx, factory)
    await supervisor.sync()
    assert len(supervisor.loops) == 1
    good = workflow.ctx.sessions
    workflow.ctx.sessions = sessionmaker(make_engine("postgresql://nobody@127.0.0.1:9/gone"))
    try:
        await supervisor.sync()
        assert not supervisor.store_ok and len(supervisor.loops) == 1
    finally:
        workflow.ctx.sessions = good
    await supervisor.sync()
    assert supervisor.store_ok and len(supervisor.loops) == 1


def test_history_waits_in_memory_while_the_database_is_away(workflow: Workflow) -> None:
    _site(workflow)
    group_id = workflow.groups.show(OPERATOR, "Garage")["id"]
    good = workflow.ctx.sessions
    away = Context(
        sessionmaker(make_engine("postgresql://nobody@127.0.0.1:9/gone")), workflow.ctx.settings
    )
    buffer = HistoryBuffer(away)
    states: list[bool] = []
    buffer.on_database_state(states.append)
    for n in range(5):
        buffer.add_setpoint(
            SetpointPoint(group_id, 1, 1_800_000_000.0 + n, 10.0 + n, 9.5, "main fuse L1")
        )
    assert buffer.flush() == 0 and buffer.pending == 5 and states == [False]
    buffer._ctx = Context(good, workflow.ctx.settings)
    buffer.add_setpoint(SetpointPoint(group_id, 1, 1_800_000_005.0, 15.0, None, "main fuse L1"))
    assert buffer.flush() == 6 and buffer.pending == 0 and states == [False, True]
    with workflow.ctx.unit() as s:
        rows = list(s.scalars(select(SetpointRow).order_by(SetpointRow.at)))
        assert [r.current_a for r in rows] == [10.0, 11.0, 12.0, 13.0, 14.0, 15.0]
        assert s.scalar(select(func.count()).select_from(SetpointRow)) == 6
