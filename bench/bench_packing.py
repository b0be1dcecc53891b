"""Benchmark: how fully the control loop packs each second, against the best packing of
that second.

For every minute of a run (the real control loop on the simulator, as
``bench_balancing.py`` runs it), the cars present that still want energy, their
maxima (car and charger), each line's room that second (fuse and group limit, less the
margin, as the upper bound counts it) and the power per ampere each car brings:

* **loop**: the power the cars drew that second, and **allocated**: what they would
  have drawn at the limits the loop had sent them (up to each car's maximum); the
  difference is the cars' reaction to changes still under way;
* **best**: the most power any currents could bring that second, from 0 up to each car's
  maximum (a linear programme);
* **best at the minimum**: the same with every car at 0 or at least the group minimum
  (a mixed-integer programme, HiGHS), the most a controller that must keep the minimum
  could bring that second.

And where the allocation falls short: the most power the cars the loop ran could have
brought that second if each were only raised (none lowered, none started), split by the
reason the loop gave each raised car (line bound by the loop's own count of the room:
its estimate of the building and the noise margin; increase paced; kept within the
deadband; waiting for another car to release current). What is not there is who runs:
which cars take turns, and at what currents against each other.

Neither optimum cares who gets the energy: over an evening a fair controller cannot
reach them (it must give every car turns, a one-phase car on a busy IT line brings
less per ampere of that line than a three-phase one). What the figures separate is
where a second's power goes: ``best at the minimum / best`` is what the minimum current
costs by itself; ``loop / best at the minimum`` is the rest: who the loop runs and at
how much, margins, pacing, reaction times. The taper of a nearly full car is not
modelled (its maximum is taken), so on days where cars fill up the optima are a little
high. Prints figures, asserts nothing.

Run: ``.venv/bin/python bench/bench_packing.py`` (``--scenario NAME`` repeatable, default
the library's told evenings; ``--version N``, default the newest; ``--every S`` seconds
between the sampled seconds, default 60).
"""

from __future__ import annotations

import argparse
import logging
import re
import time
from pathlib import Path

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, linprog, milp  # type: ignore[import-untyped]

from bench_plan_followed import session_factors
from fuseshare.sim import upper_bound as ub
from fuseshare.sim.engine import SimResult
from fuseshare.sim.run import controller_for, run_scenario
from fuseshare.sim.scenario import Scenario, load_scenario, watts_per_amp

LIBRARY = Path(__file__).resolve().parent.parent / "scenarios"
TOLD = ("scarce-evening-it-15118", "scarce-evening-tn-15118", "office-carpark-50-15118")
MET_KWH = 0.1
"""A session with less than this left of its request wants nothing more (as the report)."""


def raises_w(
    watts: np.ndarray, factors: np.ndarray, cap: np.ndarray, room: np.ndarray, x: np.ndarray
) -> np.ndarray:
    """Per car, the power it adds in the most-power raise of ``x`` (currents only go up,
    to each car's maximum, within ``room``; a line already over stays where it is)."""
    if len(watts) == 0:
        return np.zeros(0)
    lp = linprog(
        -watts,
        A_ub=factors.T,
        b_ub=np.maximum(room, factors.T @ x),
        bounds=list(zip(x, np.maximum(cap, x), strict=True)),
    )
    return np.asarray(watts * np.maximum(0.0, lp.x - x))


def _kind(reason: str) -> str:
    """A reason with its numbers taken out, so that equal reasons add up."""
    return re.sub(r"(?<![L\d.])\d+(\.\d+)?", "N", reason)


def best_power_w(
    watts: np.ndarray, factors: np.ndarray, cap: np.ndarray, room: np.ndarray, lo: float | None
) -> float:
    """The most power currents ``0 ≤ x ≤ cap`` (with ``lo``: 0 or ``lo ≤ x ≤ cap``) bring
    under ``factors.T @ x ≤ room``."""
    n = len(watts)
    if n == 0:
        return 0.0
    if lo is None:
        lp = linprog(
            -watts, A_ub=factors.T, b_ub=room, bounds=list(zip([0.0] * n, cap, strict=True))
        )
        return float(-lp.fun)
    # y ∈ {0, 1} says whether a car runs: lo·y ≤ x ≤ cap·y.
    runs = cap >= lo
    c = np.concatenate([-watts, np.zeros(n)])
    lines = np.hstack([factors.T, np.zeros((3, n))])
    upper = np.hstack([np.eye(n), -np.diag(cap)])
    lower = np.hstack([-np.eye(n), lo * np.eye(n)])
    result = milp(
        c,
        constraints=[
            LinearConstraint(lines, -np.inf, room),
            LinearConstraint(upper, -np.inf, 0.0),
            LinearConstraint(lower, -np.inf, 0.0),
        ],
        integrality=np.concatenate([np.zeros(n), np.ones(n)]),
        bounds=Bounds(np.zeros(2 * n), np.concatenate([np.where(runs, cap, 0.0), np.ones(n)])),
    )
    return float(-result.fun)


