"""Hand-written fakes for the control loop's ports (no mocks)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class FakeCommands:
    """Records every limit; accepts unless told a charger refuses."""

    calls: list[tuple[str, float, float]] = field(default_factory=list)
    released: list[str] = field(default_factory=list)
    sample_requests: list[str] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)

    async def set_limit(self, serial: str, current_a: float, *, failsafe_current_a: float) -> bool:
        self.calls.append((serial, current_a, failsafe_current_a))
        return serial not in self.refuse

    async def release(self, serial: str) -> None:
        self.released.append(serial)

    async def request_sample(self, serial: str) -> None:
        self.sample_requests.append(serial)

    def last(self, serial: str) -> float | None:
        for s, a, _ in reversed(self.calls):
            if s == serial:
                return a
        return None


class ManualClock:
    def __init__(self, start_s: float = 1_800_000_000.0) -> None:
        self.now_s = start_s

    def __call__(self) -> float:
        return self.now_s

    def advance(self, seconds: float) -> None:
        self.now_s += seconds
