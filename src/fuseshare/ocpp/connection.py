"""One charger's OCPP-J connection: reading frames safely, and calling the
charger with one outstanding call at a time.

:class:`OcppConnection` extends the ``ocpp`` library's ``ChargePoint``:

* frames are parsed by :func:`~fuseshare.ocpp.framing.parse_frame`, so that
  malformed JSON, unknown message types, oversized frames and floods are
  answered with a CALLERROR (where OCPP prescribes one), logged with a
  throttle, and never reach a handler;
* a CALLRESULT/CALLERROR is passed on only when it answers the call that is
  outstanding (the library would queue stray ones without bound);
* :meth:`request` is the only way to call the charger: one outstanding call,
  a timeout, and a :class:`CallFailed` with a reason instead of ``None``.

The version subclasses (v16/, v201/) add the ``@on`` handlers, which only
translate and hand over to a :class:`ChargerEvents`, and the outbound
requests, which only translate what the central system decided. What is the
same in both versions (the heartbeat, the answer to a boot, the parts of a
charging profile's payload) is here.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from dataclasses import dataclass
from datetime import datetime
from types import ModuleType
from typing import Any, ClassVar, Protocol

from ocpp.charge_point import ChargePoint
from ocpp.exceptions import OCPPError
from ocpp.messages import Call, CallError
from ocpp.routing import after, on

from fuseshare.ocpp.framing import (
    BadFrame,
    error_code_for,
    format_ts,
    parse_frame,
    peek_call_id,
)
from fuseshare.ocpp.ports import (
    BootInfo,
    Capabilities,
    ChargingNeeds,
    MeterSample,
    OcppVersion,
    SessionStart,
    SessionStop,
)
from fuseshare.ocpp.profiles import CompositeSchedule, ProfileSpec
from fuseshare.ocpp.ratelimit import ThrottledLog, TokenBucket

log = logging.getLogger("fuseshare.ocpp")
wire_log = logging.getLogger("fuseshare.ocpp.wire")
"""Every frame at INFO (from the ocpp library); off unless asked for."""


class ConnectionClosed(Exception):
    """The transport is gone."""


class Transport(Protocol):
    """The recv/send interface the ``ocpp`` library expects, plus close."""

    async def recv(self) -> str | bytes: ...

    async def send(self, message: str) -> None: ...

    async def close(self, code: int = 1000, reason: str = "") -> None: ...


class CallFailed(Exception):
    """A call to the charger was rejected, errored, timed out or could not be sent."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    max_frame_bytes: int = 64 * 1024
    """Larger frames are refused unparsed (OCPP messages are a few kB)."""
    frames_per_s: float = 20.0
    frame_burst: float = 100.0
    call_timeout_s: float = 30.0
    log_every_s: float = 60.0


class ChargerEvents(Protocol):
    """What the version handlers report, version-neutral. Implemented by the
    central system's per-charger agent; handlers await it (it may touch the
    store) but it never calls the charger from inside a handler."""

    heartbeat_interval_s: int

    def now(self) -> datetime: ...

    async def booted(self, boot: BootInfo) -> bool:
        """Returns whether the boot is accepted."""
        ...

    def boot_answered(self) -> None:
        """The BootNotification response has been sent."""
        ...

    async def heartbeat(self) -> None: ...

    async def status(self, connector_id: int, status: str, error_code: str | None) -> None: ...

    async def meter_sample(self, sample: MeterSample) -> None: ...

    async def authorize(self, id_tag: str) -> bool: ...

    async def session_started(self, start: SessionStart) -> str: ...

    async def session_stopped(self, stop: SessionStop) -> None: ...

    async def charging_needs(self, needs: ChargingNeeds) -> None:
        """The car of the present session said what it needs (2.0.1 only);
        values that made no sense are already left out."""
        ...


