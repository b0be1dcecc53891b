"""Stability (pacing, deadband, released capacity) and unused capacity (draws less, probes)."""

from __future__ import annotations

import pytest

from fuseshare.balancing import AlgorithmState, Grid, ReasonCode, SessionState

from .support import charger, config, reading, run

TN1 = Grid.TN_230_1P


def test_decrease_goes_out_at_once() -> None:
    """Setpoint 20 sent 1 s ago, room now 10: 10 at once, pacing or not."""
    allocation, _ = run(
        config(TN1, fuse=10),
        [charger("A", "L1", setpoint_a=20.0, setpoint_since_s=-1.0)],
        reading(0),
    )
    assert allocation.current_of("A") == 10.0
    assert allocation.by_id()["A"].changed


@pytest.mark.parametrize(
    ("since_s", "expected", "code"),
    [
        (-5.0, 10.0, ReasonCode.HELD_PACING),  # raised 5 s ago: wait (interval 10 s)
        (-20.0, 20.0, ReasonCode.MAIN_FUSE),  # 20 s ago: raise to the full 20 A
    ],
)
def test_increase_is_paced(since_s: float, expected: float, code: ReasonCode) -> None:
    allocation, _ = run(
        config(TN1, fuse=20),
        [charger("A", "L1", setpoint_a=10.0, setpoint_since_s=since_s, measured_a=(10.0,))],
        reading(10),
    )
    a = allocation.by_id()["A"]
    assert (a.current_a, a.reason.code) == (expected, code)
    assert a.target_a == 20.0


def test_small_increase_is_not_sent() -> None:
    """Room 10.5, setpoint 10: +0.5 A is below the 1 A deadband."""
    allocation, _ = run(
        config(TN1, fuse=10.5),
        [charger("A", "L1", setpoint_a=10.0, measured_a=(10.0,))],
        reading(10),
    )
    a = allocation.by_id()["A"]
    assert (a.current_a, a.reason.code, a.changed) == (10.0, ReasonCode.HELD_DEADBAND, False)


def test_released_capacity_is_used_next_cycle() -> None:
    """B goes 20 -> 10 (its car may still draw 20 until it follows), A wants 10 -> 20
    on a 30 A line: A may only take what is free at present setpoints (0 A) now."""
    cfg = config(TN1, fuse=30)
    allocation, _ = run(
        cfg,
        [
            charger("A", "L1", setpoint_a=10.0, measured_a=(10.0,)),
            charger("B", "L1", setpoint_a=20.0, membership_max_current_a=10.0, measured_a=(20.0,)),
        ],
        reading(30),
    )
    by_id = allocation.by_id()
    assert by_id["B"].current_a == 10.0
    assert by_id["A"].target_a == 20.0
    assert (by_id["A"].current_a, by_id["A"].reason.code) == (10.0, ReasonCode.WAITING_RELEASE)


def test_car_drawing_less_gives_the_rest_away() -> None:
    """A was offered 16 A for a minute and draws 5: capped at 5+2=7, raised to the
    min 8; B gets 30-8 = 22 instead of 14."""
    cfg = config(TN1, fuse=30, min_a=8)
    chargers = [
        charger("A", "L1", setpoint_a=16.0, setpoint_since_s=-60.0, measured_a=(5.0,)),
        charger("B", "L1", setpoint_a=14.0, setpoint_since_s=-60.0, measured_a=(14.0,)),
    ]
    allocation, state = run(cfg, chargers, reading(19))
    a = allocation.by_id()["A"]
    assert (a.current_a, a.reason.code) == (8.0, ReasonCode.CAR_DRAWS_LESS)
    assert allocation.by_id()["B"].target_a == 22.0
    assert state.sessions["A"].cap_a == 8.0
    assert state.sessions["A"].cap_since_s == 0.0


def test_draw_settling_is_awaited() -> None:
    """Offered 16 only 5 s ago: the car has not followed yet, nothing is learned."""
    allocation, state = run(
        config(TN1, fuse=30, min_a=8),
        [charger("A", "L1", setpoint_a=16.0, setpoint_since_s=-5.0, measured_a=(5.0,))],
        reading(5),
    )
    assert allocation.by_id()["A"].reason.code is not ReasonCode.CAR_DRAWS_LESS
    assert state.sessions["A"].cap_a is None


def _capped_state(cap_since_s: float) -> AlgorithmState:
    return AlgorithmState(
        now_s=-1.0,
        sessions={
            "A": SessionState(
                "s-A", on=True, switched_s=-2000.0, cap_a=8.0, cap_since_s=cap_since_s
            )
        },
    )


def test_capped_car_is_probed_now_and_then() -> None:
    """Capped 600 s ago (the probe interval): offered its full share for 60 s."""
    cfg = config(TN1, fuse=30, min_a=8)
    chargers = [charger("A", "L1", setpoint_a=8.0, measured_a=(5.0,))]
    allocation, state = run(cfg, chargers, reading(5), state=_capped_state(-600.0))
    assert allocation.current_of("A") == 30.0
    assert state.sessions["A"].probe_until_s == 60.0
    # Still probing at 30 s, even though it draws little.
    allocation, state = run(cfg, chargers, reading(5, now_s=30.0), now_s=30.0, state=state)
    assert allocation.by_id()["A"].target_a == 30.0
    # After the probe it is capped again from its draw.
    chargers = [charger("A", "L1", setpoint_a=30.0, setpoint_since_s=0.0, measured_a=(5.0,))]
    allocation, state = run(cfg, chargers, reading(5, now_s=61.0), now_s=61.0, state=state)
    assert (allocation.current_of("A"), state.sessions["A"].cap_a) == (8.0, 8.0)


def test_capped_car_asking_for_more_is_released() -> None:
    """Capped at 8 and drawing 7.5 (>= cap - headroom/2): the cap goes."""
    cfg = config(TN1, fuse=30, min_a=8)
    chargers = [charger("A", "L1", setpoint_a=8.0, measured_a=(7.5,))]
    allocation, state = run(cfg, chargers, reading(7.5), state=_capped_state(-100.0))
    assert allocation.current_of("A") == 30.0
    assert state.sessions["A"].cap_a is None


def test_phases_learned_only_grow_within_a_session() -> None:
    cfg = config(Grid.TN_400_3P, fuse=40)
    three = [charger("A", measured_a=(10.0, 10.0, 10.0), setpoint_a=10.0)]
    _, state = run(cfg, three, reading(10, 10, 10))
    assert state.sessions["A"].car_phases == 3
    one = [charger("A", measured_a=(10.0, 0.0, 0.0), setpoint_a=10.0)]
    _, state = run(cfg, one, reading(10, 0, 0), now_s=1.0, state=state)
    assert state.sessions["A"].car_phases == 3
    # A new session starts from scratch.
    new = [charger("A", session_id="other", measured_a=(10.0, 0.0, 0.0), setpoint_a=10.0)]
    _, state = run(cfg, new, reading(10, 0, 0), now_s=2.0, state=state)
    assert state.sessions["A"].car_phases == 1


def test_state_is_not_mutated_and_round_trips() -> None:
    cfg = config(TN1, fuse=12, min_a=8)
    chargers = [charger("A", "L1"), charger("B", "L1")]
    _, state = run(cfg, chargers, reading(0))
    before = state.to_json()
    _, later = run(cfg, chargers, reading(0), now_s=60.0, state=state)
    assert state.to_json() == before
    assert AlgorithmState.from_json(later.to_json()) == later
