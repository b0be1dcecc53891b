"""`fuseshare demo` starts on a fresh data directory, answers over HTTP, and its simulated
site charges cars: real OCPP chargers draw current under the control loop's limits."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import free_port


def wait_for_charging(base: str, deadline_s: float = 75.0) -> dict[str, object]:
    """Log in as the demo installer and poll the group's live state until cars draw current."""
    token = httpx.post(
        f"{base}/api/v1/tokens",
        json={"email": "demo@fuseshare.local", "password": "fuseshare-demo", "name": "e2e"},
        timeout=10,
    ).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    orgs = httpx.get(f"{base}/api/v1/organizations", headers=headers, timeout=10).json()
    groups = httpx.get(
        f"{base}/api/v1/organizations/{orgs[0]['id']}/groups", headers=headers, timeout=10
    ).json()
    live: dict[str, object] = {}
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        live = (
            httpx.get(
                f"{base}/api/v1/groups/{groups[0]['id']}/live", headers=headers, timeout=10
            ).json()
            or {}
        )
        chargers = live.get("chargers") or []
        drawing = [
            c
            for c in chargers  # type: ignore[union-attr]
            if c["state"] == "charging" and sum(c["actual_a"]) > 0 and c["setpoint_a"] >= 6
        ]
        if len(drawing) >= 2:
            return live
        time.sleep(1.0)
    raise AssertionError(f"no cars charging within {deadline_s} s: {live}")


def test_demo_starts_seeded_and_answers(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "FUSESHARE_DATA_DIR": str(tmp_path / "data")}
    env.pop("DATABASE_URL", None)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fuseshare",
            "demo",
            "--port",
            str(port),
            "--data-dir",
            str(tmp_path / "demo"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        health = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).json()
                break
            except httpx.HTTPError:
                time.sleep(0.3)
        assert health is not None, f"demo did not answer; exit {proc.poll()}"
        assert health["status"] == "ok"
        assert (
            health["groups_active"] == 1 and health["chargers"] == 6 and health["power_meters"] == 1
        )
        page = httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
        assert page.status_code == 200 and "fuseshare" in page.text
        # The simulated site: cars plug in within the first minute and draw current that the
        # chargers report over OCPP, within the limits the control loop sent them.
        live = wait_for_charging(f"http://127.0.0.1:{port}")
        assert live["meter"]["online"]  # type: ignore[index]
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            output, _ = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            output, _ = proc.communicate()
    assert f"http://127.0.0.1:{port}/" in output
    assert "demo@fuseshare.local" in output
    assert "Traceback" not in output
