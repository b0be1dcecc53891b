"""Scenarios the random soak (``bench/fuzz_scenarios.py``) found wrong, kept as tests.

Each runs the real control loop on the simulator, as the soak did.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from fuseshare.sim.controllers import LoopController
from fuseshare.sim.engine import simulate
from fuseshare.sim.metrics import excused_mask
from fuseshare.sim.scenario import parse_scenario

HERE = Path(__file__).parent


def _seconds_above_the_fuse(name: str, version: int) -> list[int]:
    """The seconds above the fuse outside the reaction delay after a load step."""
    data = json.loads((HERE / f"{name}.json").read_text(encoding="utf-8"))
    data["group"]["version"] = version
    result = simulate(parse_scenario(data), LoopController())
    above = result.trace.total_a > result.scenario.max_supply_current_a
    return [int(t) for t in np.flatnonzero((above & ~excused_mask(result)).any(axis=1))]


def test_a_car_taking_less_under_a_moving_limit_no_longer_hides_room() -> None:
    """fuzz-11: charger C0's car takes 13 A under limits that move between 16 and 28 A.
    Counted on its limit (no sample under a limit that had stood 5 s), the building looked
    6 A smaller; when C2 came back from an offline window and the car was cut, L1 was
    0.4 A over the 80 A fuse for 7 s (version 9). Version 10 counts the car on its sample."""
    assert _seconds_above_the_fuse("fuzz-11", 9) == list(range(2075, 2082))
    assert _seconds_above_the_fuse("fuzz-11", 10) == []
