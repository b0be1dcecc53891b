"""The one place that turns "charger X may draw N A from now" into charging profiles.

Pure: no I/O, no clock of its own (``now`` comes in), no OCPP version. The
v16/ and v201/ adapters only translate a :class:`ProfileSpec` to their wire
format.

The fail-safe design uses standard messages only:

* a **failsafe profile**: TxDefaultProfile, low stack level, no end — the
  membership's failsafe current, held by the charger for good;
* a **dynamic profile**: TxDefaultProfile, higher stack level, carrying the
  current limit, which ends ``ttl_s`` from now twice over (``validTo`` and the
  schedule's ``duration``, for chargers that honour only one of the two).
  The central system re-sends it every ``ttl_s * refresh_fraction``.

When fuseshare dies or the link drops, nobody refreshes the dynamic profile;
at most ``ttl_s`` later it expires and the charger is back on the failsafe
profile, by itself.

A limit at or below the failsafe current (an idle charger's 0 A, a paused
car's) is *quiet*: its expiry could only raise it to the failsafe, never put
more on the fuse, so it holds for ``quiet_ttl_s`` (10 minutes) and is
refreshed a few times an hour instead of every 40 s. Idle chargers are most
of a site's chargers most of the day, and many talk over metered mobile data.
The price: with fuseshare down, a car that plugs in at such a charger waits
up to ``quiet_ttl_s`` for its failsafe current instead of ``ttl_s``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Literal

from fuseshare.ocpp.ports import Capabilities, RateUnit

FAILSAFE_PROFILE_ID = 7301
DYNAMIC_PROFILE_ID = 7302
FAILSAFE_STACK_LEVEL = 1
DYNAMIC_STACK_LEVEL = 2

FAILSAFE_SCHEDULE_START = datetime(2020, 1, 1, tzinfo=UTC)
"""A fixed start in the past: the failsafe profile does not depend on ``now``
(so an unchanged failsafe is never re-sent) and a charger with a clock that is
behind still applies it."""

Purpose = Literal["TxDefaultProfile", "TxProfile", "ChargePointMaxProfile"]


class NotControllableError(Exception):
    """The charger's capabilities rule out the fail-safe profile pair."""


@dataclass(frozen=True, slots=True)
class LimitPolicy:
    """How limits are turned into profiles. Configurable per deployment."""

    ttl_s: float = 120.0
    """How long a dynamic limit holds without a refresh."""
    quiet_ttl_s: float = 600.0
    """How long a limit at or below the failsafe current holds without a refresh
    (never shorter than ``ttl_s``): its expiry can only raise it."""
    refresh_fraction: float = 1 / 3
    """Refresh after this fraction of ``ttl_s`` (well before expiry)."""
    clock_skew_s: float = 30.0
    """The dynamic schedule starts this much before ``now`` so that a charger
    whose clock is slightly behind applies it at once."""
    nominal_voltage_v: float = 230.0
    """Used only for chargers that accept limits in W only."""
    number_phases: int = 3
    """Phases assumed when converting A to W."""

    def lease_s(self, current_a: float, failsafe_current_a: float) -> float:
        """How long a limit of ``current_a`` holds without a refresh, over a failsafe of
        ``failsafe_current_a``: ``quiet_ttl_s`` when it is no higher (its expiry can
        only raise it), else ``ttl_s``."""
        if current_a <= failsafe_current_a:
            return max(self.ttl_s, self.quiet_ttl_s)
        return self.ttl_s


@dataclass(frozen=True, slots=True)
class SchedulePeriod:
    start_s: int
    """Seconds from the schedule start."""
    limit: float
    """In the profile's rate unit, per phase for A, total for W."""
    number_phases: int | None = None


