"""Meter ingestion benchmark: prints figures, asserts nothing.

    .venv/bin/python bench/bench_meters.py [--quick]

* parse + plausibility + hub, in-process (no I/O): readings/s, the ceiling;
* MQTT: readings/s ingested from a real broker (127.0.0.1:1883, or a private
  mosquitto on a free port), publisher and ingestor in this process;
* MQTT latency: from ``publish()`` to the control side's ``next_reading()``
  returning, one message in flight at a time (p50, p99);
* Modbus: readings/s polled from simulated SDM630/EM24 meters over TCP, one
  meter back-to-back and ten meters concurrently.

Kept brief (a few seconds each) because CPU cores are shared.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from fuseshare.meters.amp_guard import topic_for
from fuseshare.meters.hub import MeterHub, MeterSettings
from fuseshare.meters.modbus import EM24, SDM630, ModbusMeterSettings, ModbusPoller
from fuseshare.meters.modbus_sim import SimulatedModbusMeter
from fuseshare.meters.mqtt import MqttIngestor, MqttSettings
from fuseshare.meters.plausibility import PlausibilityLimits
from fuseshare.meters.simulated import SimulatedAmpGuard, household_load

VALUES = {
    "current_a": (12.1, 6.5, 15.3),
    "voltage_v": (231.0, 229.5, 230.2),
    "power_w": (2700.0, 1450.0, 3400.0),
    "energy_kwh": 18234.5,
}


def listening(host: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.3):
        return True
    return False


@contextlib.contextmanager
def broker() -> Iterator[MqttSettings | None]:
    if listening("127.0.0.1", 1883):
        yield MqttSettings()
        return
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not os.access(binary, os.X_OK):
        yield None
        return
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    conf = Path(tempfile.mkdtemp()) / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    proc = subprocess.Popen(
        [binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 10
        while not listening("127.0.0.1", port) and time.monotonic() < deadline:
            time.sleep(0.05)
        yield MqttSettings(port=port)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def payloads(serials: list[str], count: int) -> list[tuple[str, bytes]]:
    guards = [SimulatedAmpGuard(s, household_load(seed=i), seed=i) for i, s in enumerate(serials)]
    # Timestamps 1 ms apart, ending now: never from the future, always in order.
    t0 = time.time() - count / 1000.0
    out = []
    for k in range(count):
        g = guards[k % len(guards)]
        out.append((topic_for(g.serial), g.payload(t0 + k / 1000.0)))
    return out


def new_hub(serials: list[str]) -> MeterHub:
    hub = MeterHub(clock=time.time)
    for s in serials:
        # Every check stays on, as in production.
        hub.register(MeterSettings(s, fuse_a=63.0))
    return hub


def accepted(hub: MeterHub, serials: list[str]) -> int:
    statuses = [hub.status(s) for s in serials]
    return sum(s.accepted for s in statuses if s is not None)


def bench_in_process(count: int) -> None:
    serials = [f"B-{uuid.uuid4().hex[:8]}" for _ in range(50)]
    hub = new_hub(serials)
    ingestor = MqttIngestor(MqttSettings(), hub, clock=time.time)
    msgs = payloads(serials, count)
    start = time.perf_counter()
    for topic, body in msgs:
        ingestor.handle(topic, body)
    elapsed = time.perf_counter() - start
    ok = accepted(hub, serials)
    print(
        f"in-process parse+plausibility+hub: {count / elapsed:,.0f} readings/s "
        f"({ok}/{count} accepted, {elapsed * 1e6 / count:.1f} µs each)"
    )


async def bench_mqtt_throughput(settings: MqttSettings, count: int) -> None:
    serials = [f"B-{uuid.uuid4().hex[:8]}" for _ in range(50)]
    hub = new_hub(serials)
    ingestor = MqttIngestor(settings, hub, clock=time.time)
    task = asyncio.create_task(ingestor.run())
    msgs = payloads(serials, count)
    try:
        await asyncio.wait_for(ingestor.connected.wait(), 10)
        async with settings.client() as pub:
            start = time.perf_counter()
            for topic, body in msgs:
                await pub.publish(topic, body, qos=0)
            deadline = time.monotonic() + 30
            while ingestor.messages < count and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            elapsed = time.perf_counter() - start
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    print(
        f"MQTT ingest ({settings.host}:{settings.port}, QoS 0, 50 meters): "
        f"{ingestor.messages / elapsed:,.0f} readings/s "
        f"({ingestor.messages}/{count} received, {accepted(hub, serials)} accepted, "
        f"{elapsed:.2f} s)"
    )


_PUBLISHER = """
import sys, json
import paho.mqtt.client as mqtt
host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
msgs = json.load(open(path))
c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
c.max_queued_messages_set(0)
c.connect(host, port)
c.loop_start()
infos = [c.publish(t, b.encode(), qos=0) for t, b in msgs]
for i in infos:
    i.wait_for_publish(30)
