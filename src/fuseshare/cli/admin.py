"""Operator commands: partners, users, the device inventory, the database, history."""

from __future__ import annotations

from pathlib import Path

import typer

from fuseshare.cli.output import emit, fail, table
from fuseshare.cli.state import STATE
from fuseshare.store import migrate

partners = typer.Typer(help="Installer companies (partners).", no_args_is_help=True)
users = typer.Typer(
    help="Portal users: platform admins, partner admins, installers, org users.",
    no_args_is_help=True,
)
devices = typer.Typer(
    help="The inventory of manufactured chargers and meters.", no_args_is_help=True
)
db = typer.Typer(help="The database: migrations.", no_args_is_help=True)
history = typer.Typer(help="History of readings and setpoints.", no_args_is_help=True)

JSON = typer.Option(False, "--json", help="Print JSON for scripts.")


@partners.command("create")
def partners_create(
    name: str = typer.Argument(..., help="The company's name."), as_json: bool = JSON
) -> None:
    """Create a partner (an installer company)."""
    p = STATE.workflow.accounts.create_partner(STATE.actor, name)
    emit(p, as_json, f"partner {p['id']} '{p['name']}' created")


@partners.command("list")
def partners_list(as_json: bool = JSON) -> None:
    """List partners."""
    rows = STATE.workflow.accounts.list_partners(STATE.actor)
    emit(
        rows,
        as_json,
        table(
            rows,
            ["id", "name"],
            "no partners yet; create one with `fuseshare partners create NAME`",
        ),
    )


@users.command("create")
def users_create(
    email: str = typer.Option(..., help="Login e-mail."),
    role: str = typer.Option(
        "installer", help="platform_admin, partner_admin, installer or org_user."
    ),
    name: str = typer.Option("", help="Full name."),
    partner: str | None = typer.Option(None, help="Partner name or id (partner_admin, installer)."),
    org: str | None = typer.Option(None, "--org", help="Organization name or id (org_user)."),
    password: str = typer.Option(
        ..., prompt=True, hide_input=True, confirmation_prompt=True, help="At least 10 characters."
    ),
    as_json: bool = JSON,
) -> None:
    """Create a portal user."""
    u = STATE.workflow.accounts.create_user(
        STATE.actor,
        email=email,
        name=name,
        password=password,
        role=role,
        partner=partner,
        organization=org,
    )
    emit(u, as_json, f"user {u['email']} ({u['role']}) created")


@users.command("list")
def users_list(as_json: bool = JSON) -> None:
    """List portal users."""
    rows = STATE.workflow.accounts.list_users(STATE.actor)
    emit(
        rows,
        as_json,
        table(
            rows, ["id", "email", "name", "role", "partner_id", "organization_id"], "no users yet"
        ),
    )


@users.command("token")
def users_token(
    email: str = typer.Argument(..., help="Whose token."),
    name: str = typer.Option("cli", help="A label for the token."),
) -> None:
    """Create an API token for a user; it is shown once."""
    typer.echo(STATE.workflow.accounts.create_token(STATE.actor, email, name))


@devices.command("import")
def devices_import(
    file: Path = typer.Argument(
        ...,
        help="CSV with columns kind,serial,secret[,vendor,model,max_current_a,connectors,meter_kind].",
    ),
    as_json: bool = JSON,
) -> None:
    """Import manufactured devices (serial + the secret in the box / on the label).

    The whole file is checked first: one bad row imports nothing.
    """
    if not file.is_file():
        fail(f"{file} does not exist; give the path of a CSV file")
    result = STATE.workflow.devices.import_inventory(STATE.actor, file.read_text(encoding="utf-8"))
    emit(result.to_dict(), as_json, f"{result.added} devices added, {result.updated} updated")


@devices.command("list")
def devices_list(as_json: bool = JSON) -> None:
    """List the device inventory and whether each device has been added."""
    rows = STATE.workflow.devices.list_inventory(STATE.actor)
    emit(
        rows,
        as_json,
        table(
            rows,
            ["kind", "serial", "vendor", "model", "max_current_a", "added"],
            "the inventory is empty; import it with `fuseshare devices import FILE.csv`",
        ),
    )


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database to the newest schema (SQLite or PostgreSQL)."""
    from fuseshare.bootstrap import ensure_schema
    from fuseshare.store.engine import redacted

    ensure_schema(STATE.settings, "always")
    typer.echo(
        f"database {redacted(STATE.settings.effective_database_url)} is at schema {migrate.head_revision()}"
    )


@db.command("current")
def db_current(as_json: bool = JSON) -> None:
    """Show the database's schema revision."""
    from fuseshare.store.engine import make_engine, redacted

    engine = make_engine(STATE.settings.effective_database_url)
    try:
        current = migrate.current_revision(engine)
    finally:
        engine.dispose()
    data = {
        "database": redacted(STATE.settings.effective_database_url),
        "revision": current,
        "head": migrate.head_revision(),
    }
    emit(data, as_json, f"{data['database']}: {current or 'empty'} (newest: {data['head']})")


@history.command("prune")
def history_prune(as_json: bool = JSON) -> None:
    """Fold per-second history older than 48 h into minutes; drop minutes older than a year."""
    counts = STATE.workflow.history.prune()
    emit(counts, as_json, ", ".join(f"{k}: {v}" for k, v in counts.items()))
