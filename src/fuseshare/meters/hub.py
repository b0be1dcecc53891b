"""The registry of meters by serial: adapters feed it, the control side reads it.

Every reading from every adapter goes through :meth:`MeterHub.submit`:
plausibility first, then (only if believed) it becomes the meter's latest
reading, freshness is updated and waiters are woken. The control loop calls
:meth:`MeterHub.view` for the latest reading with its age and online state, or
awaits :meth:`MeterHub.next_reading` to wake on a new one.

Not thread-safe: call it from the event loop thread (adapters do).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from fuseshare.meters.freshness import Freshness, MeterState, staleness_window_s
from fuseshare.meters.plausibility import PlausibilityChecker, PlausibilityLimits
from fuseshare.meters.ports import Clock, ReadingRecorder
from fuseshare.meters.reading import Finding, Reading, Rejection, Verdict, format_ts, parse_ts

log = logging.getLogger(__name__)

_MAX_UNKNOWN_SERIALS = 1000


@dataclass(frozen=True, slots=True)
class MeterSettings:
    """How one meter is set up (from the store: meter row + its group)."""

    serial: str
    kind: str = "amp_guard"
    """"amp_guard", "modbus", "http"."""
    lines: int | None = 3
    """3 or 1; None accepts either."""
    interval_s: float = 1.0
    """How often the meter sends / is polled."""
    fuse_a: float | None = None
    """The main fuse per phase, for the "far beyond the fuse" check."""
    staleness_floor_s: float = 5.0
    limits: PlausibilityLimits | None = None
    """Overrides; ``fuse_a`` above wins over ``limits.fuse_a``."""

    @property
    def window_s(self) -> float:
        return staleness_window_s(self.interval_s, self.staleness_floor_s)


@dataclass(frozen=True, slots=True)
class MeterView:
    """What the control side needs for one meter at one moment."""

    serial: str
    state: MeterState
    reading: Reading | None
    age_s: float | None
    window_s: float

    @property
    def online(self) -> bool:
        return self.state is MeterState.ONLINE


@dataclass(frozen=True, slots=True)
class MeterEvent:
    """Something the portal shows: online/offline transitions, installation faults."""

    serial: str
    kind: str
    """"online", "offline" or "installation_fault"."""
    at_s: float
    message: str
    code: str | None = None

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "serial": self.serial,
            "kind": self.kind,
            "at": format_ts(self.at_s),
            "message": self.message,
            "code": self.code,
        }


@dataclass(frozen=True, slots=True)
class MeterStatus:
    """Everything ``fuseshare meters show SERIAL`` and the API report."""

    serial: str
    kind: str
    state: MeterState
    age_s: float | None
    window_s: float
    reading: Reading | None
    accepted: int
    rejected: dict[str, int]
    flagged: dict[str, int]
    last_rejection: str | None
    installation_faults: tuple[Finding, ...]
    at_s: float

    @property
    def online(self) -> bool:
        return self.state is MeterState.ONLINE

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "serial": self.serial,
            "kind": self.kind,
            "online": self.online,
            "state": str(self.state),
            "age_s": None if self.age_s is None else round(self.age_s, 3),
            "staleness_window_s": self.window_s,
            "reading": None if self.reading is None else self.reading.to_json_dict(),
            "counters": {
                "accepted": self.accepted,
                "rejected": dict(self.rejected),
                "flagged": dict(self.flagged),
            },
            "last_rejection": self.last_rejection,
            "installation_faults": [
                {"code": f.code, "line": f.line, "message": f.message}
                for f in self.installation_faults
            ],
            "at": format_ts(self.at_s),
        }

    @classmethod
    def from_json_dict(cls, data: dict[str, Any]) -> MeterStatus:
        """Inverse of :meth:`to_json_dict` (a store keeps the JSON; the CLI rebuilds it)."""
        counters = data.get("counters") or {}
        return cls(
            serial=str(data["serial"]),
            kind=str(data.get("kind", "unknown")),
            state=MeterState(data.get("state", "unknown")),
            age_s=None if data.get("age_s") is None else float(data["age_s"]),
            window_s=float(data.get("staleness_window_s", 5.0)),
            reading=None
            if data.get("reading") is None
            else Reading.from_json_dict(data["reading"]),
            accepted=int(counters.get("accepted", 0)),
            rejected={str(k): int(v) for k, v in (counters.get("rejected") or {}).items()},
            flagged={str(k): int(v) for k, v in (counters.get("flagged") or {}).items()},
            last_rejection=data.get("last_rejection"),
            installation_faults=tuple(
                Finding(str(f["code"]), str(f["message"]), "fault", f.get("line"))
                for f in data.get("installation_faults") or ()
            ),
            at_s=parse_ts(str(data["at"])),
        )

    def aged(self, now_s: float) -> MeterStatus:
        """This status as seen at ``now_s``: age recomputed, online only if still fresh.

        For a process that did not see the readings itself (``fuseshare meters
        show`` reading the store): a persisted "online" goes stale on its own.
        """
        age_s = None if self.reading is None else self.reading.age_s(now_s)
        state = self.state
        if state is MeterState.ONLINE and (age_s is None or age_s > self.window_s):
            state = MeterState.OFFLINE
        return replace(self, age_s=age_s, state=state, at_s=now_s)


@dataclass
class _Slot:
    settings: MeterSettings
    checker: PlausibilityChecker
    freshness: Freshness
    latest: Reading | None = None
    accepted: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    flagged: Counter[str] = field(default_factory=Counter)
    last_rejection: str | None = None
    last_persisted_s: float | None = None
    dirty: bool = False
    waiters: list[asyncio.Future[Reading]] = field(default_factory=list)


ReadingListener = Callable[[Reading], None]
EventListener = Callable[[MeterEvent], None]


class MeterHub:
    """Registry of meters by serial; implements ReadingSink and MeterReadings."""

    def __init__(
        self,
        *,
        clock: Clock,
        recorder: ReadingRecorder | None = None,
        persist_interval_s: float = 10.0,
    ) -> None:
        self._clock = clock
        self._recorder = recorder
        self._persist_interval_s = persist_interval_s
        self._slots: dict[str, _Slot] = {}
        self._reading_listeners: list[ReadingListener] = []
        self._event_listeners: list[EventListener] = []
        self._outbox: deque[MeterEvent] = deque(maxlen=10_000)
        self._wake = asyncio.Event()
        self.unknown: Counter[str] = Counter()
        """Messages for serials that are not registered, by serial (not used as truth).
        Bounded: anyone on a broker can invent serials."""
        self.unknown_total = 0

    # -- registration -----------------------------------------------------------

    def register(self, settings: MeterSettings) -> None:
        """Add a meter, or update its settings keeping its state and latest reading."""
        limits = settings.limits or PlausibilityLimits()
        if settings.fuse_a is not None:
            limits = _replace_fuse(limits, settings.fuse_a)
        slot = self._slots.get(settings.serial)
        if slot is None:
            self._slots[settings.serial] = _Slot(
                settings=settings,
                checker=PlausibilityChecker(limits=limits, expected_lines=settings.lines),
                freshness=Freshness(window_s=settings.window_s),
            )
            self.unknown.pop(settings.serial, None)
            return
        slot.settings = settings
        slot.checker.limits = limits
        slot.checker.expected_lines = settings.lines
        slot.freshness.window_s = settings.window_s

    def unregister(self, serial: str) -> None:
        slot = self._slots.pop(serial, None)
        if slot is not None:
            for fut in slot.waiters:
                if not fut.done():
                    fut.set_exception(KeyError(f"meter {serial} was unregistered"))

    def serials(self) -> tuple[str, ...]:
        return tuple(self._slots)

    def settings(self, serial: str) -> MeterSettings | None:
        slot = self._slots.get(serial)
        return None if slot is None else slot.settings

    def add_reading_listener(self, listener: ReadingListener) -> None:
        """Called with every accepted reading (e.g. a control loop's early wake)."""
        self._reading_listeners.append(listener)

    def add_event_listener(self, listener: EventListener) -> None:
        """Called with every event (e.g. the portal's live stream)."""
        self._event_listeners.append(listener)

    # -- ReadingSink -------------------------------------------------------------

    def submit(self, reading: Reading) -> Verdict:
        now_s = self._clock()
        slot = self._slots.get(reading.serial)
        if slot is None:
            self._count_unknown(reading.serial)
            return Verdict(
                False,
                (
                    Finding(
                        "unknown_meter",
                        f"meter {reading.serial} is not registered (add it with its PIN first)",
                    ),
                ),
            )
        verdict = slot.checker.check(reading, now_s)
        if not verdict.accepted:
            for f in verdict.findings:
                if f.severity == "reject":
                    slot.rejected[f.code] += 1
            slot.last_rejection = f"{format_ts(now_s)}: {verdict.reason}"
            slot.dirty = True
            self._evaluate(slot, now_s)
            return verdict
        slot.accepted += 1
        slot.latest = reading
        slot.dirty = True
        for f in verdict.findings:
            if f.severity == "flag":
                slot.flagged[f.code] += 1
            elif f.severity == "fault":
                slot.flagged[f.code] += 1
                self._emit(
                    MeterEvent(reading.serial, "installation_fault", now_s, f.message, f.code)
                )
        transition = slot.freshness.seen(reading.measured_at_s, now_s)
        if transition is not None:
            self._emit(
                MeterEvent(
                    reading.serial, str(transition.after), transition.at_s, transition.describe()
                )
            )
            slot.last_persisted_s = None
        for fut in slot.waiters:
            if not fut.done():
                fut.set_result(reading)
        slot.waiters.clear()
        for listener in self._reading_listeners:
            try:
                listener(reading)
            except Exception:  # a listener's bug must not stop ingestion
                log.exception("reading listener failed")
        # No wake-up of ``run`` per reading: status is persisted at the throttled
        # pace; events (which do wake it) go out at once.
        return verdict

    def reject(self, serial: str, rejection: Rejection, *, source: str = "unknown") -> None:
        slot = self._slots.get(serial)
        if slot is None:
            self._count_unknown(serial)
            return
        slot.rejected[rejection.code] += 1
        slot.last_rejection = f"{format_ts(self._clock())}: {source}: {rejection.message}"
        slot.dirty = True

    def _count_unknown(self, serial: str) -> None:
        self.unknown_total += 1
        if serial in self.unknown or len(self.unknown) < _MAX_UNKNOWN_SERIALS:
            self.unknown[serial] += 1

    # -- MeterReadings --------------------------------------------------------------

    def view(self, serial: str) -> MeterView | None:
        slot = self._slots.get(serial)
        if slot is None:
            return None
        now_s = self._clock()
        self._evaluate(slot, now_s)
        return MeterView(
            serial=serial,
            state=slot.freshness.state,
            reading=slot.latest,
            age_s=slot.freshness.age_s(now_s),
            window_s=slot.freshness.window_s,
        )

    async def next_reading(
        self, serial: str, *, after: Reading | None = None, timeout_s: float | None = None
    ) -> Reading | None:
        slot = self._slots.get(serial)
        if slot is None:
            raise KeyError(f"meter {serial} is not registered")
        if slot.latest is not None and slot.latest is not after:
            return slot.latest
        fut: asyncio.Future[Reading] = asyncio.get_running_loop().create_future()
        slot.waiters.append(fut)
        try:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a
            # cancellation that arrives as the future completes.
            async with asyncio.timeout(timeout_s):
                return await fut
        except TimeoutError:
            return None
        finally:
            if fut in slot.waiters:
                slot.waiters.remove(fut)

    # -- status, events, housekeeping ---------------------------------------------------

    def status(self, serial: str) -> MeterStatus | None:
        slot = self._slots.get(serial)
        if slot is None:
            return None
        now_s = self._clock()
        self._evaluate(slot, now_s)
        return MeterStatus(
            serial=serial,
            kind=slot.settings.kind,
            state=slot.freshness.state,
            age_s=slot.freshness.age_s(now_s),
            window_s=slot.freshness.window_s,
            reading=slot.latest,
            accepted=slot.accepted,
            rejected=dict(slot.rejected),
            flagged=dict(slot.flagged),
            last_rejection=slot.last_rejection,
            installation_faults=slot.checker.installation_faults(),
            at_s=now_s,
        )

    def check(self) -> list[MeterEvent]:
        """Re-evaluate every meter's freshness now; returns the events it caused."""
        now_s = self._clock()
        events = [self._evaluate(slot, now_s) for slot in self._slots.values()]
        return [e for e in events if e is not None]

    def drain_events(self) -> list[MeterEvent]:
        """Events not yet handed to the recorder (for callers that run no ``run``)."""
        out = list(self._outbox)
        self._outbox.clear()
        return out

    async def run(self, *, check_interval_s: float = 0.5) -> None:
        """Watchdog + recorder pump: detects silent meters, persists throttled. Runs until cancelled."""
        while True:
            self.check()
            await self._flush()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(check_interval_s):
                    await self._wake.wait()
            self._wake.clear()

    async def _flush(self) -> None:
        if self._recorder is None:
            self._outbox.clear()
            return
        while self._outbox:
            event = self._outbox.popleft()
            await _maybe_await(self._recorder.record_event, event)
        now_s = self._clock()
        for serial, slot in list(self._slots.items()):
            due = (
                slot.last_persisted_s is None
                or now_s - slot.last_persisted_s >= self._persist_interval_s
            )
            if slot.dirty and due:
                status = self.status(serial)
                if status is not None:
                    slot.dirty = False
                    slot.last_persisted_s = now_s
                    await _maybe_await(self._recorder.record_status, status)

    def _evaluate(self, slot: _Slot, now_s: float) -> MeterEvent | None:
        transition = slot.freshness.evaluate(now_s)
        if transition is None:
            return None
        silence = None
        if slot.freshness.last_measured_at_s is not None:
            silence = now_s - slot.freshness.last_measured_at_s
        event = MeterEvent(
            slot.settings.serial,
            str(transition.after),
            transition.at_s,
            transition.describe(silence),
        )
        self._emit(event)
        # A state change is persisted at once, not at the throttled pace.
        slot.dirty = True
        slot.last_persisted_s = None
        return event

    def _emit(self, event: MeterEvent) -> None:
        log.info("meter %s: %s", event.serial, event.message)
        self._outbox.append(event)
        self._wake.set()
        for listener in self._event_listeners:
            try:
                listener(event)
            except Exception:
                log.exception("event listener failed")


async def _maybe_await(fn: Callable[[Any], Any], arg: Any) -> None:
    try:
        result = fn(arg)
        if inspect.isawaitable(result):
            await result
    except Exception:  # the store being slow or down must not stop metering
        log.exception("meter recorder failed")


def _replace_fuse(limits: PlausibilityLimits, fuse_a: float) -> PlausibilityLimits:
    return replace(limits, fuse_a=fuse_a)
