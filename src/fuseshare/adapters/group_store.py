"""The control loops' store port: their notices become events, the building's peak is kept.

Both writes run in a worker thread, in the background: a control cycle never waits
for the database, and a database that is away loses a notice (logged) but never
holds up control.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fuseshare.control.loop import GroupNotice
from fuseshare.store.tables import BuildingPeakRow, Event
from fuseshare.workflow import Workflow

log = logging.getLogger(__name__)


class GroupRecords:
    """``notify`` and ``keep_building`` for :class:`fuseshare.control.loop.GroupLoop`."""

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
        def work() -> None:
            with self._ctx.unit() as s:
                row = s.get(BuildingPeakRow, group_id)
                if row is None:
                    s.add(BuildingPeakRow(group_id=group_id, data=data))
                else:
                    row.data = data

        self._background(f"building peak of group {group_id}", work)

    async def drain(self) -> None:
        """Wait for the writes under way (tests, and a clean stop)."""
        if self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)
