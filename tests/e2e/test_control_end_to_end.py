"""The control loop end to end: real server, chargers over real OCPP sockets, meter over HTTP push.

Four behaviours of the issue, on one site (TN 400 V, main fuse 40 A, offline
budget 16 A, margin 1 A): charger A is a one-phase charger on L1, charger B on
L2, each with a car that takes up to 16 A.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from fuseshare.balancing import LimitSource, ReasonCode
from fuseshare.bootstrap import build_workflow
from fuseshare.config import Settings
from fuseshare.runtime import Runtime
from fuseshare.workflow import Actor, GroupSettings, MembershipSettings, Workflow
from tests.conftest import free_port
from tests.e2e.live_site import Car, LiveServer, LiveSite, connect_charger, eventually

OPERATOR = Actor.system("e2e")
INVENTORY = """kind,serial,secret,vendor,model,max_current_a,connectors,meter_kind
charger,E2E-A,pass-aaaa,Sim,SimCharger,32,1,
charger,E2E-B,pass-bbbb,Sim,SimCharger,32,1,
meter,E2E-AG,11223344,fuseshare,Amp Guard,,,http_push
"""


def seed(wf: Workflow) -> int:
    wf.devices.import_inventory(OPERATOR, INVENTORY)
    wf.accounts.create_partner(OPERATOR, "P")
    wf.orgs.create(OPERATOR, partner="P", name="Site")
    wf.devices.add_charger(OPERATOR, organization="Site", serial="E2E-A", password="pass-aaaa")
    wf.devices.add_charger(OPERATOR, organization="Site", serial="E2E-B", password="pass-bbbb")
    wf.devices.add_meter(
        OPERATOR, organization="Site", serial="E2E-AG", pin="11223344", kind="http_push"
    )
    group = wf.groups.create(
        OPERATOR,
        organization="Site",
        meter="E2E-AG",
        settings=GroupSettings(
            name="G",
            description="e2e",
            grid="TN_400_3P",
            outlet_active=True,
            max_current_offline_a=16,
            max_current_online_a=40,
            min_current_a=6,
            max_supply_current_a=40,
        ),
    )
    wf.groups.import_charger(OPERATOR, "G", charger="E2E-A", membership=MembershipSettings("L1", 6))
    wf.groups.import_charger(OPERATOR, "G", charger="E2E-B", membership=MembershipSettings("L2", 6))
    wf.groups.activate(OPERATOR, "G", confirm=True)
    return int(group["id"])


def allocation_of(runtime: Runtime, group_id: int):  # type: ignore[no-untyped-def]
    loop = runtime.supervisor.loops.get(group_id)
    return None if loop is None else loop.last_allocation


@pytest.mark.slow
async def test_load_step_meter_outage_charger_loss_and_restart(tmp_path: Path) -> None:
    port = free_port()
    settings = Settings(
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'e2e.sqlite3'}",
        port=port,
        meter_stale_after_s=3.0,
    )
    group_id = seed(build_workflow(settings, "always"))
    server = LiveServer(settings)
    runtime = await server.start()
    ws = f"ws://127.0.0.1:{port}/ocpp"
    a = await connect_charger(ws, "E2E-A", "pass-aaaa", "1.6")
    b = await connect_charger(ws, "E2E-B", "pass-bbbb", "2.0.1")
    site = LiveSite(
        base_url=f"http://127.0.0.1:{port}",
        meter=("E2E-AG", "11223344"),
        cars={"E2E-A": Car(a, 16.0), "E2E-B": Car(b, 16.0)},
        lines_of={"E2E-A": (0,), "E2E-B": (1,)},
    )
    site.start()
    watcher: asyncio.Task[None] | None = None  # watches A's limit through the restart (step 4)
    try:
        await eventually(
            lambda: group_id in runtime.supervisor.loops, what="the group is under control"
        )
        await eventually(
            lambda: a.effective_limit_a() > 6.0 and b.effective_limit_a() > 6.0,
            what="both chargers got a dynamic limit above their failsafe",
        )
        await eventually(lambda: site.cars["E2E-A"].drawing_a > 10.0, what="car A charges")
        assert site.refused == []

        # 1. A load step on L1 (an oven: base 5 → 30 A) lowers A within one cycle; B keeps its limit.
        b_before = b.effective_limit_a()
        site.base_a[0] = 30.0
        loop = runtime.supervisor.loops[group_id]
        posted_s = runtime.clock()
        await eventually(
            lambda: (
                loop.last_allocation is not None
                and loop.last_allocation.now_s > posted_s + site.step_s
            ),
            what="a cycle after the step reading",
        )
        # Room on L1: 40 - 30 - 1 = 9 A (the building now draws 30 A there besides the car).
        assert a.effective_limit_a() <= 9.0 + 1e-6
        assert b.effective_limit_a() >= b_before - 1e-6
        allocation = loop.last_allocation
        assert allocation is not None
        # The fuse binds on L1. A's reason is "main fuse L1", or, when the next reading moves the
        # room by less than the deadband, "kept at 8.9 A" (held, not re-sent): both are right.
        assert allocation.lines[0].source is LimitSource.MAIN_FUSE
        assert allocation.by_id()["E2E-A"].reason.code in (
            ReasonCode.MAIN_FUSE,
            ReasonCode.HELD_DEADBAND,
        )

        # 2. The meter goes silent: the offline budget (16 A per line for all chargers) at once.
        site.meter_on = False
        await eventually(
            lambda: (live := runtime.board.latest(group_id)) is not None and not live.meter.online,
            what="the meter is seen offline",
        )
        await eventually(lambda: not loop.last_allocation.meter_online)  # type: ignore[union-attr]
        assert a.effective_limit_a() <= 16.0 + 1e-6 and b.effective_limit_a() <= 16.0 + 1e-6
        assert "offline budget" in loop.last_allocation.by_id()["E2E-B"].reason.text  # type: ignore[union-attr]
        site.meter_on = True

        # 3. Charger B's link is lost: its failsafe current stays reserved on L2.
        await b.close()
        await eventually(
            lambda: any(
                c.serial == "E2E-B" and c.state == "offline"
                for c in runtime.board.latest(group_id).chargers
            ),  # type: ignore[union-attr]
            what="B is seen offline",
        )
        await eventually(lambda: loop.last_allocation.by_id()["E2E-B"].reserved_a >= 6.0)  # type: ignore[union-attr]

        # 4. The server restarts: the group resumes from the store and A is controlled again.
        await eventually(
            lambda: a.effective_limit_a() <= 9.0 + 1e-6, what="A is back at L1's room (meter on)"
        )
        await server.stop()
        profiles_before = sum(1 for action, _ in a.state.received if action == "SetChargingProfile")
        a_highest = a.effective_limit_a()
        watching = True

        async def watch_a() -> None:
            nonlocal a_highest
            while watching:
                a_highest = max(a_highest, a.effective_limit_a())
                await asyncio.sleep(0.02)

        watcher = asyncio.create_task(watch_a())
        runtime = await server.start()
        await a.connect()
        await a.boot()
        await eventually(
            lambda: group_id in runtime.supervisor.loops, what="the group resumes after restart"
        )
        await eventually(
            lambda: (
                sum(1 for action, _ in a.state.received if action == "SetChargingProfile")
                > profiles_before + 1
            ),
            what="A gets limits from the restarted server",
        )
        # The restarted server waits for its first reading of the meter before it sends
        # anything (up to 5 s; the meter pushes every step), so it never shares the offline
        # budget (16 A per line) in between: it sees the oven on L1 at once, and A is never
        # raised past L1's room to be cut again.
        await eventually(
            lambda: a.effective_limit_a() <= 9.0 + 1e-6, what="A is held to L1's room again"
        )
        watching = False
        await watcher
        assert a_highest <= 9.0 + 1e-6
        # A's car kept charging through the restart: its session is resumed, not forgotten
        # (it once sat at 0 A, "no session", until it would have been plugged in again).
        resumed = runtime.supervisor.loops[group_id]
        await eventually(
            lambda: (
                resumed.last_allocation is not None
                and resumed.last_allocation.by_id()["E2E-A"].current_a >= 6.0
            ),
            what="A's session goes on after the restart",
        )
        await eventually(lambda: site.cars["E2E-A"].drawing_a >= 6.0, what="car A charges again")
    finally:
        if watcher is not None:
            watcher.cancel()  # a no-op once it has ended; stops it where a step above failed
        await site.stop()
        for sim in (a, b):
            await sim.close()
        await server.stop()
