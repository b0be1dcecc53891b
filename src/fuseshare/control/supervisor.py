"""Runs a loop for every active group this process owns, and follows the store.

Every ``poll_s`` it asks the store which groups are active and when each last
changed (activation, edits, imports all touch ``updated_at``), starts loops for
new ones, hands changed configurations to running loops, and releases the
chargers of groups that were deactivated. If the database is away the loops
keep running on what they have; nothing is stopped because of an outage.

Ownership: each group has exactly one owner. ``owns(group_id)`` decides; the
default owns everything (one process). Spreading groups over processes is a
matter of giving each a different ``owns``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime

from fuseshare.control.loop import GroupLoop
from fuseshare.control.spec import GroupSpec, active_versions, load_specs
from fuseshare.workflow import Context

log = logging.getLogger(__name__)

LoopFactory = Callable[[GroupSpec], GroupLoop]


class Supervisor:
    def __init__(
        self,
        ctx: Context,
        loop_factory: LoopFactory,
        *,
        poll_s: float = 2.0,
        owns: Callable[[int], bool] = lambda _group_id: True,
    ) -> None:
        self._ctx = ctx
        self._factory = loop_factory
        self._poll_s = poll_s
        self._owns = owns
        self.loops: dict[int, GroupLoop] = {}
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._versions: dict[int, datetime] = {}
        self.store_ok = True

    def _read(self) -> tuple[dict[int, datetime], dict[int, GroupSpec]]:
        with self._ctx.unit() as s:
            versions = {g: v for g, v in active_versions(s).items() if self._owns(g)}
            changed = [g for g, v in versions.items() if self._versions.get(g) != v]
            specs = load_specs(s, changed) if changed else {}
        return versions, specs

    async def sync(self) -> None:
        """Bring the running loops in line with the store once."""
        try:
            versions, specs = await asyncio.to_thread(self._read)
        except Exception as exc:
            if self.store_ok:
                log.warning("store unreachable, control loops keep running from memory: %s", exc)
            self.store_ok = False
            return
        if not self.store_ok:
            log.warning("store reachable again")
        self.store_ok = True
        for group_id, spec in specs.items():
            loop = self.loops.get(group_id)
            if loop is None:
                self._start(spec)
            else:
                loop.update(spec)
            self._versions[group_id] = versions[group_id]
        for group_id in set(self.loops) - set(versions):
            await self._stop(group_id, release=True)

    def _start(self, spec: GroupSpec) -> None:
        loop = self._factory(spec)
        self.loops[spec.group_id] = loop
        self._tasks[spec.group_id] = asyncio.create_task(loop.run(), name=f"group-{spec.group_id}")
        log.info(
            "group %s '%s' is under control (%d chargers)",
            spec.group_id,
            spec.name,
            len(spec.members),
        )

    async def _stop(self, group_id: int, *, release: bool) -> None:
        task = self._tasks.pop(group_id, None)
        loop = self.loops.pop(group_id, None)
        self._versions.pop(group_id, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if loop is not None and release:
            await loop.release()
            log.info("group %s released: its chargers keep their failsafe limits", group_id)

    async def run(self) -> None:
        try:
            while True:
                await self.sync()
                await asyncio.sleep(self._poll_s)
        finally:
            for group_id in list(self.loops):
                # A stopping process does not release: the chargers' profiles expire into
                # their failsafe currents by themselves, and a restart resumes.
                await self._stop(group_id, release=False)
