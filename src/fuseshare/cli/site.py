"""The installer's workflow, headless: organizations, chargers, meters, groups, audit."""

from __future__ import annotations

from typing import Any

import typer

from fuseshare.cli.output import emit, table
from fuseshare.cli.state import STATE
from fuseshare.workflow import GroupSettings, MembershipSettings

orgs = typer.Typer(
    help="Organizations: the sites where chargers are installed.", no_args_is_help=True
)
chargers = typer.Typer(
    help="Chargers, added by serial number + the password from the box.", no_args_is_help=True
)
meters = typer.Typer(
    help="Power meters (Amp Guard, Modbus, HTTP push), added by serial + 8-digit PIN.",
    no_args_is_help=True,
)
groups = typer.Typer(
    help="Load balancing groups: create, import chargers, activate.", no_args_is_help=True
)
audit = typer.Typer(help="The audit log of configuration changes.", no_args_is_help=True)

JSON = typer.Option(False, "--json", help="Print JSON for scripts.")
ORG = typer.Option(..., "--org", help="Organization name or id.")


# -- organizations ---------------------------------------------------------------------------


@orgs.command("create")
def orgs_create(
    name: str = typer.Option(..., help="The site's name, e.g. 'Solbakken Borettslag'."),
    partner: str | None = typer.Option(None, help="Partner (installer company) name or id."),
    site_type: str = typer.Option(
        "private_home", "--type", help="private_home, housing_association or company."
    ),
    contact_name: str = typer.Option("", help="The customer's contact person."),
    contact_email: str = typer.Option("", help="The customer's e-mail."),
    contact_phone: str = typer.Option("", help="The customer's phone."),
    address: str = typer.Option("", help="Street address."),
    postal_code: str = typer.Option("", help="Postal code."),
    city: str = typer.Option("", help="City."),
    country: str = typer.Option("", help="Two-letter country code, e.g. NO."),
    as_json: bool = JSON,
) -> None:
    """Create an organization (a site) with the customer's details."""
    o = STATE.workflow.orgs.create(
        STATE.actor,
        partner=partner,
        name=name,
        site_type=site_type,
        contact_name=contact_name,
        contact_email=contact_email,
        contact_phone=contact_phone,
        address=address,
        postal_code=postal_code,
        city=city,
        country=country,
    )
    emit(o, as_json, f"organization {o['id']} '{o['name']}' created")


@orgs.command("list")
def orgs_list(
    search: str = typer.Option("", help="Part of the name."), as_json: bool = JSON
) -> None:
    """List organizations."""
    rows = STATE.workflow.orgs.list(STATE.actor, search)
    emit(
        rows,
        as_json,
        table(
            rows,
            ["id", "name", "site_type", "partner", "city"],
            "no organizations yet; create one with `fuseshare orgs create`",
        ),
    )


@orgs.command("show")
def orgs_show(org: str = typer.Argument(..., help="Name or id."), as_json: bool = JSON) -> None:
    """Show an organization."""
    o = STATE.workflow.orgs.show(STATE.actor, org)
    emit(o, as_json, "\n".join(f"{k}: {v}" for k, v in o.items()))


# -- chargers --------------------------------------------------------------------------------


@chargers.command("add")
def chargers_add(
    serial: str = typer.Argument(..., help="The serial number on the charger's label."),
    org: str = ORG,
    password: str = typer.Option(
        ..., prompt=True, hide_input=True, help="The password on the card in the charger's box."
    ),
    as_json: bool = JSON,
) -> None:
    """Add a charger to an organization (serial + password: proof of possession)."""
    c = STATE.workflow.devices.add_charger(
        STATE.actor, organization=org, serial=serial, password=password
    )
    emit(
        c,
        as_json,
        f"charger {c['serial']} added ({c['vendor']} {c['model']}, max {c['max_current_a']:g} A)",
    )


@chargers.command("list")
def chargers_list(
    org: str | None = typer.Option(None, "--org", help="Only this organization."),
    as_json: bool = JSON,
) -> None:
    """List chargers with their connection state."""
    rows = STATE.workflow.devices.list_chargers(STATE.actor, org)
    emit(
        rows,
        as_json,
        table(
            rows,
            [
                "serial",
                "organization_id",
                "vendor",
                "model",
                "max_current_a",
                "connection_state",
                "last_seen_at",
            ],
            "no chargers yet; add one with `fuseshare chargers add SERIAL --org ORG`",
        ),
    )


