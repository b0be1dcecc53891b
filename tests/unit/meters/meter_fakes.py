"""Hand-written fakes for the meter ports (no mocks)."""

from __future__ import annotations

from dataclasses import dataclass, field

from fuseshare.meters.hub import MeterEvent, MeterStatus
from fuseshare.meters.ports import AuthResult
from fuseshare.meters.reading import Reading, Rejection, Verdict

T0 = 1_795_000_000.0
"""An arbitrary fixed epoch time (2026-11-18) so tests never read the wall clock."""


@dataclass
class FakeClock:
    now_s: float = T0

    def __call__(self) -> float:
        return self.now_s

    def advance(self, seconds: float) -> None:
        self.now_s += seconds


@dataclass
class FakeRecorder:
    statuses: list[MeterStatus] = field(default_factory=list)
    events: list[MeterEvent] = field(default_factory=list)

    def record_status(self, status: MeterStatus) -> None:
        self.statuses.append(status)

    def record_event(self, event: MeterEvent) -> None:
        self.events.append(event)


@dataclass
class FakeCredentials:
    """serial -> PIN; locks a serial out after ``max_failures`` wrong PINs (as the store will)."""

    pins: dict[str, str] = field(default_factory=dict)
    max_failures: int = 3
    failures: dict[str, int] = field(default_factory=dict)

    def authenticate(self, serial: str, secret: str) -> AuthResult:
        if serial not in self.pins:
            return AuthResult.UNKNOWN_METER
        if self.failures.get(serial, 0) >= self.max_failures:
            return AuthResult.LOCKED_OUT
        if secret != self.pins[serial]:
            self.failures[serial] = self.failures.get(serial, 0) + 1
            return AuthResult.BAD_SECRET
        self.failures[serial] = 0
        return AuthResult.OK


@dataclass
class ListSink:
    """A ReadingSink that keeps everything (for adapter tests without a hub)."""

    readings: list[Reading] = field(default_factory=list)
    rejections: list[tuple[str, Rejection]] = field(default_factory=list)

    def submit(self, reading: Reading) -> Verdict:
        self.readings.append(reading)
        return Verdict(True)

    def reject(self, serial: str, rejection: Rejection, *, source: str = "unknown") -> None:
        self.rejections.append((serial, rejection))


def reading(
    current_a: tuple[float, ...] = (10.0, 8.0, 12.0),
    *,
    serial: str = "AG-1",
    at_s: float = T0,
    ts_s: float | None = None,
    seq: int | None = None,
    voltage_v: tuple[float, ...] | None = None,
    power_w: tuple[float, ...] | None = None,
    energy_kwh: float | None = None,
) -> Reading:
    return Reading(
        serial=serial,
        current_a=current_a,
        received_at_s=at_s,
        voltage_v=voltage_v,
        power_w=power_w,
        energy_kwh=energy_kwh,
        meter_ts_s=ts_s,
        seq=seq,
        source="test",
    )
