"""Soak: random scenarios within ../shared/SCENARIOS.md through the real control loop.

Draws sites the library does not hold (TN, IT and one-phase supplies, fuses of 16-100 A,
1-8 chargers in any rotation, cars on one, two or three phases, building steps up to
1.2 times the fuse, meters reading every 1-10 s, every fault kind) and runs each with
``fuseshare.sim``. One line per scenario: ``ok``, or what is wrong: a crash, energy above
the LP bound, or seconds above the fuse outside the reaction delay after a load step,
split into those inside a fault window (+60 s: the installer's offline budget and
failsafe currents decide those) and those outside any. Prints, asserts nothing.

Run: ``.venv/bin/python bench/fuzz_scenarios.py --seeds 0 200`` (``--version N`` for
every scenario on that version instead of a drawn one; ``--standard-cars`` for cars
that follow within IEC 61851-1's 5 s only). Each scenario is written to ``--out``
(default a temporary directory) with its report, to replay with ``fuseshare simulate``.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np

from fuseshare.errors import InvalidInput
from fuseshare.sim.metrics import excused_mask
from fuseshare.sim.run import controller_for, run_scenario
from fuseshare.sim.scenario import parse_scenario

LINES = ["L1", "L2", "L3"]


def draw(seed: int, version: int | None, standard_cars: bool) -> dict[str, Any]:
    r = random.Random(seed)
    grid = r.choice(["TN_400_3P", "IT_230_3P", "TN_230_1P"])
    fuse = r.choice([16, 20, 25, 32, 35, 40, 50, 63, 80, 100])
    online = round(fuse * r.uniform(0.4, 1.0))
    duration = r.choice([600, 1200, 1800, 3600])
    chargers = []
    for i in range(r.randint(1, 8)):
        lines = LINES[:]
        r.shuffle(lines)
        if grid == "TN_230_1P":
            wiring = ["L1"]
        elif grid == "IT_230_3P":
            wiring = lines[: r.choice([2, 3])]
        else:
            wiring = lines[: r.choice([1, 3, 3])]
        charger = {
            "id": f"C{i}",
            "phases": wiring,
            "max_current_a": r.choice([10, 16, 20, 32]),
            "failsafe_current_a": r.choice([0, 6, 6, 8, 10]),
            "priority": r.choice([1, 1, 1, 2, 3]),
            "version": r.choice(["1.6", "1.6", "2.0.1"]),
        }
        chargers.append(charger)
    sessions = []
    for c in chargers:
        t = r.uniform(0, duration * 0.3)
        while t < duration - 30 and r.random() < 0.8:
            leave = t + r.uniform(60, duration)
            s = {
                "charger": c["id"],
                "arrive_s": round(t),
                "depart_s": round(leave),
                "energy_kwh": round(r.uniform(0.2, 40), 1),
                "car_phases": r.choice([1, 2, 3]),
                "car_max_current_a": r.choice([6, 10, 13, 16, 32]),
                "tells_needs": r.random() < 0.3,
            }
            if r.random() < 0.2:
                s["soc_start"] = round(r.uniform(0.5, 0.99), 2)
                s["battery_kwh"] = r.choice([20, 40, 75])
            sessions.append(s)
            t = leave + r.uniform(1, 600)
    points = []
    t = 0
    while t < duration:
        values = [round(r.uniform(0, fuse * r.choice([0.3, 0.6, 0.9, 1.2])), 1) for _ in LINES]
        points.append([t, *values])
        t += r.choice([1, 5, 30, 120, 600])
    faults = []
    for _ in range(r.choice([0, 0, 1, 2, 3])):
        kind = r.choice(["meter_offline", "charger_offline", "controller_down"])
        start = r.uniform(0, duration - 10)
        fault = {"kind": kind, "from_s": round(start), "to_s": round(start + r.uniform(5, 600)) + 1}
        if kind == "charger_offline":
            fault["charger"] = r.choice(chargers)["id"]
        faults.append(fault)
    return {
        "name": f"fuzz-{seed}",
        "duration_s": duration,
        "seed": seed,
        "grid": grid,
        "max_supply_current_a": fuse,
        "group": {
            "version": version if version is not None else r.choice([None, 3, 4, 5, 6, 7]),
            "max_current_online_a": online,
            "max_current_offline_a": round(online * r.uniform(0.0, 1.0)),
            "min_current_a": r.choice([6, 6, 8, 10]),
            "meter_interval_s": r.choice([1, 1, 2, 5, 10]),
            "outlet_active": r.random() < 0.8,
        },
        "chargers": chargers,
        "base_load": {"kind": "series", "points": points},
        "sessions": sessions,
        "faults": faults,
        "ev_response_s": r.choice([1, 2, 5, 5, 5] + ([] if standard_cars else [8])),
    }


def check(data: dict[str, Any], out: Path) -> tuple[str, int]:
    """The scenario's verdict, and its seconds above the fuse outside fault windows."""
    (out / f"{data['name']}.json").write_text(json.dumps(data), encoding="utf-8")
    try:
        scenario = parse_scenario(data)
        result, report = run_scenario(scenario, controller_for())
    except InvalidInput as exc:
        return f"invalid scenario: {exc}", 0
    except Exception:  # a soak reports every crash and goes on
        return "CRASH " + traceback.format_exc(limit=3).replace("\n", " | "), 0
    (out / f"{data['name']}.report.json").write_text(json.dumps(report), encoding="utf-8")
    problems = []
    bound = report["energy_upper_bound_kwh"]
    if bound is not None and report["energy_delivered_kwh"] > bound * 1.001 + 0.01:
        problems.append(f"delivered {report['energy_delivered_kwh']} kWh > bound {bound}")
    fuse = scenario.max_supply_current_a
    above = result.trace.total_a > fuse + 1e-9
    unexcused = (above & ~excused_mask(result)).any(axis=1)
    in_fault = np.zeros(len(unexcused), dtype=bool)
    for f in scenario.faults:
        in_fault[int(f.from_s) : int(f.to_s) + 60] = True
    outside = np.flatnonzero(unexcused & ~in_fault)
    if unexcused.any():
        problems.append(
            f"{int(unexcused.sum())} s above the fuse outside the reaction delay "
            f"({int((unexcused & in_fault).sum())} in fault windows, {len(outside)} outside"
            + (f", from {int(outside[0])} s" if len(outside) else "")
            + f"; max {report['max_overload_ratio']:.3f} x the fuse; v{report['version']}, "
            f"cars {scenario.ev_response_s:g} s, meter every {scenario.group.meter_interval_s:g} s)"
        )
    return "; ".join(problems) or "ok", len(outside)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs=2, default=(0, 50), metavar=("FROM", "TO"))
    parser.add_argument("--version", type=int, default=None, help="run every scenario on it")
    parser.add_argument("--standard-cars", action="store_true", help="cars follow within 5 s")
    parser.add_argument("--out", type=Path, default=None, help="where scenarios are written")
    args = parser.parse_args()
    logging.getLogger("fuseshare").setLevel(logging.CRITICAL)
    out = args.out or Path(tempfile.mkdtemp(prefix="fuseshare-fuzz-"))
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    bad = outside = 0
    for seed in range(*args.seeds):
        verdict, seconds_outside = check(draw(seed, args.version, args.standard_cars), out)
        print(f"fuzz-{seed}: {verdict}", flush=True)
        bad += verdict != "ok"
        outside += seconds_outside > 0
    total = max(1, args.seeds[1] - args.seeds[0])
    took = time.perf_counter() - started
    print(
        f"\n{total} scenarios, {bad} not ok, {outside} with seconds above the fuse outside "
        f"fault windows; scenarios in {out} ({took:.0f} s, {took / total:.1f} s each)"
    )


if __name__ == "__main__":
    main()
