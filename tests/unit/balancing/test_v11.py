"""Version 11: the plan is followed as it was made, and it knows the turns.

Traced on the library's IT evening (version 10, 20:33): the plan gave three cars 16.5 A
each and a fourth 16 A, which fills all three lines; the sharing scaled each share also
by the current the car needs (version 5's weight), which the plan had weighed already,
so the car that leaves soonest held 25.4 A, the others sat at their minimum on the two
lines it filled, and the third line stood a third empty. And the plan did not know
that sessions inside their minimum on time keep their minimum: it gave that room to
others, which then did not fit and waited. Every case is worked by hand in its
docstring.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from fuseshare.balancing import AlgorithmState, ChargerInput, Grid, SessionState
from fuseshare.balancing.planning import MAX_HORIZON_S, PlanSession, _sane, plan_currents

from .support import charger, config, run

TN3 = Grid.TN_400_3P
KWH = 3.6e6 / 230.0  # winding ampere-seconds per kWh
ONE_HOUR = 3600.0
L1 = (1.0, 0.0, 0.0)


def _on_l1(cid: str, kwh: float, leaves_s: float) -> ChargerInput:
    return charger(cid, "L1", car_phases=1, energy_wanted_kwh=kwh, departure_s=leaves_s)


def test_shares_follow_the_planned_currents_not_the_needs_again() -> None:
    """24 A on L1, both cars want 10 kWh; A leaves in 1 h, B in 8 h, and the plan (made
    a moment ago) gives each 10 A. Needs: A 10 kWh / 1 h = 43.5 A, B 5.4 A. Version 10
    weighs A by 1 x 10 and B by 5.4 / 43.5 x 10 = 1.25: B stays at its 6 A minimum and A
    gets 18. Version 11 weighs both by their planned 10 A: 12 A each."""
    cars = [_on_l1("A", 10.0, ONE_HOUR), _on_l1("B", 10.0, 8 * ONE_HOUR)]
    state = AlgorithmState(now_s=-1.0, plan={"s-A": 10.0, "s-B": 10.0}, planned_s=0.0)
    cfg = config(TN3, offline=24.0, meter=False)
    v11, s11 = run(cfg, cars, version=11, state=state)
    v10, _ = run(cfg, cars, version=10, state=state)
    assert s11.plan == state.plan  # the plan was kept: only the sharing differs
    assert [a.current_a for a in v11.chargers] == [12.0, 12.0]
    assert [a.current_a for a in v10.chargers] == [18.0, 6.0]


def test_a_planned_share_still_scales_with_the_priority() -> None:
    """The same plan (10 A each) with A at priority 2: shares 20 and 10, so 16 and 8 A of
    the 24."""
    cars = [
        replace(_on_l1("A", 10.0, ONE_HOUR), weight=2.0),
        _on_l1("B", 10.0, 8 * ONE_HOUR),
    ]
    state = AlgorithmState(now_s=-1.0, plan={"s-A": 10.0, "s-B": 10.0}, planned_s=0.0)
    v11, _ = run(config(TN3, offline=24.0, meter=False), cars, version=11, state=state)
    assert [a.current_a for a in v11.chargers] == [16.0, 8.0]


def _soon(**kw: float) -> PlanSession:
    """A one-phase car on L1 that wants 10 kWh within the hour: all of L1 while there."""
    return PlanSession("A", L1, 32.0, 1.0, 0.0, 10.0 * KWH, ONE_HOUR, **kw)  # type: ignore[arg-type]


def _late(**kw: object) -> PlanSession:
    """A one-phase car on L1 that wants 30 kWh and stays 8 h (slots of 600 s)."""
    return PlanSession("B", L1, 32.0, 1.0, 0.0, 30.0 * KWH, 8 * ONE_HOUR, **kw)  # type: ignore[arg-type]


def test_the_plan_keeps_the_minimum_of_a_session_inside_its_minimum_on_time() -> None:
    """32 A on L1. Alone, the plan gives A all 32 A now and B nothing (test_v6). B is
    inside its minimum on time for 600 s more, the whole first slot, at 6 A: the plan
    keeps B's 6 A and gives A the other 26. Held for 300 s only: B's first-slot average
    is 3 A, A's 29."""
    assert plan_currents([_soon(), _late()], [32.0, 0.0, 0.0]) == pytest.approx(
        {"A": 32.0, "B": 0.0}, abs=1e-6
    )
    held = plan_currents([_soon(), _late(on_a=6.0, on_s=600.0)], [32.0, 0.0, 0.0])
    assert held == pytest.approx({"A": 26.0, "B": 6.0}, abs=1e-6)
    half = plan_currents([_soon(), _late(on_a=6.0, on_s=300.0)], [32.0, 0.0, 0.0])
    assert half == pytest.approx({"A": 29.0, "B": 3.0}, abs=1e-6)


def test_the_plan_gives_nothing_to_a_session_inside_its_minimum_off_time() -> None:
    """40 A on L1: A takes 32, the plan gives B the 8 A left (test_v6). B was paused and
    may not restart for another 600 s (the whole first slot): nothing now."""
    assert plan_currents([_soon(), _late()], [40.0, 0.0, 0.0]) == pytest.approx(
        {"A": 32.0, "B": 8.0}, abs=1e-6
    )
    off = plan_currents([_soon(), _late(off_s=600.0)], [40.0, 0.0, 0.0])
    assert off["B"] == pytest.approx(0.0, abs=1e-6)


