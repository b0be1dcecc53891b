"""Runs the meter side: the hub's watchdog, the MQTT ingestor, one poller per Modbus meter.

The bootstrap creates one :class:`MeterService`, registers meters from the
store, and starts it::

    hub = MeterHub(clock=time.time, recorder=store_recorder)
    service = MeterService(hub, clock=time.time, mqtt=MqttSettings.from_url(cfg.mqtt_url))
    service.add_meter(MeterSettings("AG-00042", fuse_a=63.0))
    service.add_meter(MeterSettings("SDM-1", kind="modbus", fuse_a=63.0),
                      modbus=ModbusMeterSettings("SDM-1", host="10.0.0.7", model="sdm630"))
    await service.start()
    ...
    await service.stop()

Meters can be added and removed while it runs (binding a meter in the portal).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from fuseshare.meters.hub import MeterHub, MeterSettings
from fuseshare.meters.modbus import ModbusMeterSettings, ModbusPoller
from fuseshare.meters.mqtt import MqttIngestor, MqttSettings
from fuseshare.meters.ports import Clock


class MeterService:
    def __init__(
        self,
        hub: MeterHub,
        *,
        clock: Clock,
        mqtt: MqttSettings | None = None,
        check_interval_s: float = 0.5,
    ) -> None:
        self.hub = hub
        self._clock = clock
        self._check_interval_s = check_interval_s
        self.ingestor = None if mqtt is None else MqttIngestor(mqtt, hub, clock=clock)
        self._pollers: dict[str, ModbusPoller] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._running = False

    def add_meter(
        self, settings: MeterSettings, *, modbus: ModbusMeterSettings | None = None
    ) -> None:
        """Register a meter; with ``modbus`` settings also poll it (restarting any old poller)."""
        self.hub.register(settings)
        if modbus is None:
            return
        if modbus.serial != settings.serial:
            raise ValueError("Modbus settings are for another serial")
        self._stop_task(f"modbus:{settings.serial}")
        poller = ModbusPoller(modbus, self.hub, clock=self._clock)
        self._pollers[settings.serial] = poller
        if self._running:
            self._start_task(f"modbus:{settings.serial}", poller.run())

    def remove_meter(self, serial: str) -> None:
        self._stop_task(f"modbus:{serial}")
        self._pollers.pop(serial, None)
        self.hub.unregister(serial)

    async def start(self) -> None:
        self._running = True
        self._start_task("hub", self.hub.run(check_interval_s=self._check_interval_s))
        if self.ingestor is not None:
            self._start_task("mqtt", self.ingestor.run())
        for serial, poller in self._pollers.items():
            self._start_task(f"modbus:{serial}", poller.run())

    async def stop(self) -> None:
        self._running = False
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def stats(self) -> dict[str, Any]:
        sources: list[dict[str, Any]] = []
        if self.ingestor is not None:
            sources.append(self.ingestor.stats())
        sources += [p.stats() for p in self._pollers.values()]
        return {"meters": list(self.hub.serials()), "sources": sources}

    def _start_task(self, name: str, coro: Any) -> None:
        self._tasks[name] = asyncio.create_task(coro, name=f"meters:{name}")

    def _stop_task(self, name: str) -> None:
        task = self._tasks.pop(name, None)
        if task is not None:
            task.cancel()
