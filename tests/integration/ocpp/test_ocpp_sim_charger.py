"""The central system against our simulated charger, over real sockets, 1.6 and 2.0.1."""

from __future__ import annotations

from datetime import timedelta

import pytest

from fuseshare.ocpp.profiles import DYNAMIC_PROFILE_ID, FAILSAFE_PROFILE_ID

VERSIONS = ["1.6", "2.0.1"]


@pytest.mark.parametrize("version", VERSIONS)
async def test_boot_configures_charger_and_installs_failsafe(server, version):
    server.directory.add("CH-1", "secret", failsafe_a=6.0)
    async with server.sim("CH-1", version) as cp:
        assert await cp.boot() == "Accepted"
        assert cp.state.heartbeat_interval_s == 60
        await server.central.wait_ready("CH-1")

        serial, boot, _ = server.directory.boots[0]
        assert (serial, boot.vendor, boot.model, boot.firmware_version) == (
            "CH-1",
            "fuseshare-sim",
            "SimCharger",
            "1.0.0",
        )
        assert boot.ocpp_version == version
        caps = server.directory.boots[-1][2]
        assert caps is not None and caps.max_stack_level == 8
        assert caps.rate_units == ("A", "W")

        config = cp.state.configuration
        if version == "1.6":
            assert config["MeterValuesSampledData"].split(",") == [
                "Current.Import",
                "Power.Active.Import",
                "Energy.Active.Import.Register",
            ]
            assert config["MeterValueSampleInterval"] == "5"
        else:
            assert "Current.Import" in config["SampledDataCtrlr.TxUpdatedMeasurands"]
            assert config["SampledDataCtrlr.TxUpdatedInterval"] == "5"

        assert [p.profile_id for p in cp.state.profiles] == [FAILSAFE_PROFILE_ID]
        assert cp.effective_limit_a() == 6.0
        snap = server.central.snapshot("CH-1")
        assert snap is not None and snap.ocpp_version == version
    assert ("CH-1", True, server.central.settings.process_id) in server.directory.connections


@pytest.mark.parametrize("version", VERSIONS)
async def test_status_session_and_meter_values(server, version):
    server.directory.add("CH-2", "pw")
    tel = server.telemetry
    async with server.sim("CH-2", version) as cp:
        await cp.boot()
        await cp.send_status(1, "Available")
        assert await cp.authorize("TAG-9") == "Accepted"
        tx = await cp.start_transaction(1, "TAG-9")
        await cp.send_meter_values(1, [10.0, 11.0, 12.0], power_w=7500.0, energy_add_wh=1234.0)
        await cp.stop_transaction(1)

    assert ("CH-2", 1, "Available", None) in tel.statuses
    assert ("CH-2", tx, "started") in tel.sessions and ("CH-2", tx, "stopped") in tel.sessions
    samples = [s for serial, s in tel.samples if serial == "CH-2" and s.current_a.l1 is not None]
    assert samples, tel.samples
    sample = samples[-1]
    assert sample.current_a.as_tuple() == (10.0, 11.0, 12.0)
    assert sample.power_w == 7500.0
    assert sample.energy_wh == 1234.0
    assert sample.transaction_id == tx
    session = server.directory.sessions[tx]
    assert session["stop"].meter_stop_wh == 1234.0
    if version == "1.6":
        assert int(tx) > 0


async def test_a_201_transactions_charging_state_is_what_its_car_does(server):
    """OCPP 2.0.1 says in the transaction whether the car takes current (1.6 says it in
    the connector status): each change is passed on once, as the connector's status, so
    that a full car (SuspendedEV) is seen as one that wants no energy."""
    server.directory.add("CH-CS", "pw")
    tel = server.telemetry
    async with server.sim("CH-CS", "2.0.1") as cp:
        await cp.boot()
        await cp.send_status(1, "Occupied")
        await cp.start_transaction(1, "TAG-9")
        await cp.send_meter_values(1, [16.0, 16.0, 16.0])
        await cp.send_charging_state(1, "SuspendedEV")
        await cp.send_meter_values(1, [0.0, 0.0, 0.0])  # periodic, same state: nothing new
        await cp.send_charging_state(1, "SuspendedEVSE")
        await cp.stop_transaction(1)
    states = [status for serial, _, status, _ in tel.statuses if serial == "CH-CS"]
    assert states == ["Occupied", "Charging", "SuspendedEV", "SuspendedEVSE"]


