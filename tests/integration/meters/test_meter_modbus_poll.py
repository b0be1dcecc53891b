"""Polling SDM630 and EM24 register maps from a real pymodbus TCP server."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from meter_helpers import eventually, free_port
from pymodbus.client import AsyncModbusTcpClient

from fuseshare.meters.hub import MeterHub, MeterSettings
from fuseshare.meters.modbus import EM24, SDM630, ModbusMeterSettings, ModbusPoller, RegisterMap
from fuseshare.meters.modbus_sim import SimulatedModbusMeter

VALUES: dict[str, Any] = {
    "current_a": (12.1, 6.5, 15.3),
    "voltage_v": (231.0, 229.5, 230.2),
    "power_w": (2700.0, -1450.0, 3400.0),  # L2 exports (PV)
    "energy_kwh": 18234.5,
}


@contextlib.asynccontextmanager
async def meter(register_map: RegisterMap, **kw: Any) -> AsyncIterator[SimulatedModbusMeter]:
    server = SimulatedModbusMeter(register_map, VALUES, **kw)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def hub_with(serial: str) -> MeterHub:
    hub = MeterHub(clock=time.time)
    hub.register(MeterSettings(serial, kind="modbus", fuse_a=63.0))
    return hub


@pytest.mark.parametrize("register_map", [SDM630, EM24], ids=lambda m: m.model)
async def test_one_poll_reads_currents_voltages_power_and_energy(
    register_map: RegisterMap, serial: str
) -> None:
    hub = hub_with(serial)
    async with meter(register_map, unit_id=3) as server:
        settings = ModbusMeterSettings(
            serial=serial, host="127.0.0.1", port=server.port, unit_id=3, model=register_map.model
        )
        poller = ModbusPoller(settings, hub, clock=time.time)
        client = AsyncModbusTcpClient("127.0.0.1", port=server.port, reconnect_delay=0)
        assert await client.connect()
        try:
            reading = await poller.poll_once(client)
        finally:
            client.close()
    assert reading is not None
    assert reading.current_a == pytest.approx(VALUES["current_a"], abs=1e-3)
    assert reading.voltage_v == pytest.approx(VALUES["voltage_v"], abs=0.05)
    assert reading.power_w == pytest.approx(VALUES["power_w"], abs=0.1)
    assert reading.energy_kwh == pytest.approx(18234.5, abs=0.1)
    # The sign of current is taken from power: L2 exports.
    assert [s < 0 for s in reading.signed_current_a] == [False, True, False]
    assert reading.seq == 1 and reading.source == "modbus"
    view = hub.view(serial)
    assert view is not None and view.online and view.reading == reading


async def test_polling_follows_the_meter_and_survives_a_restart(serial: str) -> None:
    hub = hub_with(serial)
    server = SimulatedModbusMeter(EM24, VALUES)
    await server.start()
    settings = ModbusMeterSettings(
        serial=serial,
        host="127.0.0.1",
        port=server.port,
        model="em24",
        interval_s=0.02,
        timeout_s=1.0,
        backoff_initial_s=0.05,
        backoff_max_s=0.2,
    )
    poller = ModbusPoller(settings, hub, clock=time.time)
    task = asyncio.create_task(poller.run())
    try:
        first = await hub.next_reading(serial, timeout_s=10)
        assert first is not None and first.current_a[0] == pytest.approx(12.1)

        server.set({**VALUES, "current_a": (30.0, 6.5, 15.3)})
        await eventually(lambda: hub.view(serial).reading.current_a[0] == pytest.approx(30.0))  # type: ignore[union-attr]

        await server.stop()
        await eventually(lambda: not poller.connected and poller.last_error is not None)
        await server.start()  # same port
        await eventually(lambda: poller.connects >= 2)
        before = hub.status(serial).accepted  # type: ignore[union-attr]
        await eventually(lambda: hub.status(serial).accepted > before)  # type: ignore[union-attr]
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await server.stop()
    assert poller.stats()["polls_ok"] >= 3


async def test_an_unreachable_meter_is_retried_and_stays_offline(serial: str) -> None:
    hub = hub_with(serial)
    settings = ModbusMeterSettings(
        serial=serial,
        host="127.0.0.1",
        port=free_port(),
        backoff_initial_s=0.05,
        backoff_max_s=0.1,
        timeout_s=0.5,
    )
    poller = ModbusPoller(settings, hub, clock=time.time)
    task = asyncio.create_task(poller.run())
    try:
        await eventually(lambda: poller.last_error is not None)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert poller.connects == 0 and poller.polls_ok == 0
    assert "connect" in (poller.last_error or "")
    view = hub.view(serial)
    assert view is not None and not view.online
