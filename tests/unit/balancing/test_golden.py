"""Golden scenario files: a sequence of snapshots in, the expected allocations out.

Files live in tests/scenarios/balancing/ (see the README there). Record or
regenerate with FUSESHARE_RECORD_GOLDEN=1 (all) or FUSESHARE_RECORD_GOLDEN=NAME.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from fuseshare.balancing import run_scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios" / "balancing"
FILES = sorted(p for p in SCENARIOS.glob("*.json") if not p.name.endswith(".expected.json"))


def _recording(name: str) -> bool:
    flag = os.environ.get("FUSESHARE_RECORD_GOLDEN", "")
    return flag == "1" or name in flag.split(",")


def test_there_are_scenarios() -> None:
    assert len(FILES) >= 5


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_golden(path: Path) -> None:
    scenario = json.loads(path.read_text())
    got = run_scenario(scenario)
    for cycle in got:
        for line, budget in cycle["lines"].items():
            assert budget["used_a"] <= budget["limit_a"] + 1e-6, (cycle["now_s"], line)
    expected_path = path.with_name(path.stem + ".expected.json")
    if _recording(path.stem):
        # One cycle per line: a behaviour change shows as a readable diff.
        lines = ",\n".join(json.dumps(cycle, sort_keys=True) for cycle in got)
        expected_path.write_text(f"[\n{lines}\n]\n")
        pytest.skip(f"recorded {expected_path.name}")
    if not expected_path.exists():
        pytest.fail(
            f"{expected_path.name} missing; record it with FUSESHARE_RECORD_GOLDEN={path.stem}"
        )
    expected = json.loads(expected_path.read_text())
    assert len(got) == len(expected)
    for want, have in zip(expected, got, strict=True):
        assert have == want, f"{path.stem}: first difference at now_s={want['now_s']}"
