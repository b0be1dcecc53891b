"""Scoring a simulation: the figures of report.json (SCENARIOS.md, 'Report').

All figures come from the *actual* currents of the physics (not the
setpoints), measured against ``max_supply_current_a`` on every grid line.
Beyond the contract the report carries:

* ``seconds_above_fuse_unexcused``: seconds above the fuse that are *not*
  inside the unavoidable reaction window after a rise of the rest of the
  building on that line. The window is ``meter_interval_s`` (until the meter
  reports the rise) + 1 s (the next control cycle) + ``ev_response_s`` (the car
  follows its new limit), and seconds where the rest of the building alone is
  above the fuse. The goal is 0.
* ``seconds_above_fuse_controller_down``: how many of those unexcused seconds fell
  while the whole control side was down (a ``controller_down`` fault): the chargers
  were on their own, so only the installer's failsafe currents and the building
  decided them.
* ``energy_ratio``: ``energy_delivered_kwh / energy_upper_bound_kwh``.
* ``sessions``: per session requested / delivered / met / pauses.
* ``jain_fairness_attainable``: the Jain index (computed like ``jain_fairness``)
  of the max-min fair plan of an omniscient planner under the same constraints
  as ``energy_upper_bound_kwh``: the smallest delivered/requested share raised
  as far as it goes, then the next, and so on
  (:func:`fuseshare.sim.upper_bound.fair_plan`). The reference for
  ``jain_fairness``: below 1 when the site cannot even out (a car that leaves
  early cannot get as large a share as one that stays).
* ``energy_upper_bound_fair_kwh``: the energy that fair plan delivers; below
  ``energy_upper_bound_kwh`` by the price of fairness (up to the fairness LP's
  coarser slots on runs over 2 h).

``jain_fairness_attainable`` is a reference, not a ceiling: a plan that holds
back energy from well-served sessions can score a higher Jain index than the
max-min plan, and a run that overloads the supply can too. Both are null when
the bound is not computed.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from fuseshare.sim.engine import SimResult
from fuseshare.sim.upper_bound import FairPlan, fair_plan

LOAD_STEP_A = 0.5
"""A rise of the rest of the building by more than this within one second is a load step."""
TRIP_RATIO = 1.13
"""Fuses do not trip below 1.13 × their rating (IEC 60269 conventional non-fusing current)."""


def jain(values: list[float]) -> float:
    """Jain's fairness index of ``values`` (1.0 = perfectly even; 1/n = one takes all)."""
    if not values:
        return 1.0
    total = sum(values)
    squares = sum(v * v for v in values)
    if squares <= 0.0:
        return 1.0
    return total * total / (len(values) * squares)


def excused_mask(result: SimResult) -> npt.NDArray[np.bool_]:
    """Per second and line: inside the reaction window after a load step on that line."""
    sc = result.scenario
    base = result.trace.base_a
    n_t = base.shape[0]
    window = math.ceil(sc.group.meter_interval_s + 1.0 + sc.ev_response_s)
    rises = np.zeros_like(base, dtype=bool)
    if n_t > 1:
        rises[1:] = np.diff(base, axis=0) > LOAD_STEP_A
    excused = base > sc.max_supply_current_a  # the rest of the building alone is too much
    for j in range(3):
        for t in np.flatnonzero(rises[:, j]):
            excused[t : t + window + 1, j] = True
    return excused


def report(
    result: SimResult, upper_bound_kwh: float | None, fair: FairPlan | None = None
) -> dict[str, Any]:
    """The report.json dictionary.

    ``fair``: the max-min fair plan; computed here when the bound is given and it is not.
    """
    sc = result.scenario
    if fair is None and upper_bound_kwh is not None:
        fair = fair_plan(sc, result.trace.base_a)
    tr = result.trace
    fuse = sc.max_supply_current_a
    n_lines = len(sc.grid.lines)
    total = tr.total_a[:, :n_lines]
    over = np.clip(total - fuse, 0.0, None)
    above = total > fuse + 1e-9
    excused = excused_mask(result)[:, :n_lines]
    unexcused = (above & ~excused).any(axis=1)
    down = np.zeros(total.shape[0], dtype=bool)
    for f in sc.faults:
        if f.kind == "controller_down":
            down[int(f.from_s) : int(f.to_s)] = True
    requested = sum(s.requested_kwh for s in result.sessions)
    delivered = sum(s.delivered_kwh for s in result.sessions)
    shares = [
        min(1.0, s.delivered_kwh / s.requested_kwh) for s in result.sessions if s.requested_kwh > 0
    ]
    names = ("L1", "L2", "L3")
    out: dict[str, Any] = {
        "scenario": sc.name,
        "algorithm": result.algorithm,
        "version": result.version,
        "controller": result.controller,
        "duration_s": sc.duration_s,
        "energy_requested_kwh": round(requested, 3),
        "energy_delivered_kwh": round(delivered, 3),
        "energy_upper_bound_kwh": None if upper_bound_kwh is None else round(upper_bound_kwh, 3),
        "energy_ratio": None
        if not upper_bound_kwh
        else round(min(delivered / upper_bound_kwh, 1.0) if upper_bound_kwh > 0 else 1.0, 4),
        "sessions_met": sum(1 for s in result.sessions if s.met),
        "sessions_total": len(result.sessions),
        "overload_amp_seconds": {
            names[j]: round(float(over[:, j].sum()) if j < n_lines else 0.0, 2) for j in range(3)
        },
        "max_overload_ratio": round(float(total.max() / fuse) if total.size else 0.0, 4),
        "seconds_above_fuse": int(above.any(axis=1).sum()),
        "seconds_above_fuse_unexcused": int(unexcused.sum()),
        "seconds_above_fuse_controller_down": int((unexcused & down).sum()),
        "seconds_above_113pct": int((total > TRIP_RATIO * fuse).any(axis=1).sum()),
        "jain_fairness": round(jain(shares), 4),
        "jain_fairness_attainable": None if fair is None else round(jain(list(fair.shares)), 4),
        "energy_upper_bound_fair_kwh": None if fair is None else round(fair.energy_kwh, 3),
        "pauses": sum(s.pauses for s in result.sessions),
        "setpoints_sent": result.setpoints_sent,
        "wall_s": round(result.wall_s, 3),
        "sessions": [
            {
                "charger": s.charger,
                "arrive_s": s.arrive_s,
                "depart_s": s.depart_s,
                "requested_kwh": round(s.requested_kwh, 3),
                "delivered_kwh": round(s.delivered_kwh, 3),
                "met": s.met,
                "pauses": s.pauses,
            }
            for s in result.sessions
        ],
    }
    return out
