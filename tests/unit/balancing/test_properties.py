"""Invariants over random grids, rotations, readings, sessions and faults (hypothesis).

The limits are recomputed here from DOMAIN.md's formula, independently of the
algorithm, and every cycle of a random sequence is checked against them:

- no grid line over its limit, counting the reserved failsafe currents;
- every session's current is 0 or at least the group min (never below 6 A);
- never above the charger's max or the membership's limit, nor above the car's
  max unless that is below the min (the min is then offered);
- chargers that lost their link get 0 and have their failsafe reserved;
- (v2) a running session is raised only after the pacing interval and by at
  least the deadband;
- the same input gives the same output, and the input state is not mutated.

FUSESHARE_HYPOTHESIS_EXAMPLES raises the example count for a deeper run.
"""

from __future__ import annotations

import os
from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuseshare.balancing import (
    AlgorithmState,
    Allocation,
    ChargerInput,
    Grid,
    GroupConfig,
    Line,
    MeterInput,
    PerLine,
    Snapshot,
    Tunables,
    assumed_car_phases,
    car_current_a,
    get_algorithm,
    heaviest_line_factors,
    line_factors,
)
from fuseshare.balancing.fill import FillItem, water_fill

EXAMPLES = int(os.environ.get("FUSESHARE_HYPOTHESIS_EXAMPLES", "150"))
PROFILE = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TOL = 1e-6

WIRINGS: dict[Grid, list[tuple[Line, ...]]] = {
    Grid.TN_400_3P: [
        ("L1", "L2", "L3"),
        ("L2", "L3", "L1"),
        ("L3", "L1", "L2"),
        ("L1",),
        ("L2",),
        ("L3",),
        ("L1", "L2"),
    ],
    Grid.IT_230_3P: [
        ("L1", "L2", "L3"),
        ("L2", "L3", "L1"),
        ("L3", "L1", "L2"),
        ("L1", "L2"),
        ("L2", "L3"),
        ("L3", "L1"),
    ],
    Grid.TN_230_1P: [("L1",)],
}

currents = st.floats(0.0, 80.0, allow_nan=False)


@st.composite
def group_configs(draw: st.DrawFn) -> GroupConfig:
    fuse = draw(st.sampled_from([16.0, 20.0, 25.0, 35.0, 50.0, 63.0, 100.0, 160.0]))
    return GroupConfig(
        grid=draw(st.sampled_from(list(Grid))),
        max_supply_current_a=fuse,
        max_current_online_a=draw(st.floats(6.0, 200.0)),
        max_current_offline_a=draw(st.floats(0.0, 100.0)),
        min_current_a=draw(st.sampled_from([0.0, 6.0, 8.0, 10.0, 13.0, 16.0])),
        outlet_active=draw(st.booleans()),
        has_meter=draw(st.booleans()),
        margin_a=draw(st.sampled_from([0.0, 0.5, 1.0, 3.0])),
    )


@st.composite
def charger_inputs(draw: st.DrawFn, grid: Grid, cid: str, now_s: float) -> ChargerInput:
    wiring = draw(st.sampled_from(WIRINGS[grid]))
    opt_current = st.none() | st.floats(0.0, 40.0)
    return ChargerInput(
        charger_id=cid,
        wiring=wiring,
        max_current_a=draw(st.sampled_from([6.0, 10.0, 16.0, 32.0, 63.0])),
        failsafe_current_a=draw(st.sampled_from([0.0, 6.0, 8.0, 16.0])),
        weight=draw(st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.0])),
        online=draw(st.integers(0, 6)) > 0,
        last_seen_s=now_s - draw(st.floats(0.0, 600.0)),
        session_id=draw(st.none() | st.sampled_from(["s1", "s2"])),
        wants_energy=draw(st.integers(0, 5)) > 0,
        measured_a=draw(st.none() | st.tuples(*[currents] * len(wiring))),
        car_phases=draw(st.none() | st.integers(1, 3)),
        car_max_current_a=draw(opt_current),
        energy_wanted_kwh=draw(
            st.none() | st.sampled_from([0.0, 0.05, 10.0, 80.0]) | st.floats(-5.0, 200.0)
        ),
        departure_s=draw(st.none() | st.floats(now_s - 2000.0, now_s + 86400.0)),
        membership_max_current_a=draw(opt_current),
        setpoint_a=draw(st.sampled_from([0.0, 6.0, 8.0, 16.0, 32.0]) | st.floats(0.0, 40.0)),
        setpoint_since_s=now_s - draw(st.floats(0.0, 1000.0)),
        follow_low_a=draw(opt_current),
        sample_settled_limit_a=draw(opt_current),
        sample_follow_low_a=draw(opt_current),
        drawn_low_a=draw(opt_current),
    )


