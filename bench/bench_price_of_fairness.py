"""Benchmark: what fairness costs in energy, for an omniscient planner (linear programmes).

Prints, per scenario, the energy upper bound (the most any plan can deliver) and the
most energy a plan can deliver while every session keeps at least a fraction of its
max-min fair share (1.0: the max-min fair plan itself), with that plan's Jain index;
then the most energy of any plan whose Jain index is at least a target
(:func:`fuseshare.sim.upper_bound.energy_bound_at_jain`, a second-order cone met by
cutting planes; an upper bound even where it stops before converging). It shows how
far "at least 98 % of the bound" and "Jain at least 0.95" can hold at once; asserts
nothing. Run: ``.venv/bin/python bench/bench_price_of_fairness.py`` (``--scenario
NAME`` repeatable; default the scarce evenings; ``--keep F`` and ``--jain J``
repeatable).

The base load is the simulator's own (it depends only on the scenario and its seed).
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import numpy as np
from scipy.sparse import vstack

from fuseshare.sim import upper_bound as ub
from fuseshare.sim.base_load import base_load_a
from fuseshare.sim.metrics import jain
from fuseshare.sim.scenario import load_scenario

LIBRARY = Path(__file__).resolve().parent.parent / "scenarios"


def price(name: str, keeps: list[float], jains: list[float]) -> list[str]:
    sc = load_scenario(LIBRARY / f"{name}.json")
    base = base_load_a(sc.base_load, sc.grid, sc.duration_s, sc.seed)
    slot = ub.fair_slot_s(sc.duration_s)
    plan = ub.fair_plan(sc, base, slot)
    lp = ub._programme(sc, base, slot)
    bound = ub.energy_upper_bound_kwh(sc, base, slot)
    if lp is None or bound <= 0:
        return [f"{name}: nothing can charge"]
    requested = np.array([s.energy_kwh for s in sc.sessions])
    wanted = [k for k in range(len(requested)) if requested[k] > 0]
    share = dict(zip(wanted, plan.shares, strict=True))
    out = [f"{name}: upper bound {bound:.1f} kWh"]
    for keep in keeps:
        floors = np.array([-share[k] * keep * requested[k] * (1 - 1e-6) for k in wanted])
        solved = ub._solve(
            -np.asarray(lp.kwh.sum(axis=0)).ravel(),
            vstack([lp.kwh, lp.a_ub, -lp.kwh[wanted]]).tocsr(),
            np.concatenate([lp.energy_cap, lp.b_ub, floors]),
            lp.a_eq,
            lp.b_eq,
            lp.upper,
        )
        delivered = lp.kwh @ solved.x
        shares = [min(1.0, delivered[k] / requested[k]) for k in wanted]
        out.append(
            f"  every session >= {keep:.0%} of its max-min fair share: {-solved.fun:7.1f} kWh "
            f"= {-solved.fun / bound:.1%} of the bound, Jain {jain(shares):.3f}"
        )
    for target in jains:
        most = ub.energy_bound_at_jain(sc, base, target, slot)
        out.append(
            f"  any plan with Jain >= {target:.2f}: at most {most.energy_kwh:7.1f} kWh "
            f"= {most.energy_kwh / bound:.1%} of the bound ({most.cuts} cuts, "
            + ("reached" if most.converged else f"not reached: Jain {most.jain:.3f}")
            + ")"
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", action="append", help="library scenario name (repeatable)")
    parser.add_argument("--keep", action="append", type=float, help="fraction of the fair share")
    parser.add_argument("--jain", action="append", type=float, help="a Jain index to keep")
    args = parser.parse_args()
    logging.getLogger("fuseshare").setLevel(logging.ERROR)
    names = args.scenario or ["scarce-evening-it", "scarce-evening-tn"]
    keeps = args.keep or [1.0, 0.95, 0.9, 0.8, 0.0]
    jains = args.jain or [0.95, 0.9]
    started = time.perf_counter()
    for name in names:
        print("\n".join(price(name, keeps, jains)))
    print(f"(total {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
