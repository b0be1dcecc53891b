"""The tighter upper bound and the fair plan on hand-computed cases.

* the line rows use the slot mean of the per-second room (clipped at 0), not
  the room of the lowest base load in the slot;
* a car alone never uses more than its line's room in any second;
* the taper: a line on or above the car's taper cap, never below what the car
  (fuseshare.sim.car) can take;
* the max-min fair plan and its Jain index (``jain_fairness_attainable``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from fuseshare.sim import upper_bound
from fuseshare.sim.baselines import NoControl
from fuseshare.sim.car import VirtualCar
from fuseshare.sim.engine import simulate
from fuseshare.sim.metrics import jain, report
from fuseshare.sim.scenario import Scenario, parse_scenario, watts_per_amp
from fuseshare.sim.upper_bound import energy_bound_at_jain, energy_upper_bound_kwh, fair_plan

from .test_sim_scenario_and_bound import minimal as site

THREE_PHASE_W = 3 * 230.0
"""TN: watts per ampere of a three-phase car."""


def session(charger: str, energy_kwh: float, **more: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "charger": charger,
        "arrive_s": 0,
        "depart_s": 3600,
        "energy_kwh": energy_kwh,
        "car_phases": 3,
        "car_max_current_a": 32,
    }
    out.update(more)
    return out


def constant_base(sc: Scenario, l1: float, l2: float = 0.0, l3: float = 0.0) -> npt.NDArray[Any]:
    return np.tile(np.array([l1, l2, l3], dtype=float), (sc.duration_s, 1))


def alternating_l1(sc: Scenario, low: float, high: float) -> npt.NDArray[Any]:
    """L1 switches between ``low`` and ``high`` every second (an appliance cycling)."""
    base = np.zeros((sc.duration_s, 3))
    base[0::2, 0] = low
    base[1::2, 0] = high
    return base


# -- the line rows: the mean room of the slot ------------------------------------------------


def test_a_base_load_alternating_every_second_gives_the_mean_room_not_the_largest() -> None:
    # Room on L1: 25 - 1 - 4 = 20 A and 25 - 1 - 14 = 10 A, alternately: 15 A on average.
    # Two three-phase cars that want more than that share 15 A x 690 V x 1 h = 10.35 kWh.
    # The old bound (lowest base load in each slot: 20 A the whole time) said 13.8 kWh.
    sc = parse_scenario(site(sessions=[session("A", 50), session("B", 50)]))
    base = alternating_l1(sc, 4.0, 14.0)
    assert energy_upper_bound_kwh(sc, base) == pytest.approx(15 * THREE_PHASE_W / 1000)
    assert energy_upper_bound_kwh(sc, base, slot_s=60) == pytest.approx(10.35)
    assert energy_upper_bound_kwh(sc, base, slot_s=1) == pytest.approx(10.35)
    assert energy_upper_bound_kwh(sc, base) < 13.8 - 1.0


def test_the_room_is_clipped_at_zero_each_second_before_it_is_averaged() -> None:
    # L1 alternates 4 A (room 20 A) and 30 A, above the fuse (room 0, not -6): 10 A on
    # average, 6.9 kWh; averaging before clipping would wrongly give 7 A, 4.83 kWh.
    sc = parse_scenario(site(sessions=[session("A", 50), session("B", 50)]))
    assert energy_upper_bound_kwh(sc, alternating_l1(sc, 4.0, 30.0)) == pytest.approx(6.9)


def test_a_lone_car_is_held_to_its_lines_room_second_by_second() -> None:
    # Fuse 50: room on L1 alternates 20 A and 40 A (30 A on average), but the one car (32 A)
    # can use min(32, room) = 20 A and 32 A: 26 A on average, 26 x 690 x 1 h = 17.94 kWh.
    data = site(max_supply_current_a=50, sessions=[session("A", 50)])
    sc = parse_scenario(data)
    assert energy_upper_bound_kwh(sc, alternating_l1(sc, 29.0, 9.0)) == pytest.approx(17.94)


def test_a_car_present_for_part_of_a_slot_gets_only_those_seconds() -> None:
    # Arrives at 5 s and leaves at 35 s: 30 s at 20 A (room on L1) whatever the slots.
    sc = parse_scenario(site(sessions=[session("A", 50, arrive_s=5, depart_s=35)]))
    expected = 20 * THREE_PHASE_W * 30 / 3.6e6
    for slot in (1, 10, 60):
        assert energy_upper_bound_kwh(sc, constant_base(sc, 4.0), slot_s=slot) == pytest.approx(
            expected
        )


# -- the taper ----------------------------------------------------------------------------


def greedy_kwh(sc: Scenario, response_s: float) -> float:
    """What the scenario's one car takes when offered its maximum every second (the most it can)."""
    (s,) = sc.sessions
    spec = sc.charger(s.charger)
    car = VirtualCar(
        max_current_a=s.car_max_current_a,
        watts_per_amp=watts_per_amp(sc.grid, spec.phases, s.car_phases),
        energy_kwh=s.energy_kwh,
        arrive_s=s.arrive_s,
        battery_kwh=s.battery_kwh,
        soc_start=s.start_soc,
        taper_from_soc=s.taper_from_soc,
        response_s=response_s,
    )
    for t in range(int(s.arrive_s), int(s.depart_s)):
        car.step(float(t), 1.0, s.car_max_current_a)
    return car.delivered_kwh


