"""Online or offline: is the meter's latest accepted reading fresh? Pure.

A meter is *online* while its latest accepted reading is at most
``window_s`` old; ``window_s = max(5 s, 3 × reading interval)`` so a single lost
message never flips it. The state starts *unknown* (never heard); the first
fresh reading makes it online; silence past the window makes it offline, and
the transition is stamped with the moment the reading went stale, not with the
moment someone happened to look.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

DEFAULT_STALENESS_S = 5.0
READINGS_PER_WINDOW = 3


def staleness_window_s(interval_s: float, floor_s: float = DEFAULT_STALENESS_S) -> float:
    """The staleness window for a meter read every ``interval_s`` seconds."""
    return max(floor_s, READINGS_PER_WINDOW * interval_s)


class MeterState(StrEnum):
    UNKNOWN = "unknown"
    """Never heard from since fuseshare started (treated like offline)."""
    ONLINE = "online"
    OFFLINE = "offline"


@dataclass(frozen=True, slots=True)
class Transition:
    """The meter's state changed at ``at_s`` (epoch seconds)."""

    before: MeterState
    after: MeterState
    at_s: float

    def describe(self, silence_s: float | None = None) -> str:
        if self.after is MeterState.ONLINE:
            if self.before is MeterState.OFFLINE:
                return "meter is back online; its readings are fresh again"
            return "meter is online"
        gap = f" for {silence_s:.0f} s" if silence_s is not None else ""
        return (
            f"meter went offline: no fresh reading{gap}; chargers fall back to the offline budget"
        )


@dataclass(slots=True)
class Freshness:
    """Tracks one meter. Feed accepted readings with :meth:`seen`, poll with :meth:`evaluate`."""

    window_s: float
    state: MeterState = MeterState.UNKNOWN
    last_measured_at_s: float | None = None

    def age_s(self, now_s: float) -> float | None:
        if self.last_measured_at_s is None:
            return None
        return max(0.0, now_s - self.last_measured_at_s)

    def is_fresh(self, now_s: float) -> bool:
        age = self.age_s(now_s)
        return age is not None and age <= self.window_s

    def seen(self, measured_at_s: float, now_s: float) -> Transition | None:
        """An accepted reading taken at ``measured_at_s`` arrived at ``now_s``."""
        if self.last_measured_at_s is None or measured_at_s > self.last_measured_at_s:
            self.last_measured_at_s = measured_at_s
        return self.evaluate(now_s)

    def evaluate(self, now_s: float) -> Transition | None:
        """Bring the state up to ``now_s``; the transition if it changed."""
        fresh = self.is_fresh(now_s)
        if fresh and self.state is not MeterState.ONLINE:
            before, self.state = self.state, MeterState.ONLINE
            return Transition(before, MeterState.ONLINE, now_s)
        if not fresh and self.state is MeterState.ONLINE:
            assert self.last_measured_at_s is not None
            self.state = MeterState.OFFLINE
            return Transition(
                MeterState.ONLINE, MeterState.OFFLINE, self.last_measured_at_s + self.window_s
            )
        return None
