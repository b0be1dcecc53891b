"""Version 10: a car whose sample lies well below every limit it may have been following
takes less than it is offered, also while its limit keeps moving.

Found by the random soak (``bench/fuzz_scenarios.py``, fuzz-11): a car that took 13 A,
its own maximum, under a limit that moved between 16 and 28 A every few seconds never
had a sample under a limit that had stood its reaction time, so it was counted on its
limit. The rest of the building looked that much smaller than it was; once the car was
cut toward its draw the others' limits had been sized on that room, and the supply was
0.4 A over the fuse for 7 s. Worked by hand: a single-phase 230 V supply, fuse 50 A, no margin.
"""

from __future__ import annotations

from fuseshare.balancing import ChargerInput, Grid

from .support import charger, config, reading, run

TN1 = Grid.TN_230_1P


def _moving(sampled_a: float, sample_follow_low_a: float | None) -> ChargerInput:
    """A car on L1 whose limit moved within its reaction time before its sample (no
    settled limit) and now stands at 22 A; the lowest limit it may follow is 19 A."""
    return charger(
        "A",
        "L1",
        setpoint_a=22.0,
        setpoint_since_s=-3.0,
        measured_a=(sampled_a,),
        measured_at_s=-1.0,
        follow_low_a=19.0,
        sample_settled_limit_a=None,
        sample_follow_low_a=sample_follow_low_a,
    )


def test_a_car_taking_less_under_a_moving_limit_is_counted_on_its_sample() -> None:
    """Reading 43 A: the building's 30 and the car's 13, sampled under limits of at least
    19 A. Version 10 counts the car on its 13 A: rest 30, room 20. Version 9 counts it on
    19 A (no settled limit): rest 24, room 26, 6 A that the building does not leave."""
    v10, _ = run(config(TN1, fuse=50), [_moving(13.0, 19.0)], reading(43), version=10)
    v9, _ = run(config(TN1, fuse=50), [_moving(13.0, 19.0)], reading(43), version=9)
    assert v10.lines[0].other_load_a == 30.0
    assert v10.lines[0].limit_a == 20.0
    assert v9.lines[0].other_load_a == 24.0
    assert v9.lines[0].limit_a == 26.0


def test_a_sample_near_the_lowest_limit_it_may_follow_says_nothing_new() -> None:
    """Sampled at 18 A with 19 A the lowest limit then: within the 2 A a car may lag or
    a meter may read low, so it is counted on 19 A as before; so is a sample taken when
    no limit was known."""
    for sampled, low in ((18.0, 19.0), (13.0, None)):
        v10, _ = run(config(TN1, fuse=50), [_moving(sampled, low)], reading(43), version=10)
        v9, _ = run(config(TN1, fuse=50), [_moving(sampled, low)], reading(43), version=9)
        assert v10.lines[0].other_load_a == v9.lines[0].other_load_a == 24.0
