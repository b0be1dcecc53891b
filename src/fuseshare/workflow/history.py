"""History of readings and setpoints, the audit log view, and the retention job.

Per-second rows are kept ``history_per_second_keep_s`` (48 h by default), then
folded into per-minute averages kept ``history_per_minute_keep_s`` (a year).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select

from fuseshare.store.tables import AuditEntry, MeterReadingRow, SetpointRow
from fuseshare.workflow import lookup
from fuseshare.workflow.actors import Actor
from fuseshare.workflow.context import Context
from fuseshare.workflow.views import audit_view

_READING_VALUES = (
    "current_l1_a",
    "current_l2_a",
    "current_l3_a",
    "voltage_l1_v",
    "voltage_l2_v",
    "voltage_l3_v",
    "power_w",
)


def _mean(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def _minute(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


class History:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def audit_log(
        self, actor: Actor, organization: str | int | None = None, limit: int = 200
    ) -> list[dict[str, Any]]:
        with self._ctx.unit() as s:
            query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
            if organization is not None:
                org = lookup.organization(s, actor, organization)
                query = query.where(AuditEntry.organization_id == org.id)
            elif not actor.sees_everything:
                return []
            return [audit_view(a) for a in s.scalars(query)]

    def prune(self, now: datetime | None = None, batch: int = 20000) -> dict[str, int]:
        """Fold old per-second rows into per-minute averages and drop what is past keeping.

        Runs in batches so that a large backlog does not hold one huge transaction.
        Returns counts of rows folded, written and deleted.
        """
        now = now or self._ctx.clock()
        settings = self._ctx.settings
        # On a minute boundary, so that no minute is folded half now and half next time.
        fine_cutoff = _minute(now - timedelta(seconds=settings.history_per_second_keep_s))
        coarse_cutoff = now - timedelta(seconds=settings.history_per_minute_keep_s)
        counts = {"readings_folded": 0, "setpoints_folded": 0, "minute_rows": 0, "deleted": 0}
        while True:
            with self._ctx.unit() as s:
                rows = list(
                    s.scalars(
                        select(MeterReadingRow)
                        .where(MeterReadingRow.resolution_s == 1, MeterReadingRow.at < fine_cutoff)
                        .order_by(MeterReadingRow.meter_id, MeterReadingRow.at)
                        .limit(batch)
                    )
                )
                if not rows:
                    break
                if len(rows) == batch:
                    # A full batch may end inside a minute: take the rest of that minute too,
                    # or the minute would be folded into two rows.
                    last = rows[-1]
                    start = _minute(last.at)
                    seen = {r.id for r in rows}
                    rows += [
                        r
                        for r in s.scalars(
                            select(MeterReadingRow).where(
                                MeterReadingRow.meter_id == last.meter_id,
                                MeterReadingRow.resolution_s == 1,
                                MeterReadingRow.at >= start,
                                MeterReadingRow.at < min(start + timedelta(minutes=1), fine_cutoff),
                            )
                        )
                        if r.id not in seen
                    ]
                buckets: dict[tuple[int, datetime], list[MeterReadingRow]] = defaultdict(list)
                for r in rows:
                    buckets[(r.meter_id, _minute(r.at))].append(r)
                for (meter_id, minute), members in buckets.items():
                    values: dict[str, Any] = {
                        k: _mean([getattr(m, k) for m in members]) for k in _READING_VALUES
                    }
                    values["current_l1_a"] = values["current_l1_a"] or 0.0
                    values["energy_kwh"] = members[-1].energy_kwh
                    s.add(MeterReadingRow(meter_id=meter_id, at=minute, resolution_s=60, **values))
                counts["minute_rows"] += len(buckets)
                counts["readings_folded"] += len(rows)
                s.execute(
                    delete(MeterReadingRow).where(MeterReadingRow.id.in_([r.id for r in rows]))
                )
        while True:
            with self._ctx.unit() as s:
                points = list(
                    s.scalars(
                        select(SetpointRow)
                        .where(SetpointRow.resolution_s == 1, SetpointRow.at < fine_cutoff)
                        .order_by(SetpointRow.group_id, SetpointRow.charger_id, SetpointRow.at)
                        .limit(batch)
                    )
                )
                if not points:
                    break
                if len(points) == batch:
                    last_point = points[-1]
                    start = _minute(last_point.at)
                    taken = {p.id for p in points}
                    points += [
                        p
                        for p in s.scalars(
                            select(SetpointRow).where(
                                SetpointRow.group_id == last_point.group_id,
                                SetpointRow.charger_id == last_point.charger_id,
                                SetpointRow.resolution_s == 1,
                                SetpointRow.at >= start,
                                SetpointRow.at < min(start + timedelta(minutes=1), fine_cutoff),
                            )
                        )
                        if p.id not in taken
                    ]
                groups: dict[tuple[int, int, datetime], list[SetpointRow]] = defaultdict(list)
                for p in points:
                    groups[(p.group_id, p.charger_id, _minute(p.at))].append(p)
                for (group_id, charger_id, minute), same_minute in groups.items():
                    s.add(
                        SetpointRow(
                            group_id=group_id,
                            charger_id=charger_id,
                            at=minute,
                            resolution_s=60,
                            current_a=_mean([p.current_a for p in same_minute]) or 0.0,
                            actual_a=_mean([p.actual_a for p in same_minute]),
                            reason=same_minute[-1].reason,
                        )
                    )
                counts["minute_rows"] += len(groups)
                counts["setpoints_folded"] += len(points)
                s.execute(delete(SetpointRow).where(SetpointRow.id.in_([p.id for p in points])))
        with self._ctx.unit() as s:
            for table in (MeterReadingRow, SetpointRow):
                result = s.execute(delete(table).where(table.at < coarse_cutoff))
                counts["deleted"] += int(getattr(result, "rowcount", 0) or 0)
        return counts
