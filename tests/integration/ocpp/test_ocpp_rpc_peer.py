"""The central system against an independent implementation: npm ocpp-rpc in
strictMode, OCPP 1.6 and 2.0.1, over real sockets."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from ocpp_rpc_peer import NodePeer, ensure_peer_installed

from fuseshare.ocpp.profiles import DYNAMIC_PROFILE_ID, FAILSAFE_PROFILE_ID

PROTOCOLS = ["ocpp1.6", "ocpp2.0.1"]


@pytest.fixture(scope="session")
def peer_dir() -> Path:
    return ensure_peer_installed()


@pytest.fixture
async def peers(peer_dir) -> AsyncIterator[list[NodePeer]]:
    started: list[NodePeer] = []
    yield started
    for peer in started:
        await peer.close()


async def start_peer(server, peers, peer_dir, serial, protocol, password="pw") -> NodePeer:
    peer = await NodePeer.start(peer_dir, server.base_url, serial, password, protocol)
    peers.append(peer)
    return peer


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_session_profiles_and_failsafe_with_strict_peer(server, peers, peer_dir, protocol):
    server.directory.add("RPC-1", "pw", failsafe_a=6.0)
    peer = await start_peer(server, peers, peer_dir, "RPC-1", protocol)
    connected = await peer.wait_event("connected")
    assert connected["protocol"] == protocol

    boot = await peer.cmd("boot")
    assert boot["status"] == "Accepted" and boot["interval"] == 60
    await server.central.wait_ready("RPC-1")
    assert await peer.cmd("status", status="Available") == {}

    start = await peer.cmd("start", idTag="TAG-1")
    assert (start["idTagInfo"] if protocol == "ocpp1.6" else start["idTokenInfo"])[
        "status"
    ] == "Accepted"
    await peer.cmd("meter", currents=[15.9, 16.1, 16.0], powerW=11000, addWh=2500)
    if protocol == "ocpp2.0.1":  # 1.6 has no way for the car to say what it needs
        told = await peer.cmd("needs", energyWh=42000, departureInS=5400, evMaxCurrent=16)
        assert told == {"status": "Accepted"}

    outcome = await server.central.set_limit("RPC-1", 16.0)
    assert outcome.accepted, outcome
    assert (await peer.cmd("limit"))["limit"] == 16.0
    held = {p["id"]: p for p in await peer.cmd("profiles")}
    assert set(held) == {FAILSAFE_PROFILE_ID, DYNAMIC_PROFILE_ID}

    schedule = await server.central.get_composite_schedule("RPC-1", duration_s=600)
    assert schedule is not None
    assert schedule.limit_at(schedule.start) == 16.0
    assert schedule.limit_at(schedule.start + timedelta(seconds=300)) == 6.0  # failsafe
    assert await server.central.verify_limit("RPC-1") == []

    await peer.cmd("stop")
    assert await server.central.trigger("RPC-1", "Heartbeat") == "Accepted"

    assert peer.strict_failures() == []
    # The boot configured per-phase current and a short interval.
    if protocol == "ocpp1.6":
        changes = {c["key"]: c["value"] for c in peer.calls("ChangeConfiguration")}
        assert "Current.Import" in changes["MeterValuesSampledData"]
        assert changes["MeterValueSampleInterval"] == "5"
    else:
        data = peer.calls("SetVariables")[0]["setVariableData"]
        assert {d["variable"]["name"] for d in data} == {"TxUpdatedMeasurands", "TxUpdatedInterval"}

    tel = server.telemetry
    if protocol == "ocpp2.0.1":
        [(serial, needs)] = tel.needs
        # Told after 2.5 kWh went in (the register below): 42 kWh still missing makes a
        # session that wants 44.5 kWh in all.
        assert (serial, needs.energy_kwh, needs.ev_max_current_a) == ("RPC-1", 44.5, 16.0)
        assert needs.departure_in_s == pytest.approx(5400, abs=3)
    else:
        assert tel.needs == []
    samples = [s for serial, s in tel.samples if serial == "RPC-1" and s.current_a.l1 is not None]
    assert samples[-1].current_a.as_tuple() == (15.9, 16.1, 16.0)
    assert samples[-1].energy_wh == 2500.0
    caps = server.directory.boots[-1][2]
    assert caps is not None and caps.max_stack_level == 5 and caps.rate_units == ("A",)
    boot_info = server.directory.boots[0][1]
    assert (boot_info.vendor, boot_info.model) == ("ocpp-rpc-peer", "StrictCharger")


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_peer_falls_back_to_failsafe_when_server_dies(server, peers, peer_dir, protocol):
    server.directory.add("RPC-2", "pw", failsafe_a=8.0)
    peer = await start_peer(server, peers, peer_dir, "RPC-2", protocol)
    await peer.wait_event("connected")
    await peer.cmd("boot")
    await server.central.wait_ready("RPC-2")
    await peer.cmd("start", idTag="T")
    assert (await server.central.set_limit("RPC-2", 24.0)).accepted

    await server.stop()
    await peer.wait_event("closed")
    ttl_s = server.central.settings.policy.ttl_s
    assert (await peer.cmd("limit", atOffsetS=0))["limit"] == 24.0
    assert (await peer.cmd("limit", atOffsetS=ttl_s + 1))["limit"] == 8.0
    assert peer.strict_failures() == []


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_bad_frames_from_strict_peer(server, peers, peer_dir, protocol):
    server.directory.add("RPC-3", "pw")
    peer = await start_peer(server, peers, peer_dir, "RPC-3", protocol)
    await peer.wait_event("connected")
    await peer.cmd("boot")
    await peer.cmd("raw", frame="{not json")
    await peer.cmd("raw", frame='[2, "bad-1", "Heartbeat", {"unexpected": true}]')
    await peer.cmd("raw", frame='[2, "bad-2", "MadeUpAction", {}]')
    # The server's CALLERRORs answer calls the peer's library did not make, so
    # ocpp-rpc reports them as bad messages; we read them there.
    errors = [json.loads(e["message"]) for e in await peer.wait_events("badMessage", 3)]
    codes = {e[1]: e[2] for e in errors}
    v16 = protocol == "ocpp1.6"
    assert codes["-1"] == ("FormationViolation" if v16 else "RpcFrameworkError")
    assert codes["bad-1"] == ("FormationViolation" if v16 else "FormatViolation")
    assert codes["bad-2"] == "NotSupported"
    # Still healthy afterwards.
    assert "currentTime" in await peer.cmd("heartbeat")


async def test_peer_with_wrong_password_is_refused_401(server, peers, peer_dir):
    server.directory.add("RPC-4", "right")
    peer = await start_peer(server, peers, peer_dir, "RPC-4", "ocpp1.6", password="wrong")
    failed = await peer.wait_event("connectFailed")
    assert failed["status"] == 401
