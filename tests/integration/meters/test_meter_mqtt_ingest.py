"""Amp Guard readings through a real MQTT broker into the hub."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import aiomqtt
import pytest
from meter_helpers import PrivateBroker, eventually, free_port

from fuseshare.meters.amp_guard import encode_payload, payload_dict, topic_for
from fuseshare.meters.freshness import MeterState
from fuseshare.meters.hub import MeterHub, MeterSettings
from fuseshare.meters.mqtt import MqttIngestor, MqttSettings
from fuseshare.meters.simulated import (
    SimulatedAmpGuard,
    choose_transport,
    run_simulated,
    series_load,
)


@contextlib.asynccontextmanager
async def running(ingestor: MqttIngestor) -> AsyncIterator[MqttIngestor]:
    task = asyncio.create_task(ingestor.run())
    try:
        await asyncio.wait_for(ingestor.connected.wait(), 10)
        yield ingestor
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def new_hub(*serials: str) -> MeterHub:
    hub = MeterHub(clock=time.time)
    for s in serials:
        hub.register(MeterSettings(s, fuse_a=63.0))
    return hub


async def test_a_published_reading_reaches_the_control_side(
    broker: MqttSettings, serial: str
) -> None:
    hub = new_hub(serial)
    async with running(MqttIngestor(broker, hub, clock=time.time)), broker.client() as pub:
        body = encode_payload(
            payload_dict(
                seq=41,
                ts_s=time.time(),
                current_a=[12.1, 8.0, 15.3],
                voltage_v=[231.0, 229.5, 230.2],
                power_w=[2790, 1830, 3520],
                energy_kwh=18234.5,
            )
        )
        await pub.publish(topic_for(serial), body)
        got = await hub.next_reading(serial, timeout_s=10)
    assert got is not None
    assert got.current_a == (12.1, 8.0, 15.3)
    assert got.seq == 41 and got.source == "mqtt"
    view = hub.view(serial)
    assert view is not None and view.state is MeterState.ONLINE


async def test_bad_messages_are_counted_and_the_ingestor_keeps_going(
    broker: MqttSettings, serial: str
) -> None:
    hub = new_hub(serial)
    ingestor = MqttIngestor(broker, hub, clock=time.time)
    async with running(ingestor), broker.client() as pub:
        topic = topic_for(serial)
        await pub.publish(topic, b"not json")
        await pub.publish(topic, b'{"current_a": [1, 2]}')
        await pub.publish(topic, b'{"current_a": [-4, 2, 3], "seq": 1}')
        await pub.publish(topic, b'{"current_a": [4, 2, 3], "seq": 2}')
        got = await hub.next_reading(serial, timeout_s=10)
    assert got is not None and got.seq == 2
    status = hub.status(serial)
    assert status is not None
    assert status.rejected == {"not_json": 1, "line_count": 1, "negative": 1}
    assert ingestor.rejected == 2 and ingestor.parsed == 2


async def test_unregistered_meters_are_ignored(broker: MqttSettings, serial: str) -> None:
    hub = new_hub(serial)
    async with running(MqttIngestor(broker, hub, clock=time.time)), broker.client() as pub:
        await pub.publish(topic_for(serial + "x"), b'{"current_a": [1, 2, 3]}')
        await pub.publish(topic_for(serial), b'{"current_a": [1, 2, 3]}')
        assert await hub.next_reading(serial, timeout_s=10) is not None
    assert hub.unknown[serial + "x"] == 1


async def test_retained_readings_are_not_taken_for_fresh_ones(
    broker: MqttSettings, serial: str
) -> None:
    hub = new_hub(serial)
    topic = topic_for(serial)
    async with broker.client() as pub:
        await pub.publish(topic, b'{"current_a": [99, 99, 99]}', qos=1, retain=True)
    ingestor = MqttIngestor(broker, hub, clock=time.time)
    try:
        async with running(ingestor), broker.client() as pub:
            await eventually(lambda: ingestor.retained_dropped == 1)
            await pub.publish(topic, b'{"current_a": [1, 2, 3]}')
            got = await hub.next_reading(serial, timeout_s=10)
        assert got is not None and got.current_a == (1.0, 2.0, 3.0)
    finally:
        async with broker.client() as pub:  # clear the retained message
            await pub.publish(topic, b"", qos=1, retain=True)


async def test_the_ingestor_reconnects_after_the_broker_restarts(
    private_broker: PrivateBroker, serial: str
) -> None:
    hub = new_hub(serial)
    settings = private_broker.settings
    ingestor = MqttIngestor(settings, hub, clock=time.time)
    async with running(ingestor):
        private_broker.stop()
        await eventually(lambda: not ingestor.connected.is_set())
        private_broker.start()
        await asyncio.wait_for(ingestor.connected.wait(), 15)
        assert ingestor.connects == 2
        async with settings.client() as pub:
            await pub.publish(topic_for(serial), b'{"current_a": [5, 6, 7]}')
            got = await hub.next_reading(serial, timeout_s=10)
    assert got is not None and got.current_a == (5.0, 6.0, 7.0)
    assert ingestor.last_error


async def test_the_simulated_amp_guard_publishes_through_the_broker(
    broker: MqttSettings, serial: str
) -> None:
    hub = new_hub(serial)
    guard = SimulatedAmpGuard(serial, series_load([[0, 20.0, 10.0, 5.0]]), seed=4)
    async with running(MqttIngestor(broker, hub, clock=time.time)):
        async with choose_transport(hub, clock=time.time, mqtt=broker) as transport:
            assert type(transport).__name__ == "MqttTransport"
            await run_simulated(guard, transport, clock=time.time, interval_s=0.01, count=20)
        await eventually(lambda: (s := hub.status(serial)) is not None and s.accepted == 20)
    view = hub.view(serial)
    assert view is not None and view.online and view.reading is not None
    assert view.reading.seq == 20


async def test_without_a_broker_the_simulator_feeds_the_hub_in_process(serial: str) -> None:

    hub = new_hub(serial)
    nowhere = MqttSettings(host="127.0.0.1", port=free_port())
    guard = SimulatedAmpGuard(serial, series_load([[0, 20.0, 10.0, 5.0]]), seed=4)
    async with choose_transport(hub, clock=time.time, mqtt=nowhere) as transport:
        assert type(transport).__name__ == "InProcessTransport"
        await run_simulated(guard, transport, clock=time.time, interval_s=0.0, count=5)
    status = hub.status(serial)
    assert status is not None and status.accepted == 5 and status.online


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mqtt://127.0.0.1", ("127.0.0.1", 1883, None, None, False)),
        ("mqtts://u%40x:p%3Aw@broker.example:8884", ("broker.example", 8884, "u@x", "p:w", True)),
        ("mqtts://broker.example", ("broker.example", 8883, None, None, True)),
    ],
)
def test_broker_urls(url: str, expected: tuple[object, ...]) -> None:
    s = MqttSettings.from_url(url)
    assert (s.host, s.port, s.username, s.password, s.tls) == expected
    with pytest.raises(ValueError):
        MqttSettings.from_url("http://x")


def test_aiomqtt_is_the_2_x_line() -> None:
    assert aiomqtt.__version__.startswith("2.")