@chargers.command("show")
def chargers_show(serial: str, as_json: bool = JSON) -> None:
    """Show a charger."""
    c = STATE.workflow.devices.show_charger(STATE.actor, serial)
    emit(c, as_json, "\n".join(f"{k}: {v}" for k, v in c.items()))


@chargers.command("remove")
def chargers_remove(serial: str) -> None:
    """Remove a charger from its organization (it must be in no group)."""
    STATE.workflow.devices.remove_charger(STATE.actor, serial)
    typer.echo(f"charger {serial} removed")


# -- meters ----------------------------------------------------------------------------------


@meters.command("add")
def meters_add(
    serial: str = typer.Argument(..., help="The serial number on the meter's label."),
    org: str = ORG,
    pin: str = typer.Option(
        ..., prompt=True, hide_input=True, help="The 8-digit PIN on the label underneath."
    ),
    kind: str | None = typer.Option(
        None, help="amp_guard (MQTT), modbus_tcp or http_push; default from the inventory."
    ),
    host: str | None = typer.Option(None, help="Modbus TCP: the meter's (gateway's) host."),
    port: int = typer.Option(502, help="Modbus TCP: port."),
    unit_id: int = typer.Option(1, help="Modbus TCP: unit (slave) id."),
    model: str | None = typer.Option(None, help="Modbus TCP: register map, sdm630 or em24."),
    interval_s: float = typer.Option(1.0, help="Modbus TCP: polling interval in seconds."),
    as_json: bool = JSON,
) -> None:
    """Add a power meter to an organization (serial + 8-digit PIN)."""
    connection = None
    if kind == "modbus_tcp" or host:
        connection = {
            "host": host,
            "port": port,
            "unit_id": unit_id,
            "model": model or "sdm630",
            "interval_s": interval_s,
        }
    m = STATE.workflow.devices.add_meter(
        STATE.actor, organization=org, serial=serial, pin=pin, kind=kind, connection=connection
    )
    emit(m, as_json, f"power meter {m['serial']} added ({m['kind']})")


@meters.command("list")
def meters_list(
    org: str | None = typer.Option(None, "--org", help="Only this organization."),
    as_json: bool = JSON,
) -> None:
    """List power meters with their state."""
    rows = STATE.workflow.devices.list_meters(STATE.actor, org)
    emit(
        rows,
        as_json,
        table(
            rows,
            ["serial", "organization_id", "kind", "state", "last_reading_at"],
            "no power meters yet; add one with `fuseshare meters add SERIAL --org ORG`",
        ),
    )


@meters.command("show")
def meters_show(serial: str, as_json: bool = JSON) -> None:
    """Show a meter: online state, the age of its latest reading and the reading itself."""
    import time

    from fuseshare.meters.hub import MeterStatus

    m = STATE.workflow.devices.show_meter(STATE.actor, serial)
    stored = m.pop("last_reading", None)
    if stored and "counters" in stored:
        # A stored "online" turns offline by itself once the reading is older than the window.
        status = MeterStatus.from_json_dict(stored).aged(time.time()).to_json_dict()
        m.update(
            online=status["online"],
            state=status["state"],
            reading_age_s=status["age_s"],
            reading=status["reading"],
            counters=status["counters"],
            installation_faults=status["installation_faults"],
        )
    else:
        m.update(online=False, reading_age_s=None, reading=None)
    emit(m, as_json, "\n".join(f"{k}: {v}" for k, v in m.items()))


# -- groups ----------------------------------------------------------------------------------


def _group_human(g: dict[str, object]) -> str:
    lines = [f"{k}: {v}" for k, v in g.items() if k != "chargers"]
    chargers_in: list[dict[str, Any]] = list(g.get("chargers") or [])  # type: ignore[call-overload]
    lines.append(
        table(
            chargers_in,
            ["charger", "phases", "failsafe_current_a", "priority", "max_current_a"],
            "chargers: none yet; import with `fuseshare groups import`",
        )
    )
    return "\n".join(lines)


