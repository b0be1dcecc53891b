"""The REST API: every endpoint's behaviour, errors as JSON problems that name their field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from fuseshare.balancing import registry
from fuseshare.control.live import ChargerLive, GroupLive, LineLive, MeterLive
from fuseshare.store.tables import MeterReadingRow, SetpointRow
from tests.integration.web.web_site import OPERATOR, PASSWORD, WebSite


def api(web: WebSite, role: str = "installer") -> TestClient:
    client = web.client()
    client.headers["Authorization"] = f"Bearer {web.token(role)}"
    return client


def test_token_login_and_me(web_sqlite: WebSite) -> None:
    client = web_sqlite.client()
    r = client.post("/api/v1/tokens", json={"email": "ola@nordlys.test", "password": PASSWORD})
    assert r.status_code == 201
    token = r.json()["token"]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["role"] == "installer" and me.json()["name"] == "ola@nordlys.test"
    wrong = client.post("/api/v1/tokens", json={"email": "ola@nordlys.test", "password": "nope"})
    assert wrong.status_code == 401 and "wrong e-mail or password" in wrong.json()["message"]
    bogus = client.get("/api/v1/me", headers={"Authorization": "Bearer fs_not-a-token"})
    assert bogus.status_code == 401 and bogus.headers["www-authenticate"] == "Bearer"


def test_organizations_create_search_update(web_sqlite: WebSite) -> None:
    client = api(web_sqlite)
    r = client.post(
        "/api/v1/organizations",
        json={
            "name": "Fjordgata 7",
            "site_type": "private_home",
            "contact_name": "Per",
            "contact_email": "per@example.com",
            "city": "Bergen",
            "country": "no",
        },
    )
    assert r.status_code == 201, r.text
    org = r.json()
    assert org["partner"] == "Nordlys Elektro" and org["country"] == "NO"
    found = client.get("/api/v1/organizations", params={"search": "fjord"}).json()
    assert [o["name"] for o in found] == ["Fjordgata 7"]
    bad = client.patch(f"/api/v1/organizations/{org['id']}", json={"contact_email": "per-at-home"})
    assert bad.status_code == 422
    assert bad.json()["fields"] == [
        {"field": "contact_email", "message": "'per-at-home' is not an e-mail address"}
    ]
    dup = client.post("/api/v1/organizations", json={"name": "Fjordgata 7"})
    assert dup.status_code == 409 and "exists already" in dup.json()["message"]
    typo = client.post("/api/v1/organizations", json={"name": "X", "site_type": "castle"})
    assert typo.status_code == 422 and typo.json()["fields"][0]["field"] == "site_type"


def test_platform_admin_names_the_partner(web_sqlite: WebSite) -> None:
    client = api(web_sqlite, "platform_admin")
    partners = {p["name"]: p["id"] for p in client.get("/api/v1/partners").json()}
    r = client.post(
        "/api/v1/organizations", json={"name": "Hamna", "partner_id": partners["Other Electric"]}
    )
    assert r.status_code == 201 and r.json()["partner"] == "Other Electric"
    missing = client.post("/api/v1/organizations", json={"name": "Nowhere"})
    assert missing.status_code == 422 and missing.json()["fields"][0]["field"] == "partner"
    assert client.post("/api/v1/partners", json={"name": "Third AS"}).status_code == 201
    assert api(web_sqlite).post("/api/v1/partners", json={"name": "X"}).status_code == 403


def test_chargers_and_meters(web_sqlite: WebSite) -> None:
    web = web_sqlite
    client = api(web)
    base = f"/api/v1/organizations/{web.org_a}"
    wrong = client.post(f"{base}/chargers", json={"serial": "CH-A3", "password": "guess"})
    assert wrong.status_code == 403 and wrong.json()["error"] == "wrong_secret"
    assert "tries left" in wrong.json()["message"]
    unknown = client.post(f"{base}/chargers", json={"serial": "CH-ZZ9", "password": "x"})
    assert unknown.status_code == 404 and "check the serial number" in unknown.json()["message"]
    added = client.post(f"{base}/chargers", json={"serial": "CH-A3", "password": "pass-a3-box"})
    assert added.status_code == 201 and added.json()["connection_state"] == "never_connected"
    serials = [c["serial"] for c in client.get(f"{base}/chargers").json()]
    assert serials == ["CH-A1", "CH-A2", "CH-A3"]
    short_pin = client.post(f"{base}/meters", json={"serial": "AG-A2", "pin": "1234567"})
    assert short_pin.status_code == 422 and short_pin.json()["fields"][0]["field"] == "pin"
    meter = client.post(f"{base}/meters", json={"serial": "AG-A2", "pin": "33334444"})
    assert meter.status_code == 201 and meter.json()["kind"] == "amp_guard"
    assert client.get("/api/v1/power-meters/AG-A2").json()["organization_id"] == web.org_a
    in_group = client.delete("/api/v1/chargers/CH-A1")
    assert in_group.status_code == 409 and "remove it from them first" in in_group.json()["message"]
    assert client.delete("/api/v1/chargers/CH-A3").status_code == 204
    assert client.get("/api/v1/chargers/CH-A3").status_code == 404


def test_groups_import_check_activate(web_sqlite: WebSite) -> None:
    web = web_sqlite
    client = api(web)
    algorithms = client.get("/api/v1/algorithms").json()
    newest = registry.newest_version("standard")
    assert [a["version"] for a in algorithms if a["newest"]] == [newest]
    bad = client.post(
        f"/api/v1/organizations/{web.org_a}/groups",
        json={"name": "Carport", "description": "", "min_current_a": 5},
    )
    assert bad.status_code == 422
    fields = {f["field"] for f in bad.json()["fields"]}
    assert fields == {"description", "min_current_a"}
    r = client.post(
        f"/api/v1/organizations/{web.org_a}/groups",
        json={"name": "Carport", "description": "Carport by the gate", "grid": "IT_230_3P"},
    )
    assert r.status_code == 201
    group = r.json()
    assert group["algorithm_version"] == newest and group["min_current_a"] == 8
    gid = group["id"]
    refused = client.post(f"/api/v1/groups/{gid}/activate", json={})
    assert refused.status_code == 409 and refused.json()["error"] == "activation_refused"
    assert "no_chargers" in {f["code"] for f in refused.json()["findings"]}
    wiring = client.post(
        f"/api/v1/groups/{gid}/chargers",
        json={"charger": "CH-A2", "phases": "L1", "failsafe_current_a": 6},
    )
    assert wiring.status_code == 422 and wiring.json()["fields"][0]["field"] == "phases"
    ok = client.post(
        f"/api/v1/groups/{gid}/chargers",
        json={"charger": "CH-A2", "phases": "L2,L3", "failsafe_current_a": 6, "priority": 2},
    )
    assert ok.status_code == 200 and ok.json()["chargers"][0]["phases"] == "L2,L3"
    checks = client.get(f"/api/v1/groups/{gid}/checks").json()
    assert "outlet_active_without_meter" in {c["code"] for c in checks}
    assert all(c["severity"] == "warning" for c in checks)
    ask = client.post(f"/api/v1/groups/{gid}/activate", json={})
    assert ask.status_code == 409 and ask.json()["error"] == "confirmation_needed"
    active = client.post(f"/api/v1/groups/{gid}/activate", json={"confirm": True})
    assert active.status_code == 200 and active.json()["state"] == "active"
    blocked = client.delete(f"/api/v1/groups/{gid}")
    assert blocked.status_code == 409 and "deactivate it first" in blocked.json()["message"]
    assert client.post(f"/api/v1/groups/{gid}/deactivate").json()["state"] == "inactive"
    patched = client.patch(f"/api/v1/groups/{gid}", json={"meter": "AG-A1", "margin_a": 2})
    assert patched.json()["meter"] == "AG-A1" and patched.json()["margin_a"] == 2
    removed = client.delete(f"/api/v1/groups/{gid}/chargers/CH-A2")
    assert removed.json()["chargers"] == []
    assert client.delete(f"/api/v1/groups/{gid}").status_code == 204
    actions = [e["action"] for e in client.get(f"/api/v1/organizations/{web.org_a}/audit").json()]
    assert actions[:4] == ["delete", "remove", "update", "deactivate"]


def test_setup_progress_follows_the_data(web_sqlite: WebSite) -> None:
    web = web_sqlite
    client = api(web)
    org = client.post("/api/v1/organizations", json={"name": "Ny Tomt"}).json()
    progress = client.get(f"/api/v1/organizations/{org['id']}/setup").json()
    assert progress["next_step"] == "chargers" and progress["group_id"] is None
    client.post(
        f"/api/v1/organizations/{org['id']}/chargers",
        json={"serial": "CH-N1", "password": "pass-n1-box"},
    )
    assert client.get(f"/api/v1/organizations/{org['id']}/setup").json()["next_step"] == "meter"
    steps = client.get(f"/api/v1/organizations/{web.org_a}/setup").json()
    assert steps["next_step"] == "checks"
    assert [s["done"] for s in steps["steps"]] == [True, True, True, True, True, False]


def test_live_state_and_history(web_sqlite: WebSite) -> None:
    web = web_sqlite
    client = api(web)
    gid = web.group_a
    assert client.get(f"/api/v1/groups/{gid}/live").json() is None
    now = datetime.now(UTC)
    web.board.publish(
        GroupLive(
            group_id=gid,
            at=now,
            state="active",
            meter=MeterLive("AG-A1", True, 0.4, (22.0, 18.0, 9.0)),
            lines=(LineLive("L1", 22.0, 12.0, 40.0, 63.0, 32.0, "main fuse L1"),),
            chargers=(ChargerLive("CH-A1", "charging", True, 16.0, (12.0, 12.0, 0.0), "car"),),
        )
    )
    live = client.get(f"/api/v1/groups/{gid}/live").json()
    assert live["meter"]["current_a"] == [22.0, 18.0, 9.0]
    assert live["chargers"][0]["reason"] == "car"
    with web.wf.ctx.unit() as s:
        meter_id = web.wf.devices.show_meter(OPERATOR, "AG-A1")["id"]
        charger_id = web.wf.devices.show_charger(OPERATOR, "CH-A1")["id"]
        for i in range(3):
            at = now - timedelta(minutes=10 - i)
            s.add(MeterReadingRow(meter_id=meter_id, at=at, current_l1_a=10.0 + i))
            s.add(SetpointRow(group_id=gid, charger_id=charger_id, at=at, current_a=16.0))
        s.add(MeterReadingRow(meter_id=meter_id, at=now - timedelta(hours=3), current_l1_a=99.0))
    hour = client.get(f"/api/v1/groups/{gid}/history", params={"window": "hour"}).json()
    assert hour["meter_l1_a"] == [10.0, 11.0, 12.0]
    assert hour["setpoint_total_a"] == [16.0, 16.0, 16.0]
    day = client.get(f"/api/v1/groups/{gid}/history", params={"window": "day"}).json()
    assert 99.0 in day["meter_l1_a"] and day["resolution_s"] == 60
    assert client.get(f"/api/v1/groups/{gid}/history?window=week").status_code == 422


def test_users_and_inventory(web_sqlite: WebSite) -> None:
    web = web_sqlite
    boss = api(web, "partner_admin")
    r = boss.post(
        "/api/v1/users",
        json={"email": "new@nordlys.test", "password": "long-enough-pw", "role": "installer"},
    )
    assert r.status_code == 201 and r.json()["partner_id"] is not None
    weak = boss.post(
        "/api/v1/users", json={"email": "x@nordlys.test", "password": "short", "role": "installer"}
    )
    assert weak.status_code == 422 and weak.json()["fields"][0]["field"] == "password"
    csv = "kind,serial,secret\ncharger,CH-NEW1,secret-pass\n"
    assert boss.post("/api/v1/inventory", json={"csv": csv}).status_code == 404
    root = api(web, "platform_admin")
    assert root.post("/api/v1/inventory", json={"csv": csv}).json() == {"added": 1, "updated": 0}


def test_openapi_documents_every_api_route(web_sqlite: WebSite) -> None:
    doc = web_sqlite.client().get("/openapi.json").json()
    paths = doc["paths"]
    for route in web_sqlite.app.routes:
        path = getattr(route, "path", "")
        if path.startswith("/api/v1"):
            assert path in paths, f"{path} is missing from the OpenAPI document"
    assert "422" in paths["/api/v1/organizations/{org_id}/chargers"]["post"]["responses"]
    assert not any(p.startswith("/portal") for p in paths)