@st.composite
def sequences(draw: st.DrawFn) -> tuple[int, list[Snapshot]]:
    """A version and 1-5 snapshots of one group at increasing times."""
    version = draw(st.sampled_from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]))
    cfg = draw(group_configs())
    n = draw(st.integers(1, 8))
    now = draw(st.floats(0.0, 1e5))
    snaps = []
    for _ in range(draw(st.integers(1, 5))):
        now += draw(st.sampled_from([0.0, 1.0, 5.0, 30.0, 300.0, 1000.0]))
        chargers = tuple(draw(charger_inputs(cfg.grid, f"C{i}", now)) for i in range(n))
        meter = draw(
            st.none()
            | st.builds(
                MeterInput,
                st.builds(PerLine, currents, currents, currents),
                st.floats(now - 60.0, now),
            )
        )
        snaps.append(Snapshot(cfg, chargers, now, meter))
    return version, snaps


def tunables(snap: Snapshot, version: int) -> Tunables:
    return get_algorithm("standard", version).tunables(snap.config)


def estimated_draw(
    snap: Snapshot, ch: ChargerInput, line: Line, state: AlgorithmState, version: int
) -> float | None:
    """Version 3's draw of a session on ``line``, re-derived from its docstring: the
    lowest limit the car may follow on its planned phases, or a car that takes less
    than it was offered (settled sample well below) at its sample, capped by that.
    From version 9 that lowest limit is raised to what a sample taken under the present
    limit shows (``drawn_low_a``); from version 10 a sample well below the lowest limit
    the car may have been following when it was taken (``sample_follow_low_a``) also
    shows a car that takes less, not only one below a settled limit."""
    low = ch.follow_low_a
    if low is None:
        return None
    if version >= 9 and ch.drawn_low_a is not None:
        low = max(low, ch.drawn_low_a)
    cfg = snap.config
    kept = state.sessions.get(ch.charger_id)
    phases = ch.car_phases or (kept.car_phases if kept is not None else None)
    factors = (
        heaviest_line_factors(cfg.grid, ch.wiring)  # unknown: the heaviest car
        if phases is None
        else line_factors(cfg.grid, ch.wiring, assumed_car_phases(cfg.grid, ch.wiring, phases))
    )
    settled = ch.sample_settled_limit_a
    if version >= 10 and ch.sample_follow_low_a is not None:
        settled = ch.sample_follow_low_a
    tolerance = tunables(snap, 3).unused_threshold_a
    drawn = car_current_a(cfg.grid, ch.wiring, ch.measured_a) if ch.measured_a else 0.0
    if ch.measured_a and settled is not None and drawn < settled - tolerance:
        return sum(
            max(0.0, min(ch.measured_a[j], low * factors.get(w, 0.0)))
            for j, w in enumerate(ch.wiring)
            if w == line
        )
    return low * factors.get(line, 0.0)


def expected_limits(
    snap: Snapshot, version: int, state: AlgorithmState | None = None
) -> dict[Line, float]:
    """DOMAIN.md's constraint, computed without the algorithm's code."""
    cfg = snap.config
    m = snap.meter
    fresh = (
        version >= 2
        and cfg.has_meter
        and m is not None
        and snap.now_s - m.read_at_s <= tunables(snap, version).meter_max_age_s
    )
    out: dict[Line, float] = {}
    for k, line in enumerate(cfg.grid.lines):
        if fresh and m is not None:
            chargers_on_line = 0.0
            if cfg.outlet_active:
                for ch in snap.chargers:
                    member_max = ch.membership_max_current_a
                    hard_max = min(ch.max_current_a, 1e9 if member_max is None else member_max)
                    allocated = ch.session_id is not None and hard_max >= max(
                        6.0, cfg.min_current_a
                    )
                    estimate = (
                        estimated_draw(snap, ch, line, state, version)
                        if version >= 3 and state is not None and ch.online and allocated
                        else None
                    )
                    if estimate is not None:
                        chargers_on_line += estimate
                    elif ch.online and allocated and ch.measured_a:
                        for j, w in enumerate(ch.wiring):
                            if w == line:
                                chargers_on_line += max(0.0, ch.measured_a[j])
            reading = max(0.0, m.currents_a[k])
            other = max(0.0, reading - chargers_on_line) if cfg.outlet_active else reading
            out[line] = min(cfg.max_supply_current_a, other + cfg.max_current_online_a) - other
            out[line] -= cfg.margin_a
        else:
            out[line] = min(
                cfg.max_current_offline_a, cfg.max_supply_current_a, cfg.max_current_online_a
            )
    return out


