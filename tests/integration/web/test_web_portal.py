"""The portal's pages: field errors beside their fields, empty lists that say what to do,
confirmations, CSRF, the wizard resuming where the installer left."""

from __future__ import annotations

import re
import stat
from pathlib import Path

from fuseshare.balancing import newest_version
from fuseshare.config import Settings
from fuseshare.store.tables import Event
from fuseshare.web.session_key import KEY_FILE, session_secret
from fuseshare.workflow import MembershipSettings
from tests.integration.web.web_site import (
    OPERATOR,
    PASSWORD,
    WebSite,
    group_settings,
    login,
    page_csrf,
)


def field_error(html: str, field: str) -> str:
    match = re.search(rf'id="error-{re.escape(field)}"[^>]*>([^<]*)<', html)
    assert match, f"no error shown beside {field}"
    return match.group(1)


def test_landing_page_is_the_login_and_then_the_portal(web_sqlite: WebSite) -> None:
    client = web_sqlite.client()
    page = client.get("/")
    assert page.status_code == 200 and "Log in to fuseshare" in page.text
    token = page_csrf(client, "/login")
    wrong = client.post(
        "/login", data={"email": "ola@nordlys.test", "password": "nope", "csrf_token": token}
    )
    assert wrong.status_code == 422
    assert "wrong e-mail or password" in field_error(wrong.text, "password")
    ok = client.post(
        "/login",
        data={
            "email": "ola@nordlys.test",
            "password": PASSWORD,
            "csrf_token": token,
            "next": f"/portal/orgs/{web_sqlite.org_a}/meters",
        },
    )
    assert ok.headers["location"] == f"/portal/orgs/{web_sqlite.org_a}/meters"
    assert client.get("/").headers["location"] == "/portal"
    token = page_csrf(client, "/portal")
    client.post("/logout", data={"csrf_token": token})
    assert client.get("/portal").status_code == 303


def test_forms_without_the_csrf_token_are_refused(web_sqlite: WebSite) -> None:
    client = web_sqlite.client("installer")
    r = client.post("/portal/orgs/new", data={"name": "Sneaky"})
    assert r.status_code == 403 and "reload the page" in r.text
    r = client.post("/portal/orgs/new", data={"name": "Sneaky", "csrf_token": "forged"})
    assert r.status_code == 403
    assert OPERATOR and web_sqlite.wf.orgs.list(OPERATOR, "Sneaky") == []


def test_errors_appear_beside_their_fields(web_sqlite: WebSite) -> None:
    web = web_sqlite
    client = web.client("installer")
    base = f"/portal/orgs/{web.org_a}"
    token = page_csrf(client, f"{base}/chargers")
    r = client.post(f"{base}/chargers", data={"serial": "x", "password": "", "csrf_token": token})
    assert r.status_code == 422
    assert "as printed on the label" in field_error(r.text, "serial")
    assert "password from the card" in field_error(r.text, "password")
    r = client.post(
        f"{base}/chargers", data={"serial": "CH-A3", "password": "guess", "csrf_token": token}
    )
    assert "tries left" in field_error(r.text, "password")
    r = client.post(f"{base}/meters", data={"serial": "AG-A2", "pin": "12ab", "csrf_token": token})
    assert "exactly 8 digits" in field_error(r.text, "pin")
    form = {
        "csrf_token": token,
        "name": "Carport",
        "description": "",
        "grid": "TN_400_3P",
        "outlet_active": "on",
        "max_current_offline_a": "40",
        "max_current_online_a": "32",
        "min_current_a": "five",
        "max_supply_current_a": "63",
        "margin_a": "1",
        "algorithm": "standard:2",
    }
    r = client.post(f"{base}/groups/new", data=form)
    assert r.status_code == 422
    assert "description is required" in field_error(r.text, "description")
    assert "must be a number of amperes" in field_error(r.text, "min_current_a")
    assert "set it to 32 A or less" in field_error(r.text, "max_current_offline_a")
    assert 'value="Carport"' in r.text, "what was typed is kept"
    r = client.post(
        f"{base}/edit", data={"csrf_token": token, "name": "Solbakken", "country": "NOR"}
    )
    assert "two-letter country code" in field_error(r.text, "country")


def test_group_form_defaults_and_explanations(web_sqlite: WebSite) -> None:
    client = web_sqlite.client("installer")
    page = client.get(f"/portal/orgs/{web_sqlite.org_a}/groups/new").text
    assert re.search(r'name="min_current_a"[^>]*value="8"', page)
    assert re.search(r'name="max_supply_current_a"[^>]*value="63"', page)
    newest = newest_version("standard")
    assert re.search(rf'<option value="standard:{newest}" selected>', page)
    assert "8 A suits most cars" in page and "main fuse rating per phase" in page
    assert re.search(r'<option value="AG-A1" selected>', page), "the org's only meter is chosen"


