"""The OCPP central system: the registry of connected chargers and everything
the rest of fuseshare may ask of them.

Mount it with :func:`fuseshare.ocpp.asgi.ocpp_router`. The control side calls
:meth:`CentralSystem.set_limit` each cycle (cheap when nothing changed); the
portal calls the other methods.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import ocpp.messages

from fuseshare.ocpp.agent import ChargerAgent, DesiredLimit, LimitOutcome
from fuseshare.ocpp.connection import ConnectionClosed, ConnectionLimits, OcppConnection, Transport
from fuseshare.ocpp.ports import (
    AuthResult,
    AuthStatus,
    BootInfo,
    Capabilities,
    ChargerDirectory,
    OcppVersion,
    TelemetrySink,
)
from fuseshare.ocpp.profiles import CompositeSchedule, LimitPolicy, schedule_problems
from fuseshare.ocpp.v16.connection import V16Connection
from fuseshare.ocpp.v201.connection import V201Connection

log = logging.getLogger("fuseshare.ocpp")

SUBPROTOCOLS: dict[str, OcppVersion] = {"ocpp2.0.1": "2.0.1", "ocpp1.6": "1.6"}
"""Offered subprotocol → version; the first of ours in the client's order wins."""

_CONNECTIONS: dict[OcppVersion, type[OcppConnection]] = {
    "1.6": V16Connection,
    "2.0.1": V201Connection,
}


def utc_now() -> datetime:
    return datetime.now(UTC)


def default_process_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True, slots=True)
class CentralSettings:
    heartbeat_interval_s: int = 300
    sample_interval_s: int = 10
    """MeterValues interval asked of chargers (short, for load balancing)."""
    policy: LimitPolicy = field(default_factory=LimitPolicy)
    limits: ConnectionLimits = field(default_factory=ConnectionLimits)
    limit_lease_s: float | None = 600.0
    """A limit keeps being refreshed this long after the control side last set
    it; then it is left to expire (fail closed if the control loop dies but
    this process lives). ``None``: as long as the charger is connected."""
    boot_wait_s: float = 5.0
    """After connecting, wait this long for a BootNotification before setup."""
    seen_every_s: float = 60.0
    session_energy_every_s: float = 300.0
    default_failsafe_current_a: float = 0.0
    """Failsafe used by set_limit when the directory knows none (fail closed)."""
    fast_validation: bool = True
    """Validate schemas on the event loop instead of a thread pool (faster for
    small OCPP messages; sets ``ocpp.messages.ASYNC_VALIDATION``)."""
    process_id: str = field(default_factory=default_process_id)


class ChargerOffline(LookupError):
    """The charger is not connected to this process."""


@dataclass(frozen=True, slots=True)
class ChargerSnapshot:
    serial: str
    ocpp_version: OcppVersion
    connected_since: datetime
    last_seen: datetime
    boot: BootInfo | None
    capabilities: Capabilities | None
    configuration: dict[str, str]
    controllable: bool | None
    not_controllable_reason: str | None
    limit_a: float | None
    limit_expires_at: datetime | None