@dataclass(frozen=True, slots=True)
class ProfileSpec:
    """A version-neutral charging profile."""

    profile_id: int
    stack_level: int
    purpose: Purpose
    rate_unit: RateUnit
    periods: tuple[SchedulePeriod, ...]
    start_schedule: datetime
    duration_s: int | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    kind: Literal["Absolute"] = "Absolute"

    def active_at(self, at: datetime) -> bool:
        """Whether this profile's schedule has a limit at ``at``."""
        if self.valid_from is not None and at < self.valid_from:
            return False
        if self.valid_to is not None and at >= self.valid_to:
            return False
        if at < self.start_schedule:
            return False
        return not (
            self.duration_s is not None
            and at >= self.start_schedule + timedelta(seconds=self.duration_s)
        )

    def limit_at(self, at: datetime) -> float | None:
        if not self.active_at(at):
            return None
        offset_s = (at - self.start_schedule).total_seconds()
        limit: float | None = None
        for period in sorted(self.periods, key=lambda p: p.start_s):
            if period.start_s <= offset_s:
                limit = period.limit
        return limit


@dataclass(frozen=True, slots=True)
class LimitPlan:
    """What to send so that a charger may draw ``current_a`` from ``now``."""

    connector_id: int
    current_a: float
    failsafe_current_a: float
    failsafe: ProfileSpec
    dynamic: ProfileSpec
    expires_at: datetime
    """When the dynamic profile ends if it is not refreshed."""
    refresh_at: datetime
    """When the central system must send the next dynamic profile."""
    profiles: tuple[ProfileSpec, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "profiles", (self.failsafe, self.dynamic))


def stack_levels(capabilities: Capabilities | None) -> tuple[int, int]:
    """(failsafe, dynamic) stack levels that fit the charger's maximum."""
    max_level = None if capabilities is None else capabilities.max_stack_level
    if max_level is None or max_level >= DYNAMIC_STACK_LEVEL:
        return FAILSAFE_STACK_LEVEL, DYNAMIC_STACK_LEVEL
    if max_level >= 1:
        return 0, 1
    raise NotControllableError(
        f"charger allows stack level {max_level} only; two profiles are needed"
    )


def rate_unit_for(capabilities: Capabilities | None) -> RateUnit:
    """Amperes unless the charger says it accepts watts only."""
    units = None if capabilities is None else capabilities.rate_units
    if not units or "A" in units:
        return "A"
    return "W"


def to_rate(current_a: float, unit: RateUnit, policy: LimitPolicy) -> float:
    """A per-phase current as a limit in ``unit``, rounded down (never more).

    OCPP 1.6 limits are multiples of 0.1; rounding down to 0.1 keeps the
    limit at or below what was allowed.
    """
    if current_a < 0 or not math.isfinite(current_a):
        raise ValueError(f"current must be a finite value ≥ 0 A, got {current_a!r}")
    value = current_a
    if unit == "W":
        value = current_a * policy.nominal_voltage_v * policy.number_phases
    # Floor the shortest decimal form, not value * 10: 1.7 stays 1.7 and
    # 1.9999999999999964 becomes 1.9, never 2.0.
    return float(Decimal(repr(value)).quantize(Decimal("0.1"), rounding=ROUND_FLOOR))


def failsafe_profile(
    failsafe_current_a: float,
    *,
    capabilities: Capabilities | None = None,
    policy: LimitPolicy = LimitPolicy(),
) -> ProfileSpec:
    """The permanent profile the charger falls back to on its own."""
    unit = rate_unit_for(capabilities)
    level, _ = stack_levels(capabilities)
    return ProfileSpec(
        profile_id=FAILSAFE_PROFILE_ID,
        stack_level=level,
        purpose="TxDefaultProfile",
        rate_unit=unit,
        periods=(SchedulePeriod(0, to_rate(failsafe_current_a, unit, policy)),),
        start_schedule=FAILSAFE_SCHEDULE_START,
    )


