"""The simulated site on hand-computed cases: line currents, the meter path, base loads, faults."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from fuseshare.balancing import Grid
from fuseshare.sim.base_load import base_load_a
from fuseshare.sim.baselines import NoControl
from fuseshare.sim.controllers import LoopController
from fuseshare.sim.engine import simulate
from fuseshare.sim.metrics import jain
from fuseshare.sim.scenario import parse_scenario


def scenario(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "physics",
        "duration_s": 60,
        "seed": 1,
        "grid": "IT_230_3P",
        "max_supply_current_a": 63,
        "group": {
            "max_current_online_a": 50,
            "max_current_offline_a": 24,
            "min_current_a": 6,
            "meter_interval_s": 1,
        },
        "chargers": [
            {"id": "A", "phases": ["L1", "L2", "L3"], "max_current_a": 32},
            {"id": "B", "phases": ["L2", "L3", "L1"], "max_current_a": 32},
        ],
        "base_load": {"kind": "constant", "current_a": [5.0, 6.0, 7.0]},
        "sessions": [
            {
                "charger": "A",
                "arrive_s": 0,
                "depart_s": 60,
                "energy_kwh": 50,
                "car_phases": 1,
                "car_max_current_a": 16,
            },
            {
                "charger": "B",
                "arrive_s": 0,
                "depart_s": 60,
                "energy_kwh": 50,
                "car_phases": 3,
                "car_max_current_a": 10,
            },
        ],
    }
    data.update(overrides)
    if "sessions" not in overrides:
        for session in data["sessions"]:
            session["depart_s"] = data["duration_s"]
    return data


def test_it_line_currents_add_every_car_to_every_line_it_uses() -> None:
    # No control: A's one-phase car (16 A) sits between L1 and L2; B's three-phase car (10 A)
    # loads L2, L3, L1. After the 5 s reaction delay: L1 5+16+10, L2 6+16+10, L3 7+10.
    result = simulate(parse_scenario(scenario()), NoControl())
    assert result.trace.total_a[3].tolist() == [5.0, 6.0, 7.0]
    assert result.trace.total_a[10].tolist() == pytest.approx([31.0, 32.0, 17.0])
    assert result.trace.actual_a[10, 0].tolist() == pytest.approx([16.0, 16.0, 0.0])
    assert result.trace.actual_a[10, 1].tolist() == pytest.approx([10.0, 10.0, 10.0])
    # Energy: 230 V x 16 A for the one-phase car, sqrt(3) x 230 V x 10 A for the other, 55 s.
    a, b = result.sessions
    assert a.delivered_kwh == pytest.approx(230 * 16 * 55 / 3.6e6)
    assert b.delivered_kwh == pytest.approx(3**0.5 * 230 * 10 * 55 / 3.6e6)


def test_tn_one_phase_car_loads_only_the_line_behind_the_chargers_l1() -> None:
    data = scenario(
        grid="TN_400_3P",
        chargers=[{"id": "A", "phases": ["L3", "L1", "L2"], "max_current_a": 16}],
        sessions=[
            {
                "charger": "A",
                "arrive_s": 0,
                "depart_s": 60,
                "energy_kwh": 50,
                "car_phases": 1,
                "car_max_current_a": 16,
            }
        ],
    )
    result = simulate(parse_scenario(data), NoControl())
    assert result.trace.total_a[10].tolist() == pytest.approx([5.0, 6.0, 7.0 + 16.0])


def test_the_amp_guard_reports_the_line_currents_through_the_real_meter_path() -> None:
    controller = LoopController()
    result = simulate(parse_scenario(scenario(duration_s=40)), controller)
    assert controller.hub is not None
    view = controller.hub.view("SIM-AG-0001")
    assert view is not None and view.online and view.reading is not None
    truth = result.trace.total_a[-1]
    # 1 % measurement noise, never frozen (the hub rejects a reading frozen for 2 minutes).
    assert view.reading.current_a == pytest.approx(tuple(truth), rel=0.05)
    status = controller.hub.status("SIM-AG-0001")
    assert status is not None and status.accepted >= 39 and not status.rejected


def test_with_outlet_inactive_the_meter_sees_the_building_without_the_chargers() -> None:
    data = scenario(duration_s=40)
    data["group"] = {**data["group"], "outlet_active": False}
    controller = LoopController()
    simulate(parse_scenario(data), controller)
    assert controller.hub is not None
    reading = controller.hub.view("SIM-AG-0001").reading  # type: ignore[union-attr]
    assert reading is not None
    assert reading.current_a == pytest.approx((5.0, 6.0, 7.0), rel=0.05)


def test_an_expired_limit_falls_back_to_the_failsafe_current_while_the_link_is_cut() -> None:
    data = scenario(
        duration_s=200,
        limit_lifetime_s=30,
        faults=[{"kind": "charger_offline", "charger": "A", "from_s": 60, "to_s": 150}],
    )
    result = simulate(parse_scenario(data), LoopController())
    setpoint = result.trace.setpoint_a[:, 0]
    reasons = result.trace.reasons
    held = setpoint[59]
    assert held >= 6.0
    # The charger keeps its last limit until it expires (< 30 s after the last renewal) ...
    assert setpoint[61] == held
    # ... and applies its failsafe current (6 A) by itself until the link is back.
    assert setpoint[95:150].tolist() == [6.0] * 55
    assert reasons[result.trace.reason[120, 0]].startswith("failsafe")
    assert (
        setpoint[160] != 0.0
        and reasons[result.trace.reason[160, 0]] != reasons[result.trace.reason[120, 0]]
    )


def test_controller_down_leaves_every_charger_on_its_failsafe_and_a_restart_resumes() -> None:
    data = scenario(
        duration_s=260,
        limit_lifetime_s=30,
        faults=[{"kind": "controller_down", "from_s": 60, "to_s": 160}],
    )
    result = simulate(parse_scenario(data), LoopController())
    assert result.trace.setpoint_a[120].tolist() == [6.0, 6.0]
    assert np.isnan(result.trace.limit_a[120]).all()  # no control side, no limit known
    assert result.trace.setpoint_a[250].tolist() != [6.0, 6.0]
    assert result.trace.car_a[250].sum() > 12.0


def test_an_idle_chargers_zero_holds_for_its_quiet_lease_when_the_controller_goes_down() -> None:
    """A limit at or below the failsafe current can only rise when it expires, so it is
    leased longer (and renewed less often): with the control side gone, the charging
    charger falls to its failsafe within its 30 s lease, the idle one keeps 0 A for up to
    its 120 s quiet lease (renewed every 40 s) before it, too, offers its failsafe: a car
    that plugs in there meanwhile waits for it (the price of the quieter line)."""
    data = scenario(
        duration_s=300,
        limit_lifetime_s=30,
        quiet_limit_lifetime_s=120,
        sessions=[
            {
                "charger": "A",
                "arrive_s": 0,
                "depart_s": 300,
                "energy_kwh": 50,
                "car_phases": 3,
                "car_max_current_a": 16,
            },
            {
                "charger": "B",
                "arrive_s": 100,
                "depart_s": 300,
                "energy_kwh": 50,
                "car_phases": 3,
                "car_max_current_a": 16,
            },
        ],
        faults=[{"kind": "controller_down", "from_s": 60, "to_s": 300}],
    )
    setpoint = simulate(parse_scenario(data), LoopController()).trace.setpoint_a
    assert setpoint[59, 0] > 6.0
    assert setpoint[95:, 0].tolist() == [6.0] * 205
    assert setpoint[100:140, 1].tolist() == [0.0] * 40
    assert setpoint[185:, 1].tolist() == [6.0] * 115


def test_the_meter_offline_fault_silences_the_meter_and_the_loop_uses_the_offline_budget() -> None:
    data = scenario(duration_s=200, faults=[{"kind": "meter_offline", "from_s": 50, "to_s": 200}])
    result = simulate(parse_scenario(data), LoopController())
    assert not result.trace.meter_online[60:].any() and result.trace.meter_online[:50].all()
    # Offline budget 24 A per line; A and B share L2: together at most 24 there.
    assert result.trace.setpoint_a[150].sum() <= 24.0 + 1e-6
    assert result.trace.total_a[60:].max() <= 63.0


def test_while_the_meter_is_offline_chargers_that_follow_the_budget_keep_charging() -> None:
    data = scenario(duration_s=200, faults=[{"kind": "meter_offline", "from_s": 50, "to_s": 200}])
    result = simulate(parse_scenario(data), LoopController())
    assert "offline budget" in result.trace.reasons[result.trace.reason[150, 0]]
    assert result.trace.car_a[150].tolist() == [12.0, 10.0]


def test_base_load_series_holds_each_point_until_the_next() -> None:
    spec = {"kind": "series", "points": [[0, 10, 8, 12], [5, 25, 9, 30]]}
    base = base_load_a(spec, Grid.IT_230_3P, 8, seed=0)
    assert base[4].tolist() == [10, 8, 12] and base[5].tolist() == [25, 9, 30]
    assert base[7].tolist() == [25, 9, 30]


def test_household_base_load_is_seeded_and_puts_it_appliances_between_two_lines() -> None:
    spec = {"kind": "household", "seed": 3, "homes": 1, "appliances": ["sauna"]}
    one = base_load_a(spec, Grid.IT_230_3P, 86400, seed=0)
    assert np.array_equal(one, base_load_a(spec, Grid.IT_230_3P, 86400, seed=99))
    assert (one >= 0).all() and one.max() < 63
    single = base_load_a({"kind": "household", "seed": 3}, Grid.TN_230_1P, 3600, seed=0)
    assert (single[:, 1:] == 0).all() and single[:, 0].max() > 0


def test_jain_index_on_hand_computed_values() -> None:
    assert jain([1.0, 1.0, 1.0]) == 1.0
    assert jain([1.0, 0.0, 0.0, 0.0]) == pytest.approx(0.25)
    assert jain([1.0, 0.5]) == pytest.approx(1.5**2 / (2 * 1.25))


def _told(
    version: int,
    tell: bool,
    wants_kwh: tuple[float, float] = (50, 5),
    leave_s: tuple[int, int] = (200, 200),
    down: tuple[int, int] | None = None,
) -> list[float]:
    """Two one-phase cars on L1 of a TN site, the meter silent (24 A offline budget to
    share), by default A wanting 50 kWh and B 5 kWh within 200 s; what they draw at 150 s."""
    data = scenario(
        grid="TN_400_3P",
        duration_s=max(leave_s),
        cars_tell_needs=tell,
        chargers=[
            {"id": "A", "phases": ["L1", "L2", "L3"], "max_current_a": 32},
            {"id": "B", "phases": ["L1", "L2", "L3"], "max_current_a": 32},
        ],
        sessions=[
            {
                "charger": c,
                "arrive_s": 0,
                "depart_s": leave,
                "energy_kwh": kwh,
                "car_phases": 1,
                "car_max_current_a": 16,
            }
            for c, kwh, leave in zip("AB", wants_kwh, leave_s, strict=True)
        ],
        faults=[{"kind": "meter_offline", "from_s": 0, "to_s": max(leave_s)}]
        + (
            []
            if down is None
            else [{"kind": "controller_down", "from_s": down[0], "to_s": down[1]}]
        ),
    )
    data["group"]["version"] = version
    return simulate(parse_scenario(data), LoopController()).trace.car_a[150].tolist()


def test_cars_that_tell_their_needs_are_shared_by_them_from_version_5() -> None:
    """A needs ten times B's current: weights 10 : 1 put A at its car max (16 A) and B
    at the 8 A left over; told nothing, or version 4, they split 24 A evenly."""
    assert _told(5, tell=True) == [16.0, 8.0]
    assert _told(5, tell=False) == [12.0, 12.0]
    assert _told(4, tell=True) == [12.0, 12.0]


def test_a_car_leaving_sooner_gets_more_from_version_5() -> None:
    """Both want 2 kWh; A leaves at 1000 s, B at 10 000 s. Needed: 2000 Wh x 3600 s/h /
    1000 s / 230 V = 31 A for A, 3.1 A for B: weights 10 : 1 put A at its car max (16 A)
    and B at the 8 A left. (Departures read on the wrong clock once made both look gone
    already, and they split 24 A evenly.)"""
    assert _told(5, tell=True, wants_kwh=(2, 2), leave_s=(1000, 10_000)) == [16.0, 8.0]


def _leaves_soon(version: int) -> list[float]:
    """TN, the meter silent (24 A offline budget per line). A: a one-phase car on L1
    that wants 3 kWh and leaves at 1200 s (24 A for 1200 s is 1.8 kWh: it needs L1 all
    the time). B: a three-phase car that wants 5 kWh and stays until 4000 s. What they
    draw at 150 s."""
    data = scenario(
        grid="TN_400_3P",
        duration_s=4000,
        cars_tell_needs=True,
        sessions=[
            {
                "charger": "A",
                "arrive_s": 0,
                "depart_s": 1200,
                "energy_kwh": 3,
                "car_phases": 1,
                "car_max_current_a": 32,
            },
            {
                "charger": "B",
                "arrive_s": 0,
                "depart_s": 4000,
                "energy_kwh": 5,
                "car_phases": 3,
                "car_max_current_a": 32,
            },
        ],
        chargers=[
            {"id": "A", "phases": ["L1", "L2", "L3"], "max_current_a": 32},
            {"id": "B", "phases": ["L1", "L2", "L3"], "max_current_a": 32},
        ],
        faults=[{"kind": "meter_offline", "from_s": 0, "to_s": 4000}],
    )
    data["group"]["version"] = version
    return simulate(parse_scenario(data), LoopController()).trace.car_a[150].tolist()


def test_version_6_gives_the_line_to_the_car_that_leaves_soon() -> None:
    """Version 6's plan: A has L1 while it is there, B waits (it has 2800 s after A
    left). Version 5 weighs by need (A 39 A, B 6.5 A) but admits both: B's minimum
    6 A takes a quarter of L1 from A, 18 A and 6 A."""
    assert _leaves_soon(6) == [24.0, 0.0]
    assert _leaves_soon(5) == [18.0, 6.0]


def test_needs_are_told_again_when_the_control_side_comes_back() -> None:
    """The store keeps what a car said; after the control side was down (60-100 s) the
    resumed sessions are shared by it again (else both would count as average: 12/12)."""
    assert _told(5, tell=True, down=(60, 100)) == [16.0, 8.0]


def test_the_sharing_memory_outlives_controller_down_as_the_store_keeps_it() -> None:
    """What each session had before the control side went down is where the restarted
    loop starts (the store's sharing_memory), not zero."""
    data = scenario(
        duration_s=400, faults=[{"kind": "controller_down", "from_s": 150, "to_s": 200}]
    )
    controller = LoopController()
    simulate(parse_scenario(data), controller)
    kept = controller.kept_memory
    assert kept is not None
    sessions = kept["state"]["sessions"]  # type: ignore[index]
    assert set(sessions) == {"A", "B"}
    assert all(s["served_as"] > 0 for s in sessions.values())
    # (That a loop built from it starts there: test_group_loop's restart test.)


def _full_car_at(version: int, t_s: int) -> list[float]:
    """Three three-phase cars, room for two minima (offline budget 12 A, no meter).
    A wants 0.5 kWh: at 6 A (6 x 3 x 230 V = 4.14 kW) it is full after about 435 s."""
    big = {"arrive_s": 0, "depart_s": 1200, "energy_kwh": 50, "car_phases": 3}
    data = scenario(
        grid="TN_400_3P",
        duration_s=1200,
        chargers=[{"id": k, "phases": ["L1", "L2", "L3"], "max_current_a": 16} for k in "ABC"],
        sessions=[
            {**big, "charger": "A", "energy_kwh": 0.5},
            {**big, "charger": "B"},
            {**big, "charger": "C"},
        ],
        faults=[{"kind": "meter_offline", "from_s": 0, "to_s": 1200}],
    )
    data["group"]["max_current_offline_a"] = 12
    data["group"]["version"] = version
    return simulate(parse_scenario(data), LoopController()).trace.setpoint_a[t_s].tolist()


def test_version_7_gives_a_full_cars_minimum_to_the_car_that_waits() -> None:
    """A and B start, C waits. A is full after about 435 s. Version 6 holds A's 6 A
    until its minimum on time (900 s) is over, so at 600 s C still waits; version 7
    pauses A once it says it wants no energy, and C has A's 6 A."""
    assert _full_car_at(6, 600) == [6.0, 6.0, 0.0]
    assert _full_car_at(7, 600) == [0.0, 6.0, 6.0]


def test_a_plot_bucket_with_nothing_in_it_is_a_gap_without_a_warning() -> None:
    """Per-minute means of a charger's current over a day: minutes with no car are NaN
    (a gap in the plot), and nothing is printed at the person who ran the simulation."""
    import warnings

    from fuseshare.sim.plots import _reduce

    values = np.full((5 * 3600, 2), np.nan)
    values[:60, 0] = 10.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        means = _reduce(values, 60, "mean")
        peaks = _reduce(values, 60, "max")
    assert means.shape == peaks.shape == (300, 2)
    assert means[0, 0] == peaks[0, 0] == 10.0
    assert np.isnan(means[1:, 0]).all() and np.isnan(means[:, 1]).all()


def slow_cars_hour(ev_response_s: float) -> dict[str, Any]:
    """Six cars on IT 63 A for an hour, the building stepping between 20 and 40 A a line
    every 4 minutes: the loop keeps cutting and raising. Three cars come in the first
    two minutes, three more every five minutes after ten."""
    arrivals = (0, 60, 120, 600, 900, 1200)
    points: list[list[float]] = [[0, 20, 20, 20]]
    for k, t in enumerate(range(300, 3600, 240)):
        points.append([t, 20 + (k % 3) * 9, 20 + ((k + 1) % 3) * 8, 20 + ((k + 2) % 3) * 10])
    wirings = [["L1", "L2", "L3"], ["L2", "L3", "L1"], ["L3", "L1", "L2"]]
    return scenario(
        duration_s=3600,
        group={
            "max_current_online_a": 60,
            "max_current_offline_a": 24,
            "min_current_a": 6,
            "meter_interval_s": 1,
        },
        chargers=[{"id": f"C{i}", "phases": wirings[i % 3], "max_current_a": 32} for i in range(6)],
        base_load={"kind": "series", "points": points},
        sessions=[
            {
                "charger": f"C{i}",
                "arrive_s": arrivals[i],
                "depart_s": 3600,
                "energy_kwh": 60,
                "car_phases": 3 if i % 2 else 1,
                "car_max_current_a": 16 if i % 2 else 32,
            }
            for i in range(6)
        ],
        ev_response_s=ev_response_s,
    )


def test_cars_slower_than_iec_are_learned_and_then_never_overload_the_fuse(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Cars that take 12 s to follow a limit (IEC 61851-1 allows 5): counting on 5 s, the
    loop gave the others room these cars had not yet released (163 s above the fuse
    outside the reaction delay, 162 of them after the first six minutes). Seen above a
    limit it was cut to longer ago than 5 s, a car's limits count on the longer time for
    the rest of its session, and once cars here have shown it, so do the next car's:
    after the first cuts nothing passes the fuse but what the building's own steps
    cause, and the three cars that come later need not show it themselves (without the
    site's time all six do)."""
    from fuseshare.sim.metrics import excused_mask

    with caplog.at_level("WARNING", logger="fuseshare.control.loop"):
        result = simulate(parse_scenario(slow_cars_hour(12.0)), LoopController())
    above = result.trace.total_a > result.scenario.max_supply_current_a
    unexcused = (above & ~excused_mask(result)).any(axis=1)
    assert unexcused[360:].sum() == 0
    assert unexcused.sum() <= 10
    slow = [r.getMessage() for r in caplog.records if "IEC 61851-1 allows 5 s" in r.getMessage()]
    # Each car is named once, when it first showed it; once two of them (and half of
    # those charging) had, the cars that came later were counted on their time at once.
    assert 2 <= len(slow) <= 4


def test_cars_that_follow_within_five_seconds_teach_the_loop_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from fuseshare.sim.metrics import report

    with caplog.at_level("WARNING", logger="fuseshare.control.loop"):
        result = simulate(parse_scenario(slow_cars_hour(5.0)), LoopController())
    assert report(result, None)["seconds_above_fuse_unexcused"] == 0
    assert not [r for r in caplog.records if "IEC 61851-1" in r.getMessage()]


def two_winding_car_half_hour() -> dict[str, Any]:
    """IT 40 A: a car on two windings (L1-L3 and L3-L2, so L3 carries both) and a one-phase
    car sharing L3, which the building leaves 14 A; the building steps every 5 minutes."""
    points = [
        [t, 15.0, 15.0 + 4 * (k % 2), 25.0 - 3 * (k % 3)] for k, t in enumerate(range(0, 1800, 300))
    ]
    return scenario(
        duration_s=1800,
        max_supply_current_a=40,
        group={
            "max_current_online_a": 40,
            "max_current_offline_a": 12,
            "min_current_a": 6,
            "meter_interval_s": 1,
        },
        chargers=[
            {"id": "A", "phases": ["L1", "L3", "L2"], "max_current_a": 16},
            {"id": "B", "phases": ["L3", "L2"], "max_current_a": 16},
        ],
        base_load={"kind": "series", "points": points},
        sessions=[
            {
                "charger": "A",
                "arrive_s": 20,
                "depart_s": 1800,
                "energy_kwh": 40,
                "car_phases": 2,
                "car_max_current_a": 16,
            },
            {
                "charger": "B",
                "arrive_s": 200,
                "depart_s": 1800,
                "energy_kwh": 40,
                "car_phases": 1,
                "car_max_current_a": 16,
            },
        ],
    )


def test_a_car_on_two_it_windings_is_counted_twice_on_its_middle_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Such a car shows twice its current on its charger's middle terminal. The loop capped
    each terminal of a sample at the car's limit, so the sample looked like a three-phase
    car's, the car was planned with its middle line once, and it was started and paused
    over and over above the fuse (51 s in a random scenario, 1.18 times the fuse). Now
    the car is counted as the heaviest car until its phases show, then as what it is;
    it is not taken for a charger drawing more than its limit either."""
    from fuseshare.sim.metrics import report

    with caplog.at_level("WARNING", logger="fuseshare.control.loop"):
        result = simulate(parse_scenario(two_winding_car_half_hour()), LoopController())
    out = report(result, None)
    assert out["seconds_above_fuse_unexcused"] == 0
    # L3 holds one car at a time: 1.78 kWh, 92 % of the upper bound (1.94 kWh).
    assert out["energy_delivered_kwh"] > 1.5
    assert out["jain_fairness"] > 0.9
    assert not [r for r in caplog.records if "may draw" in r.getMessage()]
    assert not [r for r in caplog.records if "IEC 61851-1" in r.getMessage()]
