"""A car on an OCPP 1.6 charger cannot say what it needs; a site owner can, over the API:
the live session gets it at once, the store keeps it, the dashboard shows it, and what
cannot be right is refused with a message that says how to fix it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from fuseshare.bootstrap import build_workflow
from fuseshare.config import Settings
from tests.conftest import free_port
from tests.e2e.live_site import LiveServer, connect_charger, eventually
from tests.e2e.test_control_end_to_end import OPERATOR, seed

OWNER = ("owner@site.test", "owner-pass-1234")


async def test_a_site_owner_tells_a_cars_needs_and_mistakes_are_refused(tmp_path: Path) -> None:
    port = free_port()
    settings = Settings(
        data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'needs.sqlite3'}", port=port
    )
    workflow = build_workflow(settings, "always")
    group_id = seed(workflow)
    workflow.accounts.create_user(
        OPERATOR,
        email=OWNER[0],
        name="Site owner",
        password=OWNER[1],
        role="org_user",
        organization="Site",
    )
    server = LiveServer(settings)
    runtime = await server.start()
    charger = await connect_charger(f"ws://127.0.0.1:{port}/ocpp", "E2E-A", "pass-aaaa", "1.6")
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            r = await client.post(
                "/api/v1/tokens", json={"email": OWNER[0], "password": OWNER[1], "name": "app"}
            )
            client.headers["Authorization"] = f"Bearer {r.json()['token']}"
            await eventually(
                lambda: runtime.telemetry.state("E2E-A").session_id is not None,
                what="the session is known",
            )
            leaves = datetime.now(UTC) + timedelta(hours=3)

            r = await client.put(
                "/api/v1/chargers/E2E-A/needs",
                json={"energy_kwh": 30.5, "departure": leaves.isoformat()},
            )
            assert r.status_code == 200, r.text
            tx = r.json()["transaction_id"]
            assert r.json()["energy_kwh"] == 30.5
            told = runtime.telemetry.told_needs("E2E-A")
            assert told is not None and told.energy_kwh == 30.5
            assert abs(told.departure_in_s - 3 * 3600) < 30  # type: ignore[operator]
            kept = await runtime.central.directory.open_session("E2E-A")
            assert kept is not None and kept.transaction_id == tx
            assert kept.energy_wanted_kwh == 30.5

            # Only the departure changes: the energy stays as told.
            later = leaves + timedelta(hours=1)
            r = await client.put(
                "/api/v1/chargers/E2E-A/needs", json={"departure": later.isoformat()}
            )
            assert r.status_code == 200 and r.json()["energy_kwh"] == 30.5

            def shown() -> str:
                live = runtime.board.latest(group_id)
                if live is None:
                    return ""
                return next(c.needs for c in live.chargers if c.serial == "E2E-A")

            await eventually(
                lambda: (
                    shown().startswith("car wants 30.5 kWh, leaves in 3 h 5")
                    or shown().startswith("car wants 30.5 kWh, leaves in 4 h 0")
                ),
                what="the dashboard shows the needs",
            )

            refused = {
                "nothing": {},
                "past": {"departure": (datetime.now(UTC) - timedelta(hours=1)).isoformat()},
                "no zone": {"departure": "2026-12-01T07:00:00"},
                "absurd": {"energy_kwh": 5000},
                "unknown field": {"energy_kwh": 10, "soc": 80},
            }
            for what, body in refused.items():
                r = await client.put("/api/v1/chargers/E2E-A/needs", json=body)
                assert r.status_code == 422, (what, r.text)
            r = await client.put("/api/v1/chargers/E2E-A/needs", json={})
            assert "give energy_kwh, departure or both" in r.json()["message"]
            r = await client.put(
                "/api/v1/chargers/E2E-A/needs",
                json={"departure": (datetime.now(UTC) + timedelta(days=30)).isoformat()},
            )
            assert "is not within the next 7 days" in r.json()["message"]

            r = await client.put("/api/v1/chargers/NOPE-1/needs", json={"energy_kwh": 10})
            assert r.status_code == 404

            await charger.stop_transaction(1)
            await eventually(
                lambda: runtime.telemetry.state("E2E-A").session_id is None,
                what="the session ends",
            )
            r = await client.put("/api/v1/chargers/E2E-A/needs", json={"energy_kwh": 10})
            assert r.status_code == 409
            assert "no car is charging at E2E-A now" in r.json()["message"]
    finally:
        await charger.close()
        await server.stop()