class CentralSystem:
    """Registry of connected chargers and the commands the rest may give them."""

    def __init__(
        self,
        directory: ChargerDirectory,
        telemetry: TelemetrySink,
        settings: CentralSettings | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.directory = directory
        self.telemetry = telemetry
        self.settings = settings or CentralSettings()
        self._clock = clock
        self._agents: dict[str, ChargerAgent] = {}
        self._desired: dict[str, DesiredLimit] = {}
        self._capabilities: dict[str, Capabilities] = {}
        if self.settings.fast_validation:
            ocpp.messages.ASYNC_VALIDATION = False

    def now(self) -> datetime:
        return self._clock()

    # -- connections ---------------------------------------------------------

    async def authenticate(self, serial: str, password: str | None) -> AuthResult:
        """Check credentials and log refusals (never the password)."""
        if password is None:
            result = AuthResult(AuthStatus.WRONG_PASSWORD, "no HTTP Basic credentials")
        else:
            result = await self.directory.authenticate(serial, password)
        if not result.ok:
            what = {
                AuthStatus.UNKNOWN_SERIAL: "is unknown",
                AuthStatus.WRONG_PASSWORD: "tried to connect with a wrong password",
                AuthStatus.LOCKED_OUT: "is locked out after failed attempts",
                AuthStatus.NOT_YET_ADDED: "is waiting to be added",
            }[result.status]
            log.warning(
                "charger %s %s%s", serial, what, f" ({result.reason})" if result.reason else ""
            )
        return result

    async def serve(self, serial: str, transport: Transport, version: OcppVersion) -> None:
        """Run one authenticated connection until it closes. A newer connection
        of the same charger replaces this one (the old socket is closed)."""
        agent = ChargerAgent(self, serial, version)
        conn = _CONNECTIONS[version](serial, transport, agent, self.settings.limits)
        agent.connection = conn
        old = self._agents.get(serial)
        self._agents[serial] = agent
        if old is not None:
            log.info("%s: reconnected; closing the previous connection", serial)
            await old.stop()
            if old.connection is not None:
                await _quietly(old.connection.close(1000, "replaced by a new connection"))
        log.info("%s: connected (OCPP %s)", serial, version)
        self.telemetry.connection_changed(serial, True)
        await self._record_connection(serial, online=True)
        agent.start()
        try:
            await conn.start()
        except ConnectionClosed:
            pass
        finally:
            await agent.stop()
            if self._agents.get(serial) is agent:
                del self._agents[serial]
                log.info("%s: disconnected", serial)
                self.telemetry.connection_changed(serial, False)
                await asyncio.shield(self._record_connection(serial, online=False))

    async def _record_connection(self, serial: str, *, online: bool) -> None:
        try:
            await self.directory.record_connection(
                serial, online=online, at=self.now(), process_id=self.settings.process_id
            )
        except Exception:
            log.exception("%s: recording the connection (online=%s) failed", serial, online)

    def connected(self) -> list[str]:
        return sorted(self._agents)

    def is_connected(self, serial: str) -> bool:
        return serial in self._agents

    def snapshot(self, serial: str) -> ChargerSnapshot | None:
        agent = self._agents.get(serial)
        if agent is None:
            return None
        state = agent.state
        plan = state.plan
        return ChargerSnapshot(
            serial=serial,
            ocpp_version=agent.version,
            connected_since=state.connected_since,
            last_seen=state.last_seen,
            boot=state.boot,
            capabilities=state.capabilities,
            configuration=dict(state.configuration),
            controllable=state.control.controllable,
            not_controllable_reason=state.control.reason,
            limit_a=None if plan is None else plan.current_a,
            limit_expires_at=None if plan is None else plan.expires_at,
        )

    async def wait_ready(self, serial: str) -> None:
        """Until the charger's post-connect setup (failsafe profile) is done."""
        await self._agent(serial).wait_ready()

    async def close(self) -> None:
        """Close every connection (server shutdown)."""
        agents = list(self._agents.values())
        for agent in agents:
            await agent.stop()
            if agent.connection is not None:
                await _quietly(agent.connection.close(1001, "server shutting down"))

    def remember_capabilities(self, serial: str, capabilities: Capabilities) -> None:
        self._capabilities[serial] = capabilities

    def known_capabilities(self, serial: str) -> Capabilities | None:
        return self._capabilities.get(serial)

    def desired(self, serial: str) -> DesiredLimit | None:
        """The leased limit for ``serial``, if the lease is still running."""
        desired = self._desired.get(serial)
        if desired is None:
            return None
        if desired.lease_until is not None and self.now() >= desired.lease_until:
            del self._desired[serial]
            return None
        return desired

    def _agent(self, serial: str) -> ChargerAgent:
        agent = self._agents.get(serial)
        if agent is None:
            raise ChargerOffline(serial)
        return agent

    def _connection(self, serial: str) -> OcppConnection:
        conn = self._agent(serial).connection
        if conn is None:
            raise ChargerOffline(serial)
        return conn

    # -- limits --------------------------------------------------------------

    async def set_limit(
        self,
        serial: str,
        current_a: float,
        *,
        connector_id: int = 0,
        failsafe_current_a: float | None = None,
    ) -> LimitOutcome:
        """Charger ``serial`` may draw ``current_a`` (A per phase) from now on.

        Sends the failsafe profile when it changed and the dynamic profile
        unless the same limit is still fresh, and keeps refreshing it for
        ``limit_lease_s``. A rejected or unanswered profile marks the charger
        not controllable (telemetry) and returns ``accepted=False``. A charger
        that is offline (``reason="offline"``) or still being set up after
        connecting (``reason="connecting"``) gets it as soon as it is ready,
        if the lease still runs. Never blocks on a charger's setup.
        """
        if failsafe_current_a is None:
            failsafe_current_a = await self.directory.failsafe_current_a(serial)
        if failsafe_current_a is None:
            failsafe_current_a = self.settings.default_failsafe_current_a
        lease_s = self.settings.limit_lease_s
        desired = DesiredLimit(
            current_a=current_a,
            failsafe_current_a=failsafe_current_a,
            connector_id=connector_id,
            lease_until=None if lease_s is None else self.now() + timedelta(seconds=lease_s),
        )
        self._desired[serial] = desired
        agent = self._agents.get(serial)
        if agent is None:
            return LimitOutcome(serial, False, reason="offline")
        if not agent.ready:
            # Its setup (capabilities, failsafe) is still running and applies
            # the leased limit when done; don't block the control loop on it.
            return LimitOutcome(serial, False, reason="connecting")
        return await agent.apply(desired)

    def forget_limit(self, serial: str) -> None:
        """Stop refreshing ``serial``'s dynamic limit; sends nothing. The dynamic
        profile expires by itself within ``ttl_s`` (clear it with
        :meth:`clear_profile` to end it at once); the failsafe profile stays."""
        self._desired.pop(serial, None)
        agent = self._agents.get(serial)
        if agent is not None:
            agent.forget_plan()

    async def clear_limit(self, serial: str, connector_id: int | None = None) -> str:
        """Stop limiting: forget the lease and clear both of our profiles."""
        from fuseshare.ocpp.profiles import DYNAMIC_PROFILE_ID, FAILSAFE_PROFILE_ID

        self._desired.pop(serial, None)
        agent = self._agent(serial)
        agent.state.plan = None
        conn = self._connection(serial)
        status = await conn.clear_profile(DYNAMIC_PROFILE_ID, connector_id)
        await conn.clear_profile(FAILSAFE_PROFILE_ID, connector_id)
        agent.state.failsafe_sent.clear()
        return status

    async def get_composite_schedule(
        self, serial: str, duration_s: int = 300, connector_id: int = 0, rate_unit: str = "A"
    ) -> CompositeSchedule | None:
        """What the charger says it will do over the next ``duration_s``."""
        return await self._connection(serial).composite_schedule(
            connector_id, duration_s, rate_unit
        )

    async def verify_limit(self, serial: str) -> list[str]:
        """Ask the charger (GetCompositeSchedule) whether it will do what was
        planned: the limit now, and the failsafe once the dynamic profile
        expires. Returns the problems found; empty means verified."""
        agent = self._agent(serial)
        plan = agent.state.plan
        if plan is None:
            return ["no limit is set"]
        duration_s = math.ceil((plan.expires_at - self.now()).total_seconds()) + 60
        schedule = await self._connection(serial).composite_schedule(
            plan.connector_id, max(duration_s, 60), "A"
        )
        if schedule is None:
            return ["the charger did not return a composite schedule"]
        return schedule_problems(plan, schedule, self.settings.policy)

    async def clear_profile(
        self, serial: str, profile_id: int | None = None, connector_id: int | None = None
    ) -> str:
        return await self._connection(serial).clear_profile(profile_id, connector_id)

    # -- portal commands -----------------------------------------------------

    async def trigger(self, serial: str, message: str, connector_id: int | None = None) -> str:
        """TriggerMessage, e.g. ``"MeterValues"``, ``"StatusNotification"``."""
        return await self._connection(serial).trigger(message, connector_id)

    async def reset(self, serial: str, hard: bool = False) -> str:
        return await self._connection(serial).reset(hard)

    async def remote_start(self, serial: str, id_tag: str, connector_id: int | None = 1) -> str:
        return await self._connection(serial).remote_start(id_tag, connector_id)

    async def remote_stop(self, serial: str, transaction_id: str) -> str:
        return await self._connection(serial).remote_stop(transaction_id)


async def _quietly(coro: Awaitable[object]) -> None:
    try:
        await coro
    except Exception:
        log.debug("ignored error while closing", exc_info=True)
