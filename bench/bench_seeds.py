"""Benchmark: the told scarce evenings re-drawn from other seeds, to see whether what a
version buys on the library's two evenings holds on evenings it was not tuned on.

Each scarce library evening whose cars tell their needs
(``scenarios/scarce-evening-*-15118.json``) is re-drawn per seed: new arrivals, stays,
energies and cars from the ranges the library draws them from
(``SCARCE_SESSIONS`` in ``scenarios/make_library.py``), and a new household base load. Every version given
runs on every evening; one line each, and per version the mean energy / bound, the
worst Jain and how many evenings reach Jain 0.95; beside each Jain, the Jain of the
max-min fair plan of an omniscient planner on that evening. Prints figures, asserts nothing.
Run: ``.venv/bin/python bench/bench_seeds.py`` (``--seed N`` and ``--version N``
repeatable; defaults seeds 101-103, versions 5 and 6; ``--jobs N`` processes).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from fuseshare.sim.run import controller_for, run_scenario
from fuseshare.sim.scenario import parse_scenario

LIBRARY = Path(__file__).resolve().parent.parent / "scenarios"
sys.path.insert(0, str(LIBRARY))
from make_library import SCARCE_SESSIONS, sessions  # noqa: E402

EVENINGS = [f"{name}-15118" for name in SCARCE_SESSIONS]
"""The told scarce evenings of the library, re-drawn here."""


def redraw(name: str, seed: int) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((LIBRARY / f"{name}.json").read_text(encoding="utf-8"))
    rng = random.Random(seed)
    ranges = SCARCE_SESSIONS[name.removesuffix("-15118")]
    data["sessions"] = sessions(rng, [c["id"] for c in data["chargers"]], **ranges)
    data["seed"] = seed
    data["base_load"] = dict(data["base_load"], seed=seed)
    data["name"] = f"{name}-seed{seed}"
    return data


def one(job: tuple[str, int, int]) -> dict[str, Any]:
    name, seed, version = job
    logging.getLogger("fuseshare").setLevel(logging.ERROR)
    scenario = parse_scenario(redraw(name, seed))
    _, report = run_scenario(scenario, controller_for(algorithm="standard", version=version))
    return {
        "scenario": report["scenario"],
        "version": version,
        "ratio": report["energy_delivered_kwh"] / report["energy_upper_bound_kwh"],
        "jain": report["jain_fairness"],
        "attainable": report["jain_fairness_attainable"],
        "unexcused": report["seconds_above_fuse_unexcused"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, action="append", help="seed (repeatable)")
    parser.add_argument("--version", type=int, action="append", help="version (repeatable)")
    parser.add_argument("--jobs", type=int, default=1, help="processes (default 1)")
    args = parser.parse_args()
    seeds = args.seed or [101, 102, 103]
    versions = args.version or [5, 6]
    jobs = [(name, seed, v) for name in EVENINGS for seed in seeds for v in versions]
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=max(1, min(args.jobs, os.cpu_count() or 1))) as pool:
        rows = list(pool.map(one, jobs))
    print(
        f"{'evening':40} {'version':>7} {'E/UB':>6} {'Jain':>6} {'(fair plan)':>11} "
        f"{'unexcused s':>12}"
    )
    for r in rows:
        print(
            f"{r['scenario']:40} {'v' + str(r['version']):>7} {r['ratio']:6.1%} "
            f"{r['jain']:6.3f} {r['attainable']:11.3f} {r['unexcused']:12d}"
        )
    print()
    for v in versions:
        mine = [r for r in rows if r["version"] == v]
        mean = sum(r["ratio"] for r in mine) / len(mine)
        fair = sum(r["jain"] >= 0.95 for r in mine)
        print(
            f"v{v}: mean E/UB {mean:.1%}, worst Jain {min(r['jain'] for r in mine):.3f}, "
            f"Jain >= 0.95 on {fair} of {len(mine)}, unexcused s {sum(r['unexcused'] for r in mine)}"
        )
    print(f"(total {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