def test_of_equal_plans_the_one_keeping_the_running_session_running_wins() -> None:
    """Two cars alike on L1 (32 A), each wanting an hour at 32 A and staying 8 h: who
    has L1 first is worth the same either way. The one that runs now keeps it."""
    for runs in ("A", "B"):
        cars = [
            PlanSession(k, L1, 32.0, 1.0, 0.0, 32.0 * ONE_HOUR, 8 * ONE_HOUR, running=k == runs)
            for k in ("A", "B")
        ]
        got = plan_currents(cars, [32.0, 0.0, 0.0])
        assert got[runs] == pytest.approx(32.0, abs=1e-6)
        assert got["B" if runs == "A" else "A"] == pytest.approx(0.0, abs=1e-6)


def test_the_loop_hands_the_plan_the_turns() -> None:
    """The case of test_v6: B was started 100 s ago (minimum on time 900 s) and runs at
    6 A, 32 A on L1. Both versions keep B on at 6 A and give A 26, but version 10's plan
    says B nothing now and version 11's says B 6 A (800 s of 6 A in a 600 s slot). With
    40 A and B paused 100 s ago under a minimum off time of 900 s (800 s to go, past the
    first slot), version 10's plan gives B the 8 A beside A, version 11's nothing."""
    a = _on_l1("A", 10.0, ONE_HOUR)
    b = replace(_on_l1("B", 30.0, 8 * ONE_HOUR), setpoint_a=6.0)
    cfg = config(TN3, offline=32.0, meter=False)
    on = AlgorithmState(now_s=-1.0, sessions={"B": SessionState("s-B", True, -100.0)})
    for version, planned_b in ((10, 0.0), (11, 6.0)):
        allocation, state = run(cfg, [a, b], version=version, state=on)
        assert [x.current_a for x in allocation.chargers] == [26.0, 6.0]
        assert state.plan["s-B"] == pytest.approx(planned_b, abs=1e-6)
    off = AlgorithmState(now_s=-1.0, sessions={"B": SessionState("s-B", False, -100.0)})
    roomy = config(TN3, offline=40.0, meter=False, min_off_s=900.0)
    _, v10 = run(roomy, [a, replace(b, setpoint_a=0.0)], version=10, state=off)
    _, v11 = run(roomy, [a, replace(b, setpoint_a=0.0)], version=11, state=off)
    assert v10.plan["s-B"] == pytest.approx(8.0, abs=1e-6)
    assert v11.plan["s-B"] == pytest.approx(0.0, abs=1e-6)


def test_absurd_turns_are_made_harmless() -> None:
    """What no programme can take: a minimum that is not a number or not positive holds
    nothing, one above the car's maximum is its maximum, times are finite and not
    negative (a held minimum without a time holds nothing)."""
    s = _sane(_late(on_a=float("nan"), on_s=600.0, off_s=float("nan")))
    assert (s.on_a, s.on_s, s.off_s) == (0.0, 0.0, 0.0)
    s = _sane(_late(on_a=500.0, on_s=float("inf"), off_s=float("inf")))
    assert (s.on_a, s.on_s, s.off_s) == (32.0, MAX_HORIZON_S, MAX_HORIZON_S)
    s = _sane(_late(on_a=6.0, on_s=float("nan"), off_s=-5.0))
    assert (s.on_a, s.on_s, s.off_s) == (0.0, 0.0, 0.0)
    s = _sane(_late(on_a=-3.0, on_s=600.0))
    assert (s.on_a, s.on_s) == (0.0, 0.0)


def test_minima_held_that_do_not_fit_leave_the_plan_as_without_them() -> None:
    """Two sessions each holding 20 A on a 32 A line, or one holding 6 A where the line
    has no room: no plan keeps those, so the plan is made as if none were held (the loop
    hands in only minima that fit, in the order it admits sessions)."""
    free = plan_currents([_soon(), _late()], [32.0, 0.0, 0.0])
    both = plan_currents(
        [_soon(on_a=20.0, on_s=600.0), _late(on_a=20.0, on_s=600.0)], [32.0, 0.0, 0.0]
    )
    assert both == pytest.approx(free, abs=1e-6)
    none = plan_currents([_soon(), _late(on_a=6.0, on_s=600.0)], [-4.0, 0.0, 0.0])
    assert none == pytest.approx({"A": 0.0, "B": 0.0}, abs=1e-6)


def test_absurd_turns_still_give_a_plan() -> None:
    """A minimum that is not a number, held forever, more than the room or with an off
    time before now: the plan is still made, within the line and the car's maximum, and
    a minimum above what the car may take is held at its maximum."""
    for kw in (
        {"on_a": float("nan"), "on_s": 600.0},
        {"on_a": 6.0, "on_s": float("inf")},
        {"on_a": 500.0, "on_s": 600.0},
        {"off_s": -5.0},
        {"off_s": float("nan"), "on_a": -3.0, "on_s": float("nan")},
    ):
        got = plan_currents([_soon(), _late(**kw)], [32.0, 0.0, 0.0])
        assert set(got) == {"A", "B"}, kw
        assert got["A"] + got["B"] <= 32.0 + 1e-6 and max(got.values()) <= 32.0 + 1e-6
    held = plan_currents([_soon(), _late(on_a=500.0, on_s=600.0)], [32.0, 0.0, 0.0])
    assert held["B"] == pytest.approx(32.0, abs=1e-6)