@pytest.mark.parametrize("version", VERSIONS)
async def test_authorize_with_tag_list(server, version):
    server.directory.add("CH-3", "pw")
    server.directory.accept_all_tags = False
    server.directory.tags = {"GOOD"}
    async with server.sim("CH-3", version) as cp:
        await cp.boot()
        assert await cp.authorize("GOOD") == "Accepted"
        assert await cp.authorize("BAD") == "Invalid"


@pytest.mark.parametrize("version", VERSIONS)
async def test_set_limit_sends_expiring_dynamic_over_failsafe(server, version):
    server.directory.add("CH-4", "pw", failsafe_a=6.0)
    async with server.sim("CH-4", version) as cp:
        await cp.boot()
        await server.central.wait_ready("CH-4")
        outcome = await server.central.set_limit("CH-4", 16.0)
        assert outcome.accepted and outcome.sent
        ids = sorted(p.profile_id for p in cp.state.profiles)
        assert ids == [FAILSAFE_PROFILE_ID, DYNAMIC_PROFILE_ID]
        now = cp.now()
        assert cp.effective_limit_a(now) == 16.0
        # What the charger itself will do, read back with GetCompositeSchedule:
        schedule = await server.central.get_composite_schedule("CH-4", duration_s=300)
        assert schedule is not None
        assert schedule.limit_at(schedule.start) == 16.0
        assert schedule.limit_at(schedule.start + timedelta(seconds=200)) == 6.0
        assert await server.central.verify_limit("CH-4") == []

        # The same limit again is not re-sent while fresh.
        sent_before = len(cp.state.received)
        again = await server.central.set_limit("CH-4", 16.0)
        assert again.accepted and not again.sent
        assert len(cp.state.received) == sent_before

        # A lower limit goes out at once.
        lower = await server.central.set_limit("CH-4", 8.0)
        assert lower.sent and cp.effective_limit_a(cp.now()) == 8.0
    assert server.telemetry.control[-1] == ("CH-4", True, None)


@pytest.mark.parametrize("version", VERSIONS)
async def test_rejected_profile_marks_charger_not_controllable(server, version):
    server.directory.add("CH-5", "pw", failsafe_a=6.0)
    async with server.sim("CH-5", version) as cp:
        await cp.boot()
        await server.central.wait_ready("CH-5")
        cp.profile_answer = "Rejected"
        outcome = await server.central.set_limit("CH-5", 20.0)
        assert not outcome.accepted and "Rejected" in (outcome.reason or "")
        serial, controllable, reason = server.telemetry.control[-1]
        assert (serial, controllable) == ("CH-5", False) and "Rejected" in (reason or "")
        snap = server.central.snapshot("CH-5")
        assert snap is not None and snap.controllable is False

        cp.profile_answer = "NoAnswer"
        outcome = await server.central.set_limit("CH-5", 19.0)
        assert not outcome.accepted and "no answer" in (outcome.reason or "")
        assert "no answer" in (server.telemetry.control[-1][2] or "")

        cp.profile_answer = "Accepted"
        outcome = await server.central.set_limit("CH-5", 18.0)
        assert outcome.accepted
        assert server.telemetry.control[-1] == ("CH-5", True, None)


@pytest.mark.parametrize("version", VERSIONS)
async def test_portal_commands(server, version):
    server.directory.add("CH-6", "pw")
    async with server.sim("CH-6", version) as cp:
        await cp.boot()
        await server.central.wait_ready("CH-6")
        central = server.central
        assert await central.trigger("CH-6", "MeterValues", 1) == "Accepted"
        assert await central.reset("CH-6") == "Accepted"
        assert await central.remote_start("CH-6", "TAG1", 1) == "Accepted"
        assert await central.remote_stop("CH-6", "42") == "Accepted"
        await central.set_limit("CH-6", 10.0)
        assert await central.clear_limit("CH-6") == "Accepted"
        assert cp.state.profiles == []
        actions = [a for a, _ in cp.state.received]
        for action in ("TriggerMessage", "Reset", "ClearChargingProfile"):
            assert action in actions


