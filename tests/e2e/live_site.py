"""A real fuseshare server in-process, simulated chargers over OCPP, a meter over HTTP push.

Used by the end-to-end control tests. Cars follow the limit their charger
applies (computed by the simulated charger from the profiles it holds); the
meter reads the building's base load plus the cars, as a meter at the main
supply does (outlet active).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import uvicorn

from fuseshare.bootstrap import build_app, build_runtime
from fuseshare.config import Settings
from fuseshare.runtime import Runtime
from fuseshare.server import uvicorn_config
from fuseshare.sim.chargepoint import SimChargePoint, SimSettings


class LiveServer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.runtime: Runtime | None = None
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> Runtime:
        self.runtime = build_runtime(self.settings, mqtt=False)
        config = uvicorn_config(self.settings, build_app(self.runtime))
        config.log_level = "warning"
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        for _ in range(200):
            if self._server.started:
                return self.runtime
            await asyncio.sleep(0.05)
        raise RuntimeError("server did not start")

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await asyncio.wait_for(self._task, 30)
        self._server = self._task = None


@dataclass
class Car:
    sim: SimChargePoint
    max_current_a: float
    drawing_a: float = 0.0


@dataclass
class LiveSite:
    """Drives the cars and the meter every ``step_s`` until stopped."""

    base_url: str
    meter: tuple[str, str]
    cars: dict[str, Car]
    lines_of: dict[str, tuple[int, ...]]
    """Which grid lines (0, 1, 2) each car loads."""
    base_a: list[float] = field(default_factory=lambda: [5.0, 5.0, 5.0])
    meter_on: bool = True
    step_s: float = 0.3
    seq: int = 0
    refused: list[str] = field(default_factory=list)
    _task: asyncio.Task[None] | None = None

    def reading(self) -> list[float]:
        total = list(self.base_a)
        for serial, car in self.cars.items():
            for line in self.lines_of[serial]:
                total[line] += car.drawing_a
        self.seq += 1
        return [round(v + 0.01 * (self.seq % 3), 2) for v in total]  # a meter is never frozen

    async def step(self, client: httpx.AsyncClient) -> None:
        for car in self.cars.values():
            if not car.sim.connected:
                car.drawing_a = 0.0
                continue
            car.drawing_a = min(car.max_current_a, car.sim.effective_limit_a())
            with contextlib.suppress(Exception):
                await car.sim.send_meter_values(1, [car.drawing_a, 0.0, 0.0])
        if self.meter_on:
            payload = {
                "seq": self.seq,
                "ts": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                "current_a": self.reading(),
            }
            response = await client.post(
                f"{self.base_url}/api/meters/{self.meter[0]}/readings",
                json=payload,
                auth=self.meter,
            )
            if response.status_code != 202:
                self.refused.append(response.text)

    async def _run(self) -> None:
        async with httpx.AsyncClient(timeout=5) as client:
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    await self.step(client)
                await asyncio.sleep(self.step_s)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


async def eventually(check: Callable[[], bool], timeout_s: float = 20.0, what: str = "") -> None:
    """Wait for a condition the system reaches by itself; fail with ``what`` if it does not."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not reached within {timeout_s:g} s: {what}")
        await asyncio.sleep(0.1)


async def connect_charger(
    ws_base: str, serial: str, password: str, version: str, max_a: float = 32.0
) -> SimChargePoint:
    sim = SimChargePoint(
        SimSettings(
            serial=serial, password=password, base_url=ws_base, version=version, max_current_a=max_a
        )
    )  # type: ignore[arg-type]
    await sim.connect()
    await sim.boot()
    # OCPP 2.0.1 connectors are only Occupied; the charging state travels in TransactionEvent.
    await sim.send_status(1, "Preparing" if version == "1.6" else "Occupied")
    await sim.start_transaction(1)
    if version == "1.6":
        await sim.send_status(1, "Charging")
    return sim
