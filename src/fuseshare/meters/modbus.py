"""Modbus TCP meters: register maps as data, and a poller (pymodbus 3.16).

Register maps, from the manufacturers' protocol documents:

* **Eastron SDM630** (Modbus protocol V2): input registers (function 04),
  IEEE-754 float32, high word first ("big" word order), values in SI units.
  L-N volts at 0x0000/02/04, current at 0x0006/08/0A, active power at
  0x000C/0E/10, total import kWh at 0x0048. Current is an unsigned magnitude;
  the direction of flow is the sign of the phase's power.
* **Carlo Gavazzi EM24** (EM24 DIN / E1 communication protocol): input
  registers (function 04; 03 answers the same), INT32 with the *low* word first
  ("little" word order). V L-N ×10 at 0x0000/02/04, A ×1000 at 0x000C/0E/10,
  W ×10 at 0x0012/14/16, kWh(+) TOT ×10 at 0x0034.

The poller reads the few contiguous blocks a map needs, decodes them into a
:class:`~fuseshare.meters.reading.Reading` (magnitudes in ``current_a``, signed
``power_w``) and hands it to the sink. Modbus meters have no clock of their
own, so a reading's time is when its poll answered; ``seq`` numbers the polls.
On any failure it closes the connection and reconnects with exponential
backoff (capped, with jitter so a site's pollers do not retry in lock-step).
"""

from __future__ import annotations

import asyncio
import logging
import random
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException

from fuseshare.meters.ports import Clock, ReadingSink
from fuseshare.meters.reading import Reading, Rejection

log = logging.getLogger(__name__)

DataType = Literal["float32", "int32", "uint32", "int16", "uint16"]
WordOrder = Literal["big", "little"]

_STRUCT: dict[DataType, tuple[str, int]] = {
    "float32": ("f", 2),
    "int32": ("i", 2),
    "uint32": ("I", 2),
    "int16": ("h", 1),
    "uint16": ("H", 1),
}


@dataclass(frozen=True, slots=True)
class Register:
    """One value: where it is, how it is encoded, how to scale it to the unit.

    ``value = raw × scale`` (EM24 amperes are raw/1000, so ``scale=0.001``).
    """

    address: int
    data_type: DataType
    scale: float = 1.0

    @property
    def words(self) -> int:
        return _STRUCT[self.data_type][1]


@dataclass(frozen=True, slots=True)
class RegisterMap:
    """How to read one meter model."""

    model: str
    function: Literal["input", "holding"]
    word_order: WordOrder
    current_a: tuple[Register, ...]
    voltage_v: tuple[Register, ...] | None = None
    power_w: tuple[Register, ...] | None = None
    energy_kwh: Register | None = None
    max_block_words: int = 60
    """Most registers per request (below the protocol's 125 and the meters' limits)."""
    max_gap_words: int = 8
    """Read across a gap this small rather than send another request."""

    def registers(self) -> list[Register]:
        regs = list(self.current_a)
        regs += list(self.voltage_v or ()) + list(self.power_w or ())
        if self.energy_kwh is not None:
            regs.append(self.energy_kwh)
        return regs

    def blocks(self) -> list[tuple[int, int]]:
        """(start address, word count) requests covering every register."""
        spans = sorted((r.address, r.address + r.words) for r in self.registers())
        out: list[list[int]] = []
        for start, end in spans:
            if (
                out
                and start - out[-1][1] <= self.max_gap_words
                and end - out[-1][0] <= self.max_block_words
            ):
                out[-1][1] = max(out[-1][1], end)
            else:
                out.append([start, end])
        return [(s, e - s) for s, e in out]


SDM630 = RegisterMap(
    model="sdm630",
    function="input",
    word_order="big",
    voltage_v=(
        Register(0x0000, "float32"),
        Register(0x0002, "float32"),
        Register(0x0004, "float32"),
    ),
    current_a=(
        Register(0x0006, "float32"),
        Register(0x0008, "float32"),
        Register(0x000A, "float32"),
    ),
    power_w=(Register(0x000C, "float32"), Register(0x000E, "float32"), Register(0x0010, "float32")),
    energy_kwh=Register(0x0048, "float32"),
)

