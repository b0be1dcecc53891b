"""Benchmark: one allocation of "standard" for groups of 10 to 5,000 chargers.

Prints figures; asserts nothing. Run: ``.venv/bin/python bench/bench_allocate.py``
(``--version N``, default 2; ``--needs``: every other car tells energy and departure).
The last column is a cycle that makes a new plan (version 6 and later, with needs:
once a minute; groups above ``MAX_PLANNED_SESSIONS`` sessions have none).
Each group is a busy IT site (the harder grid: every one-phase car loads two lines)
with mixed wiring rotations, car phases, weights, some offline chargers and a
fresh meter reading, allocated from a warm state (a steady-state control loop).
The site is sized at 6 A of fuse per charger, so every code path runs: sharing
by line, paused sessions, paced increases, cars that draw less.
Goal: under 5 ms at 1,000 chargers, cost growing no faster than n log n.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import timeit
from dataclasses import replace

from fuseshare.balancing import (
    AlgorithmState,
    ChargerInput,
    Grid,
    GroupConfig,
    Line,
    MeterInput,
    PerLine,
    Snapshot,
    get_algorithm,
)

ROTATIONS: tuple[tuple[Line, ...], ...] = (
    ("L1", "L2", "L3"),
    ("L2", "L3", "L1"),
    ("L3", "L1", "L2"),
    ("L1", "L2"),
    ("L2", "L3"),
    ("L3", "L1"),
)


def make_snapshot(n: int, seed: int = 1, needs: bool = False) -> Snapshot:
    rng = random.Random(seed)
    # Scale the site with n so that sharing, pausing and rotation all happen.
    fuse = 6.0 * n
    config = GroupConfig(
        grid=Grid.IT_230_3P,
        max_supply_current_a=fuse,
        max_current_online_a=fuse * 0.8,
        max_current_offline_a=fuse * 0.3,
        min_current_a=8.0,
        outlet_active=True,
        has_meter=True,
        margin_a=1.0,
    )
    chargers = []
    for i in range(n):
        wiring = ROTATIONS[i % len(ROTATIONS)]
        online = rng.random() > 0.02
        has_session = rng.random() < 0.8
        setpoint = rng.choice([0.0, 8.0, 10.0, 16.0]) if has_session else 0.0
        measured = tuple(min(setpoint, rng.uniform(0, 16)) for _ in wiring)
        told = needs and i % 2 == 0
        chargers.append(
            ChargerInput(
                charger_id=f"CH{i:05d}",
                wiring=wiring,
                max_current_a=rng.choice([16.0, 32.0]),
                failsafe_current_a=6.0 if rng.random() < 0.5 else 0.0,
                weight=rng.choice([1.0, 1.0, 2.0]),
                online=online,
                last_seen_s=0.0,
                session_id=f"S{i}" if has_session else None,
                measured_a=measured,
                setpoint_a=setpoint,
                setpoint_since_s=rng.uniform(-600, 0),
                energy_wanted_kwh=rng.uniform(5, 60) if told else None,
                departure_s=1000.0 + rng.uniform(600, 40_000) if told else None,
            )
        )
    meter = MeterInput(PerLine(fuse * 0.6, fuse * 0.7, fuse * 0.5), 1000.0)
    return Snapshot(config, tuple(chargers), 1000.0, meter)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", type=int, default=2, help="algorithm version (default 2)")
    parser.add_argument("--needs", action="store_true", help="every other car tells its needs")
    args = parser.parse_args()
    algo = get_algorithm("standard", args.version)
    print(f"standard v{args.version}" + (", half the cars tell their needs" if args.needs else ""))
    print(
        f"{'chargers':>9} {'median ms':>10} {'min ms':>8} {'us/charger':>11} "
        f"{'/(n log2 n) ns':>15} {'planning ms':>12}"
    )
    for n in (10, 100, 1_000, 5_000):
        snapshot = make_snapshot(n, needs=args.needs)
        # Warm state: one cycle 1 s earlier, so the steady-state path is measured.
        warm = Snapshot(snapshot.config, snapshot.chargers, snapshot.now_s - 1.0, snapshot.meter)
        state: AlgorithmState = algo.allocate(warm, algo.initial_state()).state
        number = max(1, 2_000 // n)
        runs = timeit.repeat(
            lambda s=snapshot, st=state: algo.allocate(s, st),  # type: ignore[misc]
            number=number,
            repeat=7,
        )
        per_call = [r / number for r in runs]
        med = statistics.median(per_call)
        # The same cycle with the plan a minute old: it is made again.
        stale = replace(state, planned_s=None if state.planned_s is None else -1e9)
        planning = statistics.median(
            timeit.repeat(lambda s=snapshot, st=stale: algo.allocate(s, st), number=1, repeat=5)  # type: ignore[misc]
        )
        print(
            f"{n:>9} {med * 1e3:>10.3f} {min(per_call) * 1e3:>8.3f} {med / n * 1e6:>11.2f} "
            f"{med / (n * math.log2(n)) * 1e9:>15.1f} "
            f"{(f'{planning * 1e3:.1f}' if state.planned_s is not None else '-'):>12}"
        )


if __name__ == "__main__":
    main()
