"""Read-only queries the portal needs beyond the workflow's views.

Connector states and the history behind the dashboard's chart. Only reads:
every change goes through fuseshare.workflow. Callers pass ids they obtained
from a workflow view, so tenancy has been checked already.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from fuseshare.store.tables import ConnectorState, Event, MeterReadingRow, SetpointRow
from fuseshare.workflow import Context

WINDOWS_S = {"hour": 3600, "day": 86400}
RESOLUTION_S = {"hour": 5, "day": 60}
"""Chart buckets: 720 points for an hour, 1440 for a day."""


def connector_states(ctx: Context, charger_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if not charger_ids:
        return out
    with ctx.unit() as s:
        rows = s.scalars(
            select(ConnectorState)
            .where(ConnectorState.charger_id.in_(charger_ids))
            .order_by(ConnectorState.charger_id, ConnectorState.connector_id)
        )
        for r in rows:
            out[r.charger_id].append(
                {"connector_id": r.connector_id, "status": r.status, "error_code": r.error_code}
            )
    return out


def events(
    ctx: Context,
    organization_id: int,
    kind_prefix: str,
    limit: int = 10,
    *,
    group_id: int | None = None,
) -> list[dict[str, Any]]:
    """The organization's newest events of one kind (``charger_``, ``meter_``, ``group_``):
    wrong passwords, a meter gone silent, implausible readings, a building that outgrew
    its offline budget; with ``group_id``, that group's only."""
    with ctx.unit() as s:
        query = select(Event).where(
            Event.organization_id == organization_id, Event.kind.startswith(kind_prefix)
        )
        if group_id is not None:
            query = query.where(Event.group_id == group_id)
        rows = s.scalars(query.order_by(Event.id.desc()).limit(limit))
        return [
            {
                "at": e.at.isoformat(),
                "severity": e.severity,
                "kind": e.kind,
                "subject": e.subject,
                "message": e.message,
            }
            for e in rows
        ]


def _bucket(at: datetime, start: datetime, step_s: int) -> int:
    return int((at - start).total_seconds() // step_s)


def history(
    ctx: Context, *, group_id: int, meter_id: int | None, window: str, now: datetime
) -> dict[str, Any]:
    """Meter line currents and the chargers' total setpoint, averaged per bucket."""
    span_s, step_s = WINDOWS_S[window], RESOLUTION_S[window]
    start = now - timedelta(seconds=span_s)
    meter: dict[int, list[tuple[float | None, float | None, float | None]]] = defaultdict(list)
    totals: dict[int, dict[datetime, float]] = defaultdict(lambda: defaultdict(float))
    with ctx.unit() as s:
        if meter_id is not None:
            for r in s.execute(
                select(
                    MeterReadingRow.at,
                    MeterReadingRow.current_l1_a,
                    MeterReadingRow.current_l2_a,
                    MeterReadingRow.current_l3_a,
                )
                .where(MeterReadingRow.meter_id == meter_id, MeterReadingRow.at >= start)
                .order_by(MeterReadingRow.at)
            ):
                meter[_bucket(r.at, start, step_s)].append((r[1], r[2], r[3]))
        for p in s.execute(
            select(SetpointRow.at, SetpointRow.current_a)
            .where(SetpointRow.group_id == group_id, SetpointRow.at >= start)
            .order_by(SetpointRow.at)
        ):
            totals[_bucket(p.at, start, step_s)][p.at] += p.current_a
    buckets = sorted(set(meter) | set(totals))
    out: dict[str, Any] = {
        "window": window,
        "resolution_s": step_s,
        "t": [],
        "meter_l1_a": [],
        "meter_l2_a": [],
        "meter_l3_a": [],
        "setpoint_total_a": [],
    }
    for b in buckets:
        out["t"].append(start.timestamp() + b * step_s)
        rows = meter.get(b, [])
        for i, key in enumerate(("meter_l1_a", "meter_l2_a", "meter_l3_a")):
            values = [v for row in rows if (v := row[i]) is not None]
            out[key].append(round(sum(values) / len(values), 2) if values else None)
        sums = list(totals.get(b, {}).values())
        out["setpoint_total_a"].append(round(sum(sums) / len(sums), 2) if sums else None)
    return out
