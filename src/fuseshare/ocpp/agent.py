"""One connected charger, version-neutral: what it reports goes to the ports,
what it must hold (failsafe and dynamic profiles) is sent and refreshed here.

An agent lives exactly as long as one WebSocket connection. It never awaits a
call to the charger inside a message handler: anything that calls the
charger runs in the agent's own tasks (``_setup``, ``_keeper``) or in the
caller of :class:`~fuseshare.ocpp.central.CentralSystem`'s methods.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Coroutine
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from fuseshare.ocpp.connection import CallFailed, OcppConnection
from fuseshare.ocpp.ports import (
    NEEDS_BEFORE_START_S,
    BootInfo,
    Capabilities,
    ChargingNeeds,
    MeterSample,
    OcppVersion,
    SessionStart,
    SessionStop,
)
from fuseshare.ocpp.profiles import (
    LimitPlan,
    NotControllableError,
    ProfileSpec,
    failsafe_profile,
    plan_limit,
)

if TYPE_CHECKING:
    from fuseshare.ocpp.central import CentralSystem

log = logging.getLogger("fuseshare.ocpp")


@dataclass(frozen=True, slots=True)
class DesiredLimit:
    """What the control side last asked for a charger."""

    current_a: float
    failsafe_current_a: float
    connector_id: int
    lease_until: datetime | None
    """Refreshing stops after this unless the control side asks again."""


@dataclass(frozen=True, slots=True)
class LimitOutcome:
    serial: str
    accepted: bool
    reason: str | None = None
    plan: LimitPlan | None = None
    sent: bool = False
    """False when nothing had to be sent (the same limit is still fresh)."""


@dataclass(slots=True)
class _Controllability:
    controllable: bool | None = None
    reason: str | None = None


@dataclass(slots=True)
class AgentState:
    connected_since: datetime
    last_seen: datetime
    boot: BootInfo | None = None
    capabilities: Capabilities | None = None
    configuration: dict[str, str] = field(default_factory=dict)
    failsafe_sent: dict[int, ProfileSpec] = field(default_factory=dict)
    plan: LimitPlan | None = None
    control: _Controllability = field(default_factory=_Controllability)


class ChargerAgent:
    """Implements :class:`~fuseshare.ocpp.connection.ChargerEvents` for one connection."""

    def __init__(self, central: CentralSystem, serial: str, version: OcppVersion) -> None:
        self.central = central
        self.serial = serial
        self.version = version
        self.heartbeat_interval_s = central.settings.heartbeat_interval_s
        now = central.now()
        self.state = AgentState(connected_since=now, last_seen=now)
        self.connection: OcppConnection | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._booted = asyncio.Event()
        self._ready = asyncio.Event()
        self._wake = asyncio.Event()
        self._apply_lock = asyncio.Lock()
        self._seen_recorded: datetime | None = None
        self._energy_recorded: dict[str, datetime] = {}
        self._session: tuple[str, int] | None = None
        """(transaction id, connector) of the session telemetry was told of."""
        self._session_from_store = False
        """That session was taken from the store at reconnect, and the charger has not
        yet confirmed it (a message with its transaction id)."""
        self._told_needs: tuple[ChargingNeeds, datetime] | None = None
        """Needs told before their session started (ISO 15118 may), and when."""
        self._session_wh: tuple[float, float] | None = None
        """The present session's energy register when it started (or was first seen) and
        now, Wh: what it has had, for needs told in the middle of it."""
        self._ended: deque[str] = deque(maxlen=8)
        """Transactions that stopped here: late meter values never bring them back."""
        self.closed = False

    # -- lifecycle -----------------------------------------------------------

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> None:
        task = asyncio.create_task(coro, name=f"ocpp:{self.serial}:{name}")
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("%s: background task failed", self.serial, exc_info=task.exception())

    def start(self) -> None:
        self.spawn(self._setup(), "setup")
        self.spawn(self._keeper(), "keeper")

    async def stop(self) -> None:
        self.closed = True
        if self.connection is not None:
            self.connection.mark_closed()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def wait_ready(self) -> None:
        """Until the first setup after connecting is done (failsafe installed)."""
        await self._ready.wait()

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def forget_plan(self) -> None:
        """Stop refreshing the current plan (the keeper goes idle)."""
        self.state.plan = None
        self._wake.set()

    def touch(self) -> None:
        self.state.last_seen = self.central.now()

    # -- ChargerEvents -------------------------------------------------------

    def now(self) -> datetime:
        return self.central.now()

    async def booted(self, boot: BootInfo) -> bool:
        self.state.boot = boot
        await self._record(
            "record_boot", self.central.directory.record_boot(self.serial, boot, None)
        )
        return True

    def boot_answered(self) -> None:
        self._booted.set()

    async def _record(self, what: str, write: Awaitable[None]) -> None:
        """A store write that the charger's answer does not depend on: a
        failing store is logged, the charger is still answered."""
        try:
            await write
        except Exception:
            log.exception("%s: %s failed", self.serial, what)

    async def heartbeat(self) -> None:
        now = self.now()
        every = self.central.settings.seen_every_s
        if self._seen_recorded is None or (now - self._seen_recorded).total_seconds() >= every:
            self._seen_recorded = now
            await self._record("record_seen", self.central.directory.record_seen(self.serial, now))

    async def status(self, connector_id: int, status: str, error_code: str | None) -> None:
        self.central.telemetry.connector_status(self.serial, connector_id, status, error_code)
        if (
            self._session_from_store
            and self._session is not None
            and self._session[1] == connector_id
            and status == "Available"
        ):
            # The car left while we were away and the stop was lost: no session here.
            log.info("%s: session %s from the store has ended", self.serial, self._session[0])
            self.central.telemetry.session_stopped(self.serial, self._session[0])
            self._session, self._session_from_store = None, False
        await self._record(
            "record_status",
            self.central.directory.record_status(self.serial, connector_id, status, error_code),
        )

    async def meter_sample(self, sample: MeterSample) -> None:
        tx = sample.transaction_id
        if tx is not None and tx not in self._ended:
            if self._session is None or self._session[0] != tx:
                # A transaction we were not told of: it began before we (re)started.
                self._resume(tx, sample.connector_id, "its meter values")
            self._session_from_store = False
        self.central.telemetry.meter_sample(self.serial, sample)
        if tx is None or sample.energy_wh is None:
            return
        if self._session is not None and self._session[0] == tx:
            first = sample.energy_wh if self._session_wh is None else self._session_wh[0]
            self._session_wh = (first, sample.energy_wh)
        last = self._energy_recorded.get(tx)
        every = self.central.settings.session_energy_every_s
        if last is None or (sample.at - last).total_seconds() >= every:
            self._energy_recorded[tx] = sample.at
            await self._record(
                "session_energy",
                self.central.directory.session_energy(self.serial, tx, sample.energy_wh, sample.at),
            )

    async def authorize(self, id_tag: str) -> bool:
        return await self.central.directory.authorize_tag(self.serial, id_tag)

    async def session_started(self, start: SessionStart) -> str:
        tx = await self.central.directory.start_session(self.serial, start)
        self.central.telemetry.session_started(self.serial, tx, start.connector_id)
        self._session, self._session_from_store = (tx, start.connector_id), False
        wh = start.meter_start_wh
        self._session_wh = None if wh is None else (wh, wh)
        if self._told_needs is not None:
            needs, at = self._told_needs
            self._told_needs = None
            if (self.now() - at).total_seconds() <= NEEDS_BEFORE_START_S:
                await self._keep_needs(tx, needs, at)
        return tx

    async def session_stopped(self, stop: SessionStop) -> None:
        self._energy_recorded.pop(stop.transaction_id, None)
        await self.central.directory.stop_session(self.serial, stop)
        self.central.telemetry.session_stopped(self.serial, stop.transaction_id)
        self._ended.append(stop.transaction_id)
        if self._session is not None and self._session[0] == stop.transaction_id:
            self._session, self._session_from_store, self._session_wh = None, False, None

    def _resume(self, tx: str, connector_id: int, source: str) -> None:
        """Tell telemetry of a session that began before this connection (the server
        restarted, or the link dropped): without it the car counts as gone and is
        given nothing until it is plugged in again."""
        log.info("%s: resuming session %s (from %s)", self.serial, tx, source)
        self.central.telemetry.session_started(self.serial, tx, connector_id)
        self._session, self._session_wh = (tx, connector_id), None

    async def charging_needs(self, needs: ChargingNeeds) -> None:
        # ISO 15118 tells the energy still missing; the session's want is that plus what
        # it has had (nothing, when told at the start as usual).
        if needs.energy_kwh is not None and self._session_wh is not None:
            had_kwh = max(0.0, self._session_wh[1] - self._session_wh[0]) / 1000.0
            needs = replace(needs, energy_kwh=needs.energy_kwh + had_kwh)
        self.central.telemetry.charging_needs(self.serial, needs)
        if self._session is None:
            self._told_needs = (needs, self.now())  # before its start: kept for it
            return
        await self._keep_needs(self._session[0], needs, self.now())

    async def _keep_needs(self, tx: str, needs: ChargingNeeds, at: datetime) -> None:
        """In the store, so that a restarted server still shares by them."""
        await self._record(
            "session_needs", self.central.directory.session_needs(self.serial, tx, needs, at)
        )

    async def _resume_from_store(self) -> None:
        """A session the store holds open is resumed at once, before the charger's next
        meter values (up to a sample interval): a car still charging keeps its share."""
        try:
            found = await self.central.directory.open_session(self.serial)
        except Exception:
            log.exception("%s: reading the open session failed", self.serial)
            return
        if found is not None and self._session is None:
            self._resume(found.transaction_id, found.connector_id, "the store")
            self._session_from_store = True
            needs = found.needs(self.now())
            if needs is not None:
                self.central.telemetry.charging_needs(self.serial, needs)

    # -- setup and limits ----------------------------------------------------

    def _conn(self) -> OcppConnection:
        if self.connection is None:
            raise CallFailed("not connected")
        return self.connection

    async def _setup(self) -> None:
        """After connecting: configure sampling, read capabilities, install the
        failsafe profile and whatever limit is still leased."""
        try:
            await self._resume_from_store()
            await self._configure()
            desired = self.central.desired(self.serial)
            if desired is not None:
                await self.apply(desired)
            else:
                failsafe_a = await self.central.directory.failsafe_current_a(self.serial)
                if failsafe_a is not None:
                    await self.install_failsafe(failsafe_a, connector_id=0)
        finally:
            self._ready.set()

    async def _configure(self) -> None:
        settings = self.central.settings
        # A charger that reconnects without rebooting sends no BootNotification.
        # (asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation.)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(settings.boot_wait_s):
                await self._booted.wait()
        conn = self._conn()
        try:
            self.state.configuration = await conn.configure_for_balancing(
                settings.sample_interval_s
            )
            self.state.capabilities = await conn.read_capabilities()
        except CallFailed as failed:
            log.warning("%s: could not read smart charging settings: %s", self.serial, failed)
        if self.state.capabilities is None:
            self.state.capabilities = self.central.known_capabilities(self.serial)
            return
        self.central.remember_capabilities(self.serial, self.state.capabilities)
        if self.state.boot is not None:
            await self._record(
                "record_boot",
                self.central.directory.record_boot(
                    self.serial, self.state.boot, self.state.capabilities
                ),
            )

    async def install_failsafe(self, failsafe_current_a: float, connector_id: int) -> bool:
        async with self._apply_lock:
            try:
                spec = failsafe_profile(
                    failsafe_current_a,
                    capabilities=self.state.capabilities,
                    policy=self.central.settings.policy,
                )
                if self.state.failsafe_sent.get(connector_id) != spec:
                    await self._conn().set_profile(spec, connector_id)
                    self.state.failsafe_sent[connector_id] = spec
            except (CallFailed, NotControllableError) as failed:
                self._mark(False, str(failed))
                return False
            return True

    async def apply(self, desired: DesiredLimit, *, force: bool = False) -> LimitOutcome:
        """Send what it takes for ``desired`` to hold from now; idempotent."""
        async with self._apply_lock:
            now = self.now()
            current = self.state.plan
            if (
                not force
                and current is not None
                and current.current_a == desired.current_a
                and current.failsafe_current_a == desired.failsafe_current_a
                and current.connector_id == desired.connector_id
                and now < current.refresh_at
            ):
                return LimitOutcome(self.serial, True, plan=current)
            try:
                plan = plan_limit(
                    desired.current_a,
                    desired.failsafe_current_a,
                    now,
                    capabilities=self.state.capabilities,
                    policy=self.central.settings.policy,
                    connector_id=desired.connector_id,
                )
                conn = self._conn()
                if self.state.failsafe_sent.get(plan.connector_id) != plan.failsafe:
                    await conn.set_profile(plan.failsafe, plan.connector_id)
                    self.state.failsafe_sent[plan.connector_id] = plan.failsafe
                await conn.set_profile(plan.dynamic, plan.connector_id)
            except (CallFailed, NotControllableError) as failed:
                self.state.plan = None
                reason = getattr(failed, "reason", str(failed))
                self._mark(False, reason)
                return LimitOutcome(self.serial, False, reason=reason)
            self.state.plan = plan
            self._mark(True, None)
            self._wake.set()
            return LimitOutcome(self.serial, True, plan=plan, sent=True)

    def _mark(self, controllable: bool, reason: str | None) -> None:
        control = self.state.control
        if control.controllable == controllable and control.reason == reason:
            return
        control.controllable, control.reason = controllable, reason
        if not controllable:
            log.warning("%s: not controllable: %s", self.serial, reason)
        self.central.telemetry.controllability(self.serial, controllable, reason)

    async def _keeper(self) -> None:
        """Re-send the dynamic profile before it expires, while leased; retry a
        limit that failed once per refresh period."""
        policy = self.central.settings.policy
        while True:
            plan = self.state.plan
            timeout: float | None = None
            if plan is not None:
                timeout = max(0.0, (plan.refresh_at - self.now()).total_seconds())
            elif self.central.desired(self.serial) is not None:
                timeout = policy.ttl_s * policy.refresh_fraction
            self._wake.clear()
            try:
                async with asyncio.timeout(timeout):
                    await self._wake.wait()
                continue
            except TimeoutError:
                pass
            desired = self.central.desired(self.serial)
            if desired is None:
                if self.state.plan is not None:
                    log.info("%s: limit lease over; the dynamic profile will expire", self.serial)
                self.state.plan = None
                continue
            await self.apply(desired, force=True)
