"""A plan over the evening from what cars said they need (a small linear programme).

Version 6 of the standard algorithm asks, once a minute, how the room the group has
now would best be spread over the time until the cars leave, and shares the present
by the first step of that plan. What it buys over sharing by the current each car
needs (version 5) is timing: a one-phase car on a busy line that leaves at nine is
served while it is there, and the three-phase cars that stay the night take that
line's room later, instead of everyone getting a slice now and a line standing idle
after nine because nobody left can use it alone.

The programme, with time cut into ``S`` slots of ``L`` seconds from now and
``r[k, s]`` session k's average current (A per phase) over slot s::

    maximise   Σ_k Σ_j c_j · u[k, j]  +  δ · Σ_k Σ_s (1 + ε (S - s) / S) · e[k, s]
                                       +  δ · κ · Σ_{k running now} e[k, 0]
    subject to Σ_k f[k, p] · r[k, s] ≤ room[p]                  every slot s, line p
               Σ_s e[k, s] ≤ rest[k]                               every session k
               Σ_j u[k, j] ≤ (had[k] + Σ_s e[k, s]) / want[k]       every session k
               0 ≤ u[k, j] ≤ 1 / J,   on[k, s] ≤ r[k, s] ≤ max[k] · open[k, s]

where ``e[k, s] = r[k, s] · L · w[k]`` is the energy of a slot (w: power per ampere,
:func:`topology.power_per_ampere`), ``rest`` what the car still wants, ``had`` what
it has had, ``open[k, s]`` the part of slot s before its departure and after the end of
a minimum off time it is in, and ``on[k, s]`` the minimum it keeps over the part of slot
s before the end of a minimum on time it is in (version 11; before, ``open`` ended
only at the departure, ``on`` and ``κ`` were 0). The
utility of a session is its fraction of the wanted energy cut in ``J`` bands, a
tenth of it in each band worth ``FAIRNESS_RATIO`` times a tenth in the next higher
band: a tenth more for the session that has least is worth more than a tenth for one
that has more, so the plan evens the fractions out (nearly max-min fair) and uses
what is left for energy (``δ``). Nearly: within one band every fraction is worth the
same, so energy decides there, and a car that brings less energy per ampere of a busy
line (a one-phase car beside three-phase ones) is held at the bottom of its band
while the others reach its top. Tenths (``BANDS``, versions 6 and 7) leave such cars
up to a tenth behind, twentieths (``FINE_BANDS``, version 8) up to a twentieth, where
the other turns an ampere into less than √3 times its fraction. ``ε`` prefers the same
energy sooner (the future holds other cars and other loads nobody knows of yet), ``κ``
(:data:`KEEP_RUNNING`) keeps the sessions that run now running among plans of about
equal worth.

It knows only the present: the room stays what it is now, no other car arrives. It
relaxes the minimum current (a plan below the minimum is served by turns). It never
decides safety: the plan only weighs and orders sessions in the sharing that follows,
which keeps every limit on its own.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from scipy.optimize import linprog  # type: ignore[import-untyped]
from scipy.sparse import coo_matrix  # type: ignore[import-untyped]

from fuseshare.balancing.fill import Factors

PLAN_EVERY_S = 60.0
"""How often a group's plan is made again (and whenever its sessions change)."""
MAX_PLANNED_SESSIONS = 120
"""Above this many sessions a group is shared by needs without a plan (version 5):
the programme grows with sessions times slots, and a minute's plan must stay cheap."""
SLOTS = 48
SOLVE_TIME_LIMIT_S = 1.0
"""HiGHS stops here (the loop waits for it); no plan then, sharing goes on without."""
MIN_SLOT_S = 300.0
MAX_HORIZON_S = 24 * 3600.0
HORIZON_FLOOR_S = 900.0
"""A departure closer than this (or past) is taken as this far away."""
BANDS = 10
"""Bands of the fraction wanted in versions 6 and 7: tenths."""
FINE_BANDS = 20
"""Bands from version 8 on: twentieths (forty buy no more; docs/sharing.md)."""
FAIRNESS_RATIO = 3.0
"""A tenth of the fraction wanted in one band is worth this many times a tenth in the
next higher band (with twentieths: √3 per band)."""
ENERGY_WEIGHT = 0.2
"""Utility of the average session's whole wanted energy, against 1 for the top band
of every session's fraction (a tenth of it): energy decides between plans about
equally fair, and buys at most a little unfairness among sessions nearly done.
Ratio and weight were chosen on the library's two scarce evenings (see
docs/sharing.md): the figures move by about a point either way between 2 and 4."""
SOONER = 0.01
KEEP_RUNNING = 0.0003
"""What an ampere of a running session in the first slot is worth beyond its energy, in
parts of that energy's worth (version 11): the programme has many plans of about equal
worth and picked among them anew every minute which sessions ran now; this keeps the
ones running that run. On the 18 re-drawn told evenings (``bench_seeds.py``) 0.0001,
0.0003 and 0.001 delivered 86.8, 87.5 and 87.1 % of the bound at mean Jain 0.931, 0.938
and 0.939 (version 10: 86.5 %, 0.941); 0.01 cost the library's TN evening 3 points.
The runs are chaotic: a 1e-13 A change of the bounds moves such means by 0.3 points
(docs/sharing.md)."""