c.loop_stop()
c.disconnect()
"""


async def bench_mqtt_throughput_separate_publisher(settings: MqttSettings, count: int) -> None:
    """The same, with the publisher in another process: the ingestor's own pace."""
    serials = [f"B-{uuid.uuid4().hex[:8]}" for _ in range(50)]
    hub = new_hub(serials)
    ingestor = MqttIngestor(settings, hub, clock=time.time)
    task = asyncio.create_task(ingestor.run())
    msgs = [(t, b.decode()) for t, b in payloads(serials, count)]
    data = Path(tempfile.mkdtemp()) / "msgs.json"
    data.write_text(json.dumps(msgs))
    try:
        await asyncio.wait_for(ingestor.connected.wait(), 10)
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", _PUBLISHER, settings.host, str(settings.port), str(data)
        )
        start = time.perf_counter()
        deadline = time.monotonic() + 30
        while ingestor.messages < count and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
        elapsed = time.perf_counter() - start
        await proc.wait()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        shutil.rmtree(data.parent, ignore_errors=True)
    print(
        f"MQTT ingest, publisher in another process: {ingestor.messages / elapsed:,.0f} "
        f"readings/s ({ingestor.messages}/{count} received, {accepted(hub, serials)} accepted)"
    )


async def bench_mqtt_latency(settings: MqttSettings, samples: int) -> None:
    serial = f"B-{uuid.uuid4().hex[:8]}"
    hub = new_hub([serial])
    ingestor = MqttIngestor(settings, hub, clock=time.time)
    task = asyncio.create_task(ingestor.run())
    guard = SimulatedAmpGuard(serial, household_load(seed=1), seed=1)
    latencies_ms: list[float] = []
    try:
        await asyncio.wait_for(ingestor.connected.wait(), 10)
        async with settings.client() as pub:
            last = None
            for _ in range(samples):
                body = guard.payload(time.time())
                start = time.perf_counter()
                await pub.publish(topic_for(serial), body, qos=0)
                got = await hub.next_reading(serial, after=last, timeout_s=5)
                latencies_ms.append((time.perf_counter() - start) * 1000)
                last = got
                await asyncio.sleep(0.002)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    latencies_ms.sort()
    p50 = statistics.median(latencies_ms)
    p99 = latencies_ms[min(len(latencies_ms) - 1, int(0.99 * len(latencies_ms)))]
    print(
        f"MQTT publish → control side sees it ({samples} samples): "
        f"p50 {p50:.2f} ms, p99 {p99:.2f} ms, max {latencies_ms[-1]:.2f} ms"
    )


async def bench_modbus(duration_s: float, meters: int) -> None:
    servers = [SimulatedModbusMeter(SDM630 if k % 2 == 0 else EM24, VALUES) for k in range(meters)]
    for s in servers:
        await s.start()
    serials = [f"M-{uuid.uuid4().hex[:8]}" for _ in servers]
    hub = MeterHub(clock=time.time)
    pollers = []
    for serial, server in zip(serials, servers, strict=True):
        # The simulated meters hold constant values; switch the frozen check off.
        hub.register(
            MeterSettings(serial, kind="modbus", limits=PlausibilityLimits(frozen_after_s=1e9))
        )
        settings = ModbusMeterSettings(
            serial=serial,
            host="127.0.0.1",
            port=server.port,
            model=server.register_map.model,
            interval_s=0.0,
        )
        pollers.append(ModbusPoller(settings, hub, clock=time.time))
    tasks = [asyncio.create_task(p.run()) for p in pollers]
    await asyncio.sleep(duration_s)
    for t in tasks:
        t.cancel()
    for t in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await t
    for s in servers:
        await s.stop()
    polls = sum(p.polls_ok for p in pollers)
    print(
        f"Modbus TCP polling, {meters} meter(s) back-to-back (2 requests per reading): "
        f"{polls / duration_s:,.0f} readings/s ({accepted(hub, serials)} accepted)"
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller runs")
    args = parser.parse_args()
    # pymodbus logs frame dumps when a poll is cancelled mid-request at teardown.
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
    n = 3000 if args.quick else 10000
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    bench_in_process(n)
    with broker() as settings:
        if settings is None:
            print("MQTT: no broker and no mosquitto binary; skipped")
        else:
            await bench_mqtt_throughput(settings, n)
            await bench_mqtt_throughput_separate_publisher(settings, n)
            await bench_mqtt_latency(settings, 300 if args.quick else 1000)
    await bench_modbus(1.5 if args.quick else 3.0, 1)
    await bench_modbus(1.5 if args.quick else 3.0, 10)


if __name__ == "__main__":
    asyncio.run(main())
