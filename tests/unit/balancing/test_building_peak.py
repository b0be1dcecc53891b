"""The building's peak, the offline budget it leaves, and failsafe currents that fit it."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fuseshare.balancing import (
    AlgorithmState,
    Grid,
    PerLine,
    Snapshot,
    get_algorithm,
    wiring_line_factors,
)
from fuseshare.balancing.building_peak import (
    DAY_S,
    BuildingPeak,
    FailsafeMember,
    lowered_failsafes,
    lowered_offline_budget,
)
from fuseshare.balancing.topology import ALL_LINES, Line

from .support import charger, config, reading


def feed(peak: BuildingPeak, start_s: float, seconds: int, rest: tuple[float | None, ...]) -> bool:
    changed = False
    for k in range(seconds):
        changed |= peak.add(start_s + k, rest)
    return changed


def test_the_peak_is_the_highest_minute_median_so_a_few_seconds_do_not_raise_it() -> None:
    peak = BuildingPeak()
    assert peak.peak() == (None, None, None)
    feed(peak, 0, 60, (40.0, 20.0, None))
    # Minute 1: 58 s at 40 A and a 2 s spike to 80 A on L1 (a car following late).
    for k in range(60):
        peak.add(60 + k, (80.0 if k in (10, 11) else 40.0, 20.0, None))
    peak.add(120, (10.0, 10.0, None))  # closes minute 1
    l1, l2, l3 = peak.peak()
    assert l1 == pytest.approx(40.0)  # not 80, and not the mean 41.33 either
    assert l2 == pytest.approx(20.0)
    assert l3 is None


def test_add_says_when_a_closed_minute_raised_the_peak() -> None:
    peak = BuildingPeak()
    assert not feed(peak, 0, 60, (30.0, 30.0, 30.0))  # the first minute is still open
    assert peak.add(60, (30.0, 30.0, 30.0))  # it closed: a first peak
    assert not feed(peak, 61, 59, (30.0, 30.0, 30.0))
    assert not peak.add(120, (35.0, 30.0, 30.0))  # closing a minute that was not higher
    assert not feed(peak, 121, 59, (35.0, 30.0, 30.0))
    assert peak.add(180, (0.0, 0.0, 0.0))  # minute 2 was at 35 on L1
    # A heavy load for most of a minute counts (its median), one for a few seconds does not.
    assert not feed(peak, 181, 59, (0.0, 0.0, 0.0))
    assert peak.add(240, (0.0, 0.0, 0.0)) is False
    for k in range(60):
        peak.add(240 + k, (50.0 if k < 35 else 0.0, 0.0, 0.0))
    assert peak.add(300, (0.0, 0.0, 0.0)) and peak.peak()[0] == pytest.approx(50.0)


def test_not_a_number_and_negative_readings_do_not_count() -> None:
    peak = BuildingPeak()
    feed(peak, 0, 30, (math.nan, -5.0, 12.0))
    feed(peak, 30, 30, (20.0, -5.0, 12.0))
    peak.add(60, (0.0, 0.0, 0.0))
    assert peak.peak() == (pytest.approx(20.0), 0.0, pytest.approx(12.0))


def test_a_peak_is_forgotten_once_its_day_left_the_window() -> None:
    peak = BuildingPeak(window_days=3)
    feed(peak, 0, 61, (50.0, 10.0, 10.0))  # day 0: the sauna
    feed(peak, 1 * DAY_S, 61, (30.0, 10.0, 10.0))
    feed(peak, 2 * DAY_S, 61, (30.0, 10.0, 10.0))
    assert peak.peak()[0] == pytest.approx(50.0)  # days 0, 1, 2: still inside
    feed(peak, 3 * DAY_S, 61, (30.0, 10.0, 10.0))
    assert peak.peak()[0] == pytest.approx(30.0)  # day 0 left when day 3 began


def test_the_offline_budget_is_lowered_only_on_the_lines_where_the_building_leaves_less() -> None:
    cfg = config(Grid.TN_400_3P, fuse=63.0, offline=24.0, margin=1.0)
    assert lowered_offline_budget(cfg, (None, None, None)) is None
    assert lowered_offline_budget(cfg, (30.0, 38.0, 10.0)) is None  # 63 - 1 - 38 = 24: fits
    budget = lowered_offline_budget(cfg, (30.0, 45.05, None))
    assert budget == PerLine(24.0, 16.9, 24.0)  # 63 - 1 - 45.05 = 16.95, down to 0.1 A
    assert lowered_offline_budget(cfg, (70.0, 0.0, 0.0)) == PerLine(0.0, 24.0, 24.0)
    # The configured budget never counts above the fuse or the group limit.
    small = config(Grid.TN_400_3P, fuse=63.0, online=20.0, offline=24.0, margin=1.0)
    assert lowered_offline_budget(small, (45.0, 0.0, 0.0)) == PerLine(17.0, 20.0, 20.0)


def test_failsafes_keep_whole_6_a_for_the_first_chargers_that_fit_and_stop_the_rest() -> None:
    cfg = config(Grid.IT_230_3P, fuse=50.0, offline=20.0)
    members = [
        FailsafeMember("A", ("L1", "L2"), 6.0, 32.0),  # IT: loads L1 and L2
        FailsafeMember("B", ("L2", "L3"), 6.0, 32.0),  # loads L2 and L3
        FailsafeMember("C", ("L3", "L1"), 10.0, 32.0),  # loads L3 and L1
    ]
    # L2 leaves 10 A: A keeps 6; B would need 6 on L2 where 4 are left, below 6 A: 0.
    # C: L3 has 10 and L1 has 10 - 6 = 4 left, so 4 A, below 6 A: 0.
    assert lowered_failsafes(cfg, members, PerLine(10.0, 10.0, 10.0)) == {
        "A": 6.0,
        "B": 0.0,
        "C": 0.0,
    }
    # With more room C gets what is left on L1 (20 - 6 = 14 > 10): its own 10 A.
    assert lowered_failsafes(cfg, members, PerLine(20.0, 12.0, 20.0)) == {
        "A": 6.0,
        "B": 6.0,
        "C": 10.0,
    }
    # A smaller share that is still at least 6 A is given rather than nothing.
    assert lowered_failsafes(cfg, members[2:], PerLine(7.55, 20.0, 20.0)) == {"C": 7.5}


def test_on_tn_one_phase_chargers_on_other_lines_keep_their_failsafe() -> None:
    cfg = config(Grid.TN_400_3P, fuse=63.0, offline=24.0)
    members = [
        FailsafeMember("P1", ("L1",), 6.0, 32.0),
        FailsafeMember("P2", ("L2",), 6.0, 32.0),
        FailsafeMember("P3", ("L3",), 6.0, 32.0),
        FailsafeMember("T", ("L1", "L2", "L3"), 6.0, 16.0),
    ]
    # Only L2 is short (8 A): P2 keeps 6 A there, the three-phase T does not fit.
    assert lowered_failsafes(cfg, members, PerLine(24.0, 8.0, 24.0)) == {
        "P1": 6.0,
        "P2": 6.0,
        "P3": 6.0,
        "T": 0.0,
    }


WIRINGS: list[tuple[Line, ...]] = [
    ("L1",),
    ("L2",),
    ("L3",),
    ("L1", "L2"),
    ("L2", "L3"),
    ("L3", "L1"),
    ("L1", "L2", "L3"),
    ("L2", "L3", "L1"),
]


@settings(max_examples=300, deadline=None)
@given(
    grid=st.sampled_from([Grid.TN_400_3P, Grid.IT_230_3P]),
    members=st.lists(
        st.tuples(
            st.sampled_from(WIRINGS),
            st.sampled_from([0.0, 6.0, 8.0, 10.0, 16.0]),
            st.sampled_from([6.0, 16.0, 32.0]),
        ),
        max_size=12,
    ),
    budget=st.tuples(*[st.floats(0.0, 60.0, allow_nan=False)] * 3),
)
def test_lowered_failsafes_always_fit_the_budget_and_a_car(
    grid: Grid,
    members: list[tuple[tuple[Line, ...], float, float]],
    budget: tuple[float, float, float],
) -> None:
    cfg = config(grid, fuse=63.0, offline=24.0)
    if grid is Grid.IT_230_3P:  # on IT a charger is wired to two or three lines
        members = [
            (w if len(w) > 1 else (*w, "L1" if w[0] != "L1" else "L2"), fs, mx)
            for w, fs, mx in members
        ]
    specs = [FailsafeMember(f"C{k}", w, fs, mx) for k, (w, fs, mx) in enumerate(members)]
    got = lowered_failsafes(cfg, specs, PerLine(*budget))
    load = dict.fromkeys(ALL_LINES, 0.0)
    for m in specs:
        value = got[m.serial]
        assert value == 0.0 or value >= 6.0  # never a current no car can take
        assert value <= min(m.failsafe_current_a, m.max_current_a) + 1e-9  # never more
        for line, factor in wiring_line_factors(grid, m.wiring).items():
            load[line] += factor * value
    for p, line in enumerate(ALL_LINES):
        assert load[line] <= budget[p] + 1e-6


@pytest.mark.parametrize("version", [1, 2, 3])
def test_every_version_keeps_a_silent_meters_chargers_inside_the_lowered_budget(
    version: int,
) -> None:
    cfg = config(Grid.TN_400_3P, fuse=63.0, offline=24.0)
    chargers = (charger("T", "L1 L2 L3"), charger("P", "L2"))
    stale = reading(40.0, 40.0, 40.0, age_s=60.0)
    algo = get_algorithm("standard", version)
    plain = algo.allocate(Snapshot(cfg, chargers, 0.0, stale), AlgorithmState()).allocation
    lowered = algo.allocate(
        Snapshot(cfg, chargers, 0.0, stale, offline_budget_a=PerLine(24.0, 9.0, 24.0)),
        AlgorithmState(),
    ).allocation
    assert sum(c.line_load_a.l2_a for c in plain.chargers) == pytest.approx(24.0)
    limits = {b.line: b.limit_a for b in lowered.lines}
    assert limits == {"L1": 24.0, "L2": 9.0, "L3": 24.0}
    on_l2 = sum(c.line_load_a.l2_a for c in lowered.chargers)
    assert on_l2 <= 9.0 + 1e-9
    assert sorted(c.current_a for c in lowered.chargers) == [0.0, 9.0]  # room for one only
