"""A seeded site for the web tests: two partners, users of every role, devices, a group.

Seeded through the workflow, the way an installer would; the app is the real
one (create_app) on a real database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from fuseshare.bootstrap import Store
from fuseshare.config import Settings
from fuseshare.control.live import LiveBoard
from fuseshare.store.engine import make_engine, make_session_factory
from fuseshare.web.app import create_app
from fuseshare.workflow import Actor, Context, GroupSettings, MembershipSettings, Workflow

OPERATOR = Actor.system("test-operator")
PASSWORD = "correct-horse-battery"

INVENTORY = """kind,serial,secret,vendor,model,max_current_a,connectors,meter_kind
charger,CH-A1,pass-a1-box,Fusebox,HomeCharge,32,1,
charger,CH-A2,pass-a2-box,Fusebox,HomeCharge,32,1,
charger,CH-A3,pass-a3-box,Fusebox,HomeCharge,32,1,
charger,CH-A4,pass-a4-box,Fusebox,HomeCharge,32,2,
charger,CH-B1,pass-b1-box,Fusebox,HomeCharge,32,1,
charger,CH-N1,pass-n1-box,Fusebox,HomeCharge,32,1,
charger,CH-N2,pass-n2-box,Fusebox,HomeCharge,16,1,
meter,AG-A1,11112222,fuseshare,Amp Guard,,,amp_guard
meter,AG-A2,33334444,fuseshare,Amp Guard,,,amp_guard
meter,AG-B1,55556666,fuseshare,Amp Guard,,,amp_guard
meter,AG-N1,77778888,fuseshare,Amp Guard,,,amp_guard
"""

ROLES = ("platform_admin", "partner_admin", "installer", "org_user", "other_partner")


def group_settings(**overrides: Any) -> GroupSettings:
    values: dict[str, Any] = {
        "name": "Garage",
        "description": "Underground garage behind the 63 A fuse",
        "grid": "TN_400_3P",
        "outlet_active": True,
        "max_current_offline_a": 16.0,
        "max_current_online_a": 32.0,
        "min_current_a": 8.0,
        "max_supply_current_a": 63.0,
    }
    values.update(overrides)
    return GroupSettings(**values)


@dataclass
class WebSite:
    app: FastAPI
    wf: Workflow
    board: LiveBoard
    org_a: int
    org_b: int
    group_a: int
    group_b: int
    emails: dict[str, str] = field(default_factory=dict)

    def client(self, role: str | None = None) -> TestClient:
        """A browser-like client, logged in as ``role`` (None: anonymous)."""
        client = TestClient(self.app, follow_redirects=False)
        if role is not None:
            login(client, self.emails[role])
        return client

    def token(self, role: str) -> str:
        actor = self.wf.accounts.authenticate(self.emails[role], PASSWORD)
        assert actor is not None
        return self.wf.accounts.create_token(actor, actor.name, "test")


def csrf_of(client: TestClient) -> str:
    page = client.get("/login")
    marker = 'name="csrf_token" value="'
    start = page.text.index(marker) + len(marker)
    return page.text[start : page.text.index('"', start)]


def login(client: TestClient, email: str, password: str = PASSWORD) -> None:
    token = csrf_of(client)
    r = client.post("/login", data={"email": email, "password": password, "csrf_token": token})
    assert r.status_code == 303, r.text


def page_csrf(client: TestClient, url: str) -> str:
    page = client.get(url)
    marker = 'name="csrf_token" value="'
    start = page.text.index(marker) + len(marker)
    return page.text[start : page.text.index('"', start)]


def build_site(db_url: str, settings: Settings, board: LiveBoard | None = None) -> WebSite:
    settings = settings.with_overrides(database_url=db_url)
    engine = make_engine(db_url)
    ctx = Context(make_session_factory(engine), settings)
    store = Store(engine=engine, context=ctx)
    wf = Workflow(ctx)
    wf.devices.import_inventory(OPERATOR, INVENTORY)
    wf.accounts.create_partner(OPERATOR, "Nordlys Elektro")
    wf.accounts.create_partner(OPERATOR, "Other Electric")
    org_a = wf.orgs.create(
        OPERATOR, partner="Nordlys Elektro", name="Solbakken", site_type="housing_association"
    )["id"]
    org_b = wf.orgs.create(
        OPERATOR, partner="Other Electric", name="Elsewhere", site_type="company"
    )["id"]
    emails = {
        "platform_admin": "root@fuseshare.test",
        "partner_admin": "boss@nordlys.test",
        "installer": "ola@nordlys.test",
        "org_user": "kari@solbakken.test",
        "other_partner": "boss@other.test",
    }
    wf.accounts.create_user(
        OPERATOR,
        email=emails["platform_admin"],
        name="Root",
        password=PASSWORD,
        role="platform_admin",
    )
    wf.accounts.create_user(
        OPERATOR,
        email=emails["partner_admin"],
        name="Boss",
        password=PASSWORD,
        role="partner_admin",
        partner="Nordlys Elektro",
    )
    wf.accounts.create_user(
        OPERATOR,
        email=emails["installer"],
        name="Ola",
        password=PASSWORD,
        role="installer",
        partner="Nordlys Elektro",
    )
    wf.accounts.create_user(
        OPERATOR,
        email=emails["org_user"],
        name="Kari",
        password=PASSWORD,
        role="org_user",
        organization=org_a,
    )
    wf.accounts.create_user(
        OPERATOR,
        email=emails["other_partner"],
        name="Other",
        password=PASSWORD,
        role="partner_admin",
        partner="Other Electric",
    )
    for serial, pw in (("CH-A1", "pass-a1-box"), ("CH-A2", "pass-a2-box")):
        wf.devices.add_charger(OPERATOR, organization=org_a, serial=serial, password=pw)
    wf.devices.add_charger(OPERATOR, organization=org_b, serial="CH-B1", password="pass-b1-box")
    wf.devices.add_meter(OPERATOR, organization=org_a, serial="AG-A1", pin="11112222")
    wf.devices.add_meter(OPERATOR, organization=org_b, serial="AG-B1", pin="55556666")
    group_a = wf.groups.create(
        OPERATOR, organization=org_a, settings=group_settings(), meter="AG-A1"
    )["id"]
    group_b = wf.groups.create(
        OPERATOR, organization=org_b, settings=group_settings(name="Yard"), meter="AG-B1"
    )["id"]
    for wf_group, serial, phases in (
        (group_a, "CH-A1", "L1,L2,L3"),
        (group_b, "CH-B1", "L2,L3,L1"),
    ):
        wf.groups.import_charger(
            OPERATOR,
            wf_group,
            charger=serial,
            membership=MembershipSettings(phases=phases, failsafe_current_a=6),
        )
    live = board or LiveBoard()
    app = create_app(settings, store, board=live)
    return WebSite(app, wf, live, org_a, org_b, group_a, group_b, emails)
