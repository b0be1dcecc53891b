"""Token buckets for frames and for log lines, so that a flooding or broken
charger costs little and cannot fill the log."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable


class TokenBucket:
    """``rate_per_s`` tokens a second, at most ``burst`` saved up."""

    __slots__ = ("_clock", "_last", "_tokens", "burst", "rate_per_s")

    def __init__(
        self, rate_per_s: float, burst: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate_per_s = rate_per_s
        self.burst = burst
        self._clock = clock
        self._tokens = burst
        self._last = clock()

    def allow(self) -> bool:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate_per_s)
        self._last = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False


class ThrottledLog:
    """Logs the first event, then at most one line per ``every_s`` with the
    number of events that were left out."""

    __slots__ = ("_clock", "_last", "_logger", "_suppressed", "every_s")

    def __init__(
        self,
        logger: logging.Logger,
        every_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._logger = logger
        self.every_s = every_s
        self._clock = clock
        self._last: float | None = None
        self._suppressed = 0

    def warning(self, msg: str, *args: object) -> None:
        now = self._clock()
        if self._last is not None and now - self._last < self.every_s:
            self._suppressed += 1
            return
        if self._suppressed:
            msg += " (%d similar events not logged)"
            args = (*args, self._suppressed)
        self._logger.warning(msg, *args)
        self._last = now
        self._suppressed = 0
