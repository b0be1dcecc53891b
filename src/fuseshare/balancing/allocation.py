"""The output of one allocation: a current per charger, and why.

Every :class:`ChargerAllocation` carries a :class:`Reason` (machine code + a
human text such as "main fuse L2") and the per-line load it was counted with;
every :class:`LineBudget` says what limited that line, so the portal can show
"why" without recomputing anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from fuseshare.balancing.topology import Line
from fuseshare.balancing.units import PerLine


class ReasonCode(StrEnum):
    """What bound a charger's current (stable strings: stored and shown)."""

    NO_SESSION = "no_session"
    CHARGER_OFFLINE = "charger_offline"
    CHARGER_MAX = "charger_max"
    MEMBERSHIP_MAX = "membership_max"
    CAR_MAX = "car_max"
    CAR_DRAWS_LESS = "car_draws_less"
    CAR_FULL = "car_full"
    MAIN_FUSE = "main_fuse"
    GROUP_LIMIT = "group_limit"
    OFFLINE_BUDGET = "offline_budget"
    NO_METER = "no_meter"
    STATIC_BUDGET = "static_budget"
    PAUSED_ROTATION = "paused_rotation"
    PAUSED_PLAN = "paused_plan"
    PAUSED_FULL = "paused_full"
    PAUSED_PRIORITY = "paused_priority"
    PAUSED_MIN_OFF = "paused_min_off"
    PAUSED_CAPACITY = "paused_capacity"
    PAUSED_MAX_BELOW_MIN = "paused_max_below_min"
    HELD_PACING = "held_pacing"
    HELD_DEADBAND = "held_deadband"
    WAITING_RELEASE = "waiting_release"


class LimitSource(StrEnum):
    """What limits the chargers' total on one line."""

    MAIN_FUSE = "main_fuse"
    GROUP_LIMIT = "group_limit"
    OFFLINE_BUDGET = "offline_budget"
    NO_METER = "no_meter"
    STATIC_BUDGET = "static_budget"

    def describe(self, line: Line) -> str:
        return {
            LimitSource.MAIN_FUSE: f"main fuse {line}",
            LimitSource.GROUP_LIMIT: f"group limit {line}",
            LimitSource.OFFLINE_BUDGET: f"meter offline: offline budget {line}",
            LimitSource.NO_METER: f"no meter: offline budget {line}",
            LimitSource.STATIC_BUDGET: f"offline budget {line}",
        }[self]

    @property
    def reason_code(self) -> ReasonCode:
        return ReasonCode(self.value)


class Reason(NamedTuple):
    """Why a current is what it is: ``code`` for machines, ``text`` for people."""

    code: ReasonCode
    text: str
    line: Line | None = None


class ChargerAllocation(NamedTuple):
    """One charger's result.

    ``current_a`` is the setpoint to apply (per phase; 0 or >= the group min for a
    session). ``target_a`` is what the sharing gave before pacing/deadband held an
    increase back. ``reserved_a`` is the current reserved for a charger that lost
    its link (its ``current_a`` is then 0: it cannot be told anything).
    ``line_load_a`` is what this charger is counted with on each grid line.
    """

    charger_id: str
    current_a: float
    reason: Reason
    target_a: float = 0.0
    reserved_a: float = 0.0
    line_load_a: PerLine = PerLine()
    changed: bool = False
    """True when ``current_a`` differs from the charger's present setpoint (send it)."""


class LineBudget(NamedTuple):
    """What one grid line allowed the chargers, and how much of it they use (A)."""

    line: Line
    source: LimitSource
    limit_a: float
    """The chargers' total on this line may not exceed this (margin already taken off)."""
    other_load_a: float | None
    """The rest of the building on this line, None without a fresh reading."""
    reserved_a: float
    """Held for chargers that lost their link (their failsafe current)."""
    used_a: float
    """The allocated sessions' load; ``used_a + reserved_a <= limit_a``."""

    @property
    def site_limit_a(self) -> float | None:
        """The limit for the whole line (rest of the building + chargers), margin off;
        None without a fresh reading (then only the chargers' ``limit_a`` is known)."""
        return None if self.other_load_a is None else self.other_load_a + self.limit_a


@dataclass(frozen=True, slots=True)
class Allocation:
    """The result of one allocation for a group."""

    algorithm: str
    version: int
    now_s: float
    meter_online: bool
    chargers: tuple[ChargerAllocation, ...]
    lines: tuple[LineBudget, ...]

    def by_id(self) -> Mapping[str, ChargerAllocation]:
        return {c.charger_id: c for c in self.chargers}

    def current_of(self, charger_id: str) -> float:
        for c in self.chargers:
            if c.charger_id == charger_id:
                return c.current_a
        raise KeyError(charger_id)
