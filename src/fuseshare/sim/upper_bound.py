"""``energy_upper_bound_kwh``: what an omniscient planner could have delivered.

A linear programme (scipy's HiGHS) over the same per-line limits and session
windows as the simulation. Time is cut into slots of ``slot_s``; the variable
``x[s, k]`` is session s's average current (A per phase) over slot k.

    maximise   Σ x[s,k] · slot_s · W_s / 3.6e6                      (kWh)
    subject to Σ_s f[s,p] · x[s,k] ≤ room_mean[k,p]                 every slot k, line p
               Σ_k x[s,k] · slot_s · W_s / 3.6e6 ≤ energy_cap[s]   every session s
               x[s,k] ≤ present[s,k] · (a_s − b_s · E[s,k])        taper sessions, every slot k
               0 ≤ x[s,k] ≤ u[s,k]

with, per second t and line p, ``room[t,p] = max(0, min(fuse − margin − base[t,p],
max_current_online − margin))``:

* ``room_mean[k,p]``: the mean of ``room[t,p]`` over the seconds of slot k
  (seconds past the end of the run count as 0).
* ``u[s,k]``: the mean over slot k of ``min(cap[s], min_p room[t,p] / f[s,p])``
  over the seconds the car is plugged in (0 for the others), where ``cap`` is
  the least of car and charger maximum: a car alone cannot use more than its
  line's room in any second.
* ``energy_cap[s]``: the request, or what the battery can still take (the car
  stops at a full battery; + one second, its last step may overshoot) if less.
* ``E[s,k]``: the energy delivered to session s before slot k (a linear
  expression in the x of earlier slots, carried by auxiliary variables).

``f[s,p]`` is how the car loads grid line p (:func:`fuseshare.balancing.line_factors`)
and ``W_s`` its watts per ampere.

Why every simulated run that keeps to these limits is feasible, so that the
optimum is a true upper bound: a run that keeps every second t within
``Σ_s f[s,p]·I[s,t] ≤ room[t,p]`` keeps the mean over any set of seconds,
which is the line row with ``x`` the slot mean of ``I``; ``I[s,t] ≤ cap`` and
``I[s,t] ≤ room[t,p]/f[s,p]`` hold second by second, so also their slot sums.

The taper (:class:`fuseshare.sim.car.VirtualCar`): with cumulative energy E,
the car never draws more than ``g(E) = M · max(0.1, min(1, (1 − soc0 − E/B) /
(1 − taper_from)))`` (M the car's own maximum, B its battery). ``g`` is flat at
M up to the taper start ``E_τ``, then linear down to the 0.1 floor, then flat:
convex on ``[max(0, E_τ), E_hi]``, where ``E_hi`` is the most the car can ever
hold (the request, or the battery's room plus one second of drawing). The
straight line through ``g`` at ``max(0, E_τ)`` and at ``E_hi`` therefore lies
on or above ``g`` there (a convex function lies below its chord), and above M
(≥ g) before ``E_τ`` since it falls with E. So ``h(E) = a − b·E`` ≥ g(E) ≥ 0 on
every energy a car can reach, and ``h`` falls with E: within slot k the car's
energy is at least ``E[s,k]``, so each second ``I ≤ g(E_t) ≤ h(E_t) ≤
h(E[s,k])``, and over the slot ``x[s,k] ≤ present[s,k]·h(E[s,k])``. When the
requested energy ends before the floor, the chord is the taper line itself
(exact). Rows that cannot bind (the car cannot have delivered enough by then
to be held back) are left out, so sessions that never reach the taper cost
nothing. Beyond ``TAPER_ROWS`` rows in all (a day where every car tapers),
the rows of neighbouring slots are summed into one (still valid: a sum of
valid rows; about 0.1 % looser, several times faster to solve).

It relaxes what no planner can beat anyway: the minimum current (0 or ≥ min),
the cars' reaction delay, the ordering of seconds within a slot and the taper
inside a slot, which only make it looser.

:func:`fair_plan` reuses the same constraints for the max-min fair plan of
an omniscient planner (on delivered/requested), the reference for
``jain_fairness`` (``jain_fairness_attainable`` in report.json).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.optimize import linprog  # type: ignore[import-untyped]
from scipy.sparse import coo_matrix, csr_matrix, hstack, vstack  # type: ignore[import-untyped]

from fuseshare.balancing import ALL_LINES
from fuseshare.sim.car import TAPER_FLOOR
from fuseshare.sim.scenario import Scenario, SessionSpec, watts_per_amp

FloatArray = npt.NDArray[np.float64]

_FREEZE_DUAL = 1e-7
"""A session whose share row carries a dual above this (× its request) is held back."""
TAPER_ROWS = 3000
"""Above this many taper rows, the rows of neighbouring slots are summed (keeps days fast)."""
FAIR_SLOT_S = 300
"""Slots of the fairness LP on runs longer than 2 h: it is solved once per round."""


def default_slot_s(duration_s: int) -> int:
    """Slots fine enough to follow the load, coarse enough for a day in about a second."""
    if duration_s <= 2 * 3600:
        return 10
    return 60


def fair_slot_s(duration_s: int) -> int:
    """The fairness LP's slots: the bound's on short runs, 5 minutes on longer ones."""
    if duration_s <= 2 * 3600:
        return default_slot_s(duration_s)
    return max(default_slot_s(duration_s), FAIR_SLOT_S)


def room_per_second(scenario: Scenario, base_a: FloatArray) -> FloatArray:
    """``room[t, p]``: what all cars together may add on line p in second t, ≥ 0."""
    g = scenario.group
    room = np.minimum(
        scenario.max_supply_current_a - g.margin_a - base_a, g.max_current_online_a - g.margin_a
    )
    return np.asarray(np.clip(room, 0.0, None), dtype=np.float64)


@dataclass(frozen=True, slots=True)
class _Taper:
    """The line ``x ≤ present · (a − b·E)`` over a session's taper (module docstring)."""

    a: float
    b: float


