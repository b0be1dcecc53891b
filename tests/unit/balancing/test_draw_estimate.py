"""Version 3: each car's draw as the lowest limit it may follow, and increases held
against meter noise. Every number below is worked by hand.

Set-up for most cases: single-phase 230 V supply, fuse 50 A, no margin, one car on
L1 whose charger reports every ~10 s, so its sample is often older than its limit.
"""

from __future__ import annotations

from fuseshare.balancing import (
    AlgorithmState,
    ChargerInput,
    Grid,
    ReasonCode,
    SessionState,
    Snapshot,
    get_algorithm,
)

from .support import charger, config, reading, run

TN1 = Grid.TN_230_1P


def _other(allocation_lines: object) -> float:
    (line,) = allocation_lines  # type: ignore[misc]
    assert line.other_load_a is not None
    return float(line.other_load_a)


def test_a_following_car_draws_its_limit_not_its_old_sample() -> None:
    """Limit 10 -> 16 twenty seconds ago; the last sample (taken while 10 stood) says
    10 A. Reading 40 A. The car followed its limit before, so it draws 16 now:
    rest = 40 - 16 = 24, room 26. Version 2 trusts the sample: rest 30, room 20."""
    car = charger(
        "A",
        "L1",
        setpoint_a=16.0,
        setpoint_since_s=-20.0,
        measured_a=(10.0,),
        measured_at_s=-25.0,
        follow_low_a=16.0,
        sample_settled_limit_a=10.0,
    )
    v3, _ = run(config(TN1, fuse=50), [car], reading(40), version=3)
    v2, _ = run(config(TN1, fuse=50), [car], reading(40), version=2)
    assert _other(v3.lines) == 24.0
    assert v3.lines[0].limit_a == 26.0
    assert v3.current_of("A") == 26.0
    assert _other(v2.lines) == 30.0
    assert v2.current_of("A") == 20.0


def test_a_car_that_takes_less_than_offered_draws_its_sample() -> None:
    """Offered 16 for long, it took 8 (a full battery tapering): 8 < 16 - 2, so its draw
    is its sample: rest = 40 - 8 = 32."""
    car = charger(
        "A",
        "L1",
        setpoint_a=16.0,
        measured_a=(8.0,),
        follow_low_a=16.0,
        sample_settled_limit_a=16.0,
    )
    allocation, _ = run(config(TN1, fuse=50), [car], reading(40), version=3)
    assert _other(allocation.lines) == 32.0


def test_a_sample_taken_during_a_change_says_nothing_about_following() -> None:
    """Sampled inside a change (settled limit unknown) at 4 A: the car is taken to
    follow; its lowest possible limit is 10, so it draws 10: rest 30."""
    car = charger(
        "A",
        "L1",
        setpoint_a=10.0,
        measured_a=(4.0,),
        follow_low_a=10.0,
        sample_settled_limit_a=None,
    )
    allocation, _ = run(config(TN1, fuse=50), [car], reading(40), version=3)
    assert _other(allocation.lines) == 30.0


def test_just_raised_the_car_may_still_draw_the_old_limit() -> None:
    """Raised 0 -> 16 two seconds before the reading: the lowest limit it may follow is
    0, so none of the reading is taken as the car's (rest 40, room 10)."""
    car = charger(
        "A",
        "L1",
        setpoint_a=16.0,
        setpoint_since_s=-2.0,
        measured_a=(0.0,),
        follow_low_a=0.0,
        sample_settled_limit_a=0.0,
    )
    allocation, _ = run(config(TN1, fuse=50), [car], reading(40), version=3)
    assert _other(allocation.lines) == 40.0
    assert allocation.current_of("A") == 10.0


def test_lowered_the_car_counts_with_its_new_limit_at_most() -> None:
    """20 -> 12 one second ago, the sample still says 20: the car draws between 12 and
    20, and 12 is taken (the larger rest: 40 - 12 = 28, room 22). Going back up is an
    increase, so it waits for the pacing interval."""
    car = charger(
        "A",
        "L1",
        setpoint_a=12.0,
        setpoint_since_s=-1.0,
        measured_a=(20.0,),
        follow_low_a=12.0,
        sample_settled_limit_a=20.0,
    )
    allocation, _ = run(config(TN1, fuse=50), [car], reading(40), version=3)
    assert _other(allocation.lines) == 28.0
    a = allocation.by_id()["A"]
    assert (a.current_a, a.reason.code) == (12.0, ReasonCode.HELD_PACING)


def test_three_phase_car_on_its_planned_lines() -> None:
    """TN 400 V, a three-phase car following 10 A: 10 A on each line; a one-phase car
    (phases given) following 10 A: 10 A on its charger's first line only."""
    three = charger("A", "L1,L2,L3", setpoint_a=10.0, follow_low_a=10.0, car_phases=3)
    one = charger("B", "L2,L3,L1", setpoint_a=10.0, follow_low_a=10.0, car_phases=1)
    allocation, _ = run(
        config(Grid.TN_400_3P, fuse=63), [three, one], reading(30, 40, 30), version=3
    )
    others = {b.line: b.other_load_a for b in allocation.lines}
    assert others == {"L1": 20.0, "L2": 20.0, "L3": 20.0}


