"""The one place that turns a current into profiles: pure, clock passed in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fuseshare.ocpp.ports import Capabilities
from fuseshare.ocpp.profiles import (
    DYNAMIC_PROFILE_ID,
    FAILSAFE_PROFILE_ID,
    LimitPolicy,
    NotControllableError,
    composite_limit_at,
    plan_limit,
    to_rate,
)

NOW = datetime(2026, 11, 24, 18, 0, 0, tzinfo=UTC)


def test_plan_has_permanent_failsafe_under_expiring_dynamic():
    plan = plan_limit(16.0, 6.0, NOW)
    fs, dyn = plan.failsafe, plan.dynamic
    assert (fs.profile_id, dyn.profile_id) == (FAILSAFE_PROFILE_ID, DYNAMIC_PROFILE_ID)
    assert fs.purpose == dyn.purpose == "TxDefaultProfile"
    assert fs.stack_level < dyn.stack_level
    assert fs.valid_to is None and fs.duration_s is None
    assert dyn.valid_to == NOW + timedelta(seconds=120)
    assert dyn.start_schedule + timedelta(seconds=dyn.duration_s) == dyn.valid_to
    assert plan.expires_at == dyn.valid_to
    assert NOW < plan.refresh_at < plan.expires_at
    assert (plan.refresh_at - NOW).total_seconds() <= 60  # well before expiry


@pytest.mark.parametrize(
    ("offset_s", "expected"),
    [(0, 16.0), (60, 16.0), (119, 16.0), (120, 6.0), (86400 * 365, 6.0)],
)
def test_limit_falls_to_failsafe_when_dynamic_expires(offset_s, expected):
    plan = plan_limit(16.0, 6.0, NOW)
    assert composite_limit_at(plan.profiles, NOW + timedelta(seconds=offset_s)) == expected


def test_failsafe_does_not_depend_on_now():
    a = plan_limit(16.0, 6.0, NOW)
    b = plan_limit(10.0, 6.0, NOW + timedelta(hours=5))
    assert a.failsafe == b.failsafe
    assert a.dynamic != b.dynamic


def test_custom_ttl_and_refresh():
    policy = LimitPolicy(ttl_s=300, refresh_fraction=0.25)
    plan = plan_limit(20.0, 0.0, NOW, policy=policy)
    assert plan.expires_at == NOW + timedelta(seconds=300)
    assert plan.refresh_at == NOW + timedelta(seconds=75)


@pytest.mark.parametrize(
    ("current", "failsafe", "lease_s"),
    [(16.0, 6.0, 120), (6.1, 6.0, 120), (6.0, 6.0, 600), (0.0, 6.0, 600), (0.0, 0.0, 600)],
)
def test_a_limit_at_or_below_the_failsafe_is_leased_longer(current, failsafe, lease_s):
    """Its expiry could only raise it to the failsafe: an idle charger's 0 A is refreshed
    every 200 s instead of every 40 s, and never puts more on the fuse for it."""
    plan = plan_limit(current, failsafe, NOW)
    assert plan.expires_at == NOW + timedelta(seconds=lease_s)
    assert plan.refresh_at == NOW + timedelta(seconds=lease_s / 3)
    assert composite_limit_at(plan.profiles, NOW + timedelta(seconds=lease_s - 1)) == min(
        current, 16.0
    )
    assert composite_limit_at(plan.profiles, NOW + timedelta(seconds=lease_s)) == failsafe


def test_a_quiet_lease_is_never_shorter_than_the_ordinary_one():
    policy = LimitPolicy(ttl_s=300, quiet_ttl_s=60)
    assert plan_limit(0.0, 6.0, NOW, policy=policy).expires_at == NOW + timedelta(seconds=300)


@pytest.mark.parametrize(
    ("caps", "levels"),
    [
        (None, (1, 2)),
        (Capabilities(max_stack_level=8), (1, 2)),
        (Capabilities(max_stack_level=2), (1, 2)),
        (Capabilities(max_stack_level=1), (0, 1)),
    ],
)
def test_stack_levels_fit_the_charger(caps, levels):
    plan = plan_limit(16.0, 6.0, NOW, capabilities=caps)
    assert (plan.failsafe.stack_level, plan.dynamic.stack_level) == levels


def test_charger_with_one_stack_level_is_not_controllable():
    with pytest.raises(NotControllableError):
        plan_limit(16.0, 6.0, NOW, capabilities=Capabilities(max_stack_level=0))


def test_watts_only_charger_gets_watts():
    plan = plan_limit(16.0, 6.0, NOW, capabilities=Capabilities(rate_units=("W",)))
    assert plan.dynamic.rate_unit == "W"
    assert plan.dynamic.periods[0].limit == 16.0 * 230 * 3
    assert plan.failsafe.periods[0].limit == 6.0 * 230 * 3


@pytest.mark.parametrize(("current", "expected"), [(16.0, 16.0), (13.76, 13.7), (0.0, 0.0)])
def test_limits_round_down_to_a_tenth(current, expected):
    assert to_rate(current, "A", LimitPolicy()) == expected


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf")])
def test_bad_currents_are_refused(bad):
    with pytest.raises(ValueError):
        plan_limit(bad, 6.0, NOW)


def test_naive_now_is_refused():
    with pytest.raises(ValueError):
        plan_limit(10.0, 6.0, NOW.replace(tzinfo=None))


@given(
    current=st.floats(min_value=0, max_value=80),
    failsafe=st.floats(min_value=0, max_value=32),
    after_s=st.integers(min_value=0, max_value=10**7),
    ttl=st.integers(min_value=10, max_value=3600),
    quiet_ttl=st.integers(min_value=10, max_value=7200),
)
def test_never_more_than_asked_and_never_more_than_the_failsafe_after_ttl(
    current, failsafe, after_s, ttl, quiet_ttl
):
    plan = plan_limit(current, failsafe, NOW, policy=LimitPolicy(ttl_s=ttl, quiet_ttl_s=quiet_ttl))
    limit = composite_limit_at(plan.profiles, NOW + timedelta(seconds=after_s))
    assert limit is not None
    if after_s < ttl:
        assert limit <= current
    else:  # expired, or a quiet limit (at or below the failsafe) still held
        assert limit <= failsafe


def _schedule(periods, duration_s=600, unit="A"):
    from fuseshare.ocpp.profiles import CompositeSchedule, SchedulePeriod

    return CompositeSchedule(NOW, duration_s, unit, tuple(SchedulePeriod(s, v) for s, v in periods))


@pytest.mark.parametrize(
    ("periods", "problems"),
    [
        ([(0, 16.0), (120, 6.0)], 0),
        ([(0, 12.0), (120, 6.0)], 0),  # the charger's own maximum is lower
        ([(0, 32.0), (120, 6.0)], 1),  # ignores the dynamic limit
        ([(0, 16.0)], 1),  # no failsafe after expiry
        ([(0, 32.0)], 2),
    ],
)
def test_schedule_problems(periods, problems):
    from fuseshare.ocpp.profiles import schedule_problems

    plan = plan_limit(16.0, 6.0, NOW)
    assert len(schedule_problems(plan, _schedule(periods))) == problems


def test_schedule_problems_in_watts():
    from fuseshare.ocpp.profiles import schedule_problems

    plan = plan_limit(16.0, 6.0, NOW)
    watts = [(0, 16.0 * 690), (120, 6.0 * 690)]
    assert schedule_problems(plan, _schedule(watts, unit="W")) == []


@given(st.floats(min_value=0, max_value=1000, allow_nan=False))
def test_rate_is_never_above_the_current_and_within_a_tenth(current):
    rate = to_rate(current, "A", LimitPolicy())
    assert rate <= current < rate + 0.1 + 1e-9