@groups.command("create")
def groups_create(
    org: str = ORG,
    name: str = typer.Option(..., help="Required, e.g. 'Garage'."),
    description: str = typer.Option(
        ..., help="Required: where the chargers are and what feeds them."
    ),
    grid: str = typer.Option("TN_400_3P", help="TN_400_3P, IT_230_3P or TN_230_1P."),
    meter: str | None = typer.Option(
        None, help="Serial of the power meter measuring the supply (optional)."
    ),
    outlet_active: bool = typer.Option(
        True,
        "--outlet-active/--no-outlet-active",
        help="Ticked: the meter measures the chargers too (meter at the main supply).",
    ),
    max_offline: float = typer.Option(
        16.0,
        "--max-offline",
        help="A per phase for all chargers together while the meter is offline.",
    ),
    max_online: float = typer.Option(
        32.0, "--max-online", help="A per phase for all chargers together at most, meter online."
    ),
    min_current: float = typer.Option(
        8.0, "--min-current", help="A per charger; below this a session pauses (at least 6)."
    ),
    max_supply: float = typer.Option(63.0, "--max-supply", help="The main fuse, A per phase."),
    margin: float = typer.Option(1.0, "--margin", help="Safety margin below the fuse, A."),
    algorithm: str = typer.Option("standard", help="Balancing algorithm."),
    version: int | None = typer.Option(None, help="Algorithm version; default: the newest."),
    as_json: bool = JSON,
) -> None:
    """Create a load balancing group (a draft until activated)."""
    settings = GroupSettings(
        name=name,
        description=description,
        grid=grid,
        outlet_active=outlet_active,
        max_current_offline_a=max_offline,
        max_current_online_a=max_online,
        min_current_a=min_current,
        max_supply_current_a=max_supply,
        margin_a=margin,
    )
    g = STATE.workflow.groups.create(
        STATE.actor,
        organization=org,
        settings=settings,
        meter=meter,
        algorithm=algorithm,
        algorithm_version=version,
    )
    emit(
        g,
        as_json,
        f"group {g['id']} '{g['name']}' created as a draft ({g['algorithm']} v{g['algorithm_version']})",
    )


@groups.command("update")
def groups_update(
    group: str = typer.Argument(..., help="Group name or id."),
    name: str | None = typer.Option(None),
    description: str | None = typer.Option(None),
    grid: str | None = typer.Option(None),
    meter: str | None = typer.Option(None, help="New meter serial."),
    no_meter: bool = typer.Option(False, "--no-meter", help="Remove the meter."),
    outlet_active: bool | None = typer.Option(None, "--outlet-active/--no-outlet-active"),
    max_offline: float | None = typer.Option(None, "--max-offline"),
    max_online: float | None = typer.Option(None, "--max-online"),
    min_current: float | None = typer.Option(None, "--min-current"),
    max_supply: float | None = typer.Option(None, "--max-supply"),
    margin: float | None = typer.Option(None, "--margin"),
    version: int | None = typer.Option(None, help="Switch the algorithm version."),
    yes: bool = typer.Option(False, "--yes", help="Confirm warnings for an active group."),
    as_json: bool = JSON,
) -> None:
    """Change a group's settings (audited; an active group changes on the next cycle)."""
    g = STATE.workflow.groups.update(
        STATE.actor,
        group,
        meter=meter,
        clear_meter=no_meter,
        algorithm_version=version,
        confirm=yes,
        name=name,
        description=description,
        grid=grid,
        outlet_active=outlet_active,
        max_current_offline_a=max_offline,
        max_current_online_a=max_online,
        min_current_a=min_current,
        max_supply_current_a=max_supply,
        margin_a=margin,
    )
    emit(g, as_json, f"group {g['id']} '{g['name']}' updated")


@groups.command("list")
def groups_list(
    org: str | None = typer.Option(None, "--org", help="Only this organization."),
    as_json: bool = JSON,
) -> None:
    """List load balancing groups."""
    rows = STATE.workflow.groups.list(STATE.actor, org)
    emit(
        rows,
        as_json,
        table(
            rows,
            ["id", "name", "organization_id", "state", "grid", "max_supply_current_a", "meter"],
            "no groups yet; create one with `fuseshare groups create`",
        ),
    )


