"""The control loops' store port: their notices become events, the building's peak and
what the sessions have had (sharing memory) are kept.

Both writes run in a worker thread, in the background: a control cycle never waits
for the database, and a database that is away loses a notice (logged) but never
holds up control.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from fuseshare.control.loop import GroupNotice
from fuseshare.store.tables import BuildingPeakRow, Event, SharingMemoryRow
from fuseshare.workflow import Workflow

log = logging.getLogger(__name__)
_Row = TypeVar("_Row", BuildingPeakRow, SharingMemoryRow)


class GroupRecords:
    """``notify``, ``keep_building`` and ``keep_memory`` for
    :class:`fuseshare.control.loop.GroupLoop`."""

    def __init__(self, workflow: Workflow) -> None:
        self._ctx = workflow.ctx
        self._pending: set[asyncio.Task[None]] = set()

    def _background(self, what: str, work: Callable[[], None]) -> None:
        async def run() -> None:
            try:
                await asyncio.to_thread(work)
            except Exception as exc:  # the database may be away; control goes on
                log.warning("%s not stored: %s", what, exc)

        task = asyncio.get_running_loop().create_task(run())
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    def notify(self, notice: GroupNotice) -> None:
        def work() -> None:
            with self._ctx.unit() as s:
                s.add(
                    Event(
                        at=datetime.fromtimestamp(notice.at_s, UTC),
                        organization_id=notice.organization_id,
                        group_id=notice.group_id,
                        severity=notice.severity,
                        kind=notice.kind,
                        subject=notice.subject[:120],
                        message=notice.message,
                    )
                )

        self._background(f"event {notice.kind} of group {notice.group_id}", work)

    def keep_building(self, group_id: int, data: dict[str, Any]) -> None:
        self._upsert(BuildingPeakRow, group_id, data, "building peak")

    def keep_memory(self, group_id: int, data: dict[str, Any]) -> None:
        self._upsert(SharingMemoryRow, group_id, data, "sharing memory")

    def _upsert(self, table: type[_Row], group_id: int, data: dict[str, Any], what: str) -> None:
        def work() -> None:
            with self._ctx.unit() as s:
                row = s.get(table, group_id)
                if row is None:
                    s.add(table(group_id=group_id, data=data))
                else:
                    row.data = data

        self._background(f"{what} of group {group_id}", work)

    async def drain(self) -> None:
        """Wait for the writes under way (tests, and a clean stop)."""
        if self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)
