"""The most the rest of the building has drawn, and what that leaves when the system is blind.

Two settings are the installer's promise about the building: the **offline
budget** (what the chargers may draw per phase while there is no fresh meter
reading) and the chargers' **failsafe currents** (what each draws when it hears
nothing at all). Both are safe only while the rest of the building never takes
more than ``fuse − offline budget``. Buildings change — a sauna, a heat pump, a
second oven — and an installation runs for years without anyone looking again.

The meter shows when the promise no longer holds. :class:`BuildingPeak` keeps,
per line, the highest one-minute median of the rest of the building over a window
of days (medians, so that the few seconds a car takes to follow a new limit,
which the estimate of the rest briefly counts as building, do not raise it: a
5 s transient moved a one-minute mean by 2 A in the simulator; a median not at
all). From it:

* :func:`lowered_offline_budget` — the offline budget per line, never above what
  that peak leaves under the fuse (minus the margin): what the chargers get while
  the meter is silent;
* :func:`lowered_failsafes` — failsafe currents that together fit that budget on
  every line: what the chargers are told to fall back to when the whole system
  is silent.

Less current, never more: both only ever lower the configured values, and the
peak forgets a day only after ``window_days``. Pure: time comes with every call.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from fuseshare.balancing.snapshot import IEC_MIN_CURRENT_A, GroupConfig
from fuseshare.balancing.topology import ALL_LINES, Line, wiring_line_factors
from fuseshare.balancing.units import PerLine

MINUTE_S = 60
DAY_S = 86_400
WINDOW_DAYS = 30
"""A peak is remembered this long: a removed sauna frees the budget a month later."""

_Peak = tuple[float | None, float | None, float | None]


class BuildingPeak:
    """Per line, the highest one-minute median of the rest of the building over a window."""

    def __init__(self, window_days: int = WINDOW_DAYS) -> None:
        if window_days < 1:
            raise ValueError("window_days must be at least 1")
        self.window_days = window_days
        self._minute: int | None = None
        self._values: tuple[list[float], list[float], list[float]] = ([], [], [])
        self._days: dict[int, list[float | None]] = {}
        """Per day number: the highest minute median of that day, per line."""

    def add(self, at_s: float, rest_a: Sequence[float | None]) -> bool:
        """One reading's rest of the building per line (None: not known on that line).

        Returns True when a minute closed and raised the peak of some line.
        """
        minute = math.floor(at_s / MINUTE_S)
        changed = False
        if self._minute is not None and minute != self._minute:
            changed = self._close(minute)
        if self._minute is None or minute != self._minute:
            self._minute = minute
            self._values = ([], [], [])
        for p, value in enumerate(rest_a[:3]):
            if value is not None and math.isfinite(value):
                self._values[p].append(max(0.0, value))
        return changed

    def _close(self, next_minute: int) -> bool:
        """Fold the minute that just ended into its day; forget days out of the window."""
        assert self._minute is not None
        before = self.peak()
        day = self._minute * MINUTE_S // DAY_S
        maxima = self._days.setdefault(day, [None, None, None])
        for p in range(3):
            if self._values[p]:
                median = _median(self._values[p])
                old = maxima[p]
                maxima[p] = median if old is None else max(old, median)
        newest = next_minute * MINUTE_S // DAY_S
        for old_day in [d for d in self._days if d <= newest - self.window_days]:
            del self._days[old_day]
        after = self.peak()
        return any(
            a is not None and (b is None or a > b) for a, b in zip(after, before, strict=True)
        )

    def to_json(self) -> dict[str, object]:
        """The closed days' maxima, to keep in the store (the open minute is not kept)."""
        return {
            "window_days": self.window_days,
            "days": {str(day): list(maxima) for day, maxima in sorted(self._days.items())},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BuildingPeak:
        peak = cls(int(data.get("window_days", WINDOW_DAYS)))
        for day, maxima in dict(data.get("days", {})).items():
            values = [None if v is None else float(v) for v in list(maxima)[:3]]
            peak._days[int(day)] = values + [None] * (3 - len(values))
        return peak

    @property
    def newest_day(self) -> int | None:
        """The newest day with a closed minute (what changes when a day's record begins)."""
        return max(self._days, default=None)

    def peak(self) -> _Peak:
        """Per line (L1, L2, L3): the highest minute median in the window; None if never seen."""
        out: list[float | None] = [None, None, None]
        for maxima in self._days.values():
            for p, value in enumerate(maxima):
                if value is not None and (out[p] is None or value > out[p]):  # type: ignore[operator]
                    out[p] = value
        return (out[0], out[1], out[2])


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def lowered_offline_budget(config: GroupConfig, peak: _Peak) -> PerLine | None:
    """Per line, the offline budget lowered to what the peak leaves under the fuse
    (minus the margin); None when the peak leaves the configured budget on every line."""
    configured = config.effective_offline_a
    values = [configured, configured, configured]
    lowered = False
    for line in config.grid.lines:
        p = ALL_LINES.index(line)
        seen = peak[p]
        if seen is None:
            continue
        left = max(0.0, config.max_supply_current_a - config.margin_a - seen)
        if left < configured - 1e-9:
            values[p] = math.floor(left * 10 + 1e-9) / 10
            lowered = True
    return PerLine(values[0], values[1], values[2]) if lowered else None


class FailsafeMember(NamedTuple):
    serial: str
    wiring: tuple[Line, ...]
    failsafe_current_a: float
    max_current_a: float


def lowered_failsafes(
    config: GroupConfig, members: Sequence[FailsafeMember], budget: PerLine
) -> dict[str, float]:
    """Each charger's failsafe current, so that together they fit ``budget`` on every line.

    In member order, each keeps its configured failsafe while it fits what is left
    on its lines (counted on every phase it is wired to: any car may be plugged in),
    else the most that fits, else 0 A when that is below the 6 A a car needs. So the
    first chargers keep theirs and the last ones stop, rather than everyone dropping
    under 6 A and nobody charging.
    """
    left = list(budget)
    out: dict[str, float] = {}
    for m in members:
        wanted = max(0.0, min(m.failsafe_current_a, m.max_current_a))
        factors = wiring_line_factors(config.grid, m.wiring)
        fits = wanted
        for line, factor in factors.items():
            if factor > 0:
                fits = min(fits, left[ALL_LINES.index(line)] / factor)
        given = math.floor(max(0.0, fits) * 10 + 1e-9) / 10
        if given < IEC_MIN_CURRENT_A:
            given = 0.0
        out[m.serial] = given
        for line, factor in factors.items():
            left[ALL_LINES.index(line)] -= factor * given
    return out
