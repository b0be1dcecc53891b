"""Helpers shared by the meter integration tests (importable; conftest is not)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from fuseshare.meters.mqtt import MqttSettings
from fuseshare.meters.ports import AuthResult


async def eventually(predicate: Callable[[], bool], timeout_s: float = 10.0) -> None:
    """Wait (bounded) until predicate() holds; fail with a clear message if it never does."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def listening(host: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.3):
        return True
    return False


def mosquitto_binary() -> str | None:
    found = shutil.which("mosquitto")
    if found:
        return found
    return "/usr/sbin/mosquitto" if os.access("/usr/sbin/mosquitto", os.X_OK) else None


@dataclass
class PrivateBroker:
    """A mosquitto we start and stop ourselves (for reconnection tests)."""

    binary: str
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="fuseshare-mqtt-")))

    @property
    def settings(self) -> MqttSettings:
        return MqttSettings(
            host="127.0.0.1", port=self.port, backoff_initial_s=0.05, backoff_max_s=0.5
        )

    def start(self) -> None:
        conf = self.workdir / "mosquitto.conf"
        conf.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
        )
        self.proc = subprocess.Popen(
            [self.binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while not listening("127.0.0.1", self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"mosquitto did not start on port {self.port}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.proc = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)


@dataclass
class FakeCredentials:
    pins: dict[str, str] = field(default_factory=dict)
    max_failures: int = 3
    failures: dict[str, int] = field(default_factory=dict)

    def authenticate(self, serial: str, secret: str) -> AuthResult:
        if serial not in self.pins:
            return AuthResult.UNKNOWN_METER
        if self.failures.get(serial, 0) >= self.max_failures:
            return AuthResult.LOCKED_OUT
        if secret != self.pins[serial]:
            self.failures[serial] = self.failures.get(serial, 0) + 1
            return AuthResult.BAD_SECRET
        self.failures[serial] = 0
        return AuthResult.OK
