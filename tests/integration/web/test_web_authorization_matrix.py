"""Nobody sees or changes another partner's or organization's data: roles × endpoints.

Each role gets a freshly seeded site (on SQLite and PostgreSQL) and walks every
REST endpoint and portal page on organization A (partner "Nordlys Elektro").
Expected: Nordlys' partner admin and installer and the platform admin may do
everything; org A's user may look but not change (403); the other partner
sees nothing (404, exactly like something that does not exist); anonymous
callers get 401 (API) or the login page (portal).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.integration.web.web_site import WebSite, page_csrf

WRITERS = ("platform_admin", "partner_admin", "installer")
ALL_ROLES = (*WRITERS, "org_user", "other_partner", "anonymous")


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    body: dict[str, Any] | None = None
    ok: int = 200
    write: bool = False


def api_calls(s: WebSite) -> list[Call]:
    a, g = s.org_a, s.group_a
    return [
        Call("GET", f"/api/v1/organizations/{a}"),
        Call("GET", f"/api/v1/organizations/{a}/setup"),
        Call("GET", f"/api/v1/organizations/{a}/audit"),
        Call("GET", f"/api/v1/organizations/{a}/chargers"),
        Call("GET", f"/api/v1/organizations/{a}/meters"),
        Call("GET", f"/api/v1/organizations/{a}/groups"),
        Call("GET", "/api/v1/chargers/CH-A1"),
        Call("GET", "/api/v1/power-meters/AG-A1"),
        Call("GET", f"/api/v1/groups/{g}"),
        Call("GET", f"/api/v1/groups/{g}/checks"),
        Call("GET", f"/api/v1/groups/{g}/live"),
        Call("GET", f"/api/v1/groups/{g}/history?window=day"),
        Call("PATCH", f"/api/v1/organizations/{a}", {"city": "Oslo"}, write=True),
        Call(
            "POST",
            f"/api/v1/organizations/{a}/chargers",
            {"serial": "CH-A3", "password": "pass-a3-box"},
            201,
            True,
        ),
        Call(
            "POST",
            f"/api/v1/organizations/{a}/meters",
            {"serial": "AG-A2", "pin": "33334444"},
            201,
            True,
        ),
        Call(
            "POST",
            f"/api/v1/organizations/{a}/groups",
            {"name": "Second", "description": "Outdoor parking, sub-board C"},
            201,
            True,
        ),
        Call("PATCH", f"/api/v1/groups/{g}", {"description": "Garage B1"}, write=True),
        Call(
            "POST",
            f"/api/v1/groups/{g}/chargers",
            {"charger": "CH-A2", "phases": "L2,L3,L1", "failsafe_current_a": 6},
            write=True,
        ),
        Call("DELETE", f"/api/v1/groups/{g}/chargers/CH-A2", write=True),
        Call("POST", f"/api/v1/groups/{g}/activate", {"confirm": True}, write=True),
        Call("POST", f"/api/v1/groups/{g}/deactivate", {}, write=True),
        Call("DELETE", f"/api/v1/groups/{g}", ok=204, write=True),
        Call("DELETE", "/api/v1/chargers/CH-A2", ok=204, write=True),
    ]


def expected(role: str, call: Call) -> int:
    if role == "anonymous":
        return 401
    if role == "other_partner":
        return 404
    if role == "org_user" and call.write:
        return 403
    return call.ok


def _client_for(web: WebSite, role: str) -> tuple[TestClient, dict[str, str]]:
    client = web.client()
    if role == "anonymous":
        return client, {}
    return client, {"Authorization": f"Bearer {web.token(role)}"}


@pytest.mark.parametrize("role", ALL_ROLES)
def test_api_matrix(web: WebSite, role: str) -> None:
    client, headers = _client_for(web, role)
    table = []
    for call in api_calls(web):
        r = client.request(call.method, call.path, json=call.body, headers=headers)
        want = expected(role, call)
        if r.status_code != want:
            table.append(f"{call.method} {call.path}: got {r.status_code}, want {want}: {r.text}")
        if role == "other_partner":
            # Refused exactly like something that does not exist: the site's name never leaks.
            assert "Solbakken" not in r.text
    assert not table, "\n".join(table)
    # Lists show only what the role may see.
    r = client.get("/api/v1/organizations", headers=headers)
    if role == "anonymous":
        assert r.status_code == 401
        return
    names = {o["name"] for o in r.json()}
    want = {
        "platform_admin": {"Solbakken", "Elsewhere"},
        "partner_admin": {"Solbakken"},
        "installer": {"Solbakken"},
        "org_user": {"Solbakken"},
        "other_partner": {"Elsewhere"},
    }[role]
    assert names == want


def page_urls(s: WebSite) -> list[str]:
    a, g = s.org_a, s.group_a
    base = f"/portal/orgs/{a}"
    return [
        f"{base}/chargers",
        f"{base}/meters",
        f"{base}/groups",
        f"{base}/groups/{g}",
        f"{base}/groups/{g}/edit",
        f"{base}/groups/{g}/dashboard",
        f"{base}/audit",
        f"{base}/edit",
        f"/portal/wizard/{a}/chargers",
    ]


@pytest.mark.parametrize("role", ALL_ROLES)
def test_portal_pages_matrix(web_sqlite: WebSite, role: str) -> None:
    web = web_sqlite
    client = web.client(None if role == "anonymous" else role)
    problems = []
    for url in page_urls(web):
        r = client.get(url)
        if role == "anonymous":
            ok = r.status_code == 303 and r.headers["location"].startswith("/login?next=")
        elif role == "other_partner":
            ok = r.status_code == 404 and "Solbakken" not in r.text
        else:
            ok = r.status_code == 200 and "Solbakken" in r.text
        if not ok:
            problems.append(f"GET {url}: {r.status_code}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("role", ("org_user", "other_partner"))
def test_portal_forms_refuse_changes(web_sqlite: WebSite, role: str) -> None:
    web = web_sqlite
    client = web.client(role)
    token = page_csrf(client, "/account")
    base = f"/portal/orgs/{web.org_a}"
    posts = {
        f"{base}/chargers": {"serial": "CH-A3", "password": "pass-a3-box"},
        f"{base}/meters": {"serial": "AG-A2", "pin": "33334444"},
        f"{base}/groups/{web.group_a}/activate": {"confirm": "1"},
        f"{base}/groups/{web.group_a}/delete": {},
        f"{base}/edit": {"name": "Hijacked", "site_type": "company"},
    }
    want = 403 if role == "org_user" else 404
    for url, data in posts.items():
        r = client.post(url, data={**data, "csrf_token": token})
        assert r.status_code == want, (url, r.status_code)
    assert web.wf.groups.list(web_operator(), web.org_a)[0]["state"] == "draft"
    assert [c["serial"] for c in web.wf.devices.list_chargers(web_operator(), web.org_a)] == [
        "CH-A1",
        "CH-A2",
    ]


def web_operator() -> Any:
    from tests.integration.web.web_site import OPERATOR

    return OPERATOR


def test_org_user_lands_in_its_own_admin_portal(web_sqlite: WebSite) -> None:
    web = web_sqlite
    client = web.client("org_user")
    r = client.get("/portal")
    assert r.status_code == 303
    assert r.headers["location"] == f"/portal/orgs/{web.org_a}/chargers"
    assert client.get(f"/portal/orgs/{web.org_b}/chargers").status_code == 404


def test_session_api_writes_need_the_csrf_header(web_sqlite: WebSite) -> None:
    web = web_sqlite
    client = web.client("installer")
    url = f"/api/v1/organizations/{web.org_a}"
    assert client.get(url).status_code == 200
    refused = client.patch(url, json={"city": "Oslo"})
    assert refused.status_code == 403 and refused.json()["error"] == "csrf_failed"
    token = page_csrf(client, "/account")
    ok = client.patch(url, json={"city": "Oslo"}, headers={"X-CSRF-Token": token})
    assert ok.status_code == 200 and ok.json()["city"] == "Oslo"


def test_user_admin_endpoints_are_for_admins_only(web: WebSite) -> None:
    for role, want in (("installer", 403), ("org_user", 403), ("partner_admin", 200)):
        headers = {"Authorization": f"Bearer {web.token(role)}"}
        assert web.client().get("/api/v1/users", headers=headers).status_code == want, role
    headers = {"Authorization": f"Bearer {web.token('other_partner')}"}
    emails = {u["email"] for u in web.client().get("/api/v1/users", headers=headers).json()}
    assert emails == {"boss@other.test"}
