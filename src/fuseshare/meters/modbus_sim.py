"""A simulated Modbus TCP meter (pymodbus server) holding a register map's values.

The registers are encoded for real (word order, data type, scaling), so a
:class:`~fuseshare.meters.modbus.ModbusPoller` reads it exactly as it reads an
SDM630 or EM24. Used by tests, the benchmark and demos without hardware.
"""

from __future__ import annotations

import socket
from typing import Any

from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from fuseshare.meters.modbus import RegisterMap, encode_registers


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class SimulatedModbusMeter:
    """One meter on a pymodbus TCP server; change what it "measures" with :meth:`set`.

    ``values``: ``current_a``, ``voltage_v``, ``power_w`` (per line) and ``energy_kwh``.
    """

    def __init__(
        self,
        register_map: RegisterMap,
        values: dict[str, Any],
        *,
        unit_id: int = 1,
        host: str = "127.0.0.1",
        port: int | None = None,
    ) -> None:
        self.register_map = register_map
        self.unit_id = unit_id
        self.host = host
        self.port = port or _free_port(host)
        self.memory: dict[int, int] = {}
        self.requests = 0
        self.set(values)
        self._server: ModbusTcpServer | None = None

    def set(self, values: dict[str, Any]) -> None:
        self.memory = encode_registers(self.register_map, values)

    async def _action(
        self,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        current_registers: list[int],
        set_values: list[int] | list[bool] | None,
    ) -> None:
        # Called on every access: refresh the requested words from the meter state.
        self.requests += 1
        for k in range(count):
            offset = address - start_address + k
            current_registers[offset] = self.memory.get(address + k, 0)

    async def start(self) -> None:
        size = max(r.address + r.words for r in self.register_map.registers()) + 2
        device = SimDevice(
            id=self.unit_id,
            simdata=[SimData(address=0, values=[0] * size, datatype=DataType.REGISTERS)],
            action=self._action,
        )
        self._server = ModbusTcpServer(device, address=(self.host, self.port))
        await self._server.serve_forever(background=True)

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.shutdown()  # type: ignore[no-untyped-call]
            self._server = None