class PlanSession(NamedTuple):
    key: str
    factors: Factors
    max_a: float
    """The most it may take now (charger, car, membership)."""
    per_a: float
    """Power per ampere, in 230 V windings (energy unit: winding ampere-seconds)."""
    had: float
    """Energy it has had this session (winding ampere-seconds)."""
    wanted: float | None
    """Energy wanted for the whole session (same unit); None: not told."""
    left_s: float | None
    """Seconds to its departure; None: not told."""
    on_a: float = 0.0
    """A current it keeps at least for ``on_s`` seconds from now (a turn already
    begun: the minimum on time); 0: none."""
    on_s: float = 0.0
    off_s: float = 0.0
    """Seconds from now it cannot run (a turn already ended: the minimum off time)."""
    running: bool = False
    """It runs now: between plans of equal worth, the one that keeps it running now."""


class Plan(NamedTuple):
    currents: dict[str, float]
    """The first slot's average current per session (A), by key: what the sharing uses."""
    fractions: dict[str, float]
    """The fraction of its wanted energy each session will have had by its departure
    (or the plan's end) if the plan were kept, by key (sessions that told nothing:
    of the middle want)."""


def plan_currents(
    sessions: Sequence[PlanSession], room: Sequence[float], bands: int = BANDS
) -> dict[str, float]:
    """The first slot's average current per session (A) of the plan, by key.

    ``room`` is what the sessions may draw together per line now (``inf``: no
    limit on that line). Sessions that did not tell count as the middle of those
    that did. ``bands``: how finely the fractions are evened out (:data:`BANDS`,
    :data:`FINE_BANDS`). Empty when nothing was told, or when the programme cannot
    be solved (the caller then shares without a plan).
    """
    plan = make_plan(sessions, room, bands)
    return {} if plan is None else plan.currents


def make_plan(
    sessions: Sequence[PlanSession], room: Sequence[float], bands: int = BANDS
) -> Plan | None:
    """The whole plan (:func:`plan_currents`); None where that is empty."""
    if not sessions or len(sessions) > MAX_PLANNED_SESSIONS:
        return None
    sessions = [_sane(s) for s in sessions]
    told_want = [s.wanted for s in sessions if s.wanted is not None]
    told_left = [s.left_s for s in sessions if s.left_s is not None]
    if not told_want:
        return None
    mid_want = _middle(told_want)
    mid_left = _middle(told_left) if told_left else MAX_HORIZON_S
    wants = [mid_want if s.wanted is None else s.wanted for s in sessions]
    lefts = [
        min(MAX_HORIZON_S, max(HORIZON_FLOOR_S, mid_left if s.left_s is None else s.left_s))
        for s in sessions
    ]
    horizon = max(lefts)
    slot = max(MIN_SLOT_S, horizon / SLOTS)
    n_slots = max(1, math.ceil(horizon / slot - 1e-9))
    return _solve(sessions, room, wants, lefts, slot, n_slots, max(1, bands))


def _solve(
    sessions: Sequence[PlanSession],
    room: Sequence[float],
    wants: list[float],
    lefts: list[float],
    slot: float,
    n_slots: int,
    bands: int,
) -> Plan | None:
    n = len(sessions)
    n_r = n * n_slots
    n_u = n * bands
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    rhs: list[float] = []

    def r_index(k: int, s: int) -> int:
        return k * n_slots + s

    # Lines: each slot's currents within the room of now.
    for p in range(3):
        limit = 0.0 if math.isnan(room[p]) else room[p]
        if limit == math.inf:
            continue
        loaded = [(k, s.factors[p]) for k, s in enumerate(sessions) if s.factors[p]]
        if not loaded:
            continue
        for t in range(n_slots):
            row = len(rhs)
            for k, f in loaded:
                rows.append(row)
                cols.append(r_index(k, t))
                vals.append(f)
            rhs.append(max(0.0, limit))
    # Energy (in fractions of the wanted energy): no more than it still wants, and the
    # bands of utility no higher than what it will have had.
    for k, s in enumerate(sessions):
        per_slot = slot * s.per_a / wants[k]
        rest = max(0.0, wants[k] - s.had) / wants[k]
        row = len(rhs)
        for t in range(n_slots):
            rows.append(row)
            cols.append(r_index(k, t))
            vals.append(per_slot)
        rhs.append(rest)
        row = len(rhs)
        for t in range(n_slots):
            rows.append(row)
            cols.append(r_index(k, t))
            vals.append(-per_slot)
        for j in range(bands):
            rows.append(row)
            cols.append(n_r + k * bands + j)
            vals.append(1.0)
        rhs.append(min(1.0, s.had / wants[k]))

    ratio = FAIRNESS_RATIO ** (BANDS / bands)
    band_values = np.array([-(ratio ** (bands - 1 - j)) for j in range(bands)])
    mean_want = sum(wants) / n
    cost = np.zeros(n_r + n_u)
    upper = np.zeros(n_r + n_u)
    lower = np.zeros(n_r + n_u)
    for k, s in enumerate(sessions):
        energy = ENERGY_WEIGHT * slot * s.per_a / mean_want
        # A turn already begun or ended holds: at least ``on_a`` until ``on_s``, nothing
        # until ``off_s`` (as averages over each slot), the first no more than it wants.
        on_left = max(0.0, wants[k] - s.had) / (slot * s.per_a)  # slot-amperes
        for t in range(n_slots):
            cost[r_index(k, t)] = -energy * (1.0 + SOONER * (n_slots - t) / n_slots)
            if t == 0 and s.running:
                cost[r_index(k, t)] -= energy * KEEP_RUNNING
            start = t * slot
            open_s = min(lefts[k] - start, slot) - max(0.0, s.off_s - start)
            upper[r_index(k, t)] = max(0.0, s.max_a) * min(1.0, max(0.0, open_s / slot))
            on = s.on_a * min(1.0, max(0.0, (s.on_s - start) / slot))
            on = min(on, upper[r_index(k, t)], on_left)
            on_left -= on
            lower[r_index(k, t)] = on
        cost[n_r + k * bands : n_r + (k + 1) * bands] = band_values
    upper[n_r:] = 1.0 / bands
    a_ub = coo_matrix((vals, (rows, cols)), shape=(len(rhs), n_r + n_u)).tocsr()
    b_ub = np.asarray(rhs)
    x = _linprog(cost, a_ub, b_ub, lower, upper)
    if x is None and lower.any():
        # Minima held that do not fit together (the loop hands in only those that do):
        # the plan as if no turn were held, rather than none.
        x = _linprog(cost, a_ub, b_ub, np.zeros(n_r + n_u), upper)
    if x is None:
        return None
    currents: dict[str, float] = {}
    fractions: dict[str, float] = {}
    for k, s in enumerate(sessions):
        currents[s.key] = max(0.0, float(x[r_index(k, 0)]))
        planned = float(x[r_index(k, 0) : r_index(k, n_slots)].sum()) * slot * s.per_a
        fractions[s.key] = min(1.0, (s.had + planned) / wants[k])
    return Plan(currents, fractions)


def _linprog(
    cost: np.ndarray, a_ub: object, b_ub: np.ndarray, lower: np.ndarray, upper: np.ndarray
) -> np.ndarray | None:
    """The programme's solution, or None when it cannot be solved."""
    try:
        result = linprog(
            cost,
            A_ub=a_ub,
            b_ub=b_ub,
            bounds=np.column_stack([lower, upper]),
            method="highs",
            options={"time_limit": SOLVE_TIME_LIMIT_S},
        )
    except (ValueError, ArithmeticError):
        # The plan only advises: one that cannot be made must not stop the charging
        # (the control loop fails closed on an exception); sharing goes on without it.
        return None
    if result.status != 0 or result.x is None:
        return None
    return np.asarray(result.x)


MIN_WANTED = 1.0
"""A want below this (one winding ampere-second) counts as not told."""
MAX_CURRENT_A = 1000.0


def _sane(s: PlanSession) -> PlanSession:
    """The session with what no programme can take made harmless: a want that is not a
    finite number of at least :data:`MIN_WANTED` or a departure that is not finite is
    not told; what it had is kept within 0 and its want; the current within 0 and
    :data:`MAX_CURRENT_A`; a power per ampere that is not a positive number is 1."""
    wanted = s.wanted
    if wanted is None or not MIN_WANTED <= wanted < math.inf:  # NaN fails too
        wanted = None
    left = s.left_s if s.left_s is not None and math.isfinite(s.left_s) else None
    had = s.had if math.isfinite(s.had) and s.had > 0.0 else 0.0
    if wanted is not None:
        had = min(had, wanted)
    max_a = s.max_a if 0.0 <= s.max_a <= MAX_CURRENT_A else (MAX_CURRENT_A if s.max_a > 0 else 0.0)
    per_a = s.per_a if 0.0 < s.per_a < math.inf else 1.0
    on_a = min(s.on_a, max_a) if s.on_a > 0.0 and s.on_s > 0.0 else 0.0  # NaN fails too
    on_s = min(s.on_s, MAX_HORIZON_S) if on_a > 0.0 else 0.0
    off_s = min(s.off_s, MAX_HORIZON_S) if s.off_s > 0.0 else 0.0
    return PlanSession(
        s.key, s.factors, max_a, per_a, had, wanted, left, on_a, on_s, off_s, s.running
    )


def _middle(values: Sequence[float]) -> float:
    known = sorted(values)
    return known[len(known) // 2]
