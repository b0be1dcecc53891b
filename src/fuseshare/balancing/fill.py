"""Sharing arithmetic: which sessions fit at their minimum, and weighted water-filling.

Lines are indexed 0, 1, 2 (L1, L2, L3) and every session has a factor per line
(amperes on that line per ampere offered, see :func:`topology.line_factors`).

Water-filling with floors and caps: one level ``lam`` rises; session i gets
``clamp(w_i * lam, lo_i, hi_i)``. When a line's load reaches its room, every
session on that line is frozen at its present value, bound by that line; the
others keep rising. A line saturates at most once, so there are at most three
freezes; the breakpoints ``lo/w`` and ``hi/w`` are swept once in sorted order,
so the cost is O(n log n) for the sort plus O(n) for the sweep.

Invariant (given ``sum_i f_ip * lo_i <= room_p`` for every line p, which
:func:`select_fitting` guarantees): ``sum_i f_ip * x_i <= room_p`` and
``lo_i <= x_i <= hi_i``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

Factors = tuple[float, float, float]
INF = float("inf")
_EPS = 1e-9


class FillItem(NamedTuple):
    weight: float
    lo_a: float
    hi_a: float
    factors: Factors


def fits(factors: Factors, current_a: float, remaining: Sequence[float]) -> bool:
    """Whether ``current_a`` at ``factors`` fits into ``remaining`` per line.

    A line the item does not load never stops it, even when that line is already
    over its limit (the rest of the building alone can overload a line).
    """
    f0, f1, f2 = factors
    return (
        (not f0 or f0 * current_a <= remaining[0] + _EPS)
        and (not f1 or f1 * current_a <= remaining[1] + _EPS)
        and (not f2 or f2 * current_a <= remaining[2] + _EPS)
    )


def blocking_line(factors: Factors, current_a: float, remaining: Sequence[float]) -> int:
    """The first line on which ``current_a`` does not fit (-1 when it fits)."""
    for p in range(3):
        if factors[p] and factors[p] * current_a > remaining[p] + _EPS:
            return p
    return -1


def select_fitting(
    candidates: Sequence[FillItem], room: Sequence[float]
) -> tuple[list[bool], list[float]]:
    """Greedily admit candidates, in the given order, whose minimum still fits.

    Returns which were admitted and the room left per line. A candidate that
    does not fit is skipped and later ones may still fit (on another line), so
    the order is the priority.
    """
    r0, r1, r2 = room[0] + _EPS, room[1] + _EPS, room[2] + _EPS
    admitted: list[bool] = []
    append = admitted.append
    for item in candidates:
        lo = item.lo_a
        f0, f1, f2 = item.factors
        a0, a1, a2 = f0 * lo, f1 * lo, f2 * lo
        # A line the candidate does not load never stops it (it may be over already).
        if (a0 <= r0 or not f0) and (a1 <= r1 or not f1) and (a2 <= r2 or not f2):
            r0 -= a0
            r1 -= a1
            r2 -= a2
            append(True)
        else:
            append(False)
    return admitted, [r0 - _EPS, r1 - _EPS, r2 - _EPS]


def water_fill(items: Sequence[FillItem], room: Sequence[float]) -> tuple[list[float], list[int]]:
    """Weighted max-min fair currents with floors and caps under per-line room.

    Returns (current per item, binding line per item or -1 when its cap bound it).
    """
    n = len(items)
    x = [0.0] * n
    bound = [-1] * n
    if n == 0:
        return x, bound
    const = [0.0, 0.0, 0.0]
    slope = [0.0, 0.0, 0.0]
    status = [0] * n  # 0: at floor, 1: rising with lam, 2: at cap
    frozen = [False] * n
    on_line: list[list[int]] = [[], [], []]
    events: list[tuple[float, int, int]] = []
    # (line, factor) pairs of each item's loaded lines, to skip the zero factors.
    loaded: list[list[tuple[int, float]]] = []
    pairs_of: dict[Factors, list[tuple[int, float]]] = {}
    add_event = events.append
    for i, (w, lo, hi, fac) in enumerate(items):
        add_event((lo / w, 0, i))
        add_event((hi / w, 1, i))
        pairs = pairs_of.get(fac)
        if pairs is None:
            pairs = pairs_of[fac] = [(p, f) for p, f in enumerate(fac) if f]
        loaded.append(pairs)
        for p, f in pairs:
            const[p] += f * lo
            on_line[p].append(i)
    events.sort()
    done = [False, False, False]
    lam = 0.0
    k = 0
    n_events = len(events)
    while True:
        while k < n_events and frozen[events[k][2]]:
            k += 1
        next_lam = events[k][0] if k < n_events else INF
        best = INF
        best_p = -1
        for p in range(3):
            if done[p] or not on_line[p]:
                continue
            s = slope[p]
            c = const[p]
            r = room[p]
            load_next = c + s * next_lam if s > 0.0 else c
            if load_next > r + _EPS:
                cross = max(lam, (r - c) / s) if s > 0.0 else lam
                if cross < best:
                    best = cross
                    best_p = p
        if best_p >= 0:
            lam = best
            done[best_p] = True
            for i in on_line[best_p]:
                if frozen[i]:
                    continue
                frozen[i] = True
                w, lo, hi, fac = items[i]
                st = status[i]
                if st == 0:
                    x[i] = lo
                    bound[i] = best_p
                elif st == 2:
                    x[i] = hi
                else:
                    v = w * lam
                    v = lo if v < lo else hi if v > hi else v
                    x[i] = v
                    bound[i] = best_p if v < hi else -1
                    for q, f in loaded[i]:
                        slope[q] -= f * w
                        const[q] += f * v
            continue
        if k >= n_events:
            break
        ev_lam, kind, i = events[k]
        k += 1
        lam = ev_lam if ev_lam > lam else lam
        w, lo, hi, _ = items[i]
        if kind == 0:
            status[i] = 1
            for q, f in loaded[i]:
                const[q] -= f * lo
                slope[q] += f * w
        else:
            status[i] = 2
            for q, f in loaded[i]:
                slope[q] -= f * w
                const[q] += f * hi
    for i in range(n):
        if not frozen[i]:
            x[i] = items[i].hi_a
            bound[i] = -1
    return x, bound
