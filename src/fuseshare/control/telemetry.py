"""What the chargers tell us, kept in memory for the control loops.

:class:`ChargerTelemetry` implements the OCPP side's ``TelemetrySink`` port:
it is called on every message, so it only updates memory and wakes the loop
of the charger's group on changes that matter (link, status, session,
controllability). Per-phase currents do not wake anyone: the loop reads them
on its next cycle.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from fuseshare.ocpp.ports import NEEDS_BEFORE_START_S, ChargingNeeds, MeterSample

# Connector states (OCPP 1.6 / 2.0.1) in which the car does not want current now.
_CAR_DOES_NOT_WANT = frozenset({"SuspendedEV", "Finishing", "Available", "Faulted", "Unavailable"})


@dataclass
class ChargerLiveState:
    """The latest of what one charger said. Times in the control clock's seconds."""

    online: bool = False
    last_seen_s: float | None = None
    measured_a: tuple[float, float, float] | None = None
    """Current at the charger's own L1, L2, L3 (None for a phase it did not report → 0)."""
    measured_at_s: float | None = None
    samples: deque[tuple[float, tuple[float, float, float]]] = field(
        default_factory=lambda: deque(maxlen=64)
    )
    """Recent (time, currents), to line a charger's current up with a meter reading's time."""
    connector_status: dict[int, str] = field(default_factory=dict)
    session_id: str | None = None
    controllable: bool = True
    not_controllable_reason: str | None = None
    needs: ChargingNeeds | None = None
    """What the present session's car said it needs, if it did."""
    departure_s: float | None = None
    """Its departure on the control clock (from ``needs.departure_in_s``)."""
    needs_session: str | None = None
    """The session running when the needs were told (None: told before its start)."""
    needs_told_s: float = 0.0
    """When the needs were told, on the control clock."""

    def sample_as_of(self, at_s: float) -> tuple[float, tuple[float, float, float]] | None:
        """(when, currents) of the sample that best describes the charger at ``at_s``:
        the latest at or before it, else the earliest after it."""
        samples = self.samples
        if samples:
            # Newest first: the reading is usually newer than all but the last sample or two.
            for sample in reversed(samples):
                if sample[0] <= at_s:
                    return sample
            return samples[0]
        if self.measured_a is not None and self.measured_at_s is not None:
            return self.measured_at_s, self.measured_a
        return None

    def measured_as_of(self, at_s: float) -> tuple[float, float, float] | None:
        """The charger's currents when the meter took its reading at ``at_s``.

        The building's other load is the meter reading minus the chargers' currents
        *at the same moment*; subtracting a newer charger sample from an older reading
        (or the other way round) misjudges the rest of the building by whatever the cars
        changed in between. The latest sample at or before ``at_s`` is taken; when there
        is none, the earliest after it.
        """
        sample = self.sample_as_of(at_s)
        return None if sample is None else sample[1]

    @property
    def car_wants_energy(self) -> bool:
        """True unless every connector (not the charger's 0) is in a state without a car
        that wants current; with no connector state known yet, True."""
        known = False
        for connector, status in self.connector_status.items():
            if connector != 0:
                if status not in _CAR_DOES_NOT_WANT:
                    return True
                known = True
        return not known

    @property
    def status(self) -> str:
        statuses = [s for c, s in sorted(self.connector_status.items()) if c != 0]
        return statuses[0] if statuses else self.connector_status.get(0, "Unknown")


Waker = Callable[[], None]


class ChargerTelemetry:
    """In-memory charger state by serial; implements ``fuseshare.ocpp.ports.TelemetrySink``."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._states: dict[str, ChargerLiveState] = {}
        self._wakers: dict[str, set[Waker]] = {}

    def state(self, serial: str) -> ChargerLiveState:
        state = self._states.get(serial)
        if state is None:
            state = self._states[serial] = ChargerLiveState()
        return state

    def watch(self, serial: str, waker: Waker) -> None:
        self._wakers.setdefault(serial, set()).add(waker)

    def unwatch(self, serial: str, waker: Waker) -> None:
        self._wakers.get(serial, set()).discard(waker)

    def _wake(self, serial: str) -> None:
        for waker in tuple(self._wakers.get(serial, ())):
            waker()

    def _seen(self, serial: str) -> ChargerLiveState:
        state = self.state(serial)
        state.last_seen_s = self._clock()
        return state

    # -- TelemetrySink --------------------------------------------------------------------

    def meter_sample(self, serial: str, sample: MeterSample) -> None:
        state = self._seen(serial)
        phases = sample.current_a.as_tuple()
        if all(v is None for v in phases):
            return
        state.measured_a = (phases[0] or 0.0, phases[1] or 0.0, phases[2] or 0.0)
        state.measured_at_s = self._clock()
        state.samples.append((state.measured_at_s, state.measured_a))

    def connector_status(
        self, serial: str, connector_id: int, status: str, error_code: str | None
    ) -> None:
        state = self._seen(serial)
        if state.connector_status.get(connector_id) != status:
            state.connector_status[connector_id] = status
            self._wake(serial)

    def session_started(self, serial: str, transaction_id: str, connector_id: int) -> None:
        state = self._seen(serial)
        told_before = state.needs is not None and state.needs_session is None
        if state.needs_session not in (None, transaction_id) or (
            told_before and self._clock() - state.needs_told_s > NEEDS_BEFORE_START_S
        ):
            # Told during another session whose stop we never heard, or long before any
            # session started: not this car's.
            state.needs = state.departure_s = state.needs_session = None
        elif told_before:
            state.needs_session = transaction_id  # told just before it started
        state.session_id = transaction_id
        self._wake(serial)

    def session_stopped(self, serial: str, transaction_id: str) -> None:
        state = self._seen(serial)
        if state.session_id == transaction_id:
            state.session_id = None
            state.measured_a = None
            state.samples.clear()
            state.needs = state.departure_s = state.needs_session = None
        self._wake(serial)

    def charging_needs(self, serial: str, needs: ChargingNeeds) -> None:
        state = self._seen(serial)
        state.needs = needs
        state.needs_told_s = self._clock()
        # ISO 15118 may tell its needs before the transaction starts (the next session's).
        state.needs_session = state.session_id
        after_s = needs.departure_in_s
        state.departure_s = None if after_s is None else self._clock() + after_s
        self._wake(serial)

    def told_needs(self, serial: str) -> ChargingNeeds | None:
        """What the present session's car was told to need, its departure counted from now."""
        state = self.state(serial)
        if state.needs is None:
            return None
        left_s = None if state.departure_s is None else state.departure_s - self._clock()
        return replace(state.needs, departure_in_s=left_s)

    def connection_changed(self, serial: str, online: bool) -> None:
        state = self._seen(serial)
        state.online = online
        if not online:
            state.measured_a = None
            state.samples.clear()
        self._wake(serial)

    def controllability(self, serial: str, controllable: bool, reason: str | None) -> None:
        state = self.state(serial)
        if state.controllable != controllable:
            state.controllable = controllable
            state.not_controllable_reason = None if controllable else reason
            self._wake(serial)
