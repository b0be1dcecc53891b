from __future__ import annotations

from dataclasses import dataclass

import pytest

from fuseshare.workflow import Actor, GroupSettings, Workflow

INVENTORY = """kind,serial,secret,vendor,model,max_current_a,connectors,meter_kind
charger,CH-0001,pass-0001,Fusebox,HomeCharge,32,1,
charger,CH-0002,pass-0002,Fusebox,HomeCharge,32,1,
charger,CH-0003,pass-0003,Fusebox,HomeCharge,16,1,
charger,CH-0009,pass-0009,Fusebox,HomeCharge,32,1,
meter,AG-0001,12345678,fuseshare,Amp Guard,,,amp_guard
meter,AG-0002,87654321,fuseshare,Amp Guard,,,amp_guard
"""

OPERATOR = Actor.system("test-operator")


@dataclass
class Site:
    wf: Workflow
    org: int
    other_org: int


def group_settings(**overrides: object) -> GroupSettings:
    values: dict[str, object] = {
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
    return GroupSettings(**values)  # type: ignore[arg-type]


@pytest.fixture
def site(workflow: Workflow) -> Site:
    wf = workflow
    wf.devices.import_inventory(OPERATOR, INVENTORY)
    wf.accounts.create_partner(OPERATOR, "Nordlys Elektro")
    wf.accounts.create_partner(OPERATOR, "Other Electric")
    org = wf.orgs.create(
        OPERATOR, partner="Nordlys Elektro", name="Solbakken", site_type="housing_association"
    )
    other = wf.orgs.create(
        OPERATOR, partner="Other Electric", name="Elsewhere", site_type="company"
    )
    return Site(wf, org["id"], other["id"])
