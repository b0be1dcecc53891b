"""What an algorithm remembers between cycles; the caller carries it.

``allocate(snapshot, state)`` never mutates ``state``; it returns a new one. The
state is plain data and round-trips through JSON (:meth:`AlgorithmState.to_json`)
so the control loop can persist it and a field case can be replayed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple


class SessionState(NamedTuple):
    """Per-session memory, keyed by charger id in :class:`AlgorithmState`."""

    session_id: str
    on: bool = False
    """Whether the session was given current in the last cycle."""
    switched_s: float | None = None
    """When it was last started or paused by the algorithm (None: never)."""
    served_as: float = 0.0
    """Ampere-seconds offered to this session so far (fairness over time); with
    ``Features.served_by_energy`` the drawn current times its power per ampere."""
    car_phases: int | None = None
    """Phases learned from the charger's meter values; only grows within a session."""
    cap_a: float | None = None
    """Cap for a car that draws less than offered, None when not capped."""
    cap_since_s: float | None = None
    probe_until_s: float | None = None
    """While ``now_s`` is before this, the car is offered its full share again."""
    full_said_s: float | None = None
    """When the car last said it wants no energy (``Features.full_cars_last``); None once
    it draws again, or never said."""


@dataclass(frozen=True, slots=True)
class AlgorithmState:
    """The state of one group's algorithm. Treat ``sessions`` as read-only."""

    now_s: float | None = None
    """The ``now_s`` of the last allocation (None before the first)."""
    sessions: Mapping[str, SessionState] = field(default_factory=dict)
    recent_other: tuple[tuple[float, float, float, float], ...] = ()
    """(read_at_s, L1, L2, L3): the rest of the building from recent fresh readings,
    oldest first (kept only by versions that hold increases against meter noise)."""
    plan: Mapping[str, float] = field(default_factory=dict)
    """Session id -> the current its plan gives it now (versions that plan by needs)."""
    planned_s: float | None = None
    """When ``plan`` was made (None: no plan)."""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "now_s": self.now_s,
            "sessions": {cid: s._asdict() for cid, s in sorted(self.sessions.items())},
        }
        if self.recent_other:
            out["recent_other"] = [list(r) for r in self.recent_other]
        if self.planned_s is not None:
            out["plan"] = dict(sorted(self.plan.items()))
            out["planned_s"] = self.planned_s
        return out

    def carried_over(self) -> AlgorithmState:
        """What a restarted loop may take on: per session what it has had (``served_as``)
        and the phases learned, nothing tied to the old process's clock (switch times,
        caps, probes, recent readings, the plan), so rotation goes on where it was."""
        return AlgorithmState(
            sessions={
                cid: SessionState(s.session_id, s.on, None, s.served_as, s.car_phases)
                for cid, s in self.sessions.items()
            }
        )

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AlgorithmState:
        sessions = {cid: SessionState(**s) for cid, s in dict(data.get("sessions", {})).items()}
        now = data.get("now_s")
        recent = tuple(
            (float(r[0]), float(r[1]), float(r[2]), float(r[3]))
            for r in data.get("recent_other", ())
        )
        planned = data.get("planned_s")
        return cls(
            now_s=None if now is None else float(now),
            sessions=sessions,
            recent_other=recent,
            plan={str(k): float(v) for k, v in dict(data.get("plan", {})).items()},
            planned_s=None if planned is None else float(planned),
        )
