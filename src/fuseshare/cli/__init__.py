"""The `fuseshare` command. Mistakes are one clear line on stderr and a non-zero exit."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import typer

from fuseshare import __version__
from fuseshare.cli import admin, simulate, site
from fuseshare.cli.state import STATE
from fuseshare.config import ConfigError
from fuseshare.errors import FuseshareError
from fuseshare.store.engine import DatabaseUrlError

app = typer.Typer(
    name="fuseshare",
    help="Share a building's main fuse between many EV chargers, safely and fairly.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(admin.partners, name="partners")
app.add_typer(admin.users, name="users")
app.add_typer(admin.devices, name="devices")
app.add_typer(site.orgs, name="orgs")
app.add_typer(site.chargers, name="chargers")
app.add_typer(site.meters, name="meters")
app.add_typer(site.groups, name="groups")
app.add_typer(site.audit, name="audit")
app.add_typer(admin.history, name="history")
app.add_typer(admin.db, name="db")
app.command("simulate")(simulate.simulate)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"fuseshare {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    config: Path | None = typer.Option(
        None, "--config", envvar="FUSESHARE_CONFIG", help="A TOML settings file."
    ),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version."
    ),
) -> None:
    STATE.config_file = config


@app.command()
def serve(
    host: str | None = typer.Option(None, help="Listen address (default 127.0.0.1)."),
    port: int | None = typer.Option(
        None, help="Port for the portal, the API and OCPP (default 8000)."
    ),
) -> None:
    """Run the server: portal, REST API and OCPP (/ocpp/SERIAL) on one port."""
    from fuseshare.server import run_server

    run_server(STATE.settings.with_overrides(host=host, port=port))


@app.command()
def demo(
    host: str | None = typer.Option(None, help="Listen address (default 127.0.0.1)."),
    port: int | None = typer.Option(None, help="Port (default 8000)."),
    data_dir: Path | None = typer.Option(None, help="Where the demo keeps its SQLite file."),
    fresh: bool = typer.Option(False, "--fresh", help="Start from an empty demo database."),
) -> None:
    """Run the server with a seeded demo site (SQLite) and print the URL and login."""
    from fuseshare.demo import run_demo

    run_demo(STATE.settings, host=host, port=port, data_dir=data_dir, fresh=fresh)


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        app(args=argv, prog_name="fuseshare", standalone_mode=True)
    except FuseshareError as exc:
        sys.stderr.write(f"error: {exc.message}\n")
        sys.exit(3 if exc.http_status == 503 else 1)
    except (ConfigError, DatabaseUrlError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        sys.exit(2)
