"""``energy_upper_bound_kwh``: what an omniscient planner could have delivered.

A linear programme (scipy's HiGHS) over the same per-line limits and session
windows as the simulation. Time is cut into slots of ``slot_s``; the variable
``x[s, k]`` is session s's average current (A per phase) in slot k.

    maximise   Σ x[s,k] · slot_s · W_s / 3.6e6                      (kWh)
    subject to Σ_s f[s,p] · x[s,k] ≤ min(fuse − margin − base_min[k,p],
                                        max_current_online − margin)   every slot k, line p
               Σ_k x[s,k] · slot_s · W_s / 3.6e6 ≤ energy_kwh[s]       every session s
               0 ≤ x[s,k] ≤ cap[s] · present[s,k]

``f[s,p]`` is how the car loads grid line p (:func:`fuseshare.balancing.line_factors`),
``W_s`` its watts per ampere, ``cap`` the least of car and charger maximum,
``present`` the fraction of the slot the car is plugged in, and ``base_min``
the lowest base load in the slot. Every simulated run satisfies these
constraints (averaging a per-second bound over a slot keeps it, and the lowest
base load gives the loosest room), so the optimum is a true upper bound. It
relaxes what no planner can beat anyway: the minimum current (0 or ≥ min),
the cars' reaction delay and the taper, which only make it looser.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy.optimize import linprog  # type: ignore[import-untyped]
from scipy.sparse import coo_matrix  # type: ignore[import-untyped]

from fuseshare.balancing import ALL_LINES, Line
from fuseshare.sim.scenario import Scenario, watts_per_amp


def default_slot_s(duration_s: int) -> int:
    """Slots fine enough to follow the load, coarse enough for a day in about a second."""
    if duration_s <= 2 * 3600:
        return 10
    return 60


def energy_upper_bound_kwh(
    scenario: Scenario, base_a: npt.NDArray[np.float64], slot_s: int | None = None
) -> float:
    """The LP optimum in kWh (0.0 when no session can charge)."""
    sc = scenario
    slot = slot_s or default_slot_s(sc.duration_s)
    n_t = base_a.shape[0]
    n_k = math.ceil(n_t / slot)
    padded = np.full((n_k * slot, 3), np.inf)
    padded[:n_t] = base_a
    base_min = padded.reshape(n_k, slot, 3).min(axis=1)
    g = sc.group
    room = np.minimum(
        sc.max_supply_current_a - g.margin_a - base_min, g.max_current_online_a - g.margin_a
    )
    room = np.clip(room, 0.0, None)
    cols: list[tuple[int, int, float, float, dict[Line, float]]] = []
    upper: list[float] = []
    for s_index, s in enumerate(sc.sessions):
        spec = sc.charger(s.charger)
        w = watts_per_amp(sc.grid, spec.phases, s.car_phases)
        cap = sc.session_cap_a(s)
        start, end = math.ceil(s.arrive_s), min(math.ceil(s.depart_s), n_t)
        factors = sc.factors(s)
        for k in range(start // slot, (max(end, 1) - 1) // slot + 1):
            overlap = min(end, (k + 1) * slot) - max(start, k * slot)
            if overlap <= 0:
                continue
            cols.append((s_index, k, w, cap * overlap / slot, factors))
            upper.append(cap * overlap / slot)
    if not cols:
        return 0.0
    n_x = len(cols)
    n_s = len(sc.sessions)
    rows: list[int] = []
    cidx: list[int] = []
    vals: list[float] = []
    objective = np.zeros(n_x)
    for c, (s_index, k, w, _, factors) in enumerate(cols):
        kwh_per_a = slot * w / 3.6e6
        objective[c] = -kwh_per_a
        rows.append(s_index)
        cidx.append(c)
        vals.append(kwh_per_a)
        for line, f in factors.items():
            rows.append(n_s + 3 * k + ALL_LINES.index(line))
            cidx.append(c)
            vals.append(f)
    a_ub = coo_matrix((vals, (rows, cidx)), shape=(n_s + 3 * n_k, n_x)).tocsr()
    b_ub = np.concatenate([np.array([s.energy_kwh for s in sc.sessions]), room.reshape(-1)])
    solved = linprog(
        objective,
        A_ub=a_ub,
        b_ub=b_ub,
        bounds=np.column_stack([np.zeros(n_x), np.array(upper)]),
        method="highs",
    )
    if solved.status != 0:
        raise RuntimeError(f"the upper-bound LP did not solve: {solved.message}")
    return float(-solved.fun)