def test_empty_lists_say_what_to_do_next(web_sqlite: WebSite) -> None:
    web = web_sqlite
    client = web.client("installer")
    org = web.wf.orgs.create(OPERATOR, partner="Nordlys Elektro", name="Tom Tomt")["id"]
    chargers = client.get(f"/portal/orgs/{org}/chargers").text
    assert "Add the chargers with their serial number and the password" in chargers
    assert (
        "Add the Amp Guard with its serial number" in client.get(f"/portal/orgs/{org}/meters").text
    )
    groups = client.get(f"/portal/orgs/{org}/groups").text
    assert "Add the chargers first, then" in groups
    none = client.get("/portal", params={"search": "zzz"}, headers={"HX-Request": "true"})
    assert "No organization matches" in none.text and "<html" not in none.text


def test_import_activate_with_confirmation_deactivate_delete(web_sqlite: WebSite) -> None:
    web = web_sqlite
    client = web.client("installer")
    base = f"/portal/orgs/{web.org_a}/groups/{web.group_a}"
    token = page_csrf(client, base)
    bad = client.post(
        f"{base}/import",
        data={
            "csrf_token": token,
            "include__CH-A2": "on",
            "phases__CH-A2": "L4",
            "failsafe_current_a__CH-A2": "3",
            "priority__CH-A2": "1",
        },
    )
    assert bad.status_code == 422
    assert "is not a grid line" in field_error(bad.text, "phases__CH-A2")
    assert "below what cars accept" in field_error(bad.text, "failsafe_current_a__CH-A2")
    good = client.post(
        f"{base}/import",
        data={
            "csrf_token": token,
            "include__CH-A2": "on",
            "phases__CH-A2": "L2,L3,L1",
            "failsafe_current_a__CH-A2": "6",
            "priority__CH-A2": "3",
        },
    )
    assert good.status_code == 303
    members = web.wf.groups.show(OPERATOR, web.group_a)["chargers"]
    assert {m["charger"]: m["priority"] for m in members} == {"CH-A1": 1, "CH-A2": 3}
    active = client.post(f"{base}/activate", data={"csrf_token": token})
    assert active.headers["location"] == f"{base}/dashboard"
    blocked = client.get(f"{base}/delete")
    assert "Deactivate the group first" in blocked.text
    client.post(f"{base}/deactivate", data={"csrf_token": token})
    confirm = client.get(f"{base}/delete")
    assert "cannot be undone" in confirm.text and "Delete group" in confirm.text
    gone = client.post(f"{base}/delete", data={"csrf_token": token})
    assert gone.headers["location"] == f"/portal/orgs/{web.org_a}/groups"
    assert web.wf.groups.list(OPERATOR, web.org_a) == []


def test_activation_asks_to_confirm_warnings_and_refuses_errors(web_sqlite: WebSite) -> None:
    web = web_sqlite
    client = web.client("installer")
    g = web.wf.groups.create(
        OPERATOR, organization=web.org_a, settings=group_settings(name="Empty")
    )
    base = f"/portal/orgs/{web.org_a}/groups/{g['id']}"
    token = page_csrf(client, base)
    refused = client.post(f"{base}/activate", data={"csrf_token": token})
    assert refused.status_code == 409 and "Activation refused" in refused.text
    assert "no chargers" in refused.text
    web.wf.groups.import_charger(
        OPERATOR,
        g["id"],
        charger="CH-A2",
        membership=MembershipSettings(phases="L1,L2,L3", failsafe_current_a=6),
    )
    ask = client.post(f"{base}/activate", data={"csrf_token": token})
    assert ask.status_code == 409 and "Activate anyway" in ask.text
    assert web.wf.groups.show(OPERATOR, g["id"])["state"] == "draft"
    yes = client.post(f"{base}/activate", data={"csrf_token": token, "confirm": "1"})
    assert yes.status_code == 303
    assert web.wf.groups.show(OPERATOR, g["id"])["state"] == "active"


