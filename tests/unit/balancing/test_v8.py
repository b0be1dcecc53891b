"""Version 8: the plan evens the fractions of wanted energy out in twentieths.

Found on re-drawn told evenings (bench_seeds): within a band of the plan's utility every
fraction is worth the same, so energy decided there, and a car that brings less energy
per ampere of a busy line (a one-phase car beside a three-phase one) was held at the
bottom of its band while the other reached the top. Every case is worked out by hand;
without needs version 8 is version 7, and the safety invariants hold for it
(test_properties).
"""

from __future__ import annotations

import math

from fuseshare.balancing import AlgorithmState, Grid, ReasonCode, SessionState
from fuseshare.balancing.planning import BANDS, FINE_BANDS, PlanSession, make_plan

from .support import charger, config, run

TN3 = Grid.TN_400_3P
KWH = 3.6e6 / 230.0  # winding ampere-seconds per kWh
ONE_HOUR = 3600.0
NO_LIMIT = math.inf


def _three_phase(had_kwh: float, left_s: float) -> PlanSession:
    """A wants 20 kWh on three phases: an ampere-hour of L1 (with L2 and L3 beside it,
    which are free) gives it 3 x 230 Wh, 0.0345 of its want."""
    return PlanSession("A", (1.0, 1.0, 1.0), 16.0, 3.0, had_kwh * KWH, 20 * KWH, left_s)


def _one_phase(had_kwh: float, left_s: float) -> PlanSession:
    """B wants 10 kWh on L1 alone: an ampere-hour of L1 gives it 230 Wh, 0.023 of its
    want. An ampere-hour moved from A to B costs A 1.5 times what B gains."""
    return PlanSession("B", (1.0, 0.0, 0.0), 16.0, 1.0, had_kwh * KWH, 10 * KWH, left_s)


def test_twentieths_even_out_what_tenths_leave_a_tenth_apart() -> None:
    """Both leave in an hour; L1 has 10 A (10 Ah), L2 and L3 no limit. Even fractions
    would be f / 0.0345 + f / 0.023 = 10, f = 0.138.

    Tenths (3 per band): B's first tenth is worth 3 x 0.023 / 0.0345 = 2 times A's
    second, so B gets to 0.10 (4.35 Ah); then both are in their second tenth, where the
    same fraction is worth the same and A brings more energy: A takes the rest (5.65 Ah)
    to 0.195. Twentieths (√3 per band): B's band is worth √3 x 0.023 / 0.0345 = 1.15
    times A's one higher, so A leads by at most one band: both reach 0.10 (7.25 Ah),
    A the top of the next band, 0.15 (1.45 Ah), and B the rest (1.3 Ah), 0.13."""
    sessions = [_three_phase(0.0, ONE_HOUR), _one_phase(0.0, ONE_HOUR)]
    tenths = make_plan(sessions, [10.0, NO_LIMIT, NO_LIMIT], BANDS)
    twentieths = make_plan(sessions, [10.0, NO_LIMIT, NO_LIMIT], FINE_BANDS)
    assert tenths is not None and twentieths is not None
    assert math.isclose(tenths.fractions["A"], 0.195, abs_tol=0.002)
    assert math.isclose(tenths.fractions["B"], 0.100, abs_tol=0.002)
    assert math.isclose(twentieths.fractions["A"], 0.150, abs_tol=0.002)
    assert math.isclose(twentieths.fractions["B"], 0.130, abs_tol=0.002)


def test_the_car_held_at_the_bottom_of_its_tenth_has_the_line_now() -> None:
    """Both leave in 15 minutes and L1 has 6 A (1.5 Ah): A has had 3.2 kWh (0.16 of its
    want), B 1.1 kWh (0.11). In tenths both are in their second band: A, which brings
    more energy, gets to 0.20 first (1.16 Ah) and has the line now; B waits ("planned
    later"). In twentieths B (in the third band) is worth more than A (in the fourth):
    all 1.5 Ah are B's (to 0.145, still below A's 0.16), so B runs and A waits."""
    plan = make_plan(
        [_three_phase(3.2, 900.0), _one_phase(1.1, 900.0)], [6.0, NO_LIMIT, NO_LIMIT], FINE_BANDS
    )
    assert plan is not None and plan.currents == {"A": 0.0, "B": 6.0}
    chargers = [
        charger("A", car_phases=3, energy_wanted_kwh=20.0, departure_s=900.0),
        charger("B", "L1", car_phases=1, energy_wanted_kwh=10.0, departure_s=900.0),
    ]
    state = AlgorithmState(
        now_s=-1.0,
        sessions={
            "A": SessionState("s-A", served_as=3.2 * KWH, car_phases=3),
            "B": SessionState("s-B", served_as=1.1 * KWH, car_phases=1),
        },
    )
    got = {}
    for version in (7, 8):
        allocation, _ = run(
            config(TN3, offline=6.0, meter=False), chargers, version=version, state=state
        )
        got[version] = {a.charger_id: a for a in allocation.chargers}
    assert (got[7]["A"].current_a, got[7]["B"].current_a) == (6.0, 0.0)
    assert got[7]["B"].reason.code is ReasonCode.PAUSED_PLAN
    assert (got[8]["A"].current_a, got[8]["B"].current_a) == (0.0, 6.0)
    assert got[8]["A"].reason.code is ReasonCode.PAUSED_PLAN


def test_without_needs_version_8_is_version_7() -> None:
    """Nothing told: no plan, so the bands never come into it."""
    chargers = [charger("A", car_phases=3), charger("B", "L1", car_phases=1), charger("C")]
    cfg = config(TN3, offline=16.0, meter=False)
    seven, _ = run(cfg, chargers, version=7)
    eight, _ = run(cfg, chargers, version=8)
    assert [(a.current_a, a.reason) for a in seven.chargers] == [
        (a.current_a, a.reason) for a in eight.chargers
    ]
    assert sum(a.current_a for a in eight.chargers) > 0.0