@groups.command("show")
def groups_show(
    group: str = typer.Argument(..., help="Group name or id."), as_json: bool = JSON
) -> None:
    """Show a group with its chargers."""
    g = STATE.workflow.groups.show(STATE.actor, group)
    emit(g, as_json, _group_human(g))


@groups.command("import")
def groups_import(
    group: str = typer.Argument(..., help="Group name or id."),
    charger: str = typer.Option(..., help="Charger serial (of the group's organization)."),
    phases: str = typer.Option(
        ...,
        help="Grid lines behind the charger's L1,L2,L3, e.g. L1,L2,L3 or L2,L3,L1; one line for a 1-phase charger on TN.",
    ),
    failsafe: float = typer.Option(
        ...,
        "--failsafe",
        help="A the charger may draw when it cannot hear fuseshare (0, or at least 6).",
    ),
    priority: int = typer.Option(1, help="Weight 1-10; higher gets a larger share."),
    max_current: float | None = typer.Option(
        None, "--max-current", help="Optional cap below the charger's own maximum, A."
    ),
    yes: bool = typer.Option(False, "--yes", help="Confirm warnings when the group is active."),
    as_json: bool = JSON,
) -> None:
    """Import a charger into a group with its phases and failsafe current."""
    g = STATE.workflow.groups.import_charger(
        STATE.actor,
        group,
        charger=charger,
        membership=MembershipSettings(
            phases=phases, failsafe_current_a=failsafe, priority=priority, max_current_a=max_current
        ),
        confirm=yes,
    )
    emit(
        g,
        as_json,
        f"charger {charger} is in group '{g['name']}' on {phases}, failsafe {failsafe:g} A",
    )


@groups.command("remove-charger")
def groups_remove_charger(
    group: str, charger: str = typer.Option(..., help="Charger serial."), as_json: bool = JSON
) -> None:
    """Take a charger out of a group."""
    g = STATE.workflow.groups.remove_charger(STATE.actor, group, charger)
    emit(g, as_json, f"charger {charger} removed from group '{g['name']}'")


@groups.command("check")
def groups_check(group: str, as_json: bool = JSON) -> None:
    """Run the commissioning checks without activating."""
    findings = STATE.workflow.groups.check(STATE.actor, group)
    emit(
        findings,
        as_json,
        table(findings, ["severity", "code", "message"], "no findings: the group can be activated"),
    )


@groups.command("activate")
def groups_activate(
    group: str,
    yes: bool = typer.Option(False, "--yes", help="Confirm warnings."),
    as_json: bool = JSON,
) -> None:
    """Activate a group: commissioning errors refuse, warnings need --yes."""
    g = STATE.workflow.groups.activate(STATE.actor, group, confirm=yes)
    emit(g, as_json, f"group {g['id']} '{g['name']}' is active")


@groups.command("deactivate")
def groups_deactivate(group: str, as_json: bool = JSON) -> None:
    """Deactivate a group: its chargers are left at a safe fixed limit."""
    g = STATE.workflow.groups.deactivate(STATE.actor, group)
    emit(g, as_json, f"group {g['id']} '{g['name']}' is inactive")


@groups.command("delete")
def groups_delete(group: str, yes: bool = typer.Option(False, "--yes", help="Do not ask.")) -> None:
    """Delete a (not active) group."""
    if not yes:
        typer.confirm(f"delete group '{group}'?", abort=True)
    STATE.workflow.groups.delete(STATE.actor, group)
    typer.echo(f"group '{group}' deleted")


@audit.command("list")
def audit_list(
    org: str | None = typer.Option(None, "--org", help="Only this organization."),
    limit: int = typer.Option(50, help="How many entries, newest first."),
    as_json: bool = JSON,
) -> None:
    """Show configuration changes: who, what, before, after, when."""
    rows = STATE.workflow.history.audit_log(STATE.actor, org, limit)
    emit(
        rows,
        as_json,
        table(
            rows, ["at", "actor", "entity", "entity_id", "action", "after"], "no changes recorded"
        ),
    )