def _taper_line(s: SessionSpec, w: float) -> _Taper | None:
    """A line on or above the car's taper cap g(E) over every reachable E; None: no taper."""
    tau, soc0, battery, m = s.taper_from_soc, s.start_soc, s.battery_kwh, s.car_max_current_a
    if tau >= 1.0:
        return None
    one_second_kwh = m * w / 3.6e6
    e_hi = min(s.energy_kwh, (1.0 - soc0) * battery + one_second_kwh)
    e_lo = max(0.0, (tau - soc0) * battery)
    if e_hi <= e_lo:
        return None  # the car never gets into its taper

    def g(e: float) -> float:
        fraction = (1.0 - soc0 - e / battery) / (1.0 - tau)
        return m * max(TAPER_FLOOR, min(1.0, fraction))

    b = (g(e_lo) - g(e_hi)) / (e_hi - e_lo)
    if b <= 0.0:
        return None
    return _Taper(a=g(e_lo) + b * e_lo, b=b)


@dataclass(frozen=True, slots=True)
class _Programme:
    """The bound's constraints over variables ``[x (one per session and slot), e (aux)]``."""

    n_var: int
    kwh: Any
    """csr (sessions × variables): kWh delivered to each session."""
    energy_cap: FloatArray
    a_ub: Any
    """csr: the line rows and the taper rows."""
    b_ub: FloatArray
    a_eq: Any
    """csr or None: the energy-so-far chains of the taper sessions."""
    b_eq: FloatArray | None
    upper: FloatArray
    has_columns: tuple[bool, ...]
    """Per session: whether it has any slot where it can draw."""
    slot_s: int


@dataclass(frozen=True, slots=True)
class _Window:
    """A session's slots: ``k0..k1``, its first x column, and its per-slot figures."""

    index: int
    k0: int
    k1: int
    first: int
    kwh_per_a: float
    u: FloatArray
    present: FloatArray
    taper: _Taper | None
    taper_rows: list[int]
    """The slots (from 0 at ``k0``) where the taper row can bind."""


