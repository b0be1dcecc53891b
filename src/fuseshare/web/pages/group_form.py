"""The load balancing group form and the import-chargers form, shared by the admin
portal and the wizard: every field explained in plain words, sane defaults."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request

from fuseshare.balancing import registry
from fuseshare.balancing.topology import Grid
from fuseshare.errors import ConfirmationNeeded, FuseshareError, InvalidInput
from fuseshare.web.pages.common import integer, number, wf
from fuseshare.web.rendering import field_errors
from fuseshare.workflow import Actor, GroupSettings, MembershipSettings


@dataclass(frozen=True)
class GroupField:
    name: str
    label: str
    help: str
    kind: str = "amperes"
    default: Any = None


GROUP_FIELDS: tuple[GroupField, ...] = (
    GroupField("name", "Name", "What you call this group, e.g. 'Garage B1'.", "text", ""),
    GroupField(
        "description",
        "Description",
        "Where the chargers are and what feeds them, so the next electrician finds it: "
        "e.g. 'Underground garage, sub-board B2, behind the 63 A main fuse'.",
        "textarea",
        "",
    ),
    GroupField(
        "grid",
        "Phases (supply)",
        "The building's supply. TN/TT 400 V: three lines and neutral, a one-phase car loads one "
        "line. IT 230 V (most of Norway): no neutral, a one-phase car loads two lines. Or a plain "
        "230 V one-phase supply.",
        "grid",
        "TN_400_3P",
    ),
    GroupField(
        "outlet_active",
        "Outlet active",
        "Tick when the meter sits at the main supply, so its reading includes the chargers' own "
        "current. Untick when it measures the rest of the building only.",
        "checkbox",
        True,
    ),
    GroupField(
        "max_current_offline_a",
        "Max current per phase, meter offline",
        "What all chargers together may draw per phase while there is no fresh meter reading. "
        "Keep it safe: the building's other load is unknown then.",
        "amperes",
        16,
    ),
    GroupField(
        "max_current_online_a",
        "Max current per phase, meter online",
        "The most all chargers together may draw per phase even when the fuse has room: the "
        "rating of the chargers' own sub-circuit.",
        "amperes",
        32,
    ),
    GroupField(
        "min_current_a",
        "Min current per charger",
        "Below this a car is paused rather than trickled. Cars need at least 6 A; 8 A suits "
        "most cars.",
        "amperes",
        8,
    ),
    GroupField(
        "max_supply_current_a",
        "Max supply current",
        "The main fuse rating per phase: the whole building, chargers included, stays below it.",
        "amperes",
        63,
    ),
    GroupField(
        "margin_a",
        "Safety margin",
        "Kept free below the main fuse on every phase, for measurement error and sudden loads.",
        "amperes",
        1,
    ),
)
SETTING_NAMES = tuple(f.name for f in GROUP_FIELDS)


def algorithm_choices() -> list[dict[str, Any]]:
    out = []
    for name, version, description in registry.list_algorithms():
        newest = version == registry.newest_version(name)
        out.append(
            {
                "value": f"{name}:{version}",
                "label": f"{name} v{version}" + (" (newest)" if newest else ""),
                "description": description,
                "newest": newest,
            }
        )
    return out


def newest_algorithm_value() -> str:
    return f"standard:{registry.newest_version('standard')}"


def group_form_context(
    request: Request, actor: Actor, org_id: int, values: dict[str, Any] | None = None
) -> dict[str, Any]:
    defaults: dict[str, Any] = {f.name: f.default for f in GROUP_FIELDS}
    defaults["algorithm"] = newest_algorithm_value()
    defaults["meter"] = ""
    meters = wf(request).devices.list_meters(actor, org_id)
    if len(meters) == 1:
        defaults["meter"] = meters[0]["serial"]
    return {
        "fields": GROUP_FIELDS,
        "grids": [(g.value, g.label) for g in Grid],
        "algorithms": algorithm_choices(),
        "meters": meters,
        "form": {**defaults, **(values or {})},
    }


def parse_group_form(form: dict[str, str]) -> tuple[GroupSettings, str | None, str, int | None]:
    """Settings, meter serial, algorithm name and version from the submitted form."""
    settings = GroupSettings(
        name=form.get("name", ""),
        description=form.get("description", ""),
        grid=form.get("grid", ""),
        outlet_active=form.get("outlet_active") in ("on", "true", "1"),
        max_current_offline_a=number(form.get("max_current_offline_a")),
        max_current_online_a=number(form.get("max_current_online_a")),
        min_current_a=number(form.get("min_current_a")),
        max_supply_current_a=number(form.get("max_supply_current_a")),
        margin_a=number(form.get("margin_a") or "1"),
    )
    name, _, version = form.get("algorithm", newest_algorithm_value()).partition(":")
    return settings, form.get("meter") or None, name or "standard", integer(version) or None


def form_values(form: dict[str, str]) -> dict[str, Any]:
    """What was typed, to put back into the form beside the errors."""
    values: dict[str, Any] = dict(form)
    values["outlet_active"] = form.get("outlet_active") in ("on", "true", "1")
    return values


def create_group(
    request: Request, actor: Actor, org_id: int, form: dict[str, str]
) -> tuple[dict[str, Any] | None, dict[str, str]]:
    settings, meter, algorithm, version = parse_group_form(form)
    try:
        group = wf(request).groups.create(
            actor,
            organization=org_id,
            settings=settings,
            meter=meter,
            algorithm=algorithm,
            algorithm_version=version,
        )
    except InvalidInput as exc:
        return None, field_errors(exc.errors)
    return group, {}


# -- importing chargers ------------------------------------------------------------------


def default_phases(grid: str, index: int) -> str:
    """A rotated wiring so that one-phase cars spread over the lines."""
    if grid == Grid.TN_230_1P.value:
        return "L1"
    return ("L1,L2,L3", "L2,L3,L1", "L3,L1,L2")[index % 3]


def import_rows(
    group: dict[str, Any], chargers: list[dict[str, Any]], form: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """One row per charger of the organization: its membership if imported, else defaults."""
    members = {m["charger"]: m for m in group["chargers"]}
    rows = []
    for i, c in enumerate(chargers):
        serial = c["serial"]
        member = members.get(serial)
        row = {
            "serial": serial,
            "max_current_a": c["max_current_a"],
            "imported": member is not None,
            "include": member is not None or form is None,
            "phases": member["phases"] if member else default_phases(group["grid"], i),
            "failsafe_current_a": member["failsafe_current_a"] if member else 6,
            "priority": member["priority"] if member else 1,
        }
        if form is not None:
            row["include"] = form.get(f"include__{serial}") in ("on", "true", "1")
            for key in ("phases", "failsafe_current_a", "priority"):
                if f"{key}__{serial}" in form:
                    row[key] = form[f"{key}__{serial}"]
        rows.append(row)
    return rows


def import_chargers(
    request: Request, actor: Actor, group: dict[str, Any], form: dict[str, str]
) -> dict[str, str]:
    """Import (or update) every ticked charger; field errors are keyed ``field__serial``."""
    errors: dict[str, str] = {}
    confirm = form.get("confirm") == "1"
    serials = [k.split("__", 1)[1] for k in form if k.startswith("include__")]
    if not serials:
        return {"import": "tick at least one charger to import into the group"}
    for serial in serials:
        membership = MembershipSettings(
            phases=form.get(f"phases__{serial}", ""),
            failsafe_current_a=number(form.get(f"failsafe_current_a__{serial}")),
            priority=integer(form.get(f"priority__{serial}") or "1"),
        )
        try:
            wf(request).groups.import_charger(
                actor, group["id"], charger=serial, membership=membership, confirm=confirm
            )
        except InvalidInput as exc:
            for field, message in field_errors(exc.errors).items():
                errors[f"{field}__{serial}"] = message
        except ConfirmationNeeded as exc:
            errors[f"phases__{serial}"] = exc.message
        except FuseshareError as exc:
            errors[f"phases__{serial}"] = exc.message
    return errors
