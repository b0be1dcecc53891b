"""The installer's workflow as operations: the one place where input is validated.

The CLI, the REST API, the portal and imports all call these, so a setting is
refused with the same message whichever way it came in::

    wf = Workflow(Context(sessions, settings))
    wf.orgs.create(actor, partner="Nordlys", name="Solbakken", site_type="housing_association")
    wf.devices.add_charger(actor, organization="Solbakken", serial="CH-1", password="...")
    wf.groups.activate(actor, "Garage", confirm=True)
"""

from __future__ import annotations

from fuseshare.workflow.accounts import Accounts
from fuseshare.workflow.actors import Actor
from fuseshare.workflow.context import Context
from fuseshare.workflow.devices import Devices
from fuseshare.workflow.groups import Groups
from fuseshare.workflow.history import History
from fuseshare.workflow.rules import GroupSettings, MembershipSettings
from fuseshare.workflow.sites import Organizations

__all__ = ["Actor", "Context", "GroupSettings", "MembershipSettings", "Workflow"]


class Workflow:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.accounts = Accounts(ctx)
        self.orgs = Organizations(ctx)
        self.devices = Devices(ctx)
        self.groups = Groups(ctx)
        self.history = History(ctx)
