"""Plausibility: what is rejected, flagged or reported as an installation fault."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from meter_fakes import T0, reading

from fuseshare.meters.plausibility import PlausibilityChecker, PlausibilityLimits

FUSE = PlausibilityLimits(fuse_a=63.0)


def checker(**kw: object) -> PlausibilityChecker:
    return PlausibilityChecker(limits=PlausibilityLimits(fuse_a=63.0, **kw), expected_lines=3)  # type: ignore[arg-type]


def test_a_normal_reading_is_accepted_without_findings() -> None:
    v = checker().check(reading(voltage_v=(230.0,) * 3, power_w=(2200.0, 1800.0, 2700.0)), T0)
    assert v.accepted
    assert v.findings == ()


@pytest.mark.parametrize(
    ("current", "code"),
    [
        ((math.nan, 1.0, 1.0), "not_finite"),
        ((1.0, math.inf, 1.0), "not_finite"),
        ((-0.5, 1.0, 1.0), "negative"),
        ((1.0, 1.0, 190.0), "absurd"),
        ((1.0, 1.0), "line_count"),
        ((), "line_count"),
    ],
)
def test_impossible_values_are_rejected_with_the_reason(
    current: tuple[float, ...], code: str
) -> None:
    v = checker().check(reading(current), T0)
    assert not v.accepted
    assert code in v.codes
    assert v.reason


def test_a_real_overload_is_kept_because_it_matters_most() -> None:
    # 1.5 × the fuse is an overload the balancing must see, not a meter error.
    assert checker().check(reading((95.0, 10.0, 10.0)), T0).accepted


def test_without_a_known_fuse_only_absurd_building_currents_are_rejected() -> None:
    c = PlausibilityChecker()
    assert c.check(reading((400.0, 10.0, 10.0)), T0).accepted
    assert "absurd" in PlausibilityChecker().check(reading((5000.0, 1.0, 1.0)), T0).codes


def test_nan_in_voltage_or_power_is_rejected_too() -> None:
    v = checker().check(reading(voltage_v=(230.0, math.nan, 230.0)), T0)
    assert not v.accepted and "not_finite" in v.codes


def test_timestamps_from_the_future_are_rejected() -> None:
    c = checker()
    assert c.check(reading(ts_s=T0 + 3), T0).accepted  # small clock skew tolerated
    v = c.check(reading(ts_s=T0 + 60), T0 + 1)
    assert not v.accepted and v.codes == ("future_ts",)


def test_out_of_order_and_duplicate_timestamps_are_rejected() -> None:
    c = checker()
    assert c.check(reading(ts_s=T0, seq=1), T0).accepted
    assert c.check(reading(ts_s=T0 - 1, seq=2), T0 + 1).codes == ("out_of_order",)
    assert c.check(reading(ts_s=T0, seq=1), T0 + 1).codes == ("duplicate",)
    assert c.check(reading((11.0, 8.0, 12.0), ts_s=T0 + 1, seq=2), T0 + 1).accepted


def test_out_of_order_seq_is_rejected_but_a_reboot_is_recognised() -> None:
    c = checker()
    assert c.check(reading(seq=500), T0).accepted
    assert c.check(reading(seq=499), T0 + 1).codes == ("out_of_order",)
    assert c.check(reading(seq=500), T0 + 1).codes == ("duplicate",)
    # Without timestamps: a short run of rising seqs below the old one is a reboot.
    assert not c.check(reading((1.0, 2.0, 3.0), seq=0), T0 + 2).accepted
    assert not c.check(reading((1.1, 2.0, 3.0), seq=1), T0 + 3).accepted
    v = c.check(reading((1.2, 2.0, 3.0), seq=2), T0 + 4)
    assert v.accepted and "seq_restart" in v.codes
    # With timestamps a reboot is obvious at once: the time moved on.
    c2 = checker()
    assert c2.check(reading(seq=900, ts_s=T0), T0).accepted
    v2 = c2.check(reading(seq=1, ts_s=T0 + 1), T0 + 1)
    assert v2.accepted and "seq_restart" in v2.codes


def test_rejected_readings_do_not_move_the_state_forward() -> None:
    c = checker()
    assert not c.check(reading((math.nan, 1, 1), ts_s=T0 + 10, seq=99), T0 + 10).accepted
    assert c.check(reading(ts_s=T0 + 1, seq=1), T0 + 10).accepted


def test_a_value_frozen_for_minutes_is_rejected_then_recovers_when_it_moves() -> None:
    c = checker(frozen_after_s=120.0)
    same = dict(voltage_v=(230.1, 229.8, 231.0))
    for k in range(120):
        assert c.check(reading(at_s=T0 + k, seq=k + 1, **same), T0 + k).accepted  # type: ignore[arg-type]
    v = c.check(reading(at_s=T0 + 120, seq=121, **same), T0 + 120)  # type: ignore[arg-type]
    assert not v.accepted and v.codes == ("frozen",)
    moved = reading((10.1, 8.0, 12.0), at_s=T0 + 121, seq=122, voltage_v=(230.1, 229.8, 231.0))
    assert c.check(moved, T0 + 121).accepted


def test_late_arrival_and_energy_going_backwards_are_flagged_not_rejected() -> None:
    c = checker()
    assert c.check(reading(energy_kwh=100.0, ts_s=T0), T0).accepted
    v = c.check(reading((9.0, 8.0, 12.0), energy_kwh=99.0, ts_s=T0 + 1), T0 + 20)
    assert v.accepted
    assert set(v.codes) == {"energy_backwards", "delayed"}
    assert all(f.severity == "flag" for f in v.findings)


def feed(c: PlausibilityChecker, n: int, make: object) -> list[str]:
    """Feed n readings from make(k); return every fault code reported."""
    codes: list[str] = []
    for k in range(n):
        v = c.check(make(k), T0 + k)  # type: ignore[operator]
        assert v.accepted
        codes += [f.code for f in v.findings if f.severity == "fault"]
    return codes


def test_a_clamp_mounted_backwards_is_reported_once_as_an_installation_fault() -> None:
    c = checker(fault_after_readings=30)

    def make(k: int):  # current rises on L2, its power goes ever more negative
        i2 = 5.0 + k * 0.2
        return reading(
            (10.0 + k % 3, i2, 12.0),
            at_s=T0 + k,
            voltage_v=(230.0, 230.0, 230.0),
            power_w=(2250.0, -230.0 * i2 * 0.98, 2700.0),
        )

    assert feed(c, 29, make) == []
    codes = feed(c, 40, lambda k: make(k + 29))
    assert codes == ["clamp_reversed"]
    faults = c.installation_faults()
    assert [(f.code, f.line) for f in faults] == [("clamp_reversed", "L2")]
    assert "backwards" in faults[0].message


def test_a_clamp_on_the_wrong_phase_shows_as_a_120_degree_power_factor() -> None:
    c = checker(fault_after_readings=10)

    def make(k: int):
        i = 10.0 + k % 4
        # L3's clamp sits on L1's conductor: V3·I·cos(120°) ≈ -0.5 · V·I
        return reading(
            (i, 8.0, i),
            at_s=T0 + k,
            voltage_v=(230.0, 230.0, 230.0),
            power_w=(230 * i, 230 * 8.0, -0.5 * 230 * i),
        )

    codes = feed(c, 20, make)
    assert "clamp_wrong_phase" in codes
    assert ("clamp_wrong_phase", "L3") in [(f.code, f.line) for f in c.installation_faults()]


def test_two_clamps_on_one_conductor_are_reported_but_a_balanced_load_is_not() -> None:
    c = checker(fault_after_readings=20)
    # L1 and L2 move together, reading after reading, over several amperes.
    codes = feed(c, 40, lambda k: reading((5.0 + (k % 7), 5.0 + (k % 7), 9.0), at_s=T0 + k))
    assert codes == ["clamps_same_phase"]

    balanced = checker(fault_after_readings=20)
    # A three-phase heater: equal on all lines, but steady: not a wiring fault.
    assert feed(balanced, 60, lambda k: reading((16.0, 16.0, 16.0), at_s=T0 + k, seq=k)) == []


def test_patterns_must_be_sustained_and_clear_when_they_stop() -> None:
    c = checker(fault_after_readings=10)

    def reversed_l1(k: int):
        return reading(
            (10.0 + k % 2, 5.0, 5.0),
            at_s=T0 + k,
            voltage_v=(230.0,) * 3,
            power_w=(-2300.0, 1100.0, 1100.0),
        )

    def normal(k: int):
        return reading(
            (10.0 + k % 2, 5.0, 5.0),
            at_s=T0 + k,
            voltage_v=(230.0,) * 3,
            power_w=(2300.0, 1100.0, 1100.0),
        )

    # Interrupted evidence never adds up to a fault.
    for k in range(30):
        v = c.check(reversed_l1(k) if k % 5 else normal(k), T0 + k)
        assert not [f for f in v.findings if f.severity == "fault"]
    feed(c, 12, lambda k: reversed_l1(100 + k))
    assert c.installation_faults()
    feed(c, 1, lambda k: normal(200 + k))
    assert c.installation_faults() == ()


def test_small_currents_say_nothing_about_clamps() -> None:
    c = checker(fault_after_readings=5)
    codes = feed(
        c,
        20,
        lambda k: reading(
            (0.5 + k % 2 * 0.1, 0.4, 0.3),
            at_s=T0 + k,
            voltage_v=(230.0,) * 3,
            power_w=(-100.0, 50.0, 50.0),
        ),
    )
    assert codes == []


any_float = st.floats(allow_nan=True, allow_infinity=True, width=64)
per_line = st.lists(any_float, min_size=1, max_size=3).map(tuple)


@given(
    st.lists(
        st.tuples(
            per_line,
            st.none() | per_line,
            st.none() | per_line,
            st.none() | st.integers(min_value=0, max_value=50),
            st.none() | st.floats(min_value=-100, max_value=100),
            st.floats(min_value=0, max_value=5),
        ),
        min_size=1,
        max_size=40,
    )
)
@settings(max_examples=200, deadline=None)
def test_whatever_arrives_only_sane_values_are_ever_accepted(
    stream: list[tuple[tuple[float, ...], object, object, int | None, float | None, float]],
) -> None:
    c = checker()
    now = T0
    last_ts: float | None = None
    for current, volts, power, seq, ts_offset, step in stream:
        now += step
        ts = None if ts_offset is None else now + ts_offset
        r = reading(current, at_s=now, ts_s=ts, seq=seq, voltage_v=volts, power_w=power)  # type: ignore[arg-type]
        v = c.check(r, now)
        if not v.accepted:
            assert v.reason
            continue
        assert len(r.current_a) == 3
        assert all(v is None or len(v) == 3 for v in (r.voltage_v, r.power_w))
        assert all(math.isfinite(i) and 0 <= i <= 3 * 63.0 for i in r.current_a)
        assert all(math.isfinite(x) for x in (*(r.voltage_v or ()), *(r.power_w or ())))
        if ts is not None:
            assert ts <= now + 5.0
            assert last_ts is None or ts >= last_ts
            last_ts = ts
