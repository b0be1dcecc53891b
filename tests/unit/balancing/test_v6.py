"""Version 6: a plan over the time until the cars leave weighs and orders the sessions.
Every case is worked out by hand in its docstring; without needs, version 6 is version 4
(test_v5) and the safety invariants hold for it (test_properties)."""

from __future__ import annotations

import math
from dataclasses import replace

from fuseshare.balancing import (
    AlgorithmState,
    ChargerInput,
    Grid,
    ReasonCode,
    SessionState,
)
from fuseshare.balancing.planning import MAX_PLANNED_SESSIONS, PlanSession, plan_currents

from .support import charger, config, run

TN3 = Grid.TN_400_3P
KWH = 3.6e6 / 230.0  # winding ampere-seconds per kWh
ONE_HOUR = 3600.0


def _soon() -> ChargerInput:
    """A one-phase car on L1 that wants 10 kWh and leaves in an hour: at 32 A it gets
    32 x 230 V x 1 h = 7.4 kWh, so it needs L1 all the time it is there."""
    return charger("A", "L1", car_phases=1, energy_wanted_kwh=10.0, departure_s=ONE_HOUR)


def _late() -> ChargerInput:
    """A three-phase car that wants 30 kWh and stays 8 h: it has time after A left."""
    return charger("B", car_phases=3, energy_wanted_kwh=30.0, departure_s=8 * ONE_HOUR)


def _by_id(*chargers_: ChargerInput, room: float, version: int = 6, **kw: object) -> dict:
    allocation, _ = run(
        config(TN3, offline=room, meter=False), list(chargers_), version=version, **kw
    )
    return {a.charger_id: a for a in allocation.chargers}


def test_the_car_that_leaves_soon_has_the_line_while_the_other_waits() -> None:
    """32 A per line. The plan gives A all of L1 for its hour and B nothing now (every
    ampere of B's is one of L1 that A cannot have back later); B waits, "planned later".
    Version 5 admits both at the minimum and weighs them by need (A 43.5 A, B 5.4 A):
    A gets 26 A, B 6 A, and L1's room after A left is all B would have had anyway."""
    got = _by_id(_soon(), _late(), room=32.0)
    assert got["A"].current_a == 32.0
    assert got["B"].current_a == 0.0
    assert got["B"].reason.code is ReasonCode.PAUSED_PLAN
    five = _by_id(_soon(), _late(), room=32.0, version=5)
    assert (five["A"].current_a, five["B"].current_a) == (26.0, 6.0)


def test_room_beside_the_plan_is_used() -> None:
    """40 A per line: A takes its 32 A, the 8 A left on L1 are B's now (sooner is worth
    more than later in the plan), so B runs at 8 A."""
    got = _by_id(_soon(), _late(), room=40.0)
    assert (got["A"].current_a, got["B"].current_a) == (32.0, 8.0)


def test_a_session_inside_its_minimum_on_time_is_not_stopped_for_the_plan() -> None:
    """B was started 100 s ago (minimum on time 900 s) and runs at 6 A: it keeps its
    6 A although the plan has it later, and A gets the other 26 A."""
    b = replace(_late(), setpoint_a=6.0)
    state = AlgorithmState(now_s=-1.0, sessions={"B": SessionState("s-B", True, -100.0)})
    got = _by_id(_soon(), b, room=32.0, state=state)
    assert (got["A"].current_a, got["B"].current_a) == (26.0, 6.0)


def test_the_plan_is_made_once_a_minute_and_again_when_sessions_change() -> None:
    cfg = config(TN3, offline=32.0, meter=False)
    _, s0 = run(cfg, [_soon(), _late()], version=6)
    assert s0.planned_s == 0.0 and set(s0.plan) == {"s-A", "s-B"}
    _, s1 = run(cfg, [_soon(), _late()], version=6, now_s=30.0, state=s0)
    assert s1.planned_s == 0.0
    _, s2 = run(cfg, [_soon(), _late()], version=6, now_s=61.0, state=s1)
    assert s2.planned_s == 61.0
    c = charger("C", "L2", car_phases=1)
    _, s3 = run(cfg, [_soon(), _late(), c], version=6, now_s=70.0, state=s2)
    assert s3.planned_s == 70.0 and set(s3.plan) == {"s-A", "s-B", "s-C"}


def test_no_plan_when_everyone_fits_at_their_max() -> None:
    """64 A per line holds A's 32 A and B's 32 A: nothing to plan, both at their max."""
    allocation, state = run(
        config(TN3, fuse=100.0, offline=64.0, meter=False), [_soon(), _late()], version=6
    )
    assert [a.current_a for a in allocation.chargers] == [32.0, 32.0]
    assert state.planned_s is None and not state.plan


def test_the_plan_is_not_carried_over_a_restart_but_written_with_the_state() -> None:
    _, state = run(config(TN3, offline=32.0, meter=False), [_soon(), _late()], version=6)
    again = AlgorithmState.from_json(state.to_json())
    assert again.plan == state.plan and again.planned_s == state.planned_s
    assert state.carried_over().planned_s is None


def test_plan_evens_the_fractions_out() -> None:
    """One line of 16 A for two hours (16 x 230 V x 2 h = 7.4 kWh). A has had 8 of its
    10 kWh, B nothing of its 10: B at 16 A would end at 0.74 of its want, still below
    A's 0.8, so all of the line is B's."""
    a = PlanSession("A", (1.0, 0.0, 0.0), 16.0, 1.0, 8 * KWH, 10 * KWH, 2 * ONE_HOUR)
    b = PlanSession("B", (1.0, 0.0, 0.0), 16.0, 1.0, 0.0, 10 * KWH, 2 * ONE_HOUR)
    plan = plan_currents([a, b], [16.0, math.inf, math.inf])
    assert plan["B"] == 16.0
    assert plan["A"] < 1e-6


def test_plan_never_exceeds_a_line_or_a_session_and_copes_with_no_room() -> None:
    sessions = [
        PlanSession(
            f"S{k}",
            [(1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (1.0, 1.0, 1.0)][k % 3],
            16.0,
            [1.0, 1.0, 3.0][k % 3],
            k * 1e4,
            None if k == 4 else (5 + k) * KWH,
            None if k == 5 else ONE_HOUR * (1 + k),
        )
        for k in range(9)
    ]
    plan = plan_currents(sessions, [20.0, 30.0, 25.0])
    assert set(plan) == {s.key for s in sessions}
    for p, room in enumerate([20.0, 30.0, 25.0]):
        assert sum(s.factors[p] * plan[s.key] for s in sessions) <= room + 1e-6
    assert all(0.0 <= plan[s.key] <= s.max_a + 1e-9 for s in sessions)
    assert all(v == 0.0 for v in plan_currents(sessions, [0.0, -5.0, 0.0]).values())
    # A room that is not a number is no room; minus infinity none either.
    odd = plan_currents(sessions, [math.nan, math.inf, -math.inf])
    assert all(odd[s.key] == 0.0 for s in sessions if s.factors[0] or s.factors[2])


def test_nothing_told_or_too_many_sessions_is_no_plan() -> None:
    quiet = [PlanSession("A", (1.0, 0.0, 0.0), 16.0, 1.0, 0.0, None, None)]
    assert plan_currents(quiet, [10.0, 10.0, 10.0]) == {}
    many = [
        PlanSession(f"S{k}", (1.0, 0.0, 0.0), 16.0, 1.0, 0.0, 10 * KWH, ONE_HOUR)
        for k in range(MAX_PLANNED_SESSIONS + 1)
    ]
    assert plan_currents(many, [10.0, 10.0, 10.0]) == {}
