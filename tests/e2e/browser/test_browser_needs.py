"""Real Chromium: a site owner tells, on the live dashboard, what a car on a 1.6 charger
needs; the live session gets it and the store keeps it, and a charger with no car
says why nothing was told."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.sync_api import expect

from fuseshare.adapters.charger_directory import StoreChargerDirectory
from fuseshare.control.telemetry import ChargerTelemetry
from fuseshare.ocpp.ports import SessionStart
from fuseshare.web.api.needs import make_needs_router
from tests.e2e.browser.conftest import Shots
from tests.e2e.browser.test_browser_portal import import_second_charger, log_in
from tests.integration.web.live_server import LiveServer
from tests.integration.web.web_site import WebSite


def test_a_site_owner_tells_a_cars_needs_on_the_dashboard(
    served: tuple[WebSite, LiveServer], page: Any, shots: Shots
) -> None:
    site, server = served
    import_second_charger(site)
    # The control side's real telemetry and store directory, as the serving process wires
    # them (this test site runs the portal without the OCPP side): a car charges at CH-A1.
    telemetry = ChargerTelemetry(time.monotonic)
    directory = StoreChargerDirectory(site.wf)
    site.app.include_router(make_needs_router(telemetry, directory, lambda: datetime.now(UTC)))
    start = SessionStart(1, "tx-1", "TAG", 0.0, datetime.now(UTC))
    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API holds this thread's loop
        tx = pool.submit(asyncio.run, directory.start_session("CH-A1", start)).result()
    telemetry.session_started("CH-A1", tx, 1)

    log_in(page, server, "kari@solbakken.test")  # the customer, read-only otherwise
    page.goto(f"{server.url}/portal/orgs/{site.org_a}/groups/{site.group_a}/dashboard")
    leaves = datetime.now() + timedelta(hours=3)  # the browser's local time
    page.select_option("#needs-serial", "CH-A1")
    page.fill("#needs-energy", "30")
    page.fill("#needs-departure", leaves.strftime("%Y-%m-%dT%H:%M"))
    page.click("#needs-form button[type=submit]")
    expect(page.locator("#needs-result")).to_contain_text("Told for CH-A1: 30.0 kWh, leaves")
    shots("needs-told")
    told = telemetry.told_needs("CH-A1")
    assert told is not None and told.energy_kwh == 30.0
    assert abs(told.departure_in_s - 3 * 3600) < 120  # type: ignore[operator]
    with ThreadPoolExecutor(1) as pool:
        kept = pool.submit(asyncio.run, directory.open_session("CH-A1")).result()
    assert kept is not None and kept.energy_wanted_kwh == 30.0

    page.select_option("#needs-serial", "CH-A2")
    page.click("#needs-form button[type=submit]")
    expect(page.locator("#needs-result")).to_contain_text("no car is charging at CH-A2 now")
    shots("needs-no-session")
