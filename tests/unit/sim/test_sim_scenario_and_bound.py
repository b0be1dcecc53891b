"""Scenario validation messages, the library's files, and the LP upper bound on hand-computed cases."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from fuseshare.errors import InvalidInput
from fuseshare.sim.scenario import load_scenario, parse_scenario
from fuseshare.sim.upper_bound import energy_upper_bound_kwh

LIBRARY = Path(__file__).resolve().parents[3] / "scenarios"


def minimal(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "bound",
        "duration_s": 3600,
        "grid": "TN_400_3P",
        "max_supply_current_a": 25,
        "group": {"max_current_online_a": 100, "max_current_offline_a": 10, "margin_a": 1},
        "chargers": [
            {"id": "A", "phases": ["L1", "L2", "L3"], "max_current_a": 32},
            {"id": "B", "phases": ["L1", "L2", "L3"], "max_current_a": 32},
        ],
        "base_load": {"kind": "constant", "current_a": [4, 0, 0]},
        "sessions": [],
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"grid": "TT"}, "grid: must be one of TN_400_3P, IT_230_3P, TN_230_1P"),
        ({"duration_s": -5}, "duration_s: must be greater than 0"),
        ({"chargers": [{"id": "A", "phases": ["L4"]}]}, "chargers[0].phases"),
        (
            {"grid": "IT_230_3P", "chargers": [{"id": "A", "phases": ["L1"]}]},
            "sits between two lines",
        ),
        (
            {"sessions": [{"charger": "Z", "arrive_s": 0, "depart_s": 10, "energy_kwh": 1}]},
            'sessions[0].charger: "Z" is not one of the chargers (A, B)',
        ),
        (
            {"sessions": [{"charger": "A", "arrive_s": 50, "depart_s": 10, "energy_kwh": 1}]},
            "sessions[0].depart_s: must be after arrive_s (50)",
        ),
        (
            {
                "sessions": [
                    {"charger": "A", "arrive_s": 0, "depart_s": 100, "energy_kwh": 1},
                    {"charger": "A", "arrive_s": 50, "depart_s": 200, "energy_kwh": 1},
                ]
            },
            "overlaps sessions[0] on the same charger",
        ),
        (
            {"faults": [{"kind": "power_cut", "from_s": 0, "to_s": 1}]},
            "faults[0].kind: must be one of",
        ),
        (
            {
                "group": {
                    "algorithm": "magic",
                    "max_current_online_a": 10,
                    "max_current_offline_a": 5,
                }
            },
            "unknown balancing algorithm 'magic'",
        ),
        ({"cars_tell_needs": "yes"}, 'cars_tell_needs: must be true or false, not "yes"'),
        (
            {
                "sessions": [
                    {
                        "charger": "A",
                        "arrive_s": 0,
                        "depart_s": 10,
                        "energy_kwh": 1,
                        "tells_needs": 1,
                    }
                ]
            },
            "sessions[0].tells_needs: must be true or false, not 1",
        ),
        (
            {"group": {"max_current_online_a": "lots", "max_current_offline_a": 5}},
            'group.max_current_online_a: must be a number, not "lots"',
        ),
    ],
)
def test_a_bad_scenario_says_where_and_what_is_wrong(change: dict[str, Any], expected: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_scenario(minimal(**change), source="x.json")
    assert expected in caught.value.message
    assert caught.value.message.startswith("x.json: ")


def test_a_missing_or_broken_file_is_one_clear_message(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="does not exist"):
        load_scenario(tmp_path / "nope.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{"name": ', encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"is not valid JSON \(line 1"):
        load_scenario(broken)


def test_every_library_scenario_is_valid_and_covers_every_fault_kind() -> None:
    files = sorted(LIBRARY.glob("*.json"))
    assert len(files) >= 6
    scenarios = [load_scenario(f) for f in files]
    kinds = {fault.kind for s in scenarios for fault in s.faults}
    assert kinds == {"meter_offline", "charger_offline", "controller_down"}
    grids = {s.grid.value for s in scenarios}
    assert {"TN_400_3P", "IT_230_3P"} <= grids
    assert any(len(s.chargers) >= 50 for s in scenarios)
    assert any(len(s.chargers) == 20 and s.max_supply_current_a == 63 for s in scenarios)
    # Scarce evenings also with cars that tell their needs (ISO 15118), the rest without.
    assert any(all(x.tells_needs for x in s.sessions) for s in scenarios)
    assert any(not any(x.tells_needs for x in s.sessions) for s in scenarios)


def session(charger: str, energy_kwh: float, phases: int = 3, max_a: float = 32) -> dict[str, Any]:
    return {
        "charger": charger,
        "arrive_s": 0,
        "depart_s": 3600,
        "energy_kwh": energy_kwh,
        "car_phases": phases,
        "car_max_current_a": max_a,
    }


def bound(data: dict[str, Any]) -> float:
    sc = parse_scenario(data)
    base = np.tile(np.array(data["base_load"]["current_a"], dtype=float), (sc.duration_s, 1))
    return energy_upper_bound_kwh(sc, base)


def test_the_bound_is_the_requested_energy_when_there_is_room() -> None:
    assert bound(minimal(sessions=[session("A", 5.0), session("B", 3.0)])) == pytest.approx(8.0)


def test_the_bound_is_the_fuse_room_on_the_binding_line_over_the_window() -> None:
    # L1 has 25 - 1 margin - 4 base = 20 A for both three-phase cars for one hour:
    # 20 A x 3 x 230 V x 1 h = 13.8 kWh, whoever gets it.
    assert bound(minimal(sessions=[session("A", 50.0), session("B", 50.0)])) == pytest.approx(13.8)


def test_the_bound_uses_the_phases_one_phase_cars_on_other_lines_do_not_compete() -> None:
    # TN: A's one-phase car on L1 (room 20 A), B wired L2-first: its one-phase car on L2
    # (room 24 A). 230 V x (20 + 24) A x 1 h.
    data = minimal(
        chargers=[
            {"id": "A", "phases": ["L1", "L2", "L3"], "max_current_a": 32},
            {"id": "B", "phases": ["L2", "L3", "L1"], "max_current_a": 32},
        ],
        sessions=[session("A", 50.0, phases=1), session("B", 50.0, phases=1)],
    )
    assert bound(data) == pytest.approx(230 * 44 / 1000)


def test_the_bound_respects_the_cars_own_maximum_and_its_window() -> None:
    s = session("A", 50.0, max_a=10)
    s["depart_s"] = 1800
    assert bound(minimal(sessions=[s])) == pytest.approx(10 * 690 * 0.5 / 1000)


def test_library_file_round_trips_as_json() -> None:
    for path in LIBRARY.glob("*.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        assert data["name"] == path.stem
