"""Benchmark: N simulated OCPP 1.6 chargers against one fuseshare server process.

Each charger connects with HTTP Basic auth, boots (and is configured, and gets
its failsafe profile, as in production), then sends MeterValues (per-phase
current, power, energy) every 10 s and a Heartbeat every 60 s. Printed per N:
connections held, messages/s, p50/p99 response time (send → CALLRESULT, steady
state only) and server RSS.

    .venv/bin/python bench/bench_ocpp.py                    # 1,000 and 5,000
    .venv/bin/python bench/bench_ocpp.py --chargers 200 --duration 20

The server runs in one subprocess (uvicorn, default loop and websockets
implementation, in-memory ports), the chargers in another (lean raw-frame
clients, so that the client is not the bottleneck). Loopback only, bounded in
time. Goal on a 2-core machine: 5,000 chargers held with p99 under 200 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gc
import json
import os
import random
import resource
import socket
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

METER_INTERVAL_S = 10.0
HEARTBEAT_INTERVAL_S = 60.0


class GcPauses:
    """Longest and total garbage-collector pause in this process (ms)."""

    def __init__(self) -> None:
        self.max_ms = 0.0
        self.total_ms = 0.0
        self.count = 0
        self.long: list[tuple[float, float]] = []
        """(time.monotonic() at the end, ms) of every pause over 50 ms."""
        self._t0 = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._t0 = time.perf_counter()
            return
        ms = (time.perf_counter() - self._t0) * 1000
        self.max_ms = max(self.max_ms, ms)
        self.total_ms += ms
        self.count += 1
        if ms > 50:
            self.long.append((time.monotonic(), round(ms, 1)))


def raise_fd_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


# -- the server process ---------------------------------------------------------


def serve(port: int) -> None:
    """Run the central system with in-memory ports (no database)."""
    import logging

    import uvicorn
    from fastapi import FastAPI

    from fuseshare.ocpp import (
        AuthResult,
        AuthStatus,
        CentralSettings,
        CentralSystem,
        ocpp_router,
    )

    raise_fd_limit()
    logging.basicConfig(level=logging.WARNING)

    class Directory:
        async def authenticate(self, serial: str, password: str) -> AuthResult:
            ok = password == f"pw-{serial}"
            return AuthResult(AuthStatus.OK if ok else AuthStatus.WRONG_PASSWORD)

        async def record_boot(self, *a: Any) -> None: ...
        async def record_connection(self, *a: Any, **k: Any) -> None: ...
        async def record_seen(self, *a: Any) -> None: ...
        async def record_status(self, *a: Any) -> None: ...
        async def start_session(self, serial: str, start: Any) -> str:
            return "1"

        async def session_energy(self, *a: Any) -> None: ...
        async def stop_session(self, *a: Any) -> None: ...
        async def authorize_tag(self, *a: Any) -> bool:
            return True

        async def failsafe_current_a(self, serial: str) -> float | None:
            return 6.0

    class Telemetry:
        def __init__(self) -> None:
            self.samples = 0

        def meter_sample(self, serial: str, sample: Any) -> None:
            self.samples += 1

        def connector_status(self, *a: Any) -> None: ...
        def session_started(self, *a: Any) -> None: ...
        def session_stopped(self, *a: Any) -> None: ...
        def connection_changed(self, *a: Any) -> None: ...
        def controllability(self, *a: Any) -> None: ...

    telemetry = Telemetry()
    gc_pauses = GcPauses()
    central = CentralSystem(
        Directory(),  # type: ignore[arg-type]
        telemetry,  # type: ignore[arg-type]
        CentralSettings(sample_interval_s=10, heartbeat_interval_s=60, boot_wait_s=5),
    )
    app = FastAPI()
    app.include_router(ocpp_router(central))

    @app.get("/stats")
    def stats() -> dict[str, Any]:
        return {
            "connected": len(central.connected()),
            "samples": telemetry.samples,
            "rss_mib": rss_mib(os.getpid()),
            "gc_max_ms": round(gc_pauses.max_ms, 1),
            "gc_long": gc_pauses.long,
        }

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", backlog=4096)


# -- the charger process --------------------------------------------------------

CANNED = {
    "ChangeConfiguration": {"status": "Accepted"},
    "GetConfiguration": {
        "configurationKey": [
            {"key": "ChargeProfileMaxStackLevel", "readonly": True, "value": "8"},
            {
                "key": "ChargingScheduleAllowedChargingRateUnit",
                "readonly": True,
                "value": "Current",
            },
        ],
        "unknownKey": [],
    },
    "SetChargingProfile": {"status": "Accepted"},
}


def ts() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def meter_values(energy_wh: float) -> dict[str, Any]:
    sampled = [
        {"value": f"{c:.1f}", "measurand": "Current.Import", "phase": p, "unit": "A"}
        for p, c in (("L1", 15.9), ("L2", 16.1), ("L3", 16.0))
    ]
    sampled.append({"value": "11000", "measurand": "Power.Active.Import", "unit": "W"})
    sampled.append(
        {"value": f"{energy_wh:.0f}", "measurand": "Energy.Active.Import.Register", "unit": "Wh"}
    )
    return {"connectorId": 1, "meterValue": [{"timestamp": ts(), "sampledValue": sampled}]}


class Stats:
    def __init__(self) -> None:
        self.latencies_ms: list[float] = []
        self.recording = False
        self.connected = 0
        self.failed = 0
        self.errors = 0


async def charger(i: int, port: int, stats: Stats, stop_at: float, ready: asyncio.Event) -> None:
    import websockets

    serial = f"BENCH-{i:05d}"
    token = base64.b64encode(f"{serial}:pw-{serial}".encode()).decode()
    try:
        ws = await websockets.connect(
            f"ws://127.0.0.1:{port}/ocpp/{serial}",
            subprotocols=["ocpp1.6"],  # type: ignore[list-item]
            additional_headers={"Authorization": f"Basic {token}"},
            open_timeout=120,
            ping_interval=None,
            max_queue=None,
        )
    except Exception:
        stats.failed += 1
        return
    stats.connected += 1
    pending: dict[str, float] = {}
    boot_done = asyncio.Event()
    seq = 0

    async def send_call(action: str, payload: dict[str, Any]) -> None:
        nonlocal seq
        seq += 1
        uid = f"{i}-{seq}"
        pending[uid] = time.perf_counter()
        await ws.send(json.dumps([2, uid, action, payload], separators=(",", ":")))

    async def reader() -> None:
        async for raw in ws:
            msg = json.loads(raw)
            if msg[0] == 2:
                reply = CANNED.get(msg[2], {})
                await ws.send(json.dumps([3, msg[1], reply], separators=(",", ":")))
                continue
            sent = pending.pop(msg[1], None)
            if msg[0] == 4:
                stats.errors += 1
            if sent is not None and stats.recording:
                stats.latencies_ms.append((time.perf_counter() - sent) * 1000)
            if msg[1] == f"{i}-1":
                boot_done.set()

    read_task = asyncio.create_task(reader())
    try:
        await send_call(
            "BootNotification", {"chargePointVendor": "bench", "chargePointModel": "B1"}
        )
        await asyncio.wait_for(boot_done.wait(), 120)
        await ready.wait()
        rng = random.Random(i)
        next_meter = time.monotonic() + rng.uniform(0, METER_INTERVAL_S)
        next_hb = time.monotonic() + rng.uniform(0, HEARTBEAT_INTERVAL_S)
        energy = 0.0
        while True:
            now = time.monotonic()
            wake = min(next_meter, next_hb)
            if wake >= stop_at:
                break
            await asyncio.sleep(max(0.0, wake - now))
            if next_meter <= next_hb:
                energy += 30.0
                await send_call("MeterValues", meter_values(energy))
                next_meter += METER_INTERVAL_S
            else:
                await send_call("Heartbeat", {})
                next_hb += HEARTBEAT_INTERVAL_S
        await asyncio.sleep(max(0.0, stop_at + 2 - time.monotonic()))
    except Exception:
        stats.errors += 1
    finally:
        read_task.cancel()
        await ws.close()


async def load(port: int, n: int, duration_s: float, ramp_per_s: float) -> dict[str, Any]:
    raise_fd_limit()
    gc_pauses = GcPauses()
    stats = Stats()
    ready = asyncio.Event()
    ramp_s = n / ramp_per_s
    settle_s = 10.0
    start = time.monotonic()
    stop_at = start + ramp_s + settle_s + duration_s + 30  # upper bound, reset below
    tasks = []
    for i in range(n):
        tasks.append(asyncio.create_task(charger(i, port, stats, stop_at, ready)))
        if i % 50 == 49:
            await asyncio.sleep(50 / ramp_per_s)
    # Wait until every charger connected or failed (bounded), then settle.
    deadline = time.monotonic() + 180
    while stats.connected + stats.failed < n and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
    connect_s = time.monotonic() - start
    ready.set()
    await asyncio.sleep(settle_s)
    stats.recording = True
    window_start = time.monotonic()
    await asyncio.sleep(duration_s)
    stats.recording = False
    window_end = time.monotonic()
    window_s = window_end - window_start
    held = await server_stats(port)

    def in_window(pauses: list[tuple[float, float]]) -> list[float]:
        # CLOCK_MONOTONIC is shared by the processes of one machine.
        return [ms for at, ms in pauses if window_start <= at <= window_end]

    lat = sorted(stats.latencies_ms)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    quantile = (
        (lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]) if lat else (lambda q: float("nan"))
    )
    return {
        "chargers": n,
        "connected_client_side": stats.connected,
        "failed_connects": stats.failed,
        "held_server_side": held["connected"],
        "connect_all_s": round(connect_s, 1),
        "messages": len(lat),
        "messages_per_s": round(len(lat) / window_s, 1),
        "p50_ms": round(quantile(0.50), 2),
        "p99_ms": round(quantile(0.99), 2),
        "max_ms": round(lat[-1], 2) if lat else None,
        "mean_ms": round(statistics.fmean(lat), 2) if lat else None,
        "call_errors": stats.errors,
        "server_rss_mib": round(held["rss_mib"], 1),
        "server_gc_max_ms": held["gc_max_ms"],
        "client_gc_max_ms": round(gc_pauses.max_ms, 1),
        "server_gc_over_50ms_in_window": in_window(held["gc_long"]),
        "client_gc_over_50ms_in_window": in_window(gc_pauses.long),
        "load_avg_1min": os.getloadavg()[0],
        "window_s": round(window_s, 1),
    }


async def server_stats(port: int) -> dict[str, Any]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /stats HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
    data = await reader.read()
    writer.close()
    return dict(json.loads(data.split(b"\r\n\r\n", 1)[1]))


# -- orchestration --------------------------------------------------------------


def wait_for_server(port: int, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            asyncio.run(server_stats(port))
            return
        except (OSError, ValueError, IndexError):
            time.sleep(0.2)
    raise RuntimeError("server did not start")


def run_one(n: int, duration_s: float, ramp_per_s: float) -> dict[str, Any]:
    port = free_port()
    me = [sys.executable, str(Path(__file__).resolve())]
    server = subprocess.Popen([*me, "--serve", "--port", str(port)])
    try:
        wait_for_server(port)
        out = subprocess.run(
            [
                *me,
                "--load",
                "--port",
                str(port),
                "--chargers",
                str(n),
                "--duration",
                str(duration_s),
                "--ramp",
                str(ramp_per_s),
            ],
            capture_output=True,
            text=True,
            timeout=duration_s + n / ramp_per_s + 400,
            check=True,
        )
        return dict(json.loads(out.stdout.strip().splitlines()[-1]))
    finally:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chargers", type=int, nargs="*", default=[1000, 5000])
    parser.add_argument("--duration", type=float, default=40.0, help="measured window, s")
    parser.add_argument("--ramp", type=float, default=500.0, help="new connections per s")
    parser.add_argument("--port", type=int)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--load", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.port)
        return
    if args.load:
        try:
            import uvloop

            uvloop.install()
        except ImportError:
            pass
        result = asyncio.run(load(args.port, args.chargers[0], args.duration, args.ramp))
        print(json.dumps(result))
        return
    print(f"fd limit {raise_fd_limit()}, {os.cpu_count()} CPUs")
    header = (
        f"{'chargers':>8} {'held':>6} {'msg/s':>7} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'max ms':>7} {'RSS MiB':>8} {'errors':>6} {'connect s':>9}"
    )
    print(header)
    for n in args.chargers:
        r = run_one(n, args.duration, args.ramp)
        print(
            f"{r['chargers']:>8} {r['held_server_side']:>6} {r['messages_per_s']:>7} "
            f"{r['p50_ms']:>7} {r['p99_ms']:>7} {r['max_ms']!s:>7} {r['server_rss_mib']:>8} "
            f"{r['call_errors'] + r['failed_connects']:>6} {r['connect_all_s']:>9}",
            flush=True,
        )
        print("  " + json.dumps(r), flush=True)


if __name__ == "__main__":
    main()
