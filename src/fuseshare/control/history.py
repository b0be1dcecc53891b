"""History writing that never holds up a control loop and survives a database outage.

Loops and the meter hub add rows to an in-memory buffer; a flusher writes them
in bulk every few seconds in a worker thread. When the database is away the
rows wait (bounded: the oldest go first when the buffer is full) and are
written when it is back.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert

from fuseshare.store.tables import MeterReadingRow, SetpointRow
from fuseshare.workflow import Context

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SetpointPoint:
    group_id: int
    charger_id: int
    at_s: float
    current_a: float
    actual_a: float | None
    reason: str


@dataclass(frozen=True, slots=True)
class ReadingPoint:
    meter_id: int
    at_s: float
    current_a: tuple[float, ...]
    voltage_v: tuple[float, ...] | None
    power_w: float | None
    energy_kwh: float | None


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


class HistoryBuffer:
    def __init__(
        self, ctx: Context, *, max_rows: int = 500_000, flush_every_s: float = 5.0
    ) -> None:
        self._ctx = ctx
        self._setpoints: deque[SetpointPoint] = deque(maxlen=max_rows)
        self._readings: deque[ReadingPoint] = deque(maxlen=max_rows)
        self._flush_every_s = flush_every_s
        self.dropped = 0
        self.database_ok = True
        self._on_state: list[Callable[[bool], None]] = []

    def on_database_state(self, callback: Callable[[bool], None]) -> None:
        self._on_state.append(callback)

    def add_setpoint(self, point: SetpointPoint) -> None:
        if len(self._setpoints) == self._setpoints.maxlen:
            self.dropped += 1
        self._setpoints.append(point)

    def add_reading(self, point: ReadingPoint) -> None:
        if len(self._readings) == self._readings.maxlen:
            self.dropped += 1
        self._readings.append(point)

    @property
    def pending(self) -> int:
        return len(self._setpoints) + len(self._readings)

    def flush(self) -> int:
        """Write what is buffered; returns rows written. Keeps the rows on failure."""
        # Take the rows out first: loops append from the event loop thread while this
        # runs in a worker thread, and iterating a deque that grows is an error.
        setpoints = [self._setpoints.popleft() for _ in range(len(self._setpoints))]
        readings = [self._readings.popleft() for _ in range(len(self._readings))]
        if not setpoints and not readings:
            return 0
        rows_sp: list[dict[str, Any]] = [
            {
                "group_id": p.group_id,
                "charger_id": p.charger_id,
                "at": _at(p.at_s),
                "resolution_s": 1,
                "current_a": p.current_a,
                "actual_a": p.actual_a,
                "reason": p.reason[:200],
            }
            for p in setpoints
        ]
        rows_rd: list[dict[str, Any]] = []
        for r in readings:
            c = (*r.current_a, None, None)
            v = (*(r.voltage_v or ()), None, None, None)
            rows_rd.append(
                {
                    "meter_id": r.meter_id,
                    "at": _at(r.at_s),
                    "resolution_s": 1,
                    "current_l1_a": c[0],
                    "current_l2_a": c[1],
                    "current_l3_a": c[2],
                    "voltage_l1_v": v[0],
                    "voltage_l2_v": v[1],
                    "voltage_l3_v": v[2],
                    "power_w": r.power_w,
                    "energy_kwh": r.energy_kwh,
                }
            )
        try:
            with self._ctx.unit() as s:
                if rows_sp:
                    s.execute(insert(SetpointRow), rows_sp)
                if rows_rd:
                    s.execute(insert(MeterReadingRow), rows_rd)
        except Exception as exc:
            self._setpoints.extendleft(reversed(setpoints))
            self._readings.extendleft(reversed(readings))
            if self.database_ok:
                log.warning("history kept in memory, the database is away: %s", exc)
                self._set_state(False)
            return 0
        if not self.database_ok:
            log.warning(
                "database is back; wrote %d buffered history rows", len(rows_sp) + len(rows_rd)
            )
            self._set_state(True)
        return len(rows_sp) + len(rows_rd)

    def _set_state(self, ok: bool) -> None:
        self.database_ok = ok
        for callback in self._on_state:
            callback(ok)

    async def run(self) -> None:
        try:
            while True:
                await asyncio.sleep(self._flush_every_s)
                await asyncio.to_thread(self.flush)
        finally:
            await asyncio.to_thread(self.flush)