def _windows(
    sc: Scenario, room: FloatArray, slot: int, energy_cap: FloatArray
) -> tuple[list[_Window | None], int]:
    """Per session its slots (None: it can never draw), and the number of x columns."""
    n_t = room.shape[0]
    out: list[_Window | None] = []
    n_x = 0
    for s_index, s in enumerate(sc.sessions):
        spec = sc.charger(s.charger)
        w = watts_per_amp(sc.grid, spec.phases, s.car_phases)
        cap = sc.session_cap_a(s)
        start, end = math.ceil(s.arrive_s), min(math.ceil(s.depart_s), n_t)
        if end <= start or cap <= 0.0 or energy_cap[s_index] <= 0.0:
            out.append(None)
            continue
        per_second = np.full(end - start, cap)
        for line, f in sc.factors(s).items():
            per_second = np.minimum(per_second, room[start:end, ALL_LINES.index(line)] / f)
        k0, k1 = start // slot, (end - 1) // slot
        edges = np.array([0] + [(k + 1) * slot - start for k in range(k0, k1)], dtype=np.intp)
        u = np.add.reduceat(per_second, edges) / slot
        present = np.diff(np.append(edges, end - start)) / slot
        kwh_per_a = slot * w / 3.6e6
        taper = _taper_line(s, w)
        rows: list[int] = []
        if taper is not None:
            u[0] = min(u[0], present[0] * taper.a)  # E = 0 in the first slot
            # The most the car can hold at the start of each slot: rows that cannot bind
            # (the car cannot have enough energy yet to be held back) are left out.
            reach = np.minimum(
                np.concatenate([[0.0], np.cumsum(u[:-1])]) * kwh_per_a, energy_cap[s_index]
            )
            binding = np.flatnonzero(present * (taper.a - taper.b * reach) < u - 1e-12)
            rows = [int(i) for i in binding if i > 0]
        out.append(_Window(s_index, k0, k1, n_x, kwh_per_a, u, present, taper, rows))
        n_x += k1 - k0 + 1
    return out, n_x


def _energy_cap(sc: Scenario) -> FloatArray:
    """Per session: its request, or what its battery can still take (+ one last second)."""
    caps = []
    for s in sc.sessions:
        spec = sc.charger(s.charger)
        w = watts_per_amp(sc.grid, spec.phases, s.car_phases)
        room_kwh = (1.0 - s.start_soc) * s.battery_kwh + s.car_max_current_a * w / 3.6e6
        caps.append(0.0 if s.start_soc >= 1.0 else min(s.energy_kwh, room_kwh))
    return np.array(caps, dtype=np.float64)


def _taper_rows(
    win: _Window,
    block: int,
    n_var: int,
    n_eq: int,
    ub: tuple[list[int], list[int], list[float], list[float]],
    eq: tuple[list[int], list[int], list[float]],
) -> tuple[int, int]:
    """Add a taper session's rows; returns the new variable and equality-row counts.

    The row of slot i is ``x[i] + present[i]·b·E[i] ≤ present[i]·a``. With ``block`` > 1
    the rows of each block of slots are summed into one (a sum of valid rows is valid),
    writing ``E[i]`` as ``E[block start] + kWh/A · Σ x[block start .. i−1]``; one
    auxiliary column per block start carries ``E`` along:
    ``E[next start] = E[start] + kWh/A · Σ x[start .. next start − 1]`` (``E[0] = 0``).
    """
    assert win.taper is not None
    ub_r, ub_c, ub_v, ub_b = ub
    eq_r, eq_c, eq_v = eq
    a, b, c = win.taper.a, win.taper.b, win.kwh_per_a
    energy_col: dict[int, int] = {}
    for start in range(block, win.taper_rows[-1] + 1, block):
        energy_col[start] = n_var
        eq_r.append(n_eq)
        eq_c.append(n_var)
        eq_v.append(1.0)
        for j in range(start - block, start):
            eq_r.append(n_eq)
            eq_c.append(win.first + j)
            eq_v.append(-c)
        if start > block:
            eq_r.append(n_eq)
            eq_c.append(energy_col[start - block])
            eq_v.append(-1.0)
        n_var += 1
        n_eq += 1
    groups: dict[int, list[int]] = {}
    for i in win.taper_rows:
        groups.setdefault(i - i % block, []).append(i)
    for start, members in groups.items():
        row = len(ub_b)
        coef: dict[int, float] = {}
        present = 0.0
        for i in members:
            p = float(win.present[i])
            present += p
            coef[i] = coef.get(i, 0.0) + 1.0
            for j in range(start, i):
                coef[j] = coef.get(j, 0.0) + p * b * c
        ub_b.append(present * a)
        for j, v in coef.items():
            ub_r.append(row)
            ub_c.append(win.first + j)
            ub_v.append(v)
        if start > 0:
            ub_r.append(row)
            ub_c.append(energy_col[start])
            ub_v.append(present * b)
    return n_var, n_eq


