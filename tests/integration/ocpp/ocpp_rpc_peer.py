"""Drive the independent ocpp-rpc charger (tests/peers/ocpp_rpc/charger.js).

The peer is installed with ``npm ci`` when its node_modules is missing. Without
``node`` on PATH the tests are skipped, unless FUSESHARE_REQUIRE_PEERS is set,
in which case they fail; a failing ``npm ci`` always fails loudly.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

PEER_DIR = Path(__file__).resolve().parents[2] / "peers" / "ocpp_rpc"


def ensure_peer_installed() -> Path:
    """Return the peer's directory with node_modules present, or skip/fail."""
    node = shutil.which("node")
    if node is None:
        if os.environ.get("FUSESHARE_REQUIRE_PEERS"):
            pytest.fail("node is not on PATH but FUSESHARE_REQUIRE_PEERS is set")
        pytest.skip("node is not on PATH (set FUSESHARE_REQUIRE_PEERS to make this an error)")
    if not (PEER_DIR / "node_modules" / "ocpp-rpc").is_dir():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("node is on PATH but npm is not; cannot install the ocpp-rpc peer")
        proc = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=PEER_DIR,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if proc.returncode != 0:
            pytest.fail(
                f"npm ci failed in {PEER_DIR} (exit {proc.returncode}):\n"
                f"{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
            )
    return PEER_DIR


class NodePeer:
    """One ``node charger.js`` process, commanded with JSON lines."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.events: list[dict[str, Any]] = []
        self._replies: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._ids = itertools.count(1)
        self._changed = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(
        cls, peer_dir: Path, url: str, identity: str, password: str, protocol: str
    ) -> NodePeer:
        proc = await asyncio.create_subprocess_exec(
            "node",
            str(peer_dir / "charger.js"),
            "--url",
            url,
            "--identity",
            identity,
            "--password",
            password,
            "--protocol",
            protocol,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            cwd=peer_dir,
        )
        return cls(proc)

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            msg = json.loads(line)
            if "id" in msg and msg["id"] in self._replies:
                self._replies.pop(msg["id"]).set_result(msg)
            else:
                self.events.append(msg)
                self._changed.set()

    async def wait_event(self, kind: str, timeout_s: float = 20.0) -> dict[str, Any]:
        return (await self.wait_events(kind, 1, timeout_s))[0]

    async def wait_events(
        self, kind: str, count: int, timeout_s: float = 20.0
    ) -> list[dict[str, Any]]:
        """The first ``count`` events of ``kind`` (bounded wait)."""

        async def find() -> list[dict[str, Any]]:
            while True:
                found = [e for e in self.events if e.get("event") == kind]
                if len(found) >= count:
                    return found[:count]
                if self._reader.done():
                    raise RuntimeError(f"peer exited before {count} {kind}: {self.events}")
                self._changed.clear()
                await self._changed.wait()

        return await asyncio.wait_for(find(), timeout_s)

    async def cmd(self, cmd: str, **params: Any) -> Any:
        """Run a command in the peer; its result, or AssertionError with its error."""
        reply = await self.cmd_raw(cmd, **params)
        assert reply["ok"], reply
        return reply["result"]

    async def cmd_raw(self, cmd: str, **params: Any) -> dict[str, Any]:
        assert self.proc.stdin is not None
        msg_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._replies[msg_id] = future
        self.proc.stdin.write((json.dumps({"id": msg_id, "cmd": cmd, **params}) + "\n").encode())
        await self.proc.stdin.drain()
        return await asyncio.wait_for(future, 30)

    def calls(self, method: str) -> list[dict[str, Any]]:
        return [
            e["params"] for e in self.events if e.get("event") == "call" and e["method"] == method
        ]

    def strict_failures(self) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("event") == "strictValidationFailure"]

    async def close(self) -> None:
        if self.proc.returncode is None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.cmd_raw("quit"), 5)
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
        await self.proc.wait()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader
