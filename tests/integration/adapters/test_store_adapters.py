"""The store behind the OCPP and meter ports, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from fuseshare.adapters.charger_directory import StoreChargerDirectory
from fuseshare.adapters.meter_store import StoreMeterCredentials, StoreReadingRecorder
from fuseshare.meters.hub import MeterHub, MeterSettings
from fuseshare.meters.ports import AuthResult as MeterAuth
from fuseshare.meters.reading import Reading
from fuseshare.ocpp.ports import (
    AuthStatus,
    BootInfo,
    Capabilities,
    ChargingNeeds,
    OpenSession,
    SessionStart,
    SessionStop,
)
from fuseshare.store.tables import (
    Charger,
    ChargingSession,
    ConnectorState,
    Event,
    IdTag,
    PowerMeter,
)
from fuseshare.workflow import MembershipSettings, Workflow
from tests.integration.store.conftest import INVENTORY, OPERATOR, group_settings

T0 = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)


def _site(wf: Workflow) -> None:
    wf.devices.import_inventory(OPERATOR, INVENTORY)
    wf.accounts.create_partner(OPERATOR, "P")
    wf.orgs.create(OPERATOR, partner="P", name="S")
    wf.devices.add_charger(OPERATOR, organization="S", serial="CH-0001", password="pass-0001")
    wf.devices.add_meter(OPERATOR, organization="S", serial="AG-0001", pin="12345678")


async def test_the_charger_directory_keeps_what_chargers_say(workflow: Workflow) -> None:
    _site(workflow)
    d = StoreChargerDirectory(workflow)
    assert (await d.authenticate("CH-0001", "pass-0001")).status is AuthStatus.OK
    wrong = await d.authenticate("CH-0001", "nope")
    assert wrong.status is AuthStatus.WRONG_PASSWORD and "nope" not in (wrong.reason or "")
    assert (await d.authenticate("CH-0002", "pass-0002")).status is AuthStatus.NOT_YET_ADDED
    assert (await d.authenticate("CH-0002", "pass-0002")).status is AuthStatus.NOT_YET_ADDED
    assert (await d.authenticate("XX-1", "x")).status is AuthStatus.UNKNOWN_SERIAL

    await d.record_boot("CH-0001", BootInfo("Zaptec", "Go", "2.1", "CH-0001", "1.6"), None)
    await d.record_boot(
        "CH-0001",
        BootInfo("Zaptec", "Go", "2.1", "CH-0001", "1.6"),
        Capabilities(rate_units=("A",), max_stack_level=8, number_of_connectors=2),
    )
    await d.record_connection("CH-0001", online=True, at=T0, process_id="host:1")
    await d.record_status("CH-0001", 1, "Charging", None)
    await d.record_status("CH-0001", 1, "SuspendedEV", "NoError")
    tx = await d.start_session("CH-0001", SessionStart(1, None, "TAG", 1000.0, T0))
    assert tx.isdigit() and 0 < int(tx) < 2**31
    tx201 = await d.start_session("CH-0001", SessionStart(1, "abc-201", "TAG", 0.0, T0))
    again = await d.start_session("CH-0001", SessionStart(1, "abc-201", "TAG", 0.0, T0))
    assert tx201 == again == "abc-201"
    await d.session_energy("CH-0001", tx, 4000.0, T0)
    assert await d.open_session("CH-0001") == OpenSession("abc-201", 1)  # the newest open one
    await d.session_needs("CH-0001", "abc-201", ChargingNeeds(30.5, 7200.0, 16.0), T0)
    kept = await d.open_session("CH-0001")
    assert kept == OpenSession("abc-201", 1, 30.5, T0 + timedelta(hours=2), 16.0)
    assert kept.needs(T0 + timedelta(hours=1)) == ChargingNeeds(30.5, 3600.0, 16.0)
    await d.stop_session("CH-0001", SessionStop("abc-201", 10.0, T0, "EVDisconnected"))
    assert await d.open_session("CH-0001") == OpenSession(tx, 1)
    await d.stop_session("CH-0001", SessionStop(tx, 6500.0, T0, "EVDisconnected"))
    assert await d.open_session("CH-0001") is None
    assert await d.open_session("CH-9999") is None
    with workflow.ctx.unit() as s:
        c = s.scalar(select(Charger).where(Charger.serial == "CH-0001"))
        assert c is not None
        assert (c.vendor, c.model, c.firmware, c.ocpp_version) == ("Zaptec", "Go", "2.1", "1.6")
        assert c.capabilities["max_stack_level"] == 8 and c.connectors == 2
        assert (c.connection_state, c.held_by) == ("online", "host:1")
        states = list(s.scalars(select(ConnectorState)))
        assert [(x.connector_id, x.status) for x in states] == [(1, "SuspendedEV")]
        sessions = {x.transaction_id: x for x in s.scalars(select(ChargingSession))}
        assert len(sessions) == 2
        assert sessions[tx].energy_kwh == 5.5 and sessions[tx].stop_reason == "EVDisconnected"
        events = [(e.kind, e.message) for e in s.scalars(select(Event))]
        assert (
            "charger_wrong_password",
            "CH-0001 tried to connect with a wrong password",
        ) in events
        waiting = [m for k, m in events if k == "charger_waiting_to_be_added"]
        assert waiting == [
            "CH-0002 is a known charger but has not been added to an organization yet"
        ]


async def test_authorization_follows_the_organization_and_failsafe_the_group(
    workflow: Workflow,
) -> None:
    _site(workflow)
    d = StoreChargerDirectory(workflow)
    assert await d.authorize_tag("CH-0001", "ANY")
    workflow.orgs.update(OPERATOR, "S", authorize_mode="tag_list")
    assert not await d.authorize_tag("CH-0001", "ANY")
    with workflow.ctx.unit() as s:
        s.add(IdTag(organization_id=1, tag="KNOWN"))
    assert await d.authorize_tag("CH-0001", "KNOWN")
    assert await d.failsafe_current_a("CH-0001") is None
    workflow.groups.create(OPERATOR, organization="S", settings=group_settings())
    workflow.groups.import_charger(
        OPERATOR, "Garage", charger="CH-0001", membership=MembershipSettings("L1,L2,L3", 10)
    )
    assert await d.failsafe_current_a("CH-0001") == 10.0


async def test_meter_pins_and_the_meter_row_follow_the_hub(workflow: Workflow) -> None:
    _site(workflow)
    creds = StoreMeterCredentials(workflow)
    assert creds.authenticate("AG-0001", "12345678") is MeterAuth.OK
    assert creds.authenticate("AG-0001", "00000000") is MeterAuth.BAD_SECRET
    assert creds.authenticate("AG-9999", "12345678") is MeterAuth.UNKNOWN_METER
    for _ in range(3):  # the fixture locks after 3 failures
        creds.authenticate("AG-0001", "00000000")
    assert creds.authenticate("AG-0001", "12345678") is MeterAuth.LOCKED_OUT

    now = [T0.timestamp()]
    hub = MeterHub(clock=lambda: now[0], recorder=StoreReadingRecorder(workflow))
    hub.register(MeterSettings("AG-0001", fuse_a=63.0))
    assert hub.submit(Reading("AG-0001", (10.0, 11.0, 12.0), received_at_s=now[0], seq=1)).accepted
    await hub._flush()
    recorder = StoreReadingRecorder(workflow)
    for event in hub.drain_events():
        await recorder.record_event(event)
    with workflow.ctx.unit() as s:
        meter = s.scalar(select(PowerMeter).where(PowerMeter.serial == "AG-0001"))
        assert meter is not None and meter.state == "online"
        assert meter.last_reading is not None and meter.last_reading["reading"]["current_a"] == [
            10.0,
            11.0,
            12.0,
        ]
        assert [e.kind for e in s.scalars(select(Event))] == ["meter_online"]


async def test_group_records_keep_building_peak_and_sharing_memory_and_turn_notices_into_events(
    workflow: Workflow,
) -> None:
    from fuseshare.adapters.group_store import GroupRecords
    from fuseshare.balancing.building_peak import BuildingPeak
    from fuseshare.control.loop import GroupNotice
    from fuseshare.control.spec import load_specs
    from fuseshare.store.tables import LoadBalancingGroup

    _site(workflow)
    workflow.groups.create(OPERATOR, organization="S", settings=group_settings(), meter="AG-0001")
    with workflow.ctx.unit() as s:
        group_id = s.scalar(select(LoadBalancingGroup.id))
    assert group_id is not None
    records = GroupRecords(workflow)
    peak = BuildingPeak()
    for k in range(61):
        peak.add(T0.timestamp() + k, (30.0, 41.5, None))
    records.keep_building(group_id, peak.to_json())
    await records.drain()
    records.keep_building(group_id, peak.to_json())  # the second write updates the row
    records.notify(
        GroupNotice(
            group_id, 1, T0.timestamp(), "warning", "group_offline_budget_lowered", "Garage", "m"
        )
    )
    memory = {"algorithm": "standard", "version": 5, "state": {"now_s": None, "sessions": {}}}
    records.keep_memory(group_id, memory)
    await records.drain()
    memory["version"] = 4
    records.keep_memory(group_id, memory)  # the second write updates the row
    await records.drain()
    with workflow.ctx.unit() as s:
        spec = load_specs(s, [group_id])[group_id]
        event = s.scalars(select(Event).where(Event.kind == "group_offline_budget_lowered")).one()
    assert spec.sharing_memory == memory
    assert spec.building_peak is not None
    assert BuildingPeak.from_json(spec.building_peak).peak() == (30.0, 41.5, None)
    assert (event.group_id, event.severity, event.subject) == (group_id, "warning", "Garage")
    assert event.at == T0