def _programme(scenario: Scenario, base_a: FloatArray, slot: int) -> _Programme | None:
    sc = scenario
    n_t = base_a.shape[0]
    n_k = math.ceil(n_t / slot)
    room = room_per_second(sc, base_a)
    padded = np.zeros((n_k * slot, 3))
    padded[:n_t] = room
    room_mean = padded.reshape(n_k, slot, 3).mean(axis=1)
    energy_cap = _energy_cap(sc)
    windows, n_x = _windows(sc, room, slot, energy_cap)
    if n_x == 0:
        return None
    n_s = len(sc.sessions)
    kwh_r: list[int] = []
    kwh_c: list[int] = []
    kwh_v: list[float] = []
    ub_r: list[int] = []
    ub_c: list[int] = []
    ub_v: list[float] = []
    ub_b: list[float] = list(room_mean.reshape(-1))
    eq_r: list[int] = []
    eq_c: list[int] = []
    eq_v: list[float] = []
    x_upper = np.zeros(n_x)
    n_var = n_x
    n_eq = 0
    n_taper = sum(len(w.taper_rows) for w in windows if w is not None)
    block = max(1, math.ceil(n_taper / TAPER_ROWS))
    for win in windows:
        if win is None:
            continue
        s = sc.sessions[win.index]
        factors = sc.factors(s)
        u = win.u
        for i, k in enumerate(range(win.k0, win.k1 + 1)):
            kwh_r.append(win.index)
            kwh_c.append(win.first + i)
            kwh_v.append(win.kwh_per_a)
            for line, f in factors.items():
                ub_r.append(3 * k + ALL_LINES.index(line))
                ub_c.append(win.first + i)
                ub_v.append(f)
        if win.taper is not None and win.taper_rows:
            n_var, n_eq = _taper_rows(
                win, block, n_var, n_eq, (ub_r, ub_c, ub_v, ub_b), (eq_r, eq_c, eq_v)
            )
        x_upper[win.first : win.first + len(u)] = u
    return _Programme(
        n_var=n_var,
        kwh=coo_matrix((kwh_v, (kwh_r, kwh_c)), shape=(n_s, n_var)).tocsr(),
        energy_cap=energy_cap,
        a_ub=coo_matrix((ub_v, (ub_r, ub_c)), shape=(len(ub_b), n_var)).tocsr(),
        b_ub=np.array(ub_b),
        a_eq=coo_matrix((eq_v, (eq_r, eq_c)), shape=(n_eq, n_var)).tocsr() if n_eq else None,
        b_eq=np.zeros(n_eq) if n_eq else None,
        upper=np.concatenate([x_upper, np.full(n_var - n_x, math.inf)]),
        has_columns=tuple(w is not None for w in windows),
        slot_s=slot,
    )


def _solve(
    objective: FloatArray,
    a_ub: Any,
    b_ub: FloatArray,
    a_eq: Any,
    b_eq: FloatArray | None,
    upper: FloatArray,
) -> Any:
    # The interior point method (with crossover to a basic solution, so duals are exact)
    # is several times faster than the simplex on these long, thin programmes.
    solved = linprog(
        objective,
        A_ub=a_ub,
        b_ub=b_ub,
        A_eq=a_eq,
        b_eq=b_eq,
        bounds=np.column_stack([np.zeros(len(upper)), upper]),
        method="highs-ipm",
    )
    if solved.status != 0:
        raise RuntimeError(f"the upper-bound LP did not solve: {solved.message}")
    return solved