@pytest.mark.parametrize("version", VERSIONS)
async def test_reconnect_replaces_old_connection(server, version):
    server.directory.add("CH-7", "pw")
    first = server.sim("CH-7", version)
    await first.connect()
    await first.boot()
    second = server.sim("CH-7", version)
    await second.connect()
    await first.wait_closed()  # the server closed the old socket
    assert not first.connected
    await second.boot()
    await server.central.wait_ready("CH-7")
    assert server.central.connected() == ["CH-7"]
    outcome = await server.central.set_limit("CH-7", 12.0)
    assert outcome.accepted
    assert second.effective_limit_a() == 12.0
    await second.close()
    await server.telemetry.wait_for(lambda: ("CH-7", False) in server.telemetry.connections)
    assert server.telemetry.connections.count(("CH-7", False)) == 1
    assert server.central.connected() == []


@pytest.mark.parametrize("version", VERSIONS)
async def test_limit_set_while_connecting_is_applied_when_ready(server, version):
    server.directory.add("CH-8", "pw", failsafe_a=6.0)
    async with server.sim("CH-8", version) as cp:
        early = await server.central.set_limit("CH-8", 11.0)
        assert not early.accepted and early.reason in ("connecting", "offline")
        await cp.boot()
        await server.telemetry.wait_for(lambda: server.central.is_connected("CH-8"))
        await server.central.wait_ready("CH-8")
        assert cp.effective_limit_a() == 11.0
        snap = server.central.snapshot("CH-8")
        assert snap is not None and snap.limit_a == 11.0 and snap.controllable


async def test_heartbeat_and_unknown_charger_commands(server):
    from fuseshare.ocpp import ChargerOffline

    server.directory.add("CH-9", "pw")
    async with server.sim("CH-9", "1.6") as cp:
        await cp.boot()
        assert (await cp.heartbeat()).endswith("Z")
    with pytest.raises(ChargerOffline):
        await server.central.reset("CH-NOT-HERE")
    assert (await server.central.set_limit("CH-NOT-HERE", 10.0)).reason == "offline"


@pytest.mark.parametrize("version", VERSIONS)
async def test_heartbeat_and_firmware_status_are_answered_in_both_versions(server, version):
    """One base handler answers both versions, each with its own call result (a
    CALLERROR, or an answer its schema refuses, would raise here)."""
    from ocpp.v16 import call as call16
    from ocpp.v201 import call as call201

    server.directory.add("CH-HB", "pw")
    async with server.sim("CH-HB", version) as cp:
        await cp.boot()
        assert (await cp.heartbeat()).endswith("Z")
        if version == "1.6":
            await cp.call(call16.FirmwareStatusNotification(status="Installed"))
        else:
            await cp.call(call201.FirmwareStatusNotification(status="Installed"))


@pytest.mark.parametrize("version", VERSIONS)
async def test_release_keeps_failsafe_and_drops_dynamic(server, version):
    server.directory.add("CH-10", "pw", failsafe_a=6.0)
    async with server.sim("CH-10", version) as cp:
        await cp.boot()
        await server.central.wait_ready("CH-10")
        assert (await server.central.set_limit("CH-10", 25.0)).accepted
        server.central.forget_limit("CH-10")
        assert server.central.desired("CH-10") is None
        snap = server.central.snapshot("CH-10")
        assert snap is not None and snap.limit_a is None
        assert await server.central.clear_profile("CH-10", DYNAMIC_PROFILE_ID) == "Accepted"
        assert [p.profile_id for p in cp.state.profiles] == [FAILSAFE_PROFILE_ID]
        assert cp.effective_limit_a() == 6.0