def taper_site(soc_start: float, energy_kwh: float, duration_s: int) -> Scenario:
    # Plenty of room (63 A fuse, no base load): only the car holds itself back.
    s = session("A", energy_kwh, depart_s=duration_s, car_max_current_a=16)
    s.update(battery_kwh=75, soc_start=soc_start, taper_from_soc=0.8)
    return parse_scenario(
        site(
            duration_s=duration_s,
            max_supply_current_a=63,
            sessions=[s],
            chargers=[{"id": "A", "phases": ["L1", "L2", "L3"], "max_current_a": 32}],
        )
    )


def test_the_taper_lowers_the_bound_but_not_below_what_the_car_can_take() -> None:
    # 16 A three-phase: 11.04 kW, 11.04 kWh in the hour without a taper. From 70 % the car
    # reaches 80 % after 7.5 kWh (2446 s), then its current falls with the state of charge:
    # about 3.15 kWh more in the remaining 1154 s, 10.65 kWh in all.
    sc = taper_site(soc_start=0.7, energy_kwh=15, duration_s=3600)
    base = constant_base(sc, 0.0)
    bound = energy_upper_bound_kwh(sc, base)
    no_taper = 16 * THREE_PHASE_W / 1000
    greedy = greedy_kwh(sc, response_s=0.0)
    assert greedy == pytest.approx(10.65, abs=0.01)
    assert greedy <= bound < no_taper - 0.3
    # In one-second slots the taper row is the car's own cap: the bound is what it takes.
    assert energy_upper_bound_kwh(sc, base, slot_s=1) == pytest.approx(greedy, rel=1e-6)
    # A simulated run (every charger at its maximum; nothing is overloaded here).
    result = simulate(sc, NoControl())
    assert result.trace.total_a.max() <= 63 - 1
    assert result.sessions[0].delivered_kwh <= bound
    assert result.sessions[0].delivered_kwh == pytest.approx(greedy_kwh(sc, 5.0), rel=1e-6)


@pytest.mark.parametrize(
    ("soc_start", "energy_kwh", "duration_s"),
    [
        (0.5, 40.0, 4 * 3600),  # past the 10 % floor and up to a full battery (37.5 kWh)
        (0.5, 40.0, 8 * 3600),  # long enough to fill the battery
        (0.85, 10.0, 2 * 3600),  # already tapering on arrival, into the floor
        (0.6, 12.0, 3600),  # ends before the taper: no taper row at all
    ],
)
def test_the_taper_line_is_never_below_the_cars_cap(
    soc_start: float, energy_kwh: float, duration_s: int
) -> None:
    sc = taper_site(soc_start=soc_start, energy_kwh=energy_kwh, duration_s=duration_s)
    base = constant_base(sc, 0.0)
    greedy = greedy_kwh(sc, response_s=0.0)
    for slot in (1, 10, 60):
        assert energy_upper_bound_kwh(sc, base, slot_s=slot) >= greedy - 1e-9
    no_taper = min(energy_kwh, (1 - soc_start) * 75, 16 * THREE_PHASE_W * duration_s / 3.6e6)
    assert energy_upper_bound_kwh(sc, base) <= no_taper + 0.01


