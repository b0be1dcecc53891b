"""The meter side's ports: what adapters implement and what the rest provides.

* Adapters (MQTT, Modbus, HTTP push, simulated) implement :class:`MeterSource`
  and feed a :class:`ReadingSink` (the :class:`~fuseshare.meters.hub.MeterHub`).
* The control loop reads through :class:`MeterReadings` (also the hub).
* The store provides :class:`MeterCredentials` (serial + PIN / token check with
  lock-out) and :class:`ReadingRecorder` (persists the latest reading, state
  changes and events, at a throttled rate).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from fuseshare.meters.reading import Reading, Rejection, Verdict

if TYPE_CHECKING:
    from fuseshare.meters.hub import MeterEvent, MeterStatus, MeterView

Clock = Callable[[], float]
"""Returns the current time in epoch seconds (``time.time``, or a virtual clock)."""


@runtime_checkable
class ReadingSink(Protocol):
    """Where adapters deliver what they receive. Call on the event loop thread."""

    def submit(self, reading: Reading) -> Verdict:
        """Hand over a parsed reading; the verdict says whether it was believed."""
        ...

    def reject(self, serial: str, rejection: Rejection, *, source: str = "unknown") -> None:
        """Count a message for ``serial`` that could not even be parsed."""
        ...


@runtime_checkable
class MeterSource(Protocol):
    """A meter adapter. ``run`` feeds its sink until cancelled, reconnecting itself."""

    kind: str
    """"mqtt", "modbus", "http", "simulated"."""

    async def run(self) -> None: ...

    def stats(self) -> dict[str, Any]:
        """Counters and connection state for diagnostics (JSON-safe)."""
        ...


class MeterReadings(Protocol):
    """How the control loop sees meters."""

    def view(self, serial: str) -> MeterView | None:
        """Latest accepted reading, its age and the online state; None if unknown serial."""
        ...

    async def next_reading(
        self, serial: str, *, after: Reading | None = None, timeout_s: float | None = None
    ) -> Reading | None:
        """Wait for an accepted reading newer than ``after``; None on timeout."""
        ...


class AuthResult(StrEnum):
    OK = "ok"
    BAD_SECRET = "bad_secret"
    """Wrong PIN/token; the store counts it towards the lock-out."""
    LOCKED_OUT = "locked_out"
    """Too many wrong PINs; refused until the lock-out ends."""
    UNKNOWN_METER = "unknown_meter"


class MeterCredentials(Protocol):
    """The store's PIN / token check (hashing, counting and lock-out are the store's).

    Synchronous; the HTTP router calls it in a worker thread.
    """

    def authenticate(self, serial: str, secret: str) -> AuthResult: ...


class ReadingRecorder(Protocol):
    """Persists what the portal and ``fuseshare meters show`` need across processes.

    Called from the hub's ``run`` task on the event loop; may return an awaitable
    (it is awaited) or None. Keep it quick or hand the work off.
    """

    def record_status(self, status: MeterStatus) -> Awaitable[None] | None:
        """The meter's latest reading, state and counters; at most every
        ``persist_interval_s`` per meter, and at once on a state change."""
        ...

    def record_event(self, event: MeterEvent) -> Awaitable[None] | None:
        """Online/offline transitions and installation faults, as they happen."""
        ...
