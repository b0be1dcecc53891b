"""How far a site's installation has come, derived from what exists (no extra table).

The wizard resumes at the first step that is not done, so an installer who
leaves halfway finds everything entered so far and carries on from there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fuseshare.workflow import Actor, Workflow

STEPS: tuple[tuple[str, str], ...] = (
    ("organization", "Organization"),
    ("chargers", "Chargers"),
    ("meter", "Power meter"),
    ("group", "Load balancing group"),
    ("import", "Import chargers"),
    ("checks", "Checks and activation"),
)


@dataclass(frozen=True)
class Progress:
    organization: dict[str, Any]
    chargers: list[dict[str, Any]]
    meters: list[dict[str, Any]]
    group: dict[str, Any] | None
    done: dict[str, bool]

    @property
    def next_step(self) -> str:
        for step, _ in STEPS:
            if not self.done[step]:
                return step
        return "dashboard"

    def to_dict(self) -> dict[str, Any]:
        return {
            "organization_id": self.organization["id"],
            "next_step": self.next_step,
            "group_id": self.group["id"] if self.group else None,
            "steps": [
                {"step": step, "title": title, "done": self.done[step]} for step, title in STEPS
            ],
        }


def wizard_group(groups: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The group the wizard works on: the newest one that is not active, else the newest."""
    if not groups:
        return None
    pending = [g for g in groups if g["state"] != "active"]
    return (pending or groups)[-1]


def progress(wf: Workflow, actor: Actor, organization_id: int) -> Progress:
    org = wf.orgs.show(actor, organization_id)
    chargers = wf.devices.list_chargers(actor, organization_id)
    meters = wf.devices.list_meters(actor, organization_id)
    group = wizard_group(wf.groups.list(actor, organization_id))
    done = {
        "organization": True,
        "chargers": bool(chargers),
        # The meter is optional: a group made without one means the installer chose so.
        "meter": bool(meters) or group is not None,
        "group": group is not None,
        "import": bool(group and group["chargers"]),
        "checks": bool(group and group["state"] == "active"),
    }
    return Progress(org, chargers, meters, group, done)
