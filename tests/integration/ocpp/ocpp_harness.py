"""Test harness for the OCPP central system over real sockets.

Hand-written in-memory fakes of the two ports (no mocks), and a real uvicorn
server on a free 127.0.0.1 port running a FastAPI app with the OCPP router.
(A uniquely named module, not conftest, so that test files can import it.)
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import uvicorn
from fastapi import FastAPI

from fuseshare.ocpp import (
    AuthResult,
    AuthStatus,
    BootInfo,
    Capabilities,
    CentralSettings,
    CentralSystem,
    ChargingNeeds,
    MeterSample,
    OpenSession,
    SessionStart,
    SessionStop,
    ocpp_router,
)
from fuseshare.ocpp.connection import ConnectionLimits
from fuseshare.ocpp.profiles import LimitPolicy
from fuseshare.sim.chargepoint import SimChargePoint, SimSettings


class FakeDirectory:
    """ChargerDirectory in memory."""

    def __init__(self) -> None:
        self.passwords: dict[str, str] = {}
        self.inventory: set[str] = set()
        self.locked: set[str] = set()
        self.failsafe: dict[str, float] = {}
        self.accept_all_tags = True
        self.tags: set[str] = set()
        self.boots: list[tuple[str, BootInfo, Capabilities | None]] = []
        self.connections: list[tuple[str, bool, str]] = []
        self.statuses: list[tuple[str, int, str, str | None]] = []
        self.seen: list[tuple[str, datetime]] = []
        self.sessions: dict[str, dict[str, Any]] = {}
        self.energy: list[tuple[str, str, float]] = []
        self._next_tx = 1000

    def add(self, serial: str, password: str, failsafe_a: float | None = 6.0) -> None:
        self.passwords[serial] = password
        if failsafe_a is not None:
            self.failsafe[serial] = failsafe_a

    async def authenticate(self, serial: str, password: str) -> AuthResult:
        if serial in self.locked:
            return AuthResult(AuthStatus.LOCKED_OUT)
        if serial not in self.passwords:
            if serial in self.inventory:
                return AuthResult(AuthStatus.NOT_YET_ADDED)
            return AuthResult(AuthStatus.UNKNOWN_SERIAL)
        if self.passwords[serial] != password:
            return AuthResult(AuthStatus.WRONG_PASSWORD)
        return AuthResult(AuthStatus.OK)

    async def record_boot(
        self, serial: str, boot: BootInfo, capabilities: Capabilities | None
    ) -> None:
        self.boots.append((serial, boot, capabilities))

    async def record_connection(
        self, serial: str, *, online: bool, at: datetime, process_id: str
    ) -> None:
        self.connections.append((serial, online, process_id))

    async def record_seen(self, serial: str, at: datetime) -> None:
        self.seen.append((serial, at))

    async def record_status(
        self, serial: str, connector_id: int, status: str, error_code: str | None
    ) -> None:
        self.statuses.append((serial, connector_id, status, error_code))

    async def start_session(self, serial: str, start: SessionStart) -> str:
        tx = start.transaction_id
        if tx is None:
            self._next_tx += 1
            tx = str(self._next_tx)
        self.sessions[tx] = {"serial": serial, "start": start, "stop": None}
        return tx

    async def session_energy(
        self, serial: str, transaction_id: str, energy_wh: float, at: datetime
    ) -> None:
        self.energy.append((serial, transaction_id, energy_wh))

    async def stop_session(self, serial: str, stop: SessionStop) -> None:
        self.sessions.setdefault(stop.transaction_id, {"serial": serial, "start": None})
        self.sessions[stop.transaction_id]["stop"] = stop

    async def open_session(self, serial: str) -> OpenSession | None:
        open_ = [
            OpenSession(tx, v["start"].connector_id, *v.get("needs", ()))
            for tx, v in self.sessions.items()
            if v["serial"] == serial and v["stop"] is None and v["start"] is not None
        ]
        return open_[-1] if open_ else None

    async def session_needs(
        self, serial: str, transaction_id: str, needs: ChargingNeeds, at: datetime
    ) -> None:
        departure = (
            None if needs.departure_in_s is None else at + timedelta(seconds=needs.departure_in_s)
        )
        self.sessions[transaction_id]["needs"] = (
            needs.energy_kwh,
            departure,
            needs.ev_max_current_a,
        )

    async def authorize_tag(self, serial: str, id_tag: str) -> bool:
        return self.accept_all_tags or id_tag in self.tags

    async def failsafe_current_a(self, serial: str) -> float | None:
        return self.failsafe.get(serial)


@dataclass
class FakeTelemetry:
    """TelemetrySink in memory; ``changed`` is set on every event."""

    samples: list[tuple[str, MeterSample]] = field(default_factory=list)
    statuses: list[tuple[str, int, str, str | None]] = field(default_factory=list)
    sessions: list[tuple[str, str, str]] = field(default_factory=list)
    connections: list[tuple[str, bool]] = field(default_factory=list)
    control: list[tuple[str, bool, str | None]] = field(default_factory=list)
    needs: list[tuple[str, ChargingNeeds]] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def meter_sample(self, serial: str, sample: MeterSample) -> None:
        self.samples.append((serial, sample))
        self.changed.set()

    def connector_status(
        self, serial: str, connector_id: int, status: str, error_code: str | None
    ) -> None:
        self.statuses.append((serial, connector_id, status, error_code))
        self.changed.set()

    def session_started(self, serial: str, transaction_id: str, connector_id: int) -> None:
        self.sessions.append((serial, transaction_id, "started"))
        self.changed.set()

    def session_stopped(self, serial: str, transaction_id: str) -> None:
        self.sessions.append((serial, transaction_id, "stopped"))
        self.changed.set()

    def charging_needs(self, serial: str, needs: ChargingNeeds) -> None:
        self.needs.append((serial, needs))
        self.changed.set()

    def connection_changed(self, serial: str, online: bool) -> None:
        self.connections.append((serial, online))
        self.changed.set()

    def controllability(self, serial: str, controllable: bool, reason: str | None) -> None:
        self.control.append((serial, controllable, reason))
        self.changed.set()

    async def wait_for(self, predicate: Callable[[], bool], timeout_s: float = 20.0) -> None:
        """Until ``predicate()`` holds (bounded; a failing test fails, not hangs)."""

        async def loop() -> None:
            while not predicate():
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(loop(), timeout_s)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RunningServer:
    central: CentralSystem
    directory: FakeDirectory
    telemetry: FakeTelemetry
    port: int
    server: uvicorn.Server
    task: asyncio.Task[None]
    tls: bool = False

    @property
    def base_url(self) -> str:
        return f"{'wss' if self.tls else 'ws'}://127.0.0.1:{self.port}/ocpp"

    def sim(self, serial: str, version: str = "1.6", **kw: Any) -> SimChargePoint:
        password = self.directory.passwords.get(serial, "nope")
        return SimChargePoint(
            SimSettings(
                serial=serial, password=password, base_url=self.base_url, version=version, **kw
            )  # type: ignore[arg-type]
        )

    async def stop(self) -> None:
        """Stop the server abruptly, as if the process died (no goodbye)."""
        self.server.should_exit = True
        self.server.force_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(self.task, 15)


TEST_SETTINGS = CentralSettings(
    heartbeat_interval_s=60,
    sample_interval_s=5,
    policy=LimitPolicy(ttl_s=120),
    limits=ConnectionLimits(call_timeout_s=3.0, frames_per_s=50, frame_burst=40),
    boot_wait_s=2.0,
)


async def start_server(
    settings: CentralSettings = TEST_SETTINGS,
    ws: str = "websockets-sansio",
    tls: tuple[str, str] | None = None,
) -> RunningServer:
    """Start uvicorn on a free port; ``tls`` = (certfile, keyfile) for wss."""
    directory = FakeDirectory()
    telemetry = FakeTelemetry()
    central = CentralSystem(directory, telemetry, settings)
    app = FastAPI()
    app.include_router(ocpp_router(central))
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        ws=ws,
        log_level="warning",
        lifespan="off",
        ssl_certfile=None if tls is None else tls[0],
        ssl_keyfile=None if tls is None else tls[1],
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    return RunningServer(central, directory, telemetry, port, server, task, tls is not None)
