"""Identity before the upgrade, subprotocol choice, and bad input over real sockets."""

from __future__ import annotations

import asyncio
import base64
import json
import logging

import pytest
import websockets
from ocpp_harness import TEST_SETTINGS, start_server
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import InvalidStatus

from fuseshare.ocpp.connection import ConnectionLimits


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


async def open_ws(
    server, serial: str, password: str | None, subprotocols=("ocpp1.6",)
) -> ClientConnection:
    headers = {} if password is None else basic(serial, password)
    return await websockets.connect(
        f"{server.base_url}/{serial}",
        subprotocols=list(subprotocols),
        additional_headers=headers,
        open_timeout=10,
    )


async def refused_status(server, serial: str, password: str | None) -> tuple[int, str | None]:
    with pytest.raises(InvalidStatus) as info:
        await open_ws(server, serial, password)
    response = info.value.response
    return response.status_code, response.headers.get("WWW-Authenticate")


@pytest.mark.parametrize("ws_impl", ["websockets", "websockets-sansio"])
@pytest.mark.filterwarnings("ignore:The .websockets. implementation is deprecated")
async def test_refusals_are_401_before_upgrade_and_logged_without_password(ws_impl, caplog):
    running = await start_server(TEST_SETTINGS, ws=ws_impl)
    try:
        d = running.directory
        d.add("CH-123", "right-password")
        d.inventory.add("CH-NEW")
        d.add("CH-LOCK", "pw")
        d.locked.add("CH-LOCK")
        caplog.set_level(logging.WARNING, logger="fuseshare.ocpp")
        assert await refused_status(running, "CH-123", "wrong-password") == (
            401,
            'Basic realm="fuseshare"',
        )
        assert (await refused_status(running, "CH-404", "x"))[0] == 401
        assert (await refused_status(running, "CH-NEW", "x"))[0] == 401
        assert (await refused_status(running, "CH-LOCK", "pw"))[0] == 401
        assert (await refused_status(running, "CH-123", None))[0] == 401
        text = caplog.text
        assert "CH-123 tried to connect with a wrong password" in text
        assert "CH-404 is unknown" in text
        assert "CH-NEW is waiting to be added" in text
        assert "CH-LOCK is locked out" in text
        assert "wrong-password" not in text and "right-password" not in text

        ws = await open_ws(running, "CH-123", "right-password")
        assert ws.subprotocol == "ocpp1.6"
        await ws.close()
    finally:
        await running.central.close()
        await running.stop()


async def test_user_must_match_the_serial_in_the_path(server):
    server.directory.add("CH-A", "pw")
    server.directory.add("CH-B", "pw")
    with pytest.raises(InvalidStatus) as info:
        await websockets.connect(
            f"{server.base_url}/CH-A",
            subprotocols=["ocpp1.6"],
            additional_headers=basic("CH-B", "pw"),
        )
    assert info.value.response.status_code == 401


@pytest.mark.parametrize(
    ("offered", "chosen"),
    [
        (["ocpp2.0.1", "ocpp1.6"], "ocpp2.0.1"),
        (["ocpp1.6", "ocpp2.0.1"], "ocpp1.6"),
        (["ocpp2.1", "ocpp1.6"], "ocpp1.6"),
    ],
)
async def test_subprotocol_is_chosen_from_the_offered_list(server, offered, chosen):
    server.directory.add("CH-S", "pw")
    ws = await open_ws(server, "CH-S", "pw", offered)
    assert ws.subprotocol == chosen
    await ws.close()


async def test_no_common_subprotocol_is_closed(server):
    server.directory.add("CH-S", "pw")
    with pytest.raises(Exception):  # noqa: B017 - handshake or the close right after
        ws = await open_ws(server, "CH-S", "pw", ["ocpp0.9"])
        await asyncio.wait_for(ws.recv(), 5)


async def call(ws: ClientConnection, frame: str | bytes) -> list:
    await ws.send(frame)
    return json.loads(await asyncio.wait_for(ws.recv(), 10))


@pytest.mark.parametrize(("version", "sub"), [("1.6", "ocpp1.6"), ("2.0.1", "ocpp2.0.1")])
async def test_bad_frames_get_the_prescribed_callerror_and_the_link_stays_up(server, version, sub):
    server.directory.add("CH-BAD", "pw")
    ws = await open_ws(server, "CH-BAD", "pw", [sub])
    v16 = version == "1.6"
    try:
        reply = await call(ws, "this is not json")
        assert reply[:3] == [4, "-1", "FormationViolation" if v16 else "RpcFrameworkError"]
        reply = await call(ws, '{"an": "object"}')
        assert reply[:2] == [4, "-1"]
        reply = await call(ws, '[7, "u1", "Nope", {}]')
        assert reply[:3] == [4, "u1", "GenericError" if v16 else "MessageTypeNotSupported"]
        reply = await call(ws, '[2, "u2", "NoSuchAction", {}]')
        assert reply[:3] == [4, "u2", "NotSupported"]
        reply = await call(ws, '[2, "u3", "Heartbeat", {"extra": 1}]')
        assert reply[:3] == [4, "u3", "FormationViolation" if v16 else "FormatViolation"]
        boot = (
            {"chargePointVendor": 5, "chargePointModel": "M"}
            if v16
            else {"chargingStation": {"model": 5, "vendorName": "V"}, "reason": "PowerUp"}
        )
        reply = await call(ws, json.dumps([2, "u4", "BootNotification", boot]))
        assert reply[:3] == [4, "u4", "TypeConstraintViolation"]
        big = json.dumps([2, "u5", "DataTransfer", {"vendorId": "x", "data": "y" * 200_000}])
        reply = await call(ws, big)
        assert reply[:3] == [4, "u5", "GenericError"]
        # A response to nothing is not answered; the next call still works.
        await ws.send('[3, "nobody-asked", {}]')
        reply = await call(ws, '[2, "u6", "Heartbeat", {}]')
        assert reply[0] == 3 and reply[1] == "u6" and "currentTime" in reply[2]
    finally:
        await ws.close()


async def test_a_flood_is_rate_limited_and_the_server_stays_healthy(settings_with):
    slow = settings_with(
        limits=ConnectionLimits(frames_per_s=1.0, frame_burst=10, call_timeout_s=3)
    )
    running = await start_server(slow)
    running.directory.add("CH-FLOOD", "pw")
    running.directory.add("CH-OK", "pw")
    ws = await open_ws(running, "CH-FLOOD", "pw")
    try:
        n = 300
        for i in range(n):
            await ws.send(json.dumps([2, f"f{i}", "Heartbeat", {}]))
        replies = [json.loads(await asyncio.wait_for(ws.recv(), 10)) for _ in range(n)]
        assert sorted(r[1] for r in replies) == sorted(f"f{i}" for i in range(n))
        limited = [r for r in replies if r[0] == 4 and r[2] == "GenericError"]
        answered = [r for r in replies if r[0] == 3]
        assert answered and len(limited) == n - len(answered)
        assert len(answered) < n // 2
        # Another charger is served normally meanwhile.
        async with running.sim("CH-OK", "1.6") as cp:
            assert await cp.boot() == "Accepted"
    finally:
        await ws.close()
        await running.central.close()
        await running.stop()