class OcppConnection(ChargePoint):  # type: ignore[misc]  # ocpp is untyped
    """Base of the v16 and v201 connections."""

    version: ClassVar[OcppVersion]
    _ocpp_version: ClassVar[str]
    _call_result: ClassVar[ModuleType]
    """The version's ``ocpp.v16.call_result`` or ``ocpp.v201.call_result``."""

    _ids = itertools.count(1)

    def __init__(
        self,
        serial: str,
        transport: Transport,
        events: ChargerEvents,
        limits: ConnectionLimits = ConnectionLimits(),
    ) -> None:
        super().__init__(serial, transport, response_timeout=limits.call_timeout_s, logger=wire_log)
        self.serial = serial
        self.events = events
        self.limits = limits
        self._transport = transport
        self._bucket = TokenBucket(limits.frames_per_s, limits.frame_burst)
        self._bad_log = ThrottledLog(log, limits.log_every_s)
        self._request_lock = asyncio.Lock()
        self._pending_id: str | None = None
        self.bad_frames = 0
        self.frames = 0
        self.closed = False

    # -- reading -----------------------------------------------------------

    async def start(self) -> None:
        """Read and route frames until the transport closes."""
        while True:
            raw = await self._transport.recv()
            await self.route_message(raw)

    async def route_message(self, raw_msg: str | bytes) -> None:
        self.frames += 1
        if len(raw_msg) > self.limits.max_frame_bytes:
            text = raw_msg if isinstance(raw_msg, str) else raw_msg[:64].decode("utf-8", "replace")
            uid = peek_call_id(text)
            await self._refuse(
                BadFrame(
                    uid or "-1",
                    "GenericError",
                    f"Frame of {len(raw_msg)} bytes exceeds {self.limits.max_frame_bytes}",
                    uid is not None,
                )
            )
            return
        frame = parse_frame(raw_msg)
        if isinstance(frame, BadFrame):
            await self._refuse(frame, raw_msg)
            return
        if not self._bucket.allow():
            if isinstance(frame, Call):
                await self._refuse(
                    BadFrame(frame.unique_id, "GenericError", "Rate limit exceeded", True)
                )
            else:
                self._bad_log.warning("%s: rate limit exceeded, response dropped", self.serial)
            return
        if isinstance(frame, Call):
            await self._handle_call_safely(frame)
        elif frame.unique_id == self._pending_id:
            self._response_queue.put_nowait(frame)
        else:
            self.bad_frames += 1
            self._bad_log.warning(
                "%s: dropped a response to no outstanding call (id %r)",
                self.serial,
                frame.unique_id,
            )

    async def _refuse(self, bad: BadFrame, raw: str | bytes | None = None) -> None:
        self.bad_frames += 1
        sample = "" if raw is None else repr(raw[:120])
        self._bad_log.warning(
            "%s: bad frame (%s: %s) %s", self.serial, bad.error_code, bad.description, sample
        )
        if bad.respond:
            await self._send(bad.call_error(self.version))

    async def _handle_call_safely(self, msg: Call) -> None:
        try:
            await self._handle_call(msg)
        except OCPPError as error:
            self._bad_log.warning(
                "%s: %s refused with %s: %s",
                self.serial,
                msg.action,
                error.code,
                error.description,
            )
            reply = CallError(
                msg.unique_id,
                error_code_for(self.version, error.code),
                error.description,
                _plain_details(error.details),
            )
            await self._send(reply.to_json())
        except ConnectionClosed:
            raise
        except Exception:
            log.exception("%s: error while handling %s", self.serial, msg.action)
            await self._send(
                CallError(msg.unique_id, "InternalError", "Internal error", {}).to_json()
            )

    # -- calling -----------------------------------------------------------

    async def request(
        self, payload: Any, timeout_s: float | None = None, *, own_payload: bool = False
    ) -> Any:
        """Call the charger and return the result dataclass.

        One outstanding call per charger: callers queue on a lock. Never await
        this from inside an ``@on`` handler (the reply could not be read).

        ``own_payload``: the request is built by our own code (charging profiles,
        every control cycle), whose output the test suite validates against the
        official schemas; validating it again on every call was more than half of
        a control cycle's cost. The library then skips the (tiny) answer's schema
        too; a malformed answer still fails the call (CallFailed), which marks
        the charger not controllable.
        """
        timeout = self.limits.call_timeout_s if timeout_s is None else timeout_s
        action = type(payload).__name__
        if self.closed:
            raise CallFailed(f"{action}: connection closed")
        async with self._request_lock:
            if self.closed:
                raise CallFailed(f"{action}: connection closed")
            while not self._response_queue.empty():
                self._response_queue.get_nowait()
            unique_id = f"fs{next(self._ids)}"
            self._pending_id = unique_id
            try:
                async with asyncio.timeout(timeout):
                    return await self.call(
                        payload,
                        suppress=False,
                        unique_id=unique_id,
                        skip_schema_validation=own_payload,
                    )
            except TimeoutError as exc:
                raise CallFailed(f"{action}: no answer within {timeout:g} s") from exc
            except OCPPError as exc:
                raise CallFailed(f"{action}: {exc.code} {exc.description}") from exc
            except ConnectionClosed as exc:
                raise CallFailed(f"{action}: connection closed") from exc
            except Exception as exc:
                raise CallFailed(f"{action}: {type(exc).__name__}: {exc}") from exc
            finally:
                self._pending_id = None

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self.mark_closed()
        await self._transport.close(code, reason)

    def mark_closed(self) -> None:
        """Fail the outstanding call (if any) and every later one at once."""
        self.closed = True
        if self._pending_id is not None:
            self._response_queue.put_nowait(
                CallError(self._pending_id, "GenericError", "connection closed", {})
            )

    # -- from the charger, the same in every version ----------------------------

    async def _answer_boot(self, boot: BootInfo) -> Any:
        """Hand a BootNotification over and answer it (the version's call result)."""
        accepted = await self.events.booted(boot)
        return self._call_result.BootNotification(
            current_time=format_ts(self.events.now()),
            interval=self.events.heartbeat_interval_s,
            status="Accepted" if accepted else "Rejected",
        )

    @after("BootNotification")
    def after_boot_notification(self, **kwargs: Any) -> None:
        # Only now has the charger got its BootNotification answer: calls to
        # it may start (OCPP wants the boot accepted first).
        self.events.boot_answered()

    @on("Heartbeat")
    async def on_heartbeat(self, **kwargs: Any) -> Any:
        await self.events.heartbeat()
        return self._call_result.Heartbeat(current_time=format_ts(self.events.now()))

    @on("FirmwareStatusNotification")
    def on_firmware_status(self, **kwargs: Any) -> Any:
        return self._call_result.FirmwareStatusNotification()

    # -- outbound, per version ----------------------------------------------

    async def configure_for_balancing(self, sample_interval_s: int) -> dict[str, str]:
        """Ask for per-phase current, power and energy every ``sample_interval_s``.
        Returns each setting with the charger's answer ("Accepted", …)."""
        raise NotImplementedError

    async def read_capabilities(self) -> Capabilities:
        raise NotImplementedError

    async def set_profile(self, spec: ProfileSpec, connector_id: int) -> None:
        """Raises :class:`CallFailed` unless the charger accepted."""
        raise NotImplementedError

    async def clear_profile(self, profile_id: int | None, connector_id: int | None) -> str:
        raise NotImplementedError

    async def composite_schedule(
        self, connector_id: int, duration_s: int, rate_unit: str | None
    ) -> CompositeSchedule | None:
        raise NotImplementedError

    async def trigger(self, message: str, connector_id: int | None) -> str:
        raise NotImplementedError

    async def reset(self, hard: bool) -> str:
        raise NotImplementedError

    async def remote_start(self, id_tag: str, connector_id: int | None) -> str:
        raise NotImplementedError

    async def remote_stop(self, transaction_id: str) -> str:
        raise NotImplementedError


def schedule_periods(spec: ProfileSpec) -> list[dict[str, Any]]:
    """A profile's periods as both versions' ``chargingSchedulePeriod`` (snake_case)."""
    return [
        {"start_period": p.start_s, "limit": p.limit}
        | ({} if p.number_phases is None else {"number_phases": p.number_phases})
        for p in spec.periods
    ]


def with_validity(profile: dict[str, Any], spec: ProfileSpec) -> dict[str, Any]:
    """``profile`` with the spec's ``validFrom``/``validTo`` where it has them."""
    if spec.valid_from is not None:
        profile["valid_from"] = format_ts(spec.valid_from)
    if spec.valid_to is not None:
        profile["valid_to"] = format_ts(spec.valid_to)
    return profile


def _plain_details(details: Any) -> dict[str, Any]:
    """Error details that are safe to put on the wire (JSON, no echo of input)."""
    if not isinstance(details, dict):
        return {}
    cause = details.get("cause")
    return {"cause": str(cause)[:200]} if cause is not None else {}


__all__ = [
    "CallFailed",
    "ChargerEvents",
    "ConnectionClosed",
    "ConnectionLimits",
    "OcppConnection",
    "Transport",
]
