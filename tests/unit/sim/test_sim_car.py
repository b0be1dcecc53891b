"""The virtual car on hand-computed cases: reaction delay, IEC minimum, need, taper, power."""

from __future__ import annotations

import math

import pytest

from fuseshare.balancing import Grid
from fuseshare.sim.car import VirtualCar
from fuseshare.sim.scenario import watts_per_amp


def car(**kw: float) -> VirtualCar:
    values: dict[str, float] = {
        "max_current_a": 16.0,
        "watts_per_amp": 690.0,
        "energy_kwh": 30.0,
        "arrive_s": 0.0,
        "soc_start": 0.2,
        "response_s": 5.0,
    }
    values.update(kw)
    return VirtualCar(**values)  # type: ignore[arg-type]


def drive(c: VirtualCar, limits: dict[int, float], until_s: int) -> list[float]:
    """Step once per second; ``limits`` maps a second to the limit offered from then on."""
    out, limit = [], 0.0
    for t in range(until_s):
        limit = limits.get(t, limit)
        out.append(c.step(float(t), 1.0, limit))
    return out


def test_a_car_follows_a_new_limit_only_after_its_reaction_delay() -> None:
    drawn = drive(car(), {0: 16.0, 100: 8.0, 200: 12.0}, 210)
    assert drawn[:5] == [0.0] * 5  # plugged in at 0: it has seen 16 A for 5 s only at t = 5
    assert drawn[5] == 16.0
    assert drawn[104] == 16.0 and drawn[105] == 8.0  # a decrease also takes 5 s (IEC 61851)
    assert drawn[204] == 8.0 and drawn[205] == 12.0


def test_a_car_never_draws_more_than_its_own_maximum() -> None:
    drawn = drive(car(max_current_a=10.0), {0: 32.0}, 20)
    assert max(drawn) == 10.0


def test_below_six_amperes_offered_a_car_draws_nothing() -> None:
    drawn = drive(car(), {0: 5.9, 50: 6.0}, 60)
    assert drawn[:55] == [0.0] * 55 and drawn[55] == 6.0


def test_a_car_stops_when_its_request_is_met_exactly() -> None:
    # 0.01 kWh at 16 A x 690 W/A = 11,040 W takes 3.26 s: three full seconds and a part.
    c = car(energy_kwh=0.01)
    drawn = drive(c, {0: 16.0}, 12)
    assert drawn[5:8] == [16.0, 16.0, 16.0]
    assert drawn[8] == pytest.approx((0.01 * 3.6e6 - 3 * 11_040) / 690.0)
    assert drawn[9:] == [0.0, 0.0, 0.0]
    assert c.delivered_kwh == pytest.approx(0.01) and not c.wants_energy


def test_the_taper_lowers_the_maximum_linearly_above_eighty_percent() -> None:
    # soc 0.9 is halfway from 0.8 to 1.0: half of 32 A.
    assert car(max_current_a=32.0, soc_start=0.9).taper_cap_a() == pytest.approx(16.0)
    assert car(max_current_a=32.0, soc_start=0.8).taper_cap_a() == 32.0
    # Never below 10 % of the maximum, however full.
    assert car(max_current_a=32.0, soc_start=0.999).taper_cap_a() == pytest.approx(3.2)
    c = car(max_current_a=32.0, soc_start=0.9, battery_kwh=10.0)
    assert drive(c, {0: 32.0}, 6)[5] == pytest.approx(16.0)


@pytest.mark.parametrize(
    ("grid", "wiring", "car_phases", "watts"),
    [
        (Grid.TN_400_3P, ("L1", "L2", "L3"), 3, 690.0),
        (Grid.TN_400_3P, ("L2", "L3", "L1"), 1, 230.0),
        (Grid.TN_400_3P, ("L1", "L2", "L3"), 2, 460.0),
        (Grid.TN_230_1P, ("L1",), 3, 230.0),  # clipped to the one line the charger has
        (Grid.IT_230_3P, ("L1", "L2", "L3"), 1, 230.0),  # one winding between two lines
        (Grid.IT_230_3P, ("L1", "L2", "L3"), 3, math.sqrt(3) * 230.0),
        (Grid.IT_230_3P, ("L1", "L2"), 3, 230.0),  # a two-line IT charger feeds one phase
    ],
)
def test_charging_power_per_ampere_follows_scenarios_md(
    grid: Grid, wiring: tuple[str, ...], car_phases: int, watts: float
) -> None:
    assert watts_per_amp(grid, wiring, car_phases) == pytest.approx(watts)  # type: ignore[arg-type]
