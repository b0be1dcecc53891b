"""JSON forms: a recorded snapshot replays to the same allocation."""

from __future__ import annotations

import json

from fuseshare.balancing import (
    Grid,
    Snapshot,
    allocate,
    allocation_to_json,
    run_scenario,
    snapshot_from_json,
    snapshot_to_json,
)

from .support import charger, config, reading


def _snapshot() -> Snapshot:
    return Snapshot(
        config(Grid.IT_230_3P, fuse=50, min_a=8, margin=1, min_off_s=120.0),
        (
            charger("A", "L1,L2", measured_a=(12.0, 12.0), setpoint_a=12.0),
            charger("B", "L2,L3,L1", car_phases=3, online=False, failsafe_current_a=6.0),
        ),
        5.0,
        reading(22, 38, 16, now_s=5.0),
    )


def test_snapshot_round_trips_through_json() -> None:
    snap = _snapshot()
    text = json.dumps(snapshot_to_json(snap))
    assert snapshot_from_json(json.loads(text)) == snap


def test_recorded_snapshots_replay_as_a_scenario() -> None:
    """A field case: recorded snapshots, one step each, without feedback."""
    snap = _snapshot()
    recorded = snapshot_to_json(snap)
    scenario = {
        "config": recorded["config"],
        "chargers": recorded["chargers"],
        "feedback": False,
        "steps": [{"now_s": recorded["now_s"], "meter": {"currents_a": [22, 38, 16]}}],
    }
    replayed = run_scenario(scenario)
    direct = allocation_to_json(allocate(snap).allocation, detail=False)
    assert replayed[0]["chargers"] == direct["chargers"]