def check(snap: Snapshot, version: int, allocation: Allocation, state: AlgorithmState) -> None:
    cfg = snap.config
    lo = max(6.0, cfg.min_current_a)
    limits = expected_limits(snap, version, state)
    knobs = tunables(snap, version)
    by_id = allocation.by_id()
    assert [c.charger_id for c in allocation.chargers] == [c.charger_id for c in snap.chargers]
    load = dict.fromkeys(cfg.grid.lines, 0.0)
    for ch in snap.chargers:
        a = by_id[ch.charger_id]
        x = a.current_a
        if not ch.online:
            assert x == 0.0
            lifetime = knobs.setpoint_lifetime_s
            recent = ch.last_seen_s is None or snap.now_s - ch.last_seen_s < lifetime
            reserve = max(ch.failsafe_current_a, ch.setpoint_a if recent else 0.0)
            assert a.reserved_a == reserve
            for line, f in heaviest_line_factors(cfg.grid, ch.wiring).items():
                load[line] += f * reserve
            continue
        if ch.session_id is None:
            assert x == 0.0
            continue
        assert x == 0.0 or x >= lo - TOL, (x, lo)
        if version >= 2 and x > ch.setpoint_a + TOL and ch.setpoint_a >= lo:
            # A raise of a running session: paced and above the deadband.
            since = ch.setpoint_since_s
            assert since is None or snap.now_s - since >= knobs.increase_interval_s
            # (v4) a raise below the deadband only once the setpoint has stood long.
            stood = since is not None and snap.now_s - since >= knobs.small_increase_after_s
            assert x - ch.setpoint_a >= (knobs.resolution_a if stood else knobs.deadband_a) - TOL
        assert x <= ch.max_current_a + TOL
        if ch.membership_max_current_a is not None:
            assert x <= max(ch.membership_max_current_a, 0.0) + TOL or x == 0.0
        if ch.car_max_current_a is not None:
            assert x <= max(ch.car_max_current_a, lo) + TOL
        # The load the charger is counted with is one of its car's possible loads, and
        # the heaviest car's (every wired phase; on IT a car on two windings, twice on
        # the middle line) unless the phases are known or were learned.
        phases_known = ch.car_phases is not None or (
            version >= 2 and state.sessions.get(ch.charger_id, None) is not None
        )
        candidates = [heaviest_line_factors(cfg.grid, ch.wiring)] + [
            line_factors(cfg.grid, ch.wiring, assumed_car_phases(cfg.grid, ch.wiring, p))
            for p in ((1, 2, 3) if phases_known else ())
        ]
        if ch.car_phases is not None:
            candidates = [
                line_factors(
                    cfg.grid, ch.wiring, assumed_car_phases(cfg.grid, ch.wiring, ch.car_phases)
                )
            ]
        counted = a.line_load_a
        assert any(
            all(abs(counted.of(line) - f.get(line, 0.0) * x) <= TOL for line in ("L1", "L2", "L3"))
            for f in candidates
        ), (counted, x, candidates)
        for line in cfg.grid.lines:
            load[line] += counted.of(line)
    for line, limit in limits.items():
        # When even the reservations exceed the limit, nobody may charge there.
        assert load[line] <= max(limit, _reserved(snap, line)) + TOL, (line, load[line], limit)
    for b in allocation.lines:
        assert abs(b.limit_a - limits[b.line]) <= TOL


def _reserved(snap: Snapshot, line: Line) -> float:
    total = 0.0
    for ch in snap.chargers:
        if not ch.online:
            c = next(a for a in snap.chargers if a.charger_id == ch.charger_id)
            lifetime = tunables(snap, 2).setpoint_lifetime_s
            recent = c.last_seen_s is None or snap.now_s - c.last_seen_s < lifetime
            reserve = max(c.failsafe_current_a, c.setpoint_a if recent else 0.0)
            total += heaviest_line_factors(snap.config.grid, c.wiring).get(line, 0.0) * reserve
    return total


