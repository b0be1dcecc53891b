"""Benchmark: what the sharing plan delivers when it is followed exactly.

The told evenings' plan (:func:`fuseshare.balancing.planning.make_plan`, version 8 and
later: twentieths) made every minute from the room of that moment, as the algorithm
makes it, and followed by cars that draw any current the plan gives them, at once:
no minimum current (6-8 A) and no turns, no reaction time, no estimate of the cars'
share of the reading (the building's own load is known), no margins beyond the group's.
Each second the plan's currents are cut, per line, to the room that second leaves;
nothing is raised between plans. So it is what the plan's timing and fairness are
worth, apart from how the control loop carries them out; the gap to
``bench_balancing.py`` is the carrying out. Prints energy / bound and Jain per scenario;
asserts nothing.

Run: ``.venv/bin/python bench/bench_plan_followed.py`` (``--scenario NAME`` repeatable;
default the library's told evenings).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from fuseshare.balancing import ALL_LINES
from fuseshare.balancing.planning import FINE_BANDS, PLAN_EVERY_S, PlanSession, make_plan
from fuseshare.balancing.topology import power_per_ampere
from fuseshare.sim import upper_bound as ub
from fuseshare.sim.base_load import base_load_a
from fuseshare.sim.metrics import jain
from fuseshare.sim.scenario import Scenario, load_scenario, watts_per_amp

LIBRARY = Path(__file__).resolve().parent.parent / "scenarios"
TOLD = ("scarce-evening-it-15118", "scarce-evening-tn-15118", "office-carpark-50-15118")
WINDING_AS_PER_KWH = 3.6e6 / 230.0


def session_factors(sc: Scenario) -> np.ndarray:
    """Per session, the amperes it puts on each grid line per ampere it draws."""
    out = np.zeros((len(sc.sessions), 3))
    for k, s in enumerate(sc.sessions):
        for line, f in sc.factors(s).items():
            out[k, ALL_LINES.index(line)] = f
    return out


def follow(sc: Scenario, base: np.ndarray) -> tuple[np.ndarray, int]:
    """kWh delivered per session, and how many plans were made."""
    room = ub.room_per_second(sc, base)
    fac = session_factors(sc)
    sessions = sc.sessions
    want = np.array([s.energy_kwh for s in sessions])
    cap = np.array([sc.session_cap_a(s) for s in sessions])
    kwh_per_as = (
        np.array(
            [watts_per_amp(sc.grid, sc.charger(s.charger).phases, s.car_phases) for s in sessions]
        )
        / 3.6e6
    )
    per_a = [
        power_per_ampere(sc.grid, sc.charger(s.charger).phases, s.car_phases) for s in sessions
    ]
    had = np.zeros(len(sessions))
    current = np.zeros(len(sessions))
    planned_for = np.zeros(len(sessions), dtype=bool)
    plans = 0
    for t in range(sc.duration_s):
        here = np.array(
            [s.arrive_s <= t < s.depart_s and had[k] < want[k] for k, s in enumerate(sessions)]
        )
        if t % PLAN_EVERY_S == 0 or not np.array_equal(here, planned_for):
            planned_for = here
            current = np.zeros(len(sessions))
            present = np.flatnonzero(here)
            plan = make_plan(
                [
                    PlanSession(
                        str(k),
                        tuple(fac[k]),
                        float(cap[k]),
                        per_a[k],
                        had[k] * WINDING_AS_PER_KWH,
                        want[k] * WINDING_AS_PER_KWH,
                        sessions[k].depart_s - t,
                    )
                    for k in present
                ],
                list(room[t]),
                FINE_BANDS,
            )
            plans += plan is not None
            for k in present:
                current[k] = plan.currents[str(k)] if plan is not None else cap[k]
        # The plan's currents, cut on every line to what this second leaves.
        load = current @ fac
        ratio = np.where(load > 1e-9, room[t] / np.maximum(load, 1e-9), np.inf)
        scale = np.array(
            [min(1.0, ratio[fac[k] > 0].min(initial=np.inf)) for k in range(len(sessions))]
        )
        had = np.minimum(want, had + current * scale * kwh_per_as)
    return had, plans


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", action="append", help="library scenario (repeatable)")
    args = parser.parse_args()
    for name in args.scenario or TOLD:
        started = time.perf_counter()
        sc = load_scenario(LIBRARY / f"{name}.json")
        base = base_load_a(sc.base_load, sc.grid, sc.duration_s, sc.seed)
        had, plans = follow(sc, base)
        bound = ub.energy_upper_bound_kwh(sc, base)
        want = np.array([s.energy_kwh for s in sc.sessions])
        shares = list(had[want > 0] / want[want > 0])
        print(
            f"{name}: {had.sum():.1f} of {bound:.1f} kWh = {100 * had.sum() / bound:.1f} % of "
            f"the bound, Jain {jain(shares):.3f} ({plans} plans, "
            f"{time.perf_counter() - started:.0f} s)",
            flush=True,
        )


if __name__ == "__main__":
    main()
