"""Live state of every running group, for the portal's dashboard and API streams.

The control loop publishes one :class:`GroupLive` per cycle; readers get the
latest at once and can subscribe to changes. In memory and per process: the
loop that owns a group is the one that knows its live state.

The JSON shape (``GroupLive.to_dict``) is what the dashboard and the SSE/API
clients read::

    {"group_id": 3, "at": "2026-11-24T18:00:01+00:00", "state": "active",
     "meter": {"serial": "AG-1", "online": true, "age_s": 0.4, "current_a": [22.0, 38.0, 16.0]},
     "lines": [{"line": "L1", "load_a": 22.0, "chargers_a": 12.0, "limit_a": 49.0,
                "fuse_a": 63.0, "group_limit_a": 50.0, "binding": "main fuse L1",
                "site_limit_a": 62.0}, ...],
     "chargers": [{"serial": "CH-1", "state": "charging", "online": true, "setpoint_a": 16.5,
                   "actual_a": [12.0, 12.0, 0.0], "reason": "main fuse L2"}, ...]}
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class MeterLive:
    serial: str | None
    online: bool
    age_s: float | None
    current_a: tuple[float, ...] = ()


@dataclass(frozen=True)
class LineLive:
    line: str
    load_a: float
    """Everything on the line as measured (or estimated when the meter is offline)."""
    chargers_a: float
    """The group's chargers' share of load_a."""
    limit_a: float
    """What the chargers together may use on this line now."""
    fuse_a: float
    group_limit_a: float
    binding: str = ""
    site_limit_a: float | None = None
    """What the whole line may carry now (rest of the building + chargers), comparable to load_a;
    None without a fresh reading."""


@dataclass(frozen=True)
class ChargerLive:
    serial: str
    state: str
    """charging | paused | idle | offline | not_controllable"""
    online: bool
    setpoint_a: float | None
    actual_a: tuple[float, ...]
    reason: str
    needs: str = ""
    """What the car said it needs, e.g. "car wants 31.4 kWh, leaves in 4 h 05 min"."""


@dataclass(frozen=True)
class GroupLive:
    group_id: int
    at: datetime
    state: str
    meter: MeterLive
    lines: tuple[LineLive, ...]
    chargers: tuple[ChargerLive, ...]
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["at"] = self.at.isoformat()
        data["meter"]["current_a"] = list(self.meter.current_a)
        for c in data["chargers"]:
            c["actual_a"] = list(c["actual_a"])
        data["lines"] = list(data["lines"])
        data["chargers"] = list(data["chargers"])
        return data


class LiveBoard:
    """Latest live state per group, with subscriptions.

    Slow subscribers never hold up the control loop: each has a queue of one,
    and an unread state is replaced by the newer one.
    """

    def __init__(self) -> None:
        self._latest: dict[int, GroupLive] = {}
        self._pending: dict[int, Callable[[], GroupLive]] = {}
        self._subscribers: dict[int, set[asyncio.Queue[GroupLive]]] = {}

    def publish_lazy(self, group_id: int, build: Callable[[], GroupLive]) -> None:
        """Publish a state that ``build`` makes when it is first read: at once when
        someone is subscribed, else on :meth:`latest` (control loops publish every
        second whether or not anybody looks)."""
        if self._subscribers.get(group_id):
            self.publish(build())
        else:
            self._pending[group_id] = build

    def publish(self, live: GroupLive) -> None:
        self._pending.pop(live.group_id, None)
        self._latest[live.group_id] = live
        for queue in self._subscribers.get(live.group_id, ()):
            if queue.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(live)

    def latest(self, group_id: int) -> GroupLive | None:
        build = self._pending.pop(group_id, None)
        if build is not None:
            self._latest[group_id] = build()
        return self._latest.get(group_id)

    def forget(self, group_id: int) -> None:
        self._pending.pop(group_id, None)
        self._latest.pop(group_id, None)

    async def subscribe(self, group_id: int) -> AsyncIterator[GroupLive]:
        """The current state (if any), then every new one, until the caller stops iterating."""
        queue: asyncio.Queue[GroupLive] = asyncio.Queue(maxsize=1)
        self._subscribers.setdefault(group_id, set()).add(queue)
        try:
            current = self.latest(group_id)
            if current is not None:
                yield current
            while True:
                yield await queue.get()
        finally:
            self._subscribers[group_id].discard(queue)
