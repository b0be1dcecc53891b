"""Control loop benchmark: meter reading → every SetChargingProfile frame written.

Real parts: MeterHub (plausibility, freshness), GroupLoop, the balancing core,
the OCPP CentralSystem with real OCPP 1.6 connections (the mobilityhouse
library, schema validation on). The only stand-in is the wire: each charger is
an in-memory transport whose far end answers like a charger, so the figures
are our processing, not loopback latency or a client's CPU.

Prints:
  1. latency from a reading arriving at the hub to the last SetChargingProfile
     frame of that cycle written, p50/p99, for one group of 10, 100, 1,000
     chargers (every charger's limit changes on every reading);
  2. how many groups of 10 chargers one process keeps at 1 Hz.

Run: .venv/bin/python bench/bench_control.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import time
from datetime import UTC, datetime
from typing import Any

from fuseshare.balancing import Grid, GroupConfig, Tunables
from fuseshare.control.commands import OcppCommands
from fuseshare.control.live import LiveBoard
from fuseshare.control.loop import GroupLoop
from fuseshare.control.spec import GroupSpec, MemberSpec
from fuseshare.control.telemetry import ChargerTelemetry
from fuseshare.meters.hub import MeterHub, MeterSettings
from fuseshare.meters.reading import Reading
from fuseshare.ocpp.central import CentralSettings, CentralSystem
from fuseshare.ocpp.ports import AuthResult, AuthStatus
from fuseshare.runtime import settle_garbage_collector

ROTATIONS = (("L1", "L2", "L3"), ("L2", "L3", "L1"), ("L3", "L1", "L2"))
_CONFIG_KEYS = [
    {"key": "ChargeProfileMaxStackLevel", "readonly": True, "value": "8"},
    {"key": "ChargingScheduleAllowedChargingRateUnit", "readonly": True, "value": "Current"},
    {"key": "NumberOfConnectors", "readonly": True, "value": "1"},
]


class Directory:
    """An in-memory ChargerDirectory: the benchmark measures the control path, not the store."""

    async def authenticate(self, serial: str, password: str) -> AuthResult:
        return AuthResult(AuthStatus.OK)

    async def record_boot(self, *a: Any, **k: Any) -> None: ...
    async def record_connection(self, *a: Any, **k: Any) -> None: ...
    async def record_seen(self, *a: Any, **k: Any) -> None: ...
    async def record_status(self, *a: Any, **k: Any) -> None: ...
    async def session_energy(self, *a: Any, **k: Any) -> None: ...
    async def stop_session(self, *a: Any, **k: Any) -> None: ...

    async def start_session(self, serial: str, start: Any) -> str:
        return str(abs(hash(serial)) % 2_000_000_000 + 1)

    async def open_session(self, serial: str) -> None:
        return None  # no car kept charging across a restart here

    async def session_needs(self, *a: Any, **k: Any) -> None: ...

    async def authorize_tag(self, serial: str, id_tag: str) -> bool:
        return True

    async def failsafe_current_a(self, serial: str) -> float | None:
        return 6.0


class Wire:
    """One charger's connection: the server side's transport plus a charger that answers."""

    profile_frames: list[float]

    def __init__(self, serial: str) -> None:
        self.serial = serial
        self._to_server: asyncio.Queue[str] = asyncio.Queue()
        self.profile_frames = []
        self._n = 0

    # -- the server's side (fuseshare.ocpp.connection.Transport) --
    async def recv(self) -> str:
        return await self._to_server.get()

    async def send(self, message: str) -> None:
        frame = json.loads(message)
        if frame[0] != 2:
            return  # answers to the charger's own calls
        action, payload = frame[2], frame[3]
        if action == "SetChargingProfile":
            if payload["csChargingProfiles"]["chargingProfilePurpose"] == "TxProfile" or payload[
                "csChargingProfiles"
            ].get("validTo"):
                self.profile_frames.append(time.perf_counter())
            answer: dict[str, Any] = {"status": "Accepted"}
        elif action == "GetConfiguration":
            answer = {"configurationKey": _CONFIG_KEYS, "unknownKey": []}
        elif action == "GetCompositeSchedule":
            answer = {"status": "Rejected"}
        else:
            answer = {"status": "Accepted"}
        self._to_server.put_nowait(json.dumps([3, frame[1], answer]))

    async def close(self, code: int = 1000, reason: str = "") -> None: ...

    # -- the charger's side --
    def call(self, action: str, payload: dict[str, Any]) -> None:
        self._n += 1
        self._to_server.put_nowait(json.dumps([2, f"{self.serial}-{self._n}", action, payload]))

    def start_charging(self) -> None:
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.call("BootNotification", {"chargePointVendor": "Bench", "chargePointModel": "B"})
        self.call(
            "StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Charging"}
        )
        self.call(
            "StartTransaction", {"connectorId": 1, "idTag": "T", "meterStart": 0, "timestamp": now}
        )

    def meter_values(self, current_a: float) -> None:
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        sampled = [
            {"value": f"{current_a:.1f}", "measurand": "Current.Import", "phase": p, "unit": "A"}
            for p in ("L1", "L2", "L3")
        ]
        self.call(
            "MeterValues",
            {"connectorId": 1, "meterValue": [{"timestamp": now, "sampledValue": sampled}]},
        )


def group_spec(group_id: int, n: int, *, every_limit_changes: bool = True) -> GroupSpec:
    # A supply sized so that every session stays above the minimum: the figure is the loop's
    # cost, not a pause pattern. Increases are not paced here, so that every reading changes
    # every charger's limit (the worst case for frames written).
    fuse_a = max(63.0, n * 20.0)
    config = GroupConfig(
        grid=Grid.TN_400_3P,
        max_supply_current_a=fuse_a,
        max_current_online_a=fuse_a,
        max_current_offline_a=n * 6.0,
        min_current_a=6.0,
        tunables=(
            Tunables(increase_interval_s=0.0, deadband_a=0.0, unused_threshold_a=1e9)
            if every_limit_changes
            else Tunables()  # the defaults: deadband and paced increases, as in production
        ),
    )
    members = tuple(
        MemberSpec(f"G{group_id}-C{i}", i, ROTATIONS[i % 3], 6.0, 1.0, 32.0, None) for i in range(n)
    )
    return GroupSpec(
        group_id,
        1,
        f"G{group_id}",
        "standard",
        2,
        config,
        f"M{group_id}",
        group_id,
        members,
        datetime.now(UTC),
    )


class Site:
    def __init__(self, n_groups: int, size: int, *, every_limit_changes: bool = True) -> None:
        self.hub = MeterHub(clock=time.time)
        self.telemetry = ChargerTelemetry(time.time)
        self.central = CentralSystem(Directory(), self.telemetry, CentralSettings(boot_wait_s=0.5))
        self.board = LiveBoard()
        self.specs = [
            group_spec(g, size, every_limit_changes=every_limit_changes) for g in range(n_groups)
        ]
        self.wires: dict[str, Wire] = {}
        self.loops: list[GroupLoop] = []
        self.seq = 0

    async def start(self) -> None:
        commands = OcppCommands(self.central)
        for spec in self.specs:
            self.hub.register(
                MeterSettings(
                    serial=spec.meter_serial or "", fuse_a=spec.config.max_supply_current_a
                )
            )
            for m in spec.members:
                wire = self.wires[m.serial] = Wire(m.serial)
                asyncio.create_task(self.central.serve(m.serial, wire, "1.6"))  # noqa: RUF006
                wire.start_charging()
            self.loops.append(
                GroupLoop(
                    spec,
                    meters=self.hub,
                    telemetry=self.telemetry,
                    commands=commands,
                    board=self.board,
                    history=None,
                    clock=time.time,
                    tick_s=5.0,
                )
            )
        await asyncio.sleep(1.0)
        for m_serial in self.wires:
            await self.central.wait_ready(m_serial)
        for wire in self.wires.values():
            wire.meter_values(10.0)
        await asyncio.sleep(0.2)
        settle_garbage_collector()  # as the serving process does after start-up

    def reading(self, spec: GroupSpec, base_a: float) -> None:
        self.seq += 1
        chargers_a = 10.0 * len(spec.members)
        value = base_a + chargers_a + 0.01 * (self.seq % 7)
        self.hub.submit(
            Reading(
                serial=spec.meter_serial or "",
                current_a=(value, value, value),
                received_at_s=time.time(),
                seq=self.seq,
            )
        )


async def latency(n: int, readings: int) -> list[float]:
    site = Site(1, n)
    await site.start()
    loop = site.loops[0]
    task = asyncio.create_task(loop.run())
    await asyncio.sleep(0.5)
    out: list[float] = []
    spec = site.specs[0]
    wires = [site.wires[m.serial] for m in spec.members]
    for k in range(readings):
        before = [len(w.profile_frames) for w in wires]
        base = 5.0 + (k % 2) * n * 3.0  # alternate: every limit goes down, then up
        t0 = time.perf_counter()
        site.reading(spec, base)
        deadline = t0 + 10
        while (
            any(len(w.profile_frames) == b for w, b in zip(wires, before, strict=True))
            and time.perf_counter() < deadline
        ):
            await asyncio.sleep(0)
        out.append(max(w.profile_frames[-1] for w in wires) - t0)
        await asyncio.sleep(0.05)
    task.cancel()
    await site.central.close()
    return out


async def groups_at_1hz(
    n_groups: int, seconds: float, *, changing: bool = True
) -> dict[str, float]:
    """``changing``: the building's load swings every second so every limit changes (the
    worst case); otherwise only meter noise, so limits mostly hold (a normal evening)."""
    site = Site(n_groups, 10, every_limit_changes=changing)
    await site.start()
    tasks = [asyncio.create_task(loop.run()) for loop in site.loops]
    # Warm up: the first cycles send every charger its failsafe and first dynamic profile
    # (two requests each); the figure is the steady state after that.
    for warm in range(5):
        for g, spec in enumerate(site.specs):
            site.reading(spec, 5.0 + (warm % 2) * 20.0 * changing + g % 3)
        await asyncio.sleep(1.0)
    start_cycles = [loop.cycles for loop in site.loops]
    lag: list[float] = []
    t_start = time.perf_counter()
    tick = 0
    while time.perf_counter() - t_start < seconds:
        t_tick = t_start + tick
        for g, spec in enumerate(site.specs):
            swing = (tick % 2) * 20.0 if changing else 0.0
            site.reading(spec, 5.0 + swing + g % 3)
        tick += 1
        sleep_s = t_start + tick - time.perf_counter()
        lag.append(max(0.0, -sleep_s))
        if sleep_s > 0:
            await asyncio.sleep(sleep_s)
        _ = t_tick
    elapsed = time.perf_counter() - t_start
    cycles = [loop.cycles - c for loop, c in zip(site.loops, start_cycles, strict=True)]
    for task in tasks:
        task.cancel()
    await site.central.close()
    return {
        "groups": n_groups,
        "chargers": n_groups * 10,
        "cycles_per_group_per_s_min": min(cycles) / elapsed,
        "cycles_per_group_per_s_median": statistics.median(cycles) / elapsed,
        "reading_tick_lag_max_s": max(lag) if lag else 0.0,
    }


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller runs")
    args = parser.parse_args()
    logging.getLogger().setLevel(logging.ERROR)
    print("reading → all SetChargingProfile frames written (one group, every limit changes)")
    print(f"{'chargers':>9} {'readings':>9} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for n, readings in ((10, 200), (100, 100), (1000, 20 if args.quick else 40)):
        values = await latency(n, readings)
        print(
            f"{n:>9} {len(values):>9} {pct(values, 0.5) * 1e3:>8.1f} "
            f"{pct(values, 0.99) * 1e3:>8.1f} {max(values) * 1e3:>8.1f}"
        )
    print("\ngroups of 10 chargers, a reading per group per second")
    print(
        f"{'load':>9} {'groups':>7} {'chargers':>9} {'cycles/s/group min':>19} "
        f"{'median':>7} {'tick lag max s':>15}"
    )
    runs = [(True, n) for n in ((50, 200) if args.quick else (100, 300, 600, 1000))]
    runs += [(False, n) for n in ((200,) if args.quick else (300, 600, 1000))]
    for changing, n_groups in runs:
        r = await groups_at_1hz(n_groups, 10.0 if args.quick else 20.0, changing=changing)
        print(
            f"{'swinging' if changing else 'steady':>9} {r['groups']:>7.0f} {r['chargers']:>9.0f} "
            f"{r['cycles_per_group_per_s_min']:>19.2f} {r['cycles_per_group_per_s_median']:>7.2f} "
            f"{r['reading_tick_lag_max_s']:>15.2f}"
        )


if __name__ == "__main__":
    asyncio.run(main())
