"""The meter side's store ports: PIN checks for HTTP push, and what is kept of each meter.

``record_status`` keeps the meter's state and latest reading on its row (what
``fuseshare meters show`` and the portal read from another process);
``record_event`` keeps online/offline transitions and installation faults as
events the portal shows. Both run their database work in a worker thread.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from sqlalchemy import select

from fuseshare.meters.hub import MeterEvent, MeterSettings, MeterStatus
from fuseshare.meters.modbus import ModbusMeterSettings
from fuseshare.meters.ports import AuthResult
from fuseshare.meters.service import MeterService
from fuseshare.store.tables import Event, LoadBalancingGroup, PowerMeter
from fuseshare.workflow import Workflow

log = logging.getLogger(__name__)

_SEVERITY = {"offline": "warning", "installation_fault": "warning", "online": "info"}


class StoreMeterCredentials:
    """``MeterCredentials``: serial + 8-digit PIN, counted and locked out by the workflow."""

    def __init__(self, workflow: Workflow) -> None:
        self._wf = workflow

    def authenticate(self, serial: str, secret: str) -> AuthResult:
        return AuthResult(self._wf.devices.authenticate_meter(serial, secret))


class StoreReadingRecorder:
    """``ReadingRecorder``: the meter row's state and latest reading, and meter events."""

    def __init__(self, workflow: Workflow) -> None:
        self._ctx = workflow.ctx

    async def record_status(self, status: MeterStatus) -> None:
        def work() -> None:
            with self._ctx.unit() as s:
                meter = s.scalar(select(PowerMeter).where(PowerMeter.serial == status.serial))
                if meter is None:
                    return
                meter.state = str(status.state)
                meter.last_reading = status.to_json_dict()
                if status.reading is not None:
                    meter.last_reading_at = datetime.fromtimestamp(
                        status.reading.measured_at_s, UTC
                    )

        try:
            await asyncio.to_thread(work)
        except Exception as exc:  # the database may be away; the hub keeps going
            log.debug("meter status of %s not stored: %s", status.serial, exc)

    async def record_event(self, event: MeterEvent) -> None:
        def work() -> None:
            with self._ctx.unit() as s:
                meter = s.scalar(select(PowerMeter).where(PowerMeter.serial == event.serial))
                if meter is None:
                    return
                group_id = s.scalar(
                    select(LoadBalancingGroup.id)
                    .where(LoadBalancingGroup.meter_id == meter.id)
                    .limit(1)
                )
                s.add(
                    Event(
                        at=datetime.fromtimestamp(event.at_s, UTC),
                        organization_id=meter.organization_id,
                        group_id=group_id,
                        severity=_SEVERITY.get(event.kind, "info"),
                        kind=f"meter_{event.kind}",
                        subject=event.serial,
                        message=event.message,
                    )
                )

        try:
            await asyncio.to_thread(work)
        except Exception as exc:
            log.warning("meter event for %s not stored: %s", event.serial, exc)


class MeterRegistrySync:
    """Keeps the meter service in line with the store: every added meter is registered,
    with its group's main fuse for the plausibility bound and its Modbus settings."""

    def __init__(self, workflow: Workflow, service: MeterService, *, stale_after_s: float) -> None:
        self._ctx = workflow.ctx
        self._service = service
        self._stale_after_s = stale_after_s
        self._known: dict[str, tuple[object, ...]] = {}
        self.meter_ids: dict[str, int] = {}
        """serial → store id, for history rows."""

    def _read(self) -> dict[str, tuple[int, str, dict[str, object], float | None, int | None]]:
        with self._ctx.unit() as s:
            rows = s.execute(
                select(PowerMeter.id, PowerMeter.serial, PowerMeter.kind, PowerMeter.connection)
            ).all()
            groups = s.execute(
                select(
                    LoadBalancingGroup.meter_id,
                    LoadBalancingGroup.max_supply_current_a,
                    LoadBalancingGroup.grid,
                )
                .where(LoadBalancingGroup.meter_id.is_not(None))
                .order_by(LoadBalancingGroup.state == "active")  # the active group's fuse wins
            ).all()
        fuse = {mid: (f, 1 if grid == "TN_230_1P" else 3) for mid, f, grid in groups}
        return {
            serial: (mid, kind, dict(conn or {}), *(fuse.get(mid) or (None, None)))
            for mid, serial, kind, conn in rows
        }

    async def sync(self) -> None:
        try:
            meters = await asyncio.to_thread(self._read)
        except Exception as exc:
            log.debug("meter registry not synced: %s", exc)
            return
        for serial, (mid, kind, conn, fuse_a, lines) in meters.items():
            key = (kind, tuple(sorted(conn.items())), fuse_a, lines)
            self.meter_ids[serial] = mid
            if self._known.get(serial) == key:
                continue
            interval_s = float(conn.get("interval_s") or 1.0)  # type: ignore[arg-type]
            settings = MeterSettings(
                serial=serial,
                kind={"modbus_tcp": "modbus", "http_push": "http"}.get(kind, kind),
                lines=lines,
                interval_s=interval_s,
                fuse_a=fuse_a,
                staleness_floor_s=self._stale_after_s,
            )
            modbus = None
            if kind == "modbus_tcp" and conn.get("host"):
                modbus = ModbusMeterSettings(
                    serial=serial,
                    host=str(conn["host"]),
                    model=str(conn.get("model") or "sdm630"),
                    port=int(conn.get("port") or 502),  # type: ignore[call-overload]
                    unit_id=int(conn.get("unit_id") or 1),  # type: ignore[call-overload]
                    interval_s=interval_s,
                )
            self._service.add_meter(settings, modbus=modbus)
            self._known[serial] = key
        for serial in set(self._known) - set(meters):
            self._service.remove_meter(serial)
            self._known.pop(serial)
            self.meter_ids.pop(serial, None)

    async def run(self, every_s: float = 3.0) -> None:
        while True:
            await self.sync()
            await asyncio.sleep(every_s)