def plan_limit(
    current_a: float,
    failsafe_current_a: float,
    now: datetime,
    *,
    capabilities: Capabilities | None = None,
    policy: LimitPolicy = LimitPolicy(),
    connector_id: int = 0,
) -> LimitPlan:
    """Charger may draw ``current_a`` (A per phase) from ``now`` on.

    Raises :class:`NotControllableError` when the charger cannot hold the
    profile pair, :class:`ValueError` for a negative or non-finite current.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    unit = rate_unit_for(capabilities)
    _, dynamic_level = stack_levels(capabilities)
    now = now.replace(microsecond=0)
    start = now - timedelta(seconds=policy.clock_skew_s)
    lease_s = policy.lease_s(current_a, failsafe_current_a)
    expires_at = now + timedelta(seconds=lease_s)
    dynamic = ProfileSpec(
        profile_id=DYNAMIC_PROFILE_ID,
        stack_level=dynamic_level,
        purpose="TxDefaultProfile",
        rate_unit=unit,
        periods=(SchedulePeriod(0, to_rate(current_a, unit, policy)),),
        start_schedule=start,
        duration_s=math.ceil((expires_at - start).total_seconds()),
        valid_to=expires_at,
    )
    return LimitPlan(
        connector_id=connector_id,
        current_a=current_a,
        failsafe_current_a=failsafe_current_a,
        failsafe=failsafe_profile(failsafe_current_a, capabilities=capabilities, policy=policy),
        dynamic=dynamic,
        expires_at=expires_at,
        refresh_at=now + timedelta(seconds=lease_s * policy.refresh_fraction),
    )


def composite_limit_at(profiles: Iterable[ProfileSpec], at: datetime) -> float | None:
    """The limit a charger applies at ``at`` from the TxDefaultProfiles it holds:
    the highest stack level whose schedule is active wins. ``None``: no limit."""
    best: tuple[int, float] | None = None
    for profile in profiles:
        limit = profile.limit_at(at)
        if limit is not None and (best is None or profile.stack_level > best[0]):
            best = (profile.stack_level, limit)
    return None if best is None else best[1]


@dataclass(frozen=True, slots=True)
class CompositeSchedule:
    """What a charger answered to GetCompositeSchedule, version-neutral."""

    start: datetime
    duration_s: int | None
    rate_unit: RateUnit
    periods: tuple[SchedulePeriod, ...]

    def limit_at(self, at: datetime) -> float | None:
        """The limit in effect at ``at``; ``None`` outside the schedule."""
        offset_s = (at - self.start).total_seconds()
        if offset_s < 0 or (self.duration_s is not None and offset_s >= self.duration_s):
            return None
        limit: float | None = None
        for period in sorted(self.periods, key=lambda p: p.start_s):
            if period.start_s <= offset_s:
                limit = period.limit
        return limit

    def limits(self) -> Sequence[tuple[int, float]]:
        return [(p.start_s, p.limit) for p in sorted(self.periods, key=lambda p: p.start_s)]


def schedule_problems(
    plan: LimitPlan, schedule: CompositeSchedule, policy: LimitPolicy = LimitPolicy()
) -> list[str]:
    """Why what the charger says it will do (its composite schedule) does not
    match ``plan``; empty when it does. Checks the limit at the schedule's
    start and, if the schedule reaches that far, after the dynamic profile
    has expired (the failsafe)."""
    tolerance = 0.1

    def amps(value: float | None) -> float | None:
        if value is None or schedule.rate_unit == "A":
            return value
        return value / (policy.nominal_voltage_v * policy.number_phases)

    problems: list[str] = []
    now_a = amps(schedule.limit_at(schedule.start))
    if now_a is None:
        problems.append("the charger reports no limit now")
    elif now_a > plan.current_a + tolerance:
        problems.append(f"the charger allows {now_a:g} A now; the limit is {plan.current_a:g} A")
    after = plan.expires_at + timedelta(seconds=1)
    end = (
        None
        if schedule.duration_s is None
        else schedule.start + timedelta(seconds=schedule.duration_s)
    )
    if end is None or after < end:
        after_a = amps(schedule.limit_at(after))
        if after_a is None or after_a > plan.failsafe_current_a + tolerance:
            shown = "no limit" if after_a is None else f"{after_a:g} A"
            problems.append(
                f"after the dynamic limit expires the charger allows {shown}; "
                f"the failsafe is {plan.failsafe_current_a:g} A"
            )
    return problems