def energy_upper_bound_kwh(
    scenario: Scenario, base_a: FloatArray, slot_s: int | None = None
) -> float:
    """The LP optimum in kWh (0.0 when no session can charge)."""
    lp = _programme(scenario, base_a, slot_s or default_slot_s(scenario.duration_s))
    if lp is None:
        return 0.0
    solved = _solve(
        -np.asarray(lp.kwh.sum(axis=0)).ravel(),
        vstack([lp.kwh, lp.a_ub]).tocsr(),
        np.concatenate([lp.energy_cap, lp.b_ub]),
        lp.a_eq,
        lp.b_eq,
        lp.upper,
    )
    return float(-solved.fun)


@dataclass(frozen=True, slots=True)
class FairPlan:
    """The max-min fair plan: every session's share of its request as high as it can be.

    Progressive filling: raise one common share t for every session not yet
    fixed, as far as the constraints allow; the sessions that cannot go higher
    (their share row has a positive dual in the optimum, so by complementary
    slackness every optimal plan holds them at t) are fixed at t; repeat with
    the rest. Each round fixes at least one session.
    """

    shares: tuple[float, ...]
    """Delivered/requested (≤ 1) per session with a request > 0, in scenario order."""
    delivered_kwh: tuple[float, ...]
    """Per session, in scenario order."""
    energy_kwh: float
    rounds: int
    slot_s: int


def fair_plan(
    scenario: Scenario,
    base_a: FloatArray,
    slot_s: int | None = None,
    *,
    request_blind: bool = False,
) -> FairPlan:
    """The max-min fair plan under the bound's constraints, in ``fair_slot_s`` slots.

    ``request_blind``: max-min fair on the energy delivered instead of its share of the
    request (a car still takes no more than it asked for): what a planner that knows
    every window but not what the cars want would aim for, as a controller that is not
    told the requests (OCPP 1.6 cars) shares by the energy they drew.

    One LP the size of the bound's per round, and there are as many rounds as
    distinct share levels (3 for the 50-charger day, 0.2 s in all; 18 when every
    car of that day tapers, about 5 s). On runs over 2 h the slots are 5 minutes
    instead of the bound's 1 (the shares move in the fourth decimal); coarser
    slots relax the LP, so the plan's energy may then exceed the bound by a hair.
    """
    sc = scenario
    slot = slot_s or fair_slot_s(sc.duration_s)
    requested = np.array([s.energy_kwh for s in sc.sessions], dtype=np.float64)
    wanted = [k for k in range(len(sc.sessions)) if requested[k] > 0.0]
    # What each session's share t counts against: its request, or (blind) one common
    # amount, the largest request, so that t ≤ 1 still holds.
    counted = np.full_like(requested, requested.max(initial=1.0)) if request_blind else requested
    share: dict[int, float] = {}
    lp = _programme(sc, base_a, slot)
    rounds = 0
    if lp is None:
        share = dict.fromkeys(wanted, 0.0)
    else:
        for k in wanted:
            if not lp.has_columns[k]:
                share[k] = 0.0
        # Variables: [x, e, t]; rows: the bound's, then one share row per wanted session.
        base_ub = vstack([lp.kwh, lp.a_ub]).tocsr()
        base_b = np.concatenate([lp.energy_cap, lp.b_ub])
        t_column = csr_matrix((base_ub.shape[0], 1))
        a_eq = None if lp.a_eq is None else hstack([lp.a_eq, csr_matrix((lp.a_eq.shape[0], 1))])
        upper = np.append(lp.upper, 1.0)
        objective = np.zeros(lp.n_var + 1)
        objective[-1] = -1.0
        while len(share) < len(wanted):
            rounds += 1
            active = [k for k in wanted if k not in share]
            rows = [-lp.kwh[k] for k in wanted]
            t_values = [counted[k] if k not in share else 0.0 for k in wanted]
            share_b = [
                0.0 if k not in share else -share[k] * counted[k] * (1.0 - 1e-7) for k in wanted
            ]
            a_ub = vstack(
                [
                    hstack([base_ub, t_column]),
                    hstack([vstack(rows), csr_matrix(np.array(t_values).reshape(-1, 1))]),
                ]
            ).tocsr()
            solved = _solve(
                objective,
                a_ub,
                np.concatenate([base_b, share_b]),
                a_eq,
                lp.b_eq,
                upper,
            )
            t = min(1.0, max(0.0, float(solved.x[-1])))
            if t >= 1.0 - 1e-9:
                share.update(dict.fromkeys(active, 1.0))
                break
            duals = np.abs(np.asarray(solved.ineqlin.marginals)[base_ub.shape[0] :])
            held = [
                k
                for k, y in zip(wanted, duals, strict=True)
                if k not in share and y * counted[k] > _FREEZE_DUAL
            ]
            if not held:  # numerically flat duals: fix the sessions the optimum left at t
                delivered = lp.kwh @ solved.x[:-1]
                held = [k for k in active if delivered[k] <= t * counted[k] * (1 + 1e-6) + 1e-9]
            share.update(dict.fromkeys(held or active, t))
    delivered_kwh = tuple(
        min(float(requested[k]), share.get(k, 0.0) * float(counted[k]))
        for k in range(len(sc.sessions))
    )
    shares = tuple(min(1.0, delivered_kwh[k] / float(requested[k])) for k in wanted)
    return FairPlan(
        shares=shares,
        delivered_kwh=delivered_kwh,
        energy_kwh=float(sum(delivered_kwh)),
        rounds=rounds,
        slot_s=slot,
    )