def test_wizard_keeps_what_was_entered_and_resumes(web_sqlite: WebSite) -> None:
    web = web_sqlite
    client = web.client("installer")
    token = page_csrf(client, "/portal/wizard/new")
    r = client.post(
        "/portal/wizard/new",
        data={"csrf_token": token, "name": "Bakkeveien 3", "site_type": "private_home"},
    )
    org_url = r.headers["location"]
    assert org_url.endswith("/chargers")
    org_id = int(org_url.split("/")[3])
    client.post(org_url, data={"csrf_token": token, "serial": "CH-N1", "password": "pass-n1-box"})
    # The installer leaves; coming back resumes at the meter.
    again = web.client("installer")
    assert again.get(f"/portal/wizard/{org_id}").headers["location"].endswith("/meter")
    page = again.get(f"/portal/wizard/{org_id}/chargers").text
    assert 'data-serial="CH-N1"' in page
    start = again.get("/portal/wizard").text
    assert "Bakkeveien 3" in start and "meter" in start


def test_session_secret_is_generated_once_with_mode_600(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    first = session_secret(settings)
    assert session_secret(settings) == first and len(first) > 40
    mode = stat.S_IMODE((tmp_path / "data" / KEY_FILE).stat().st_mode)
    assert mode == 0o600
    assert session_secret(settings.with_overrides(secret_key="given")) == "given"


def test_partner_admin_adds_installers_and_customer_users(web_sqlite: WebSite) -> None:
    web = web_sqlite
    client = web.client("partner_admin")
    token = page_csrf(client, "/portal/users")
    short = client.post(
        "/portal/users",
        data={
            "csrf_token": token,
            "email": "new@nordlys.test",
            "password": "x",
            "role": "installer",
        },
    )
    assert "at least 10 characters" in field_error(short.text, "password")
    ok = client.post(
        "/portal/users",
        data={
            "csrf_token": token,
            "email": "eier@solbakken.test",
            "name": "Eier",
            "password": "long-enough-pw",
            "role": "org_user",
            "organization": str(web.org_a),
        },
    )
    assert ok.status_code == 303
    customer = web.client()
    login(customer, "eier@solbakken.test", "long-enough-pw")
    assert customer.get("/portal").headers["location"] == f"/portal/orgs/{web.org_a}/chargers"
    listed = client.get("/portal/users").text
    assert 'data-email="eier@solbakken.test"' in listed and "boss@other.test" not in listed
    assert web.client("installer").get("/portal/users").status_code == 403


def test_device_events_are_shown_beside_the_devices(web_sqlite: WebSite) -> None:
    web = web_sqlite
    with web.wf.ctx.unit() as s:
        s.add(
            Event(
                organization_id=web.org_a,
                severity="warning",
                kind="charger_wrong_password",
                subject="CH-A1",
                message="CH-A1 tried to connect with a wrong password",
            )
        )
        s.add(
            Event(
                organization_id=web.org_b,
                severity="warning",
                kind="meter_offline",
                subject="AG-B1",
                message="AG-B1 went silent",
            )
        )
    client = web.client("installer")
    assert (
        "tried to connect with a wrong password"
        in client.get(f"/portal/orgs/{web.org_a}/chargers").text
    )
    assert "went silent" not in client.get(f"/portal/orgs/{web.org_a}/meters").text


async def test_chargers_that_knock_before_they_are_added_are_listed_for_installers(
    web_sqlite: WebSite,
) -> None:
    from fuseshare.adapters.charger_directory import StoreChargerDirectory
    from fuseshare.ocpp.ports import AuthStatus

    directory = StoreChargerDirectory(web_sqlite.wf)
    result = await directory.authenticate("CH-N2", "pass-n2-box")
    assert result.status is AuthStatus.NOT_YET_ADDED
    url = f"/portal/orgs/{web_sqlite.org_a}/chargers"
    page = web_sqlite.client("installer").get(url)
    assert page.status_code == 200
    assert "Trying to connect, not added yet" in page.text and 'data-serial="CH-N2"' in page.text
    owner = web_sqlite.client("org_user").get(url)
    assert owner.status_code == 200 and "CH-N2" not in owner.text  # site owners do not add chargers


def test_group_events_are_shown_on_the_group_page(web_sqlite: WebSite) -> None:
    """A building that outgrew its offline budget is said on its group's page, not others'."""
    web = web_sqlite
    with web.wf.ctx.unit() as s:
        s.add(
            Event(
                organization_id=web.org_a,
                group_id=web.group_a,
                severity="warning",
                kind="group_offline_budget_lowered",
                subject="Garage",
                message="The rest of the building drew up to L2 45.0 A (leaves 17.0 A)",
            )
        )
    client = web.client("installer")
    page = client.get(f"/portal/orgs/{web.org_a}/groups/{web.group_a}").text
    assert "Recent events" in page and "drew up to L2 45.0 A" in page
    assert "drew up to" not in client.get(f"/portal/orgs/{web.org_a}/chargers").text
