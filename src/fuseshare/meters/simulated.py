"""A simulated Amp Guard: realistic readings through the real ingestion path.

:class:`SimulatedAmpGuard` turns a load function (per-line amperes at time t)
into Amp Guard payloads: a little measurement noise, a voltage that sags with
load, power at a realistic power factor, an energy counter that integrates,
an increasing ``seq`` and a millisecond UTC ``ts``. Sampling is pure given the
time and the seed, so the simulator can drive it on a virtual clock.

Transports deliver the payload bytes the way a real meter would:

* :class:`MqttTransport`: publishes to ``fuseshare/ampguard/{serial}/reading``
  on a real broker (the ingestor picks it up like any Amp Guard);
* :class:`InProcessTransport`: no broker (the README demo on a fresh machine):
  hands the same bytes to the same ingestion code (topic → parser → hub);
* :class:`HttpTransport`: posts to the HTTP push endpoint with serial + PIN.

:func:`choose_transport` picks MQTT when a broker answers, in-process otherwise.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import math
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Protocol

import httpx

from fuseshare.meters.amp_guard import encode_payload, payload_dict, topic_for
from fuseshare.meters.mqtt import MqttIngestor, MqttSettings
from fuseshare.meters.ports import Clock, ReadingSink

LoadFunction = Callable[[float], Sequence[float]]
"""Per-line current in A (grid order) at epoch/virtual time t_s."""


def series_load(points: Sequence[Sequence[float]], *, origin_s: float = 0.0) -> LoadFunction:
    """A scenario's ``base_load`` series: ``[t_s, l1, l2, l3]`` points, each held until the next.

    ``t_s`` counts from ``origin_s`` (the scenario's start on the clock used).
    """
    if not points:
        raise ValueError("a series needs at least one point")
    ordered = sorted(points, key=lambda p: p[0])
    times = [float(p[0]) for p in ordered]
    values = [tuple(float(v) for v in p[1:]) for p in ordered]

    def load(t_s: float) -> Sequence[float]:
        i = bisect.bisect_right(times, t_s - origin_s) - 1
        return values[max(i, 0)]

    return load


def household_load(*, seed: int = 0, lines: int = 3, scale_a: float = 10.0) -> LoadFunction:
    """A plausible building: a daily curve (morning and evening peaks) plus
    appliances switching on and off per minute, different on each line."""

    def load(t_s: float) -> Sequence[float]:
        hour = (t_s / 3600.0) % 24.0
        daily = (
            0.35
            + 0.4 * math.exp(-((hour - 7.5) ** 2) / 2)
            + 0.8 * math.exp(-((hour - 19) ** 2) / 4)
        )
        minute = int(t_s // 60)
        out = []
        for line in range(lines):
            rnd = random.Random(hash((seed, minute, line)) & 0xFFFFFFFF)
            appliance = 8.0 if rnd.random() < 0.15 else 0.0
            out.append(round(scale_a * daily * (0.8 + 0.15 * line) + appliance, 3))
        return out

    return load


@dataclass
class SimulatedAmpGuard:
    """Produces Amp Guard payloads from a load function."""

    serial: str
    load: LoadFunction
    lines: int = 3
    nominal_voltage_v: float = 230.0
    power_factor: float = 0.97
    noise_fraction: float = 0.01
    seed: int = 0
    energy_kwh: float = 1000.0
    seq: int = 0
    _last_t_s: float | None = None
    _rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        topic_for(self.serial)  # validates the serial early
        self._rng = random.Random(self.seed)

    def sample(self, t_s: float) -> dict[str, Any]:
        """The payload (as a dict) the Amp Guard would publish at ``t_s``."""
        base = list(self.load(t_s))[: self.lines]
        base += [0.0] * (self.lines - len(base))
        current_a = [
            round(max(0.0, i * (1 + self._rng.gauss(0, self.noise_fraction))), 2) for i in base
        ]
        voltage_v = [
            round(
                self.nominal_voltage_v
                + 1.5 * math.sin(t_s / 600.0 + k)
                - 0.05 * i
                + self._rng.gauss(0, 0.2),
                1,
            )
            for k, i in enumerate(current_a)
        ]
        power_w = [
            round(v * i * self.power_factor, 1) for v, i in zip(voltage_v, current_a, strict=True)
        ]
        if self._last_t_s is not None and t_s > self._last_t_s:
            self.energy_kwh += sum(power_w) * (t_s - self._last_t_s) / 3_600_000.0
        self._last_t_s = t_s
        self.seq += 1
        return payload_dict(
            seq=self.seq,
            ts_s=t_s,
            current_a=current_a,
            voltage_v=voltage_v,
            power_w=power_w,
            energy_kwh=round(self.energy_kwh, 3),
        )

    def payload(self, t_s: float) -> bytes:
        return encode_payload(self.sample(t_s))


class AmpGuardTransport(Protocol):
    async def send(self, serial: str, payload: bytes) -> None: ...


class InProcessTransport:
    """No broker: the same bytes through the same topic → parser → hub code."""

    def __init__(self, sink: ReadingSink, *, clock: Clock) -> None:
        self.ingestor = MqttIngestor(MqttSettings(), sink, clock=clock)

    async def send(self, serial: str, payload: bytes) -> None:
        self.ingestor.handle(topic_for(serial), payload)


class MqttTransport:
    """Publishes over a real broker. Use as ``async with MqttTransport(settings) as t``."""

    def __init__(self, settings: MqttSettings) -> None:
        self.settings = settings
        self._stack = contextlib.AsyncExitStack()
        self._client: Any = None

    async def __aenter__(self) -> MqttTransport:
        self._client = await self._stack.enter_async_context(self.settings.client())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._stack.aclose()
        self._client = None

    async def send(self, serial: str, payload: bytes) -> None:
        if self._client is None:
            raise RuntimeError("use MqttTransport as an async context manager")
        await self._client.publish(topic_for(serial), payload, qos=0)


class HttpTransport:
    """Posts to the HTTP push endpoint with the meter's serial and PIN."""

    def __init__(self, client: httpx.AsyncClient, *, pin: str, prefix: str = "/api/meters") -> None:
        self._client = client
        self._pin = pin
        self._prefix = prefix
        self.last_status: int | None = None

    async def send(self, serial: str, payload: bytes) -> None:
        response = await self._client.post(
            f"{self._prefix}/{serial}/readings",
            content=payload,
            auth=(serial, self._pin),
            headers={"content-type": "application/json"},
        )
        self.last_status = response.status_code


async def broker_reachable(host: str, port: int, timeout_s: float = 0.5) -> bool:
    """True when something accepts TCP connections at host:port."""
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout_s)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