def test_summed_taper_rows_stay_valid_and_only_a_little_looser(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Past TAPER_ROWS rows, those of neighbouring slots are summed: a relaxation of the
    # per-slot rows, so between the exact taper bound and the bound without a taper.
    sc = taper_site(soc_start=0.7, energy_kwh=15, duration_s=3600)
    base = constant_base(sc, 0.0)
    exact = energy_upper_bound_kwh(sc, base, slot_s=1)
    monkeypatch.setattr(upper_bound, "TAPER_ROWS", 100)
    summed = energy_upper_bound_kwh(sc, base, slot_s=1)
    assert exact < summed < exact * 1.01
    assert summed < 16 * THREE_PHASE_W / 1000 - 0.3


def test_the_bound_still_ignores_the_taper_of_a_session_that_never_reaches_it() -> None:
    # soc_start unset: chosen so the request ends at the taper (80 %): the old figures hold.
    sc = parse_scenario(site(sessions=[session("A", 5.0), session("B", 3.0)]))
    assert energy_upper_bound_kwh(sc, constant_base(sc, 4.0)) == pytest.approx(8.0)


# -- the fair plan ------------------------------------------------------------------------


def test_the_fair_plan_tops_up_the_small_request_when_the_big_one_is_held_back() -> None:
    # One line, 20 A of room. A asks 2 kWh and stays the hour; B asks 30 kWh but leaves
    # after 30 min: alone it can get 20 A x 690 V x 0.5 h = 6.9 kWh, a share of 0.23.
    # Max-min: both rise to 0.23, where B is stuck; A goes on to 1 in the second half hour.
    # Jain = (1 + 0.23)^2 / (2 (1 + 0.23^2)) = 0.71844.
    data = site(sessions=[session("A", 2.0), session("B", 30.0, depart_s=1800)])
    sc = parse_scenario(data)
    base = constant_base(sc, 4.0)
    plan = fair_plan(sc, base)
    assert plan.shares == pytest.approx((1.0, 0.23))
    assert jain(list(plan.shares)) == pytest.approx(1.23**2 / (2 * (1 + 0.23**2)))
    assert jain(list(plan.shares)) == pytest.approx(0.71844, abs=1e-5)
    assert plan.energy_kwh == pytest.approx(8.9) == energy_upper_bound_kwh(sc, base)
    assert plan.rounds == 2


def test_the_fair_plan_gives_equal_shares_on_a_shared_line() -> None:
    # Same window, same line: 2 kWh and 30 kWh requested, 13.8 kWh to share: both get
    # 13.8 / 32 = 0.43125 of their request (not the small one first). Jain 1.
    sc = parse_scenario(site(sessions=[session("A", 2.0), session("B", 30.0)]))
    plan = fair_plan(sc, constant_base(sc, 4.0))
    assert plan.shares == pytest.approx((0.43125, 0.43125))
    assert jain(list(plan.shares)) == pytest.approx(1.0)
    assert plan.energy_kwh == pytest.approx(13.8)


def test_not_told_the_requests_the_fair_plan_evens_out_energy_instead() -> None:
    # The shared line above, 13.8 kWh for A (asks 2) and B (asks 30). Max-min on energy:
    # both rise together until A has its 2 kWh and stops; B gets the other 11.8 kWh.
    # Shares 1 and 11.8/30: Jain (1 + 0.39333)^2 / (2 (1 + 0.39333^2)) = 0.84064,
    # where the plan that knows the requests reaches 1.
    sc = parse_scenario(site(sessions=[session("A", 2.0), session("B", 30.0)]))
    blind = fair_plan(sc, constant_base(sc, 4.0), request_blind=True)
    assert blind.delivered_kwh == pytest.approx((2.0, 11.8))
    assert blind.shares == pytest.approx((1.0, 11.8 / 30.0))
    assert jain(list(blind.shares)) == pytest.approx(0.84064, abs=1e-5)
    # Equal requests: evening out energy is evening out shares (the case below).
    same = parse_scenario(site(sessions=[session("A", 30.0), session("B", 30.0, car_phases=1)]))
    base = constant_base(same, 4.0)
    assert fair_plan(same, base, request_blind=True).delivered_kwh == pytest.approx(
        fair_plan(same, base).delivered_kwh
    )


def test_fairness_can_cost_energy_a_one_phase_car_against_a_three_phase_car() -> None:
    # L1 has 20 A: A's three-phase car gets 690 W per A of it, B's one-phase car 230 W.
    # Most energy: all to A, 13.8 kWh. Fair: 690 x_A = 230 x_B with x_A + x_B = 20:
    # 5 A and 15 A, 3.45 kWh each, 6.9 kWh.
    data = site(sessions=[session("A", 30.0), session("B", 30.0, car_phases=1)])
    sc = parse_scenario(data)
    base = constant_base(sc, 4.0)
    assert energy_upper_bound_kwh(sc, base) == pytest.approx(13.8)
    plan = fair_plan(sc, base)
    assert plan.delivered_kwh == pytest.approx((3.45, 3.45))
    assert plan.energy_kwh == pytest.approx(6.9)
    assert jain(list(plan.shares)) == pytest.approx(1.0)


def test_the_most_energy_at_a_jain_target_lies_between_the_fair_plan_and_the_bound() -> None:
    # The case above: all to A is 13.8 kWh (Jain 0.5), the fair plan 6.9 kWh (Jain 1).
    # Two shares with ratio r = s_B / s_A have Jain (1 + r)^2 / (2 (1 + r^2)), which is
    # 0.9 at r = 0.5: 0.023 x_B = 0.5 x 0.023 x_A x 3, so x_B = 1.5 x_A, and with
    # x_A + x_B = 20: x_A = 8 A, x_B = 12 A, 5.52 + 2.76 = 8.28 kWh. Any more to A
    # lowers r, and so Jain.
    data = site(sessions=[session("A", 30.0), session("B", 30.0, car_phases=1)])
    sc = parse_scenario(data)
    base = constant_base(sc, 4.0)
    at_09 = energy_bound_at_jain(sc, base, 0.9)
    assert at_09.converged
    assert at_09.energy_kwh == pytest.approx(8.28, abs=0.01)
    assert at_09.jain == pytest.approx(0.9, abs=1e-4)
    # Jain 1 is kept to 1e-4, which lets r go to 0.98: a little over the fair 6.9 kWh.
    assert 6.9 - 1e-6 <= energy_bound_at_jain(sc, base, 1.0).energy_kwh <= 6.95
    assert energy_bound_at_jain(sc, base, 0.5).energy_kwh == pytest.approx(13.8)
    assert energy_bound_at_jain(sc, base, 0.5).cuts == 0  # the bound's own plan keeps 0.5


def test_the_fair_plan_holds_back_a_car_limited_by_its_own_maximum() -> None:
    # A: 30 kWh but a 6 A car: 6 x 690 x 1 h = 4.14 kWh at most, a share of 0.138.
    # B then takes the rest of the 20 A line: 9.66 kWh of its 10 kWh, 0.966.
    data = site(sessions=[session("A", 30.0, car_max_current_a=6), session("B", 10.0)])
    sc = parse_scenario(data)
    plan = fair_plan(sc, constant_base(sc, 4.0))
    assert plan.shares == pytest.approx((0.138, 0.966))
    assert jain(list(plan.shares)) == pytest.approx(1.104**2 / (2 * (0.138**2 + 0.966**2)))


def test_sessions_without_a_request_or_a_chance_are_handled() -> None:
    # B asks nothing (not in the shares); no session can charge: share 0, no LP.
    sc = parse_scenario(site(sessions=[session("A", 2.0), session("B", 0.0)]))
    plan = fair_plan(sc, constant_base(sc, 4.0))
    assert plan.shares == pytest.approx((1.0,))
    assert plan.delivered_kwh == pytest.approx((2.0, 0.0))
    full = parse_scenario(site(sessions=[session("A", 2.0)]))
    blocked = fair_plan(full, constant_base(full, 30.0))  # base above the fuse all the time
    assert blocked.shares == (0.0,)
    assert blocked.energy_kwh == 0.0


def test_the_report_carries_the_attainable_fairness_and_the_fair_energy() -> None:
    data = site(
        duration_s=600,
        sessions=[
            session("A", 2.0, depart_s=600),
            session("B", 30.0, depart_s=300),
        ],
    )
    sc = parse_scenario(data)
    result = simulate(sc, NoControl())
    bound = energy_upper_bound_kwh(sc, result.trace.base_a)
    plan = fair_plan(sc, result.trace.base_a)
    out = report(result, bound)
    assert out["jain_fairness_attainable"] == round(jain(list(plan.shares)), 4)
    assert out["energy_upper_bound_fair_kwh"] == round(plan.energy_kwh, 3)
    assert out["energy_upper_bound_fair_kwh"] <= out["energy_upper_bound_kwh"]
    assert 0.5 < out["jain_fairness_attainable"] < 1.0
    skipped = report(result, None)
    assert skipped["jain_fairness_attainable"] is None
    assert skipped["energy_upper_bound_fair_kwh"] is None