@PROFILE
@given(sequences())
def test_invariants_hold_every_cycle(case: tuple[int, list[Snapshot]]) -> None:
    version, snaps = case
    algo = get_algorithm("standard", version)
    state = algo.initial_state()
    for snap in snaps:
        before = state.to_json()
        allocation, new_state = algo.allocate(snap, state)
        check(snap, version, allocation, new_state)
        assert state.to_json() == before, "allocate mutated its input state"
        again = algo.allocate(snap, state)
        assert again.allocation == allocation
        assert again.state == new_state
        state = new_state


@PROFILE
@given(sequences(), st.integers(0, 4))
def test_invariants_hold_after_a_restart_that_carries_the_memory_over(
    case: tuple[int, list[Snapshot]], restart_at: int
) -> None:
    """A restarted loop starts from the stored memory (through JSON, times dropped)."""
    version, snaps = case
    algo = get_algorithm("standard", version)
    state = algo.initial_state()
    for k, snap in enumerate(snaps):
        if k == restart_at:
            state = AlgorithmState.from_json(state.carried_over().to_json())
            assert state.now_s is None and all(
                s.switched_s is None for s in state.sessions.values()
            )
        allocation, state = algo.allocate(snap, state)
        check(snap, version, allocation, state)


@PROFILE
@given(sequences())
def test_stale_meter_never_gives_more_than_the_offline_budget(
    case: tuple[int, list[Snapshot]],
) -> None:
    _, snaps = case
    algo = get_algorithm("standard", 2)
    for snap in snaps:
        stale = replace(snap, meter=None)
        allocation = algo.allocate(stale, algo.initial_state()).allocation
        assert not allocation.meter_online
        budget = min(
            snap.config.max_current_offline_a,
            snap.config.max_supply_current_a,
            snap.config.max_current_online_a,
        )
        for b in allocation.lines:
            assert b.used_a + b.reserved_a <= max(budget, b.reserved_a) + TOL


@st.composite
def fill_problems(draw: st.DrawFn) -> tuple[list[FillItem], list[float]]:
    n = draw(st.integers(0, 12))
    items = []
    for _ in range(n):
        lo = draw(st.floats(6.0, 16.0))
        hi = lo + draw(st.floats(0.0, 30.0))
        fac = draw(
            st.sampled_from(
                [
                    (1.0, 0.0, 0.0),
                    (0.0, 1.0, 1.0),
                    (1.0, 1.0, 1.0),
                    (1.0, 2.0, 1.0),
                    (0.0, 0.0, 1.0),
                ]
            )
        )
        items.append(FillItem(draw(st.floats(0.1, 4.0)), lo, hi, fac))
    floor = [sum(it.factors[p] * it.lo_a for it in items) for p in range(3)]
    room = [floor[p] + draw(st.floats(0.0, 100.0)) for p in range(3)]
    return items, room


@PROFILE
@given(fill_problems())
def test_water_fill_is_feasible_and_pareto_optimal(
    problem: tuple[list[FillItem], list[float]],
) -> None:
    items, room = problem
    x, bound = water_fill(items, room)
    load = [sum(it.factors[p] * v for it, v in zip(items, x, strict=True)) for p in range(3)]
    for p in range(3):
        assert load[p] <= room[p] + TOL
    for it, v, b in zip(items, x, bound, strict=True):
        assert it.lo_a - TOL <= v <= it.hi_a + TOL
        if v < it.hi_a - TOL:
            # Not at its cap: it must sit on a full line (nobody can get more for free).
            assert b >= 0 and it.factors[b] > 0 and load[b] >= room[b] - 1e-6
    # Weighted max-min fairness on each full line: whoever is above its floor has
    # no more current per weight than whoever is bound by that line.
    for i, (it, v, b) in enumerate(zip(items, x, bound, strict=True)):
        if b < 0 or v <= it.lo_a + TOL:
            continue
        for j, (jt, u) in enumerate(zip(items, x, strict=True)):
            if i != j and jt.factors[b] > 0 and u > jt.lo_a + TOL:
                assert u / jt.weight <= v / it.weight + 1e-6