EM24 = RegisterMap(
    model="em24",
    function="input",
    word_order="little",
    voltage_v=(
        Register(0x0000, "int32", 0.1),
        Register(0x0002, "int32", 0.1),
        Register(0x0004, "int32", 0.1),
    ),
    current_a=(
        Register(0x000C, "int32", 0.001),
        Register(0x000E, "int32", 0.001),
        Register(0x0010, "int32", 0.001),
    ),
    power_w=(
        Register(0x0012, "int32", 0.1),
        Register(0x0014, "int32", 0.1),
        Register(0x0016, "int32", 0.1),
    ),
    energy_kwh=Register(0x0034, "int32", 0.1),
)

REGISTER_MAPS: dict[str, RegisterMap] = {m.model: m for m in (SDM630, EM24)}


def encode_value(register: Register, value: float, word_order: WordOrder) -> list[int]:
    """The register words a meter would hold for ``value`` (tests, simulators)."""
    fmt, words = _STRUCT[register.data_type]
    raw: float | int = value / register.scale
    if fmt != "f":
        raw = round(raw)
    data = struct.pack(f">{fmt}", raw)
    regs = [int.from_bytes(data[i : i + 2], "big") for i in range(0, 2 * words, 2)]
    return regs[::-1] if word_order == "little" else regs


def decode_value(register: Register, words: Sequence[int], word_order: WordOrder) -> float:
    fmt, n = _STRUCT[register.data_type]
    if len(words) != n:
        raise ValueError(f"{register.data_type} needs {n} registers, got {len(words)}")
    ordered = list(words)[::-1] if word_order == "little" else list(words)
    data = b"".join(int(w & 0xFFFF).to_bytes(2, "big") for w in ordered)
    return float(struct.unpack(f">{fmt}", data)[0]) * register.scale


def decode_registers(register_map: RegisterMap, memory: dict[int, int]) -> dict[str, Any]:
    """Decode a map from ``memory`` (address → word) into per-line values in SI units."""

    def one(reg: Register) -> float:
        return decode_value(
            reg, [memory[reg.address + k] for k in range(reg.words)], register_map.word_order
        )

    def per_line(regs: tuple[Register, ...] | None) -> tuple[float, ...] | None:
        return None if regs is None else tuple(one(r) for r in regs)

    current = per_line(register_map.current_a)
    assert current is not None
    return {
        # Magnitudes: some meters (EM24) may report a signed current; the sign of
        # flow is kept in power_w, where every meter reports it.
        "current_a": tuple(abs(i) for i in current),
        "voltage_v": per_line(register_map.voltage_v),
        "power_w": per_line(register_map.power_w),
        "energy_kwh": None if register_map.energy_kwh is None else one(register_map.energy_kwh),
    }


def encode_registers(register_map: RegisterMap, values: dict[str, Any]) -> dict[int, int]:
    """Inverse of :func:`decode_registers` (for test servers and the simulator)."""
    memory: dict[int, int] = {}

    def put(reg: Register, value: float) -> None:
        for k, word in enumerate(encode_value(reg, value, register_map.word_order)):
            memory[reg.address + k] = word

    for key in ("current_a", "voltage_v", "power_w"):
        regs = getattr(register_map, key)
        if regs is not None and values.get(key) is not None:
            for reg, value in zip(regs, values[key], strict=True):
                put(reg, value)
    if register_map.energy_kwh is not None and values.get("energy_kwh") is not None:
        put(register_map.energy_kwh, values["energy_kwh"])
    return memory


