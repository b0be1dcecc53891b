"""`fuseshare simulate` end to end: the files SCENARIOS.md names, and a report that agrees with them."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fuseshare.cli import app


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fuseshare", *args], capture_output=True, text=True, timeout=120
    )


def short_scenario(path: Path) -> Path:
    """Three chargers on TN, 30 min, a heavy appliance step, and every fault kind."""
    data: dict[str, Any] = {
        "name": "short-tn",
        "duration_s": 1800,
        "seed": 5,
        "grid": "TN_400_3P",
        "max_supply_current_a": 35,
        "group": {"max_current_online_a": 32, "max_current_offline_a": 16, "min_current_a": 6},
        "chargers": [
            {"id": "A", "phases": ["L1", "L2", "L3"], "max_current_a": 16},
            {"id": "B", "phases": ["L2", "L3", "L1"], "max_current_a": 32},
            {"id": "C", "phases": ["L3", "L1", "L2"], "max_current_a": 32},
        ],
        "base_load": {"kind": "series", "points": [[0, 8, 6, 4], [600, 20, 6, 4], [900, 8, 6, 4]]},
        "sessions": [
            {
                "charger": "A",
                "arrive_s": 10,
                "depart_s": 1700,
                "energy_kwh": 30,
                "car_phases": 3,
                "car_max_current_a": 16,
            },
            {
                "charger": "B",
                "arrive_s": 60,
                "depart_s": 1800,
                "energy_kwh": 2,
                "car_phases": 1,
                "car_max_current_a": 32,
            },
            {
                "charger": "C",
                "arrive_s": 120,
                "depart_s": 1500,
                "energy_kwh": 20,
                "car_phases": 2,
                "car_max_current_a": 16,
            },
        ],
        "faults": [
            {"kind": "meter_offline", "from_s": 300, "to_s": 400},
            {"kind": "charger_offline", "charger": "C", "from_s": 1000, "to_s": 1200},
            {"kind": "controller_down", "from_s": 1300, "to_s": 1450},
        ],
        "ev_response_s": 5,
    }
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("baseline", [None, "no_control"])
def test_the_report_agrees_with_its_csvs(tmp_path: Path, baseline: str | None) -> None:
    scenario = short_scenario(tmp_path / "short.json")
    out = tmp_path / "out"
    extra = ["--baseline", baseline] if baseline else []
    done = run_cli("simulate", str(scenario), "--out", str(out), "--no-progress", *extra)
    assert done.returncode == 0, done.stderr
    assert "short-tn" in done.stdout
    for name in ("report.json", "site.csv", "chargers.csv", "lines.png", "chargers.png"):
        assert (out / name).is_file(), name
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    for key in (
        "scenario",
        "algorithm",
        "version",
        "energy_requested_kwh",
        "energy_delivered_kwh",
        "energy_upper_bound_kwh",
        "sessions_met",
        "sessions_total",
        "overload_amp_seconds",
        "max_overload_ratio",
        "seconds_above_fuse",
        "seconds_above_113pct",
        "jain_fairness",
        "pauses",
        "setpoints_sent",
        "wall_s",
    ):
        assert key in report, key
    site = read_csv(out / "site.csv")
    chargers = read_csv(out / "chargers.csv")
    assert list(site[0]) == [
        "t_s",
        "base_l1",
        "base_l2",
        "base_l3",
        "total_l1",
        "total_l2",
        "total_l3",
        "limit_l1",
        "limit_l2",
        "limit_l3",
        "meter_online",
    ]
    assert list(chargers[0]) == [
        "t_s",
        "charger",
        "setpoint_a",
        "actual_l1",
        "actual_l2",
        "actual_l3",
        "reason",
    ]
    assert len(site) == 1800 and [int(r["t_s"]) for r in site[:3]] == [0, 1, 2]
    fuse = 35.0
    lines = ("total_l1", "total_l2", "total_l3")
    above = sum(1 for r in site if any(float(r[k]) > fuse for k in lines))
    assert abs(above - report["seconds_above_fuse"]) <= 2  # the CSV rounds to 0.01 A
    for k, line in zip(lines, ("L1", "L2", "L3"), strict=True):
        amp_s = sum(max(0.0, float(r[k]) - fuse) for r in site)
        assert amp_s == pytest.approx(report["overload_amp_seconds"][line], abs=0.5)
    peak = max(float(r[k]) for r in site for k in lines)
    assert peak / fuse == pytest.approx(report["max_overload_ratio"], abs=0.001)
    # TN: 230 V on every line a car uses, so energy is 230 V x the sum of its line currents.
    energy = (
        sum(
            230.0 * sum(float(r[k]) for k in ("actual_l1", "actual_l2", "actual_l3"))
            for r in chargers
        )
        / 3.6e6
    )
    assert energy == pytest.approx(report["energy_delivered_kwh"], rel=0.002)
    # (A run that breaks the limits, like no control, may deliver more than the bound.)
    assert 0 < report["energy_upper_bound_kwh"] <= report["energy_requested_kwh"]
    assert report["sessions_total"] == 3 == len({r["charger"] for r in chargers})
    # Rows only while a car is plugged in: A from 10 to 1700 s.
    assert {int(r["t_s"]) for r in chargers if r["charger"] == "A"} == set(range(10, 1700))
    offline = [r for r in site if 300 <= int(r["t_s"]) < 400]
    assert all(r["meter_online"] == "0" for r in offline)
    if baseline is None:
        assert report["algorithm"] == "standard" and report["version"] >= 1
        assert report["setpoints_sent"] > 0
        # Down from 1300 s: every limit has expired (120 s lifetime) by 1420 s: failsafe.
        # The 20 A appliance on L1 (600-900 s) leaves 35 - 1 - 20 = 14 A of the 16 A
        # offline budget, so the loop had lowered the failsafes to fit: 6 + 6 + 0 A.
        down = [r for r in chargers if 1420 <= int(r["t_s"]) < 1450]
        assert down and all(r["reason"].startswith("failsafe") for r in down)
        assert {r["charger"]: float(r["setpoint_a"]) for r in down} == {
            "A": 6.0,
            "B": 6.0,
            "C": 0.0,
        }
    else:
        assert report["algorithm"] == "no_control" and report["seconds_above_fuse"] > 0


def test_a_bad_scenario_is_one_line_on_stderr_and_exit_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"name": "x", "duration_s": 10, "grid": "TT"}), encoding="utf-8")
    done = run_cli("simulate", str(bad), "--out", str(tmp_path / "o"))
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "grid: must be one of TN_400_3P" in lines[0] and "max_supply_current_a" in lines[0]
    missing = run_cli("simulate", str(tmp_path / "none.json"), "--out", str(tmp_path / "o"))
    assert missing.returncode == 1 and "does not exist" in missing.stderr
    assert "Traceback" not in done.stderr + missing.stderr


def test_simulate_is_registered_with_the_cli() -> None:
    names = {c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands}
    assert "simulate" in names


def test_realtime_plays_the_scenario_over_real_ocpp_against_a_live_server(tmp_path: Path) -> None:
    """--realtime: a server in the process, chargers as real OCPP 1.6 and 2.0.1 clients."""
    data: dict[str, Any] = {
        "name": "rt-short",
        "duration_s": 25,
        "seed": 3,
        "grid": "IT_230_3P",
        "max_supply_current_a": 63,
        "group": {"max_current_online_a": 50, "max_current_offline_a": 16, "min_current_a": 6},
        "chargers": [
            {"id": "RT-1", "phases": ["L1", "L2", "L3"], "max_current_a": 32, "version": "1.6"},
            {"id": "RT-2", "phases": ["L2", "L3", "L1"], "max_current_a": 32, "version": "2.0.1"},
        ],
        "base_load": {"kind": "constant", "current_a": [10, 12, 8]},
        "sessions": [
            {
                "charger": "RT-1",
                "arrive_s": 1,
                "depart_s": 25,
                "energy_kwh": 20,
                "car_phases": 1,
                "car_max_current_a": 16,
            },
            {
                "charger": "RT-2",
                "arrive_s": 2,
                "depart_s": 25,
                "energy_kwh": 20,
                "car_phases": 3,
                "car_max_current_a": 16,
            },
        ],
    }
    scenario = tmp_path / "rt.json"
    scenario.write_text(json.dumps(data), encoding="utf-8")
    out = tmp_path / "out"
    done = run_cli("simulate", str(scenario), "--out", str(out), "--realtime", "--no-plots")
    assert done.returncode == 0, done.stderr
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["energy_delivered_kwh"] > 0 and report["setpoints_sent"] > 0
    assert report["algorithm"] == "standard" and "real time" in report["controller"]
    chargers = read_csv(out / "chargers.csv")
    drawing = {r["charger"] for r in chargers if float(r["actual_l1"]) + float(r["actual_l2"]) > 0}
    assert drawing == {"RT-1", "RT-2"}


def test_realtime_refuses_controller_down(tmp_path: Path) -> None:
    scenario = short_scenario(tmp_path / "short.json")
    done = run_cli("simulate", str(scenario), "--out", str(tmp_path / "o"), "--realtime")
    assert done.returncode == 1 and "controller_down" in done.stderr
