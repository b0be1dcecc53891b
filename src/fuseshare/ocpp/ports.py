"""What the OCPP central system needs from the rest of fuseshare, and what it tells it.

Two ports, kept small:

* :class:`ChargerDirectory` — the store's view of chargers: who may connect,
  what a charger told us about itself, sessions. Async, because the store runs
  sync SQLAlchemy in a thread; every call may take a few milliseconds.
* :class:`TelemetrySink` — the control side's live view: per-phase currents,
  connector states, sessions, whether a charger obeys. Sync and non-blocking:
  it is called on every MeterValues message, so an implementation must only
  update memory (or put into a queue), never do I/O.

The records below are the vocabulary of both ports. Units are in the names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Literal, Protocol

OcppVersion = Literal["1.6", "2.0.1"]
RateUnit = Literal["A", "W"]


class AuthStatus(StrEnum):
    """The outcome of checking a charger's HTTP Basic credentials."""

    OK = "ok"
    UNKNOWN_SERIAL = "unknown_serial"
    WRONG_PASSWORD = "wrong_password"
    LOCKED_OUT = "locked_out"
    NOT_YET_ADDED = "not_yet_added"
    """The serial is in the device inventory but no installer has added it yet."""


@dataclass(frozen=True, slots=True)
class AuthResult:
    status: AuthStatus
    reason: str | None = None
    """Human-readable detail for the log (never contains the password)."""

    @property
    def ok(self) -> bool:
        return self.status is AuthStatus.OK


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a charger said about its smart charging, read after boot.

    ``None`` means the charger did not say (unknown key / variable).
    """

    rate_units: tuple[RateUnit, ...] | None = None
    """Allowed charging rate units: ``("A",)``, ``("W",)`` or both."""
    max_stack_level: int | None = None
    max_profiles: int | None = None
    max_periods_per_schedule: int | None = None
    number_of_connectors: int | None = None
    raw: dict[str, str] = field(default_factory=dict)
    """Every configuration key / variable read, as the charger reported it."""


@dataclass(frozen=True, slots=True)
class BootInfo:
    vendor: str
    model: str
    firmware_version: str | None
    serial_number: str | None
    ocpp_version: OcppVersion


@dataclass(frozen=True, slots=True)
class PerPhase:
    """A value per charger phase (the charger's own L1, L2, L3; not grid lines).

    ``None`` for a phase the charger did not report.
    """

    l1: float | None = None
    l2: float | None = None
    l3: float | None = None

    def as_tuple(self) -> tuple[float | None, float | None, float | None]:
        return (self.l1, self.l2, self.l3)


@dataclass(frozen=True, slots=True)
class MeterSample:
    """One MeterValues sample, normalized: amperes, watts, watt-hours."""

    at: datetime
    connector_id: int
    transaction_id: str | None
    current_a: PerPhase
    power_w: float | None
    """Total active import power (sum of phases when only per-phase is sent)."""
    power_per_phase_w: PerPhase
    energy_wh: float | None
    """Energy.Active.Import.Register: the meter's register, not per session."""
    offered_current_a: float | None = None


@dataclass(frozen=True, slots=True)
class SessionStart:
    connector_id: int
    transaction_id: str | None
    """The charger's id (2.0.1). ``None`` on 1.6: the directory allocates one."""
    id_tag: str | None
    meter_start_wh: float | None
    started_at: datetime


@dataclass(frozen=True, slots=True)
class SessionStop:
    transaction_id: str
    meter_stop_wh: float | None
    stopped_at: datetime
    reason: str | None = None
    id_tag: str | None = None


@dataclass(frozen=True, slots=True)
class OpenSession:
    """A session the store holds open (see :meth:`ChargerDirectory.open_session`)."""

    transaction_id: str
    connector_id: int
    energy_wanted_kwh: float | None = None
    departure_at: datetime | None = None
    ev_max_current_a: float | None = None

    def needs(self, now: datetime) -> ChargingNeeds | None:
        """What its car said it needs, as of ``now``; None when it said nothing."""
        if (self.energy_wanted_kwh, self.departure_at, self.ev_max_current_a) == (None,) * 3:
            return None
        after_s = None if self.departure_at is None else (self.departure_at - now).total_seconds()
        return ChargingNeeds(self.energy_wanted_kwh, after_s, self.ev_max_current_a)


class ChargerDirectory(Protocol):
    """The store's side: identity, what chargers said, sessions."""

    async def authenticate(self, serial: str, password: str) -> AuthResult:
        """Check HTTP Basic credentials (security profile 1/2).

        The directory may record the attempt: count failures for a lockout,
        or show an inventory serial as "waiting to be added"."""
        ...

    async def record_boot(
        self, serial: str, boot: BootInfo, capabilities: Capabilities | None
    ) -> None:
        """Store vendor, model, firmware and OCPP version.

        Called twice per boot: once at BootNotification with ``capabilities``
        ``None`` (not read yet), once more when they have been read.
        """
        ...

    async def record_connection(
        self, serial: str, *, online: bool, at: datetime, process_id: str
    ) -> None:
        """The charger's link went up or down, held by server ``process_id``."""
        ...

    async def record_seen(self, serial: str, at: datetime) -> None:
        """Heartbeat: last seen. Throttled by the caller (not every message)."""
        ...

    async def record_status(
        self, serial: str, connector_id: int, status: str, error_code: str | None
    ) -> None: ...

    async def start_session(self, serial: str, start: SessionStart) -> str:
        """Open a session; return its transaction id.

        When ``start.transaction_id`` is ``None`` (OCPP 1.6) the directory
        allocates a new id that is a positive int32 and returns it as a
        decimal string; otherwise it returns ``start.transaction_id`` and must
        be idempotent for it (2.0.1 chargers re-send undelivered events).
        """
        ...

    async def session_energy(
        self, serial: str, transaction_id: str, energy_wh: float, at: datetime
    ) -> None:
        """Progress of a session (register value, Wh). Throttled by the caller."""
        ...

    async def stop_session(self, serial: str, stop: SessionStop) -> None: ...

    async def open_session(self, serial: str) -> OpenSession | None:
        """The charger's newest session that has not stopped; ``None`` when there is
        none. Read when a charger reconnects: a car that kept charging while the server
        was away is still in its session."""
        ...

    async def session_needs(
        self, serial: str, transaction_id: str, needs: ChargingNeeds, at: datetime
    ) -> None:
        """Keep what the session's car said it needs (told at ``at``)."""
        ...

    async def authorize_tag(self, serial: str, id_tag: str) -> bool:
        """Organization policy: accept all, or only tags on its list."""
        ...

    async def failsafe_current_a(self, serial: str) -> float | None:
        """The membership's failsafe current, ``None`` when not in a group."""
        ...


NEEDS_BEFORE_START_S = 600.0
"""Needs told with no session running belong to a session that starts within this long
(ISO 15118 tells them before the charger may start its transaction); older ones to none."""


@dataclass(frozen=True, slots=True)
class ChargingNeeds:
    """What a car said it needs (OCPP 2.0.1 NotifyEVChargingNeeds, from ISO 15118).

    ``None`` for what it did not say.
    """

    energy_kwh: float | None = None
    """The energy it wants (``energyAmount``)."""
    departure_in_s: float | None = None
    """Seconds from the message to its departure (``departureTime``)."""
    ev_max_current_a: float | None = None
    """Its onboard charger's maximum per phase (``acChargingParameters.evMaxCurrent``)."""


class TelemetrySink(Protocol):
    """The control side's live view. Sync, in memory, must not block."""

    def meter_sample(self, serial: str, sample: MeterSample) -> None: ...

    def connector_status(
        self, serial: str, connector_id: int, status: str, error_code: str | None
    ) -> None: ...

    def session_started(self, serial: str, transaction_id: str, connector_id: int) -> None: ...

    def session_stopped(self, serial: str, transaction_id: str) -> None: ...

    def charging_needs(self, serial: str, needs: ChargingNeeds) -> None:
        """The car of the charger's present session said what it needs."""
        ...

    def connection_changed(self, serial: str, online: bool) -> None: ...

    def controllability(self, serial: str, controllable: bool, reason: str | None) -> None:
        """``False``: the charger did not accept or answer a limit; the control
        side must assume it draws its maximum until it is controllable again."""
        ...