@dataclass(frozen=True, slots=True)
class ModbusMeterSettings:
    """Where and how to poll one Modbus meter (configuration, per meter)."""

    serial: str
    host: str
    model: str = "sdm630"
    port: int = 502
    unit_id: int = 1
    interval_s: float = 1.0
    timeout_s: float = 2.0
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 30.0

    @property
    def register_map(self) -> RegisterMap:
        try:
            return REGISTER_MAPS[self.model]
        except KeyError:
            known = ", ".join(sorted(REGISTER_MAPS))
            raise ValueError(f"unknown Modbus meter model '{self.model}'; known: {known}") from None


class ModbusPoller:
    """Polls one meter over Modbus TCP and feeds the sink. Implements MeterSource."""

    kind = "modbus"

    def __init__(
        self,
        settings: ModbusMeterSettings,
        sink: ReadingSink,
        *,
        clock: Clock,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self._map = settings.register_map
        self._sink = sink
        self._clock = clock
        self._rng = rng or random.Random()
        self._seq = 0
        self.polls_ok = 0
        self.polls_failed = 0
        self.connects = 0
        self.connected = False
        self.last_error: str | None = None

    def stats(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "serial": self.settings.serial,
            "connected": self.connected,
            "connects": self.connects,
            "polls_ok": self.polls_ok,
            "polls_failed": self.polls_failed,
            "last_error": self.last_error,
        }

    async def run(self) -> None:
        """Poll every ``interval_s`` until cancelled, reconnecting with backoff."""
        backoff_s = self.settings.backoff_initial_s
        while True:
            client = AsyncModbusTcpClient(
                self.settings.host,
                port=self.settings.port,
                timeout=self.settings.timeout_s,
                retries=0,
                # We own reconnection (with our backoff and counters), not pymodbus.
                reconnect_delay=0,
            )
            try:
                if not await client.connect():
                    raise ConnectionError(
                        f"cannot connect to {self.settings.host}:{self.settings.port}"
                    )
                self.connected = True
                self.connects += 1
                backoff_s = self.settings.backoff_initial_s
                await self._poll_loop(client)
            except asyncio.CancelledError:
                raise
            except (ModbusException, OSError, ConnectionError, TimeoutError, ValueError) as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("modbus meter %s: %s", self.settings.serial, self.last_error)
            finally:
                self.connected = False
                client.close()
            delay_s = backoff_s * (0.5 + self._rng.random())
            backoff_s = min(self.settings.backoff_max_s, backoff_s * 2)
            await asyncio.sleep(delay_s)

    async def _poll_loop(self, client: AsyncModbusTcpClient) -> None:
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        while True:
            await self.poll_once(client)
            next_at += self.settings.interval_s
            # If a poll overran, start the next one now rather than bursting.
            next_at = max(next_at, loop.time())
            await asyncio.sleep(next_at - loop.time())

    async def poll_once(self, client: AsyncModbusTcpClient) -> Reading | None:
        """Read every block once and submit the reading. Raises on transport errors."""
        memory: dict[int, int] = {}
        read = (
            client.read_input_registers
            if self._map.function == "input"
            else client.read_holding_registers
        )
        for start, count in self._map.blocks():
            response = await read(start, count=count, device_id=self.settings.unit_id)
            if response.isError():
                self.polls_failed += 1
                raise ModbusException(f"meter answered {response} reading {start}+{count}")
            for k, word in enumerate(response.registers[:count]):
                memory[start + k] = word
        self._seq += 1
        received_at_s = self._clock()
        try:
            values = decode_registers(self._map, memory)
        except (KeyError, ValueError, struct.error) as exc:
            self.polls_failed += 1
            self._sink.reject(
                self.settings.serial, Rejection("bad_registers", str(exc)), source="modbus"
            )
            return None
        reading = Reading(
            serial=self.settings.serial,
            current_a=values["current_a"],
            voltage_v=values["voltage_v"],
            power_w=values["power_w"],
            energy_kwh=values["energy_kwh"],
            received_at_s=received_at_s,
            seq=self._seq,
            source="modbus",
        )
        self.polls_ok += 1
        self._sink.submit(reading)
        return reading