@contextlib.asynccontextmanager
async def choose_transport(
    sink: ReadingSink, *, clock: Clock, mqtt: MqttSettings | None = None
) -> Any:
    """MQTT through the broker if one answers, else in-process. An async context manager."""
    if mqtt is not None and await broker_reachable(mqtt.host, mqtt.port):
        async with MqttTransport(mqtt) as transport:
            yield transport
    else:
        yield InProcessTransport(sink, clock=clock)


async def run_simulated(
    guard: SimulatedAmpGuard,
    transport: AmpGuardTransport,
    *,
    clock: Clock,
    interval_s: float = 1.0,
    count: int | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> int:
    """Publish a sample every ``interval_s`` (``count`` times, or until cancelled).

    ``sleep`` is injectable so a virtual clock can drive it. Returns how many were sent.
    """
    sent = 0
    while count is None or sent < count:
        await transport.send(guard.serial, guard.payload(clock()))
        sent += 1
        if count is None or sent < count:
            await sleep(interval_s)
    return sent


async def simulate_amp_guard(
    guard: SimulatedAmpGuard,
    sink: ReadingSink,
    *,
    clock: Clock,
    mqtt: MqttSettings | None = None,
    interval_s: float = 1.0,
    count: int | None = None,
) -> int:
    """The demo's meter: publish over ``mqtt`` if a broker answers, else feed ``sink`` in-process.

    Over MQTT the readings reach the hub only through a running
    :class:`~fuseshare.meters.mqtt.MqttIngestor` (the real path); in-process they go
    through the same topic → parser → hub code directly. Runs until cancelled
    (or ``count`` readings); returns how many were sent.
    """
    async with choose_transport(sink, clock=clock, mqtt=mqtt) as transport:
        return await run_simulated(
            guard, transport, clock=clock, interval_s=interval_s, count=count
        )