@dataclass(frozen=True, slots=True)
class JainBound:
    """The most energy of any plan whose Jain index (on delivered/requested) is at least a target.

    ``energy_kwh`` is an upper bound in every case (each round solves a relaxation);
    ``converged`` says the last round's plan itself keeps the target (within 1e-4), so
    the bound is also reached by that plan.
    """

    energy_kwh: float
    jain: float
    cuts: int
    converged: bool


def energy_bound_at_jain(
    scenario: Scenario,
    base_a: FloatArray,
    jain_min: float,
    slot_s: int | None = None,
    max_cuts: int = 400,
) -> JainBound:
    """The most energy an omniscient planner can deliver with Jain ≥ ``jain_min``.

    Jain's index J(s) = (Σs)² / (n·Σs²) of the shares s (delivered/requested, each
    ≤ 1 since delivered ≤ request in the bound's programme) is at least J exactly
    when √n·‖s‖₂ ≤ Σs/√J: a second-order cone, convex in the plan. It is met by
    cutting planes (Kelley): solve the bound's LP; while its plan's shares s* break
    the cone, add the cut √n·(u·s) ≤ Σs/√J with u = s*/‖s*‖, valid for every plan
    in the cone (u·s ≤ ‖s‖). Every round's optimum is a relaxation of the cone
    problem, so it bounds it from above, converged or not.
    """
    sc = scenario
    lp = _programme(sc, base_a, slot_s or default_slot_s(sc.duration_s))
    requested = np.array([s.energy_kwh for s in sc.sessions], dtype=np.float64)
    wanted = [k for k in range(len(sc.sessions)) if requested[k] > 0.0]
    if lp is None or not wanted:
        return JainBound(energy_kwh=0.0, jain=1.0, cuts=0, converged=True)
    shares_of = csr_matrix(lp.kwh[wanted].multiply(1.0 / requested[wanted][:, None]))
    n = len(wanted)
    objective = -np.asarray(lp.kwh.sum(axis=0)).ravel()
    rows = [lp.kwh, lp.a_ub]
    bounds = [lp.energy_cap, lp.b_ub]
    cuts: list[Any] = []
    for round_ in range(max_cuts + 1):
        solved = _solve(
            objective,
            vstack([*rows, *cuts]).tocsr(),
            np.concatenate([*bounds, np.zeros(len(cuts))]),
            lp.a_eq,
            lp.b_eq,
            lp.upper,
        )
        s = shares_of @ solved.x
        norm = float(np.linalg.norm(s))
        reached = 1.0 if norm <= 0.0 else float(s.sum() ** 2 / (n * norm * norm))
        if reached >= jain_min - 1e-4 or round_ == max_cuts:
            return JainBound(
                energy_kwh=float(-solved.fun),
                jain=reached,
                cuts=round_,
                converged=reached >= jain_min - 1e-4,
            )
        weights = math.sqrt(n) * s / norm - 1.0 / math.sqrt(jain_min)
        cuts.append(csr_matrix(weights @ shares_of))
    raise AssertionError("unreachable")  # pragma: no cover
