"""HTTP push and the status API, served by uvicorn on a real socket."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from meter_helpers import FakeCredentials, free_port

from fuseshare.meters.http_push import make_push_router, make_status_router
from fuseshare.meters.hub import MeterHub, MeterSettings
from fuseshare.meters.simulated import HttpTransport, SimulatedAmpGuard, run_simulated, series_load

PIN = "12345678"


@pytest.fixture
async def api(
    serial: str, credentials: FakeCredentials
) -> AsyncIterator[tuple[httpx.AsyncClient, MeterHub]]:
    hub = MeterHub(clock=time.time)
    hub.register(MeterSettings(serial, kind="http", fuse_a=63.0))
    credentials.pins[serial] = PIN
    credentials.pins[serial + "-token"] = "tok-abc"
    app = FastAPI()
    app.include_router(make_push_router(hub, credentials, clock=time.time))
    app.include_router(make_status_router(hub))
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(10):
            while not server.started:
                await asyncio.sleep(0.01)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            yield client, hub
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


GOOD = b'{"seq": 1, "current_a": [12.1, 8.0, 15.3], "voltage_v": [231.0, 229.5, 230.2]}'


async def test_a_pushed_reading_is_accepted_and_shown(
    api: tuple[httpx.AsyncClient, MeterHub], serial: str
) -> None:
    client, hub = api
    r = await client.post(f"/api/meters/{serial}/readings", content=GOOD, auth=(serial, PIN))
    assert r.status_code == 202, r.text
    assert r.json()["accepted"] is True
    view = hub.view(serial)
    assert view is not None and view.online and view.reading is not None
    assert view.reading.current_a == (12.1, 8.0, 15.3) and view.reading.source == "http"

    status = (await client.get(f"/api/meters/{serial}")).json()
    assert status["online"] is True
    assert status["age_s"] >= 0
    assert status["reading"]["current_a"] == [12.1, 8.0, 15.3]
    assert (await client.get("/api/meters/NOPE")).status_code == 404


async def test_credentials_are_required_and_must_match_the_serial(
    api: tuple[httpx.AsyncClient, MeterHub], serial: str
) -> None:
    client, _ = api
    url = f"/api/meters/{serial}/readings"
    r = await client.post(url, content=GOOD)
    assert r.status_code == 401 and "Basic" in r.headers["www-authenticate"]
    r = await client.post(url, content=GOOD, auth=("OTHER", PIN))
    assert r.status_code == 403 and "OTHER" in r.json()["detail"]
    r = await client.post(url, content=GOOD, headers={"authorization": "Basic !!!"})
    assert r.status_code == 401


async def test_wrong_pins_lock_the_meter_out(
    api: tuple[httpx.AsyncClient, MeterHub], serial: str
) -> None:
    client, hub = api
    url = f"/api/meters/{serial}/readings"
    for _ in range(3):
        r = await client.post(url, content=GOOD, auth=(serial, "00000000"))
        assert r.status_code == 401 and r.json()["detail"] == "wrong serial or PIN"
    r = await client.post(url, content=GOOD, auth=(serial, PIN))
    assert r.status_code == 429 and "locked out" in r.json()["detail"]
    assert hub.view(serial).reading is None  # type: ignore[union-attr]


async def test_a_bearer_token_works_too(
    api: tuple[httpx.AsyncClient, MeterHub], serial: str
) -> None:
    client, hub = api
    hub.register(MeterSettings(serial + "-token", kind="http", lines=1))
    r = await client.post(
        f"/api/meters/{serial}-token/readings",
        content=b'{"current_a": [3.0]}',
        headers={"authorization": "Bearer tok-abc"},
    )
    assert r.status_code == 202, r.text


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        (b"{nope", 400, "not_json"),
        (b'{"current_a": [1, 2]}', 400, "line_count"),
        (b'{"voltage_v": [230, 230, 230]}', 400, "missing_current"),
        (b'{"current_a": [-2, 1, 1]}', 422, "implausible"),
        (b'{"current_a": [1, 1, 1], "ts": "2099-01-01T00:00:00Z"}', 422, "implausible"),
        (b'{"current_a": [1, 1, 1], "pad": "' + b"x" * 5000 + b'"}', 413, "too_large"),
    ],
)
async def test_bad_input_gets_a_4xx_with_a_clear_message(
    api: tuple[httpx.AsyncClient, MeterHub], serial: str, body: bytes, status: int, error: str
) -> None:
    client, hub = api
    r = await client.post(f"/api/meters/{serial}/readings", content=body, auth=(serial, PIN))
    assert r.status_code == status, r.text
    assert r.json()["error"] == error
    assert r.json()["detail"]
    assert hub.view(serial).reading is None  # type: ignore[union-attr]


async def test_the_simulated_amp_guard_can_push_over_http(
    api: tuple[httpx.AsyncClient, MeterHub], serial: str
) -> None:
    client, hub = api
    guard = SimulatedAmpGuard(serial, series_load([[0, 16.0, 16.5, 10.0]]), seed=9)
    transport = HttpTransport(client, pin=PIN)
    await run_simulated(guard, transport, clock=time.time, interval_s=0.0, count=10)
    assert transport.last_status == 202
    status = hub.status(serial)
    assert status is not None and status.accepted == 10 and status.online