def following_six_amps() -> ChargerInput:
    """A one-phase car on TN that has followed 6 A for long (its sample says so)."""
    return charger(
        "A",
        "L1",
        setpoint_a=6.0,
        setpoint_since_s=-100.0,
        measured_a=(6.0,),
        follow_low_a=6.0,
        sample_settled_limit_a=6.0,
    )


def test_increases_wait_for_every_recent_reading_to_leave_room() -> None:
    """A car following 6 A. Reading 40 (rest 34): raised to 50 - 34 = 16. Had it not
    been raised, a reading of 37 a second later (a noise dip: rest 31) would suggest 19,
    but an increase may only use the room every reading of the last 5 s left (16)."""
    algo = get_algorithm("standard", 3)
    cfg = config(TN1, fuse=50)
    car = following_six_amps()
    first = algo.allocate(Snapshot(cfg, (car,), 0.0, reading(40)), AlgorithmState())
    assert first.allocation.current_of("A") == 16.0  # room 50 - 34 = 16
    # Suppose it was not raised (say the charger refused): the next reading dips by noise.
    second = algo.allocate(
        Snapshot(cfg, (car,), 1.0, reading(37, now_s=1.0)),
        first.state,
    )
    a = second.allocation.by_id()["A"]
    assert a.target_a == 19.0  # what the latest reading alone would allow
    assert a.current_a == 16.0  # what every reading of the last 5 s allows
    assert [r[1] for r in second.state.recent_other] == [34.0, 31.0]
    # Five seconds of readings on, the high reading has left the window: the raise may go.
    state = second.state
    for now_s in range(2, 8):
        later = algo.allocate(
            Snapshot(cfg, (car,), now_s, reading(37, now_s=now_s)),
            state,
        )
        state = later.state
    assert later.allocation.current_of("A") == 19.0


def test_a_meter_that_reads_seldom_needs_three_readings_to_open_room() -> None:
    """A meter reading every 10 s has one reading in the last 5 s, so one noise dip opened
    room (a random site: 10 s at 1.01 times the fuse, meter every 10 s). Increases see the
    two readings before the latest too, up to a minute old."""
    algo = get_algorithm("standard", 3)
    cfg = config(TN1, fuse=50)
    car = following_six_amps()
    state = AlgorithmState()
    got = []
    for now_s, amps in ((0.0, 40), (10.0, 37), (20.0, 37), (30.0, 37)):
        result = algo.allocate(Snapshot(cfg, (car,), now_s, reading(amps, now_s=now_s)), state)
        state = result.state
        got.append(result.allocation.current_of("A"))
    assert got == [16.0, 16.0, 16.0, 19.0]
    # Readings more than a minute old are not held against the room.
    result = algo.allocate(
        Snapshot(cfg, (car,), 100.0, reading(37, now_s=100.0)),
        AlgorithmState(recent_other=((20.0, 40.0, 0.0, 0.0), (30.0, 40.0, 0.0, 0.0))),
    )
    assert result.allocation.current_of("A") == 19.0


def test_version_2_ignores_the_new_inputs() -> None:
    """The same snapshot with and without the version 3 inputs gives version 2's answer."""
    plain = charger("A", "L1", setpoint_a=16.0, measured_a=(10.0,))
    extra = charger(
        "A",
        "L1",
        setpoint_a=16.0,
        measured_a=(10.0,),
        follow_low_a=16.0,
        sample_settled_limit_a=10.0,
    )
    a, _ = run(config(TN1, fuse=50), [plain], reading(40), version=2)
    b, _ = run(config(TN1, fuse=50), [extra], reading(40), version=2)
    assert a == b


def test_a_session_in_its_min_off_time_restarts_on_room_nobody_else_can_use() -> None:
    """A was paused 10 s ago (min off 300 s). Room 20 A; B's car takes 14 A at most.
    v2 keeps A off and 6 A stay idle. v3 admits A because its minimum (6 A) fits once
    B's is in, and the two share the 20 A: 10 A each."""
    state = AlgorithmState(
        now_s=-1.0,
        sessions={"A": SessionState("s-A", on=False, switched_s=-10.0)},
    )
    chargers = [
        charger("A", "L1", setpoint_a=0.0),
        charger("B", "L1", setpoint_a=0.0, car_max_current_a=14.0),
    ]
    v3, _ = run(config(TN1, fuse=20), chargers, reading(0), version=3, state=state)
    v2, _ = run(config(TN1, fuse=20), chargers, reading(0), version=2, state=state)
    assert v2.by_id()["A"].reason.code is ReasonCode.PAUSED_MIN_OFF
    assert v2.current_of("B") == 14.0
    assert (v3.current_of("A"), v3.current_of("B")) == (10.0, 10.0)
