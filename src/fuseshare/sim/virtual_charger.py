"""Virtual chargers on a virtual clock, and the control loop's command port onto them.

A :class:`VirtualCharger` behaves towards limits the way a real charger with
fuseshare's two OCPP profiles does (a permanent profile at the failsafe current
under a short-lived dynamic one): it applies the last limit it was told until
that limit's lifetime runs out, then falls back to its failsafe current by
itself. A limit at or below the failsafe current lives longer (the quiet lease
of :meth:`fuseshare.ocpp.profiles.LimitPolicy.lease_s`, as the OCPP side sends it). While its link is cut it hears nothing, so it keeps the last limit
until it expires: that is how ``charger_offline`` and ``controller_down``
faults play out.

:class:`VirtualCommands` implements :class:`fuseshare.control.commands.ChargerCommands`
in process, so the real :class:`~fuseshare.control.loop.GroupLoop` can run
against virtual chargers without sockets, at any speed.

(The real-time site, with real OCPP clients over WebSocket, is
:mod:`fuseshare.sim.realtime`.)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from fuseshare.ocpp.profiles import LimitPolicy
from fuseshare.sim.scenario import ChargerSpec

FAILSAFE_REASON = "failsafe: no valid limit from the control side"
NO_LIMIT_YET = "failsafe: no limit received yet"


@dataclass
class VirtualCharger:
    """One charger's limit handling. Times in the simulation clock's seconds."""

    spec: ChargerSpec
    lifetime_s: float = 120.0
    quiet_lifetime_s: float = 600.0
    """The lifetime of a limit at or below its failsafe current."""
    link_up: bool = True
    limit_a: float | None = None
    limit_until_s: float = -math.inf
    limit_reason: str = ""
    received: int = 0
    failsafe_a: float | None = None
    """The failsafe current it was last told (its permanent profile); None: as configured."""
    sample_requested: bool = False
    """A TriggerMessage(MeterValues) arrived: report at the next step."""

    def __post_init__(self) -> None:
        self._policy = LimitPolicy(ttl_s=self.lifetime_s, quiet_ttl_s=self.quiet_lifetime_s)

    @property
    def serial(self) -> str:
        return self.spec.id

    def apply(
        self,
        now_s: float,
        current_a: float,
        *,
        lifetime_s: float | None = None,
        reason: str = "",
        failsafe_a: float | None = None,
    ) -> None:
        """A new dynamic limit, valid for ``lifetime_s`` (when None: the charger's lease for
        it, longer at or below its failsafe current), and with ``failsafe_a`` a new
        failsafe current to fall back to after it."""
        if failsafe_a is not None:
            self.failsafe_a = max(0.0, failsafe_a)
        self.limit_a = max(0.0, current_a)
        if lifetime_s is None:
            lifetime_s = self._policy.lease_s(self.limit_a, self._failsafe_a())
        self.limit_until_s = now_s + lifetime_s
        self.limit_reason = reason
        self.received += 1

    def drop(self) -> None:
        """The dynamic limit is cleared: the failsafe one applies."""
        self.limit_a = None
        self.limit_until_s = -math.inf

    def has_limit(self, now_s: float) -> bool:
        return self.limit_a is not None and now_s < self.limit_until_s

    def effective_limit_a(self, now_s: float) -> float:
        """What this charger lets a car draw per phase at ``now_s``."""
        if self.limit_a is not None and now_s < self.limit_until_s:
            return min(self.limit_a, self.spec.max_current_a)
        return min(self._failsafe_a(), self.spec.max_current_a)

    def _failsafe_a(self) -> float:
        """The failsafe current it falls back to: as last told, else as configured."""
        return self.spec.failsafe_current_a if self.failsafe_a is None else self.failsafe_a

    def limit_source(self, now_s: float) -> str:
        """Why the charger applies what it applies (for chargers.csv's reason)."""
        if self.has_limit(now_s):
            return self.limit_reason
        return NO_LIMIT_YET if self.received == 0 else FAILSAFE_REASON


class VirtualCommands:
    """``ChargerCommands`` onto virtual chargers: what the loop sends lands at once.

    A charger whose link is cut refuses (returns False), like an OCPP call that
    cannot be delivered.
    """

    def __init__(self, chargers: dict[str, VirtualCharger], clock: Callable[[], float]) -> None:
        self._chargers = chargers
        self._clock = clock
        self.sent = 0
        self.sample_requests = 0
        self.released: list[str] = []

    async def set_limit(self, serial: str, current_a: float, *, failsafe_current_a: float) -> bool:
        charger = self._chargers.get(serial)
        if charger is None or not charger.link_up:
            return False
        self.sent += 1
        charger.apply(self._clock(), current_a, failsafe_a=failsafe_current_a)
        return True

    async def release(self, serial: str) -> None:
        charger = self._chargers.get(serial)
        if charger is not None and charger.link_up:
            charger.drop()
        self.released.append(serial)

    async def request_sample(self, serial: str) -> None:
        """TriggerMessage(MeterValues): the charger reports at its next step."""
        charger = self._chargers.get(serial)
        if charger is not None and charger.link_up:
            charger.sample_requested = True
            self.sample_requests += 1
