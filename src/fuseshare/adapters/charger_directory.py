"""The OCPP side's ``ChargerDirectory`` port, backed by the store.

Sync SQLAlchemy work runs in a worker thread so the event loop never waits
on the database. Passwords are checked through the workflow (lock-out
included) and never logged.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from fuseshare.ocpp.ports import (
    AuthResult,
    AuthStatus,
    BootInfo,
    Capabilities,
    ChargingNeeds,
    OpenSession,
    SessionStart,
    SessionStop,
)
from fuseshare.store.tables import (
    Charger,
    ChargingSession,
    ConnectorState,
    Event,
    IdTag,
    LoadBalancingGroup,
    Membership,
    Organization,
)
from fuseshare.workflow import Workflow

log = logging.getLogger("fuseshare.ocpp.auth")

_AUTH = {
    "ok": AuthStatus.OK,
    "unknown": AuthStatus.UNKNOWN_SERIAL,
    "wrong_password": AuthStatus.WRONG_PASSWORD,
    "locked": AuthStatus.LOCKED_OUT,
    "waiting_to_be_added": AuthStatus.NOT_YET_ADDED,
}
_INT32_MAX = 2**31 - 1


class StoreChargerDirectory:
    def __init__(self, workflow: Workflow) -> None:
        self._wf = workflow
        self._ctx = workflow.ctx
        self._waiting_noted: dict[str, float] = {}

    async def authenticate(self, serial: str, password: str) -> AuthResult:
        result = await asyncio.to_thread(self._wf.devices.authenticate_charger, serial, password)
        if result.outcome == "wrong_password":
            await asyncio.to_thread(
                self._event,
                result.organization_id,
                "warning",
                "charger_wrong_password",
                serial,
                result.message,
            )
        elif result.outcome == "waiting_to_be_added" and self._waiting_due(serial):
            await asyncio.to_thread(
                self._event, None, "info", "charger_waiting_to_be_added", serial, result.message
            )
        return AuthResult(_AUTH[result.outcome], result.message or None)

    def _waiting_due(self, serial: str, every_s: float = 3600.0) -> bool:
        """A charger not yet added retries every few seconds: note it once an hour."""
        now = time.monotonic()
        if now - self._waiting_noted.get(serial, -every_s) < every_s:
            return False
        self._waiting_noted[serial] = now
        return True

    def _event(
        self, org_id: int | None, severity: str, kind: str, subject: str, message: str
    ) -> None:
        with self._ctx.unit() as s:
            s.add(
                Event(
                    at=self._ctx.clock(),
                    organization_id=org_id,
                    severity=severity,
                    kind=kind,
                    subject=subject,
                    message=message,
                )
            )

    def _charger(self, s: object, serial: str) -> Charger | None:
        return s.scalar(select(Charger).where(Charger.serial == serial))  # type: ignore[attr-defined,no-any-return]

    async def record_boot(
        self, serial: str, boot: BootInfo, capabilities: Capabilities | None
    ) -> None:
        def work() -> None:
            with self._ctx.unit() as s:
                c = self._charger(s, serial)
                if c is None:
                    return
                c.vendor, c.model = boot.vendor, boot.model
                c.firmware = boot.firmware_version or ""
                c.ocpp_version = boot.ocpp_version
                if capabilities is not None:
                    c.capabilities = {
                        "rate_units": list(capabilities.rate_units or ()),
                        "max_stack_level": capabilities.max_stack_level,
                        "max_profiles": capabilities.max_profiles,
                        "max_periods_per_schedule": capabilities.max_periods_per_schedule,
                        "number_of_connectors": capabilities.number_of_connectors,
                        "raw": dict(capabilities.raw),
                    }
                    if capabilities.number_of_connectors:
                        c.connectors = capabilities.number_of_connectors

        await asyncio.to_thread(work)

    async def record_connection(
        self, serial: str, *, online: bool, at: datetime, process_id: str
    ) -> None:
        def work() -> None:
            with self._ctx.unit() as s:
                c = self._charger(s, serial)
                if c is None:
                    return
                c.connection_state = "online" if online else "offline"
                c.last_seen_at = at
                c.held_by = process_id if online else ""

        await asyncio.to_thread(work)

    async def record_seen(self, serial: str, at: datetime) -> None:
        def work() -> None:
            with self._ctx.unit() as s:
                c = self._charger(s, serial)
                if c is not None:
                    c.last_seen_at = at

        await asyncio.to_thread(work)

    async def record_status(
        self, serial: str, connector_id: int, status: str, error_code: str | None
    ) -> None:
        def work() -> None:
            with self._ctx.unit() as s:
                c = self._charger(s, serial)
                if c is None:
                    return
                row = s.scalar(
                    select(ConnectorState).where(
                        ConnectorState.charger_id == c.id,
                        ConnectorState.connector_id == connector_id,
                    )
                )
                if row is None:
                    row = ConnectorState(charger_id=c.id, connector_id=connector_id)
                    s.add(row)
                row.status = status
                row.error_code = error_code or ""
                row.updated_at = self._ctx.clock()

        await asyncio.to_thread(work)

    async def start_session(self, serial: str, start: SessionStart) -> str:
        def work() -> str:
            with self._ctx.unit() as s:
                c = self._charger(s, serial)
                if c is None:
                    raise LookupError(f"charger {serial} is not added")
                if start.transaction_id is not None:
                    # 2.0.1 chargers re-send events that were not acknowledged: one session.
                    existing = self._session(s, serial, start.transaction_id)
                    if existing is not None:
                        return existing.transaction_id
                row = ChargingSession(
                    charger_id=c.id,
                    connector_id=start.connector_id,
                    transaction_id=start.transaction_id or "pending",
                    id_tag=start.id_tag or "",
                    started_at=start.started_at,
                    meter_start_wh=start.meter_start_wh or 0.0,
                )
                s.add(row)
                s.flush()
                if start.transaction_id is None:
                    # OCPP 1.6 wants a positive int32 from us: the row id is unique and grows.
                    row.transaction_id = str(row.id % _INT32_MAX or 1)
                return row.transaction_id

        return await asyncio.to_thread(work)

    def _session(self, s: object, serial: str, transaction_id: str) -> ChargingSession | None:
        return self._newest_session(s, serial, ChargingSession.transaction_id == transaction_id)

    def _newest_session(self, s: object, serial: str, condition: Any) -> ChargingSession | None:
        """The charger's newest session that meets ``condition``."""
        return s.scalar(  # type: ignore[attr-defined,no-any-return]
            select(ChargingSession)
            .join(Charger, Charger.id == ChargingSession.charger_id)
            .where(Charger.serial == serial, condition)
            .order_by(ChargingSession.id.desc())
            .limit(1)
        )

    async def session_energy(
        self, serial: str, transaction_id: str, energy_wh: float, at: datetime
    ) -> None:
        def work() -> None:
            with self._ctx.unit() as s:
                row = self._session(s, serial, transaction_id)
                if row is not None and row.stopped_at is None:
                    row.energy_kwh = max(0.0, (energy_wh - row.meter_start_wh) / 1000.0)

        await asyncio.to_thread(work)

    async def stop_session(self, serial: str, stop: SessionStop) -> None:
        def work() -> None:
            with self._ctx.unit() as s:
                row = self._session(s, serial, stop.transaction_id)
                if row is None:
                    log.warning("%s stopped unknown transaction %s", serial, stop.transaction_id)
                    return
                row.stopped_at = stop.stopped_at
                row.stop_reason = stop.reason or ""
                if stop.meter_stop_wh is not None:
                    row.meter_stop_wh = stop.meter_stop_wh
                    row.energy_kwh = max(0.0, (stop.meter_stop_wh - row.meter_start_wh) / 1000.0)

        await asyncio.to_thread(work)

    async def open_session(self, serial: str) -> OpenSession | None:
        def work() -> OpenSession | None:
            with self._ctx.unit() as s:
                row = self._newest_session(s, serial, ChargingSession.stopped_at.is_(None))
                if row is None or row.transaction_id == "pending":
                    return None
                return OpenSession(
                    row.transaction_id,
                    row.connector_id,
                    row.energy_wanted_kwh,
                    row.departure_at,
                    row.ev_max_current_a,
                )

        return await asyncio.to_thread(work)

    async def session_needs(
        self, serial: str, transaction_id: str, needs: ChargingNeeds, at: datetime
    ) -> None:
        def work() -> None:
            with self._ctx.unit() as s:
                row = self._session(s, serial, transaction_id)
                if row is None or row.stopped_at is not None:
                    return
                row.energy_wanted_kwh = needs.energy_kwh
                row.departure_at = (
                    None
                    if needs.departure_in_s is None
                    else at + timedelta(seconds=needs.departure_in_s)
                )
                row.ev_max_current_a = needs.ev_max_current_a

        await asyncio.to_thread(work)

    async def authorize_tag(self, serial: str, id_tag: str) -> bool:
        def work() -> bool:
            with self._ctx.unit() as s:
                c = self._charger(s, serial)
                if c is None:
                    return False
                org = s.get(Organization, c.organization_id)
                if org is None or org.authorize_mode == "accept_all":
                    return org is not None
                count = s.scalar(
                    select(func.count())
                    .select_from(IdTag)
                    .where(IdTag.organization_id == org.id, IdTag.tag == id_tag)
                )
                return bool(count)

        return await asyncio.to_thread(work)

    async def failsafe_current_a(self, serial: str) -> float | None:
        def work() -> float | None:
            with self._ctx.unit() as s:
                rows = s.execute(
                    select(Membership.failsafe_current_a, LoadBalancingGroup.state)
                    .join(LoadBalancingGroup, LoadBalancingGroup.id == Membership.group_id)
                    .join(Charger, Charger.id == Membership.charger_id)
                    .where(Charger.serial == serial)
                ).all()
                active = [f for f, state in rows if state == "active"]
                if active:
                    return float(active[0])
                return float(min(f for f, _ in rows)) if rows else None

        return await asyncio.to_thread(work)
