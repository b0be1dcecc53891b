"""The installer's whole workflow through the real `fuseshare` command, on SQLite."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

INVENTORY = """kind,serial,secret,vendor,model,max_current_a,connectors,meter_kind
charger,CH-0001,pass-0001,Fusebox,HomeCharge,32,1,
charger,CH-0002,pass-0002,Fusebox,HomeCharge,32,1,
meter,AG-0001,12345678,fuseshare,Amp Guard,,,amp_guard
"""


class Cli:
    def __init__(self, tmp_path: Path) -> None:
        self.env = {
            **os.environ,
            "FUSESHARE_DATA_DIR": str(tmp_path / "data"),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'data' / 'cli.sqlite3'}",
        }
        self.env.pop("FUSESHARE_CONFIG", None)

    def run(
        self, *args: str, ok: bool = True, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "fuseshare", *args],
            capture_output=True,
            text=True,
            env=env or self.env,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
        assert "Traceback" not in result.stderr, result.stderr
        if ok:
            assert result.returncode == 0, f"{args}: {result.stderr}"
        return result

    def json(self, *args: str) -> object:
        return json.loads(self.run(*args, "--json").stdout)


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path)


def test_the_whole_workflow_with_the_cli(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "inventory.csv").write_text(INVENTORY)
    assert "is at schema" in cli.run("db", "upgrade").stdout
    assert cli.json("devices", "import", str(tmp_path / "inventory.csv")) == {
        "added": 3,
        "updated": 0,
    }
    cli.run("partners", "create", "Nordlys Elektro")
    org = cli.json(
        "orgs",
        "create",
        "--partner",
        "Nordlys Elektro",
        "--name",
        "Solbakken",
        "--type",
        "housing_association",
        "--contact-name",
        "Kari Nordmann",
        "--contact-email",
        "kari@solbakken.example",
        "--address",
        "Solbakken 1",
        "--city",
        "Oslo",
        "--country",
        "no",
    )
    assert org["site_type"] == "housing_association" and org["country"] == "NO"  # type: ignore[index]
    for n in ("0001", "0002"):
        cli.run("chargers", "add", f"CH-{n}", "--org", "Solbakken", "--password", f"pass-{n}")
    meter = cli.json("meters", "add", "AG-0001", "--org", "Solbakken", "--pin", "12345678")
    assert meter["kind"] == "amp_guard"  # type: ignore[index]
    group = cli.json(
        "groups",
        "create",
        "--org",
        "Solbakken",
        "--name",
        "Garage",
        "--description",
        "Garage B1 behind the 63 A fuse",
        "--grid",
        "IT_230_3P",
        "--meter",
        "AG-0001",
        "--outlet-active",
        "--max-offline",
        "16",
        "--max-online",
        "40",
        "--min-current",
        "8",
        "--max-supply",
        "63",
    )
    assert group["state"] == "draft" and group["algorithm_version"] >= 1  # type: ignore[index]
    cli.run(
        "groups",
        "import",
        "Garage",
        "--charger",
        "CH-0001",
        "--phases",
        "L1,L2,L3",
        "--failsafe",
        "6",
    )
    cli.run(
        "groups",
        "import",
        "Garage",
        "--charger",
        "CH-0002",
        "--phases",
        "L2,L3,L1",
        "--failsafe",
        "6",
        "--priority",
        "2",
    )
    checks = cli.json("groups", "check", "Garage")
    assert all(f["severity"] != "error" for f in checks)  # type: ignore[union-attr,index]
    cli.run("groups", "activate", "Garage", "--yes")
    shown = cli.json("groups", "show", "Garage")
    assert shown == {
        **shown,  # type: ignore[dict-item]
        "name": "Garage",
        "state": "active",
        "grid": "IT_230_3P",
        "meter": "AG-0001",
        "outlet_active": True,
        "max_current_offline_a": 16.0,
        "max_current_online_a": 40.0,
        "min_current_a": 8.0,
        "max_supply_current_a": 63.0,
    }
    assert shown["chargers"] == [  # type: ignore[index]
        {
            "charger": "CH-0001",
            "charger_id": 1,
            "phases": "L1,L2,L3",
            "failsafe_current_a": 6.0,
            "priority": 1,
            "max_current_a": None,
        },
        {
            "charger": "CH-0002",
            "charger_id": 2,
            "phases": "L2,L3,L1",
            "failsafe_current_a": 6.0,
            "priority": 2,
            "max_current_a": None,
        },
    ]
    assert [c["serial"] for c in cli.json("chargers", "list", "--org", "Solbakken")] == [
        "CH-0001",
        "CH-0002",
    ]  # type: ignore[union-attr,index]
    shown_meter = cli.json("meters", "show", "AG-0001")
    assert shown_meter["online"] is False and shown_meter["reading_age_s"] is None  # type: ignore[index]
    assert [g["state"] for g in cli.json("groups", "list")] == ["active"]  # type: ignore[union-attr,index]
    actions = [(e["entity"], e["action"]) for e in cli.json("audit", "list", "--org", "Solbakken")]  # type: ignore[union-attr,index]
    assert ("group", "activate") in actions and ("membership", "import") in actions
    assert "Garage" in cli.run("groups", "list").stdout


def test_mistakes_are_one_clear_line_and_a_non_zero_exit(cli: Cli, tmp_path: Path) -> None:
    cli.run("db", "upgrade")
    cli.run("partners", "create", "P")
    cli.run("orgs", "create", "--partner", "P", "--name", "S")
    bad = cli.run(
        "groups",
        "create",
        "--org",
        "S",
        "--name",
        "G",
        "--description",
        "d",
        "--min-current",
        "5",
        ok=False,
    )
    assert bad.returncode == 1
    assert bad.stderr.count("\n") == 1 and bad.stderr.startswith("error: min_current_a:")
    assert "set it to 6 A or more" in bad.stderr
    missing = cli.run("orgs", "show", "Nowhere", ok=False)
    assert missing.returncode == 1 and "see `fuseshare orgs list`" in missing.stderr
    (tmp_path / "bad.toml").write_text("port = 'eighty'\n")
    config = cli.run("--config", str(tmp_path / "bad.toml"), "orgs", "list", ok=False)
    assert config.returncode == 2 and "is not a valid int" in config.stderr
    down = cli.run(
        "orgs",
        "list",
        ok=False,
        env={**cli.env, "DATABASE_URL": "postgresql://nobody@127.0.0.1:9/none"},
    )
    assert down.returncode == 3 and "check DATABASE_URL" in down.stderr
    nofile = cli.run("devices", "import", str(tmp_path / "missing.csv"), ok=False)
    assert nofile.returncode == 1 and "does not exist" in nofile.stderr


COMMANDS = [
    [],
    ["serve"],
    ["demo"],
    ["db"],
    ["db", "upgrade"],
    ["users", "create"],
    ["devices", "import"],
    ["orgs", "create"],
    ["orgs", "list"],
    ["chargers", "add"],
    ["meters", "add"],
    ["meters", "show"],
    ["groups", "create"],
    ["groups", "import"],
    ["groups", "activate"],
    ["groups", "deactivate"],
    ["groups", "show"],
    ["audit", "list"],
    ["history", "prune"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "root")
def test_every_command_has_help(command: list[str]) -> None:
    from typer.testing import CliRunner

    from fuseshare.cli import app

    result = CliRunner().invoke(app, [*command, "--help"], prog_name="fuseshare")
    assert result.exit_code == 0, result.output
    assert "Usage: fuseshare" in result.output and "--help" in result.output
