"""Real Chromium walks the admin portal step by step, in the workflow's order."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from fuseshare.balancing import newest_version
from tests.e2e.browser.conftest import Shots
from tests.e2e.browser.site_sim import SimulatedSite, now_utc
from tests.integration.web.live_server import LiveServer
from tests.integration.web.web_site import PASSWORD, WebSite


def import_second_charger(site: WebSite) -> None:
    """CH-A2 joins group A beside CH-A1, wired L2-first."""
    from fuseshare.workflow import MembershipSettings
    from tests.integration.web.web_site import OPERATOR

    site.wf.groups.import_charger(
        OPERATOR,
        site.group_a,
        charger="CH-A2",
        membership=MembershipSettings(phases="L2,L3,L1", failsafe_current_a=6),
    )


def log_in(page: Any, server: LiveServer, email: str) -> None:
    page.goto(server.url + "/")
    page.fill("#f-email", email)
    page.fill("#f-password", PASSWORD)
    page.click("button:has-text('Log in')")


def test_admin_portal_workflow(served: tuple[WebSite, LiveServer], page: Any, shots: Shots) -> None:
    _site, server = served
    log_in(page, server, "boss@nordlys.test")
    expect(page.locator("h1")).to_have_text("Organizations")
    shots("partner-portal")

    page.fill("#search", "solb")
    expect(page.locator("#org-list")).to_contain_text("Solbakken")
    page.fill("#search", "nothing-like-this")
    expect(page.locator("#org-list")).to_contain_text("No organization matches")
    shots("search-empty")

    page.click("text=New organization")
    page.fill("#f-name", "Fjordgata 7")
    page.select_option("#f-site_type", "private_home")
    page.fill("#f-contact_name", "Per Hansen")
    page.fill("#f-contact_email", "per-at-home")
    page.fill("#f-city", "Bergen")
    page.click("button:has-text('Create organization')")
    expect(page.locator("#error-contact_email")).to_contain_text("is not an e-mail address")
    shots("org-field-error")
    page.fill("#f-contact_email", "per@example.com")
    page.click("button:has-text('Create organization')")
    expect(page.locator("h1")).to_have_text("Fjordgata 7")
    expect(page.locator("#charger-table")).to_contain_text("Add the chargers")
    shots("chargers-empty")

    page.fill("#f-serial", "CH-A3")
    page.fill("#f-password", "not-the-password")
    page.click("button:has-text('Add charger')")
    expect(page.locator("#error-password")).to_contain_text("tries left")
    shots("charger-wrong-password")
    for serial, password in (("CH-A3", "pass-a3-box"), ("CH-A4", "pass-a4-box")):
        page.fill("#f-serial", serial)
        page.fill("#f-password", password)
        page.click("button:has-text('Add charger')")
        expect(page.locator(f"tr[data-serial='{serial}']")).to_be_visible()
    shots("chargers-added")

    page.click("text=2 · Power meters")
    expect(page.locator("#meter-table")).to_contain_text("No power meter yet")
    page.fill("#f-serial", "AG-A2")
    page.fill("#f-pin", "3333")
    page.click("button:has-text('Add power meter')")
    expect(page.locator("#error-pin")).to_contain_text("exactly 8 digits")
    page.fill("#f-serial", "AG-A2")
    page.fill("#f-pin", "33334444")
    page.click("button:has-text('Add power meter')")
    expect(page.locator("tr[data-serial='AG-A2']")).to_contain_text("no reading yet")
    shots("meter-added")

    page.click("text=3 · Load balancing")
    expect(page.locator("main")).to_contain_text("No load balancing group yet")
    page.click("text=Add group")
    expect(page.locator("#f-min_current_a")).to_have_value("8")
    expect(page.locator("#f-algorithm")).to_have_value(f"standard:{newest_version('standard')}")
    expect(page.locator("#f-meter")).to_have_value("AG-A2")
    page.fill("#f-name", "Carport")
    page.select_option("#f-grid", "IT_230_3P")
    page.fill("#f-max_supply_current_a", "50")
    shots("group-form")
    page.click("button:has-text('Create group')")
    expect(page.locator("#error-description")).to_contain_text("a description is required")
    page.fill("#f-description", "Carport by the gate, sub-board C, 50 A main fuse")
    page.click("button:has-text('Create group')")
    expect(page.locator("h2")).to_contain_text("Carport")
    shots("group-created")

    page.fill("input[name='phases__CH-A4']", "L2,L3")
    page.fill("input[name='failsafe_current_a__CH-A4']", "0")
    page.fill("input[name='priority__CH-A4']", "2")
    page.click("button:has-text('Import ticked chargers')")
    members = page.locator("table").first
    expect(members).to_contain_text("CH-A3")
    expect(members).to_contain_text("L2,L3")
    expect(page.locator("#activation")).to_contain_text("All checks passed")
    shots("chargers-imported")

    page.click("button:has-text('Activate group')")
    expect(page.locator("h2")).to_contain_text("live")
    expect(page.locator("#live-empty")).to_contain_text("Waiting for the control loop")
    group_id = int(page.url.split("/groups/")[1].split("/")[0])
    sim = SimulatedSite(group_id, "AG-A2", ["CH-A3", "CH-A4"])
    server.publish(sim.state(now_utc()))
    expect(page.locator("#meter-state")).to_have_text("online")
    expect(page.locator("tr[data-serial='CH-A3'] .reason")).to_have_text("main fuse L1")
    shots("dashboard-live")

    page.click("text=Carport")
    page.click("button:has-text('Deactivate')")
    expect(page.locator("h2 .badge")).to_have_text("inactive")
    page.click("a:has-text('Delete')")
    expect(page.locator("main")).to_contain_text("cannot be undone")
    shots("delete-confirmation")
    page.click("button:has-text('Delete group')")
    expect(page.locator("main")).to_contain_text("No load balancing group yet")

    page.click("text=Audit log")
    expect(page.locator("table.audit")).to_contain_text("delete group")
    expect(page.locator("table.audit")).to_contain_text("boss@nordlys.test")
    shots("audit-log")


def test_installation_wizard(served: tuple[WebSite, LiveServer], page: Any, shots: Shots) -> None:
    _site, server = served
    log_in(page, server, "ola@nordlys.test")
    page.click("text=Installation wizard")
    page.click("text=Start a new installation")
    page.fill("#f-name", "Bakkeveien 3")
    page.select_option("#f-site_type", "private_home")
    page.fill("#f-contact_name", "Siri")
    shots("wizard-organization")
    page.click("button:has-text('Save and continue')")
    expect(page.locator(".stepper li.current")).to_contain_text("Chargers")
    page.fill("#f-serial", "CH-N1")
    page.fill("#f-password", "pass-n1-box")
    page.click("button:has-text('Add charger')")
    expect(page.locator("li[data-serial='CH-N1']")).to_be_visible()
    shots("wizard-chargers")

    # The installer leaves halfway and comes back later.
    page.click("text=Organizations")
    expect(page.locator("#org-list")).to_contain_text("Bakkeveien 3")
    page.click("text=Installation wizard")
    page.locator("tr", has_text="Bakkeveien 3").locator("text=Continue").click()
    expect(page.locator(".stepper li.current")).to_contain_text("Power meter")
    shots("wizard-resumed-at-meter")

    page.fill("#f-serial", "AG-N1")
    page.fill("#f-pin", "77778888")
    page.click("button:has-text('Add power meter')")
    expect(page.locator(".stepper li.current")).to_contain_text("Load balancing group")
    page.fill("#f-name", "Garage")
    page.fill("#f-description", "Double garage, 32 A main fuse")
    page.fill("#f-max_supply_current_a", "32")
    page.fill("#f-max_current_online_a", "20")
    shots("wizard-group")
    page.click("button:has-text('Create group and continue')")
    expect(page.locator(".stepper li.current")).to_contain_text("Import chargers")
    expect(page.locator("input[name='phases__CH-N1']")).to_have_value("L1,L2,L3")
    page.fill("input[name='failsafe_current_a__CH-N1']", "40")
    page.click("button:has-text('Import and continue')")
    expect(page.locator("#error-failsafe_current_a__CH-N1")).to_contain_text("charger's maximum")
    shots("wizard-import-error")
    page.fill("input[name='failsafe_current_a__CH-N1']", "6")
    page.click("button:has-text('Import and continue')")
    expect(page.locator(".stepper li.current")).to_contain_text("Checks")
    shots("wizard-checks")
    page.click("button:has-text('Activate group')")
    expect(page.locator("h2")).to_contain_text("Garage — live")
    expect(page.locator("h2 .badge")).to_have_text("active")
    shots("wizard-dashboard")


def test_dashboard_shows_live_values_from_a_simulated_site(
    served: tuple[WebSite, LiveServer], page: Any, shots: Shots
) -> None:
    site, server = served
    from tests.integration.web.web_site import OPERATOR

    import_second_charger(site)
    site.wf.groups.activate(OPERATOR, site.group_a, confirm=True)
    sim = SimulatedSite(site.group_a, "AG-A1", ["CH-A1", "CH-A2"])
    sim.record_history(site.wf, now_utc())
    log_in(page, server, "kari@solbakken.test")  # the customer, read-only
    page.goto(f"{server.url}/portal/orgs/{site.org_a}/groups/{site.group_a}/dashboard")
    expect(page.locator("#history-chart canvas").first).to_be_visible()
    expect(page.locator("#history-empty")).to_be_hidden()
    expect(page.locator("#live-connection")).to_have_text("live")

    first = sim.state(now_utc())
    server.publish(first)
    l1 = f"{first.lines[0].load_a:.1f} A"
    expect(page.locator(".line[data-line='L1'] .value")).to_have_text(l1)
    expect(page.locator("#meter-state")).to_have_text("online")
    expect(page.locator("tr[data-serial='CH-A1'] .setpoint")).to_have_text("16.0 A")
    expect(page.locator("tr[data-serial='CH-A2'] .reason")).to_have_text("car draws less")
    expect(page.locator("tr[data-serial='CH-A1'] .actual")).to_have_text("16.0 / 16.0 / 16.0 A")
    shots("dashboard-live")

    offline = sim.state(now_utc(), meter_online=False)
    server.publish(offline)
    expect(page.locator("#meter-state")).to_have_text("offline")
    expect(page.locator("#meter-detail")).to_contain_text("offline budget")
    shots("dashboard-meter-offline")

    page.click("button:has-text('Last day')")
    expect(page.locator("button[data-window='day']")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#history-chart canvas").first).to_be_visible()
    shots("dashboard-last-day")