def packing(
    sc: Scenario, result: SimResult, every_s: int
) -> tuple[float, float, float, float, dict[str, float], int]:
    """Summed over the sampled seconds: drawn, allocated, best and best-at-the-minimum
    power (W), what raises of the running cars could have added by the loop's reason
    for each (W), and how many seconds were sampled."""
    trace = result.trace
    room = ub.room_per_second(sc, trace.base_a.astype(np.float64))
    index = {c.id: i for i, c in enumerate(sc.chargers)}
    sessions = sc.sessions
    factors = session_factors(sc)
    watts = np.array(
        [watts_per_amp(sc.grid, sc.charger(s.charger).phases, s.car_phases) for s in sessions]
    )
    cap = np.array([sc.session_cap_a(s) for s in sessions])
    column = np.array([index[s.charger] for s in sessions])
    drawn_a = trace.car_a.astype(np.float64)  # (t, chargers): what each car drew
    limit_a = trace.setpoint_a.astype(np.float64)  # (t, chargers): the limit applied
    arrive = np.array([s.arrive_s for s in sessions])
    depart = np.array([s.depart_s for s in sessions])
    wanted_kwh = np.array([s.energy_kwh for s in sessions]) - MET_KWH
    done_kwh = np.zeros(len(sessions))
    lo = sc.group.min_current_a
    loop = allocated = best = best_lo = 0.0
    short: dict[str, float] = {}
    sampled = 0
    for t in range(trace.base_a.shape[0]):
        here = (arrive <= t) & (t < depart)
        now_w = np.where(here, drawn_a[t, column] * watts, 0.0)
        wanting = here & (done_kwh < wanted_kwh)
        if t % every_s == 0 and wanting.any():
            want = np.flatnonzero(wanting)
            loop += float(now_w[want].sum())
            given = np.minimum(limit_a[t, column[want]], cap[want])
            allocated += float((given * watts[want]).sum())
            ran = want[given > 0.0]
            added = raises_w(watts[ran], factors[ran], cap[ran], room[t], given[given > 0.0])
            for j, w in zip(ran, added, strict=True):
                if w > 0.0:
                    kind = _kind(trace.reasons[trace.reason[t, column[j]]])
                    short[kind] = short.get(kind, 0.0) + float(w)
            best += best_power_w(watts[want], factors[want], cap[want], room[t], None)
            best_lo += best_power_w(watts[want], factors[want], cap[want], room[t], lo)
            sampled += 1
        done_kwh += now_w / 3.6e6
    return loop, allocated, best, best_lo, short, sampled


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", action="append", help="library scenario (repeatable)")
    parser.add_argument("--version", type=int, help="algorithm version (default the newest)")
    parser.add_argument("--every", type=int, default=60, help="seconds between samples")
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # the runs' commissioning advice is not the figure
    for name in args.scenario or TOLD:
        started = time.perf_counter()
        sc = load_scenario(LIBRARY / f"{name}.json")
        result, _report = run_scenario(
            sc, controller_for(algorithm="standard", version=args.version), upper_bound=False
        )
        loop, allocated, best, best_lo, short, sampled = packing(sc, result, args.every)
        print(
            f"{name} (v{result.version}, {sampled} seconds), % of the best packing: best at "
            f"the {sc.group.min_current_a:g} A minimum {100 * best_lo / best:.1f}, loop "
            f"allocated {100 * allocated / best:.1f}, loop drew {100 * loop / best:.1f} "
            f"({time.perf_counter() - started:.0f} s)",
            flush=True,
        )
        print(f"  raising the cars it ran could have added {100 * sum(short.values()) / best:.1f}:")
        for kind, w in sorted(short.items(), key=lambda item: -item[1])[:6]:
            print(f"    {100 * w / best:4.1f}  {kind}")


if __name__ == "__main__":
    main()
