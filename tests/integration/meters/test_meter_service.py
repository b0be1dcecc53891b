"""The meter service runs MQTT and Modbus meters side by side into one hub."""

from __future__ import annotations

import time

from meter_helpers import eventually

from fuseshare.meters.amp_guard import topic_for
from fuseshare.meters.hub import MeterHub, MeterSettings
from fuseshare.meters.modbus import SDM630, ModbusMeterSettings
from fuseshare.meters.modbus_sim import SimulatedModbusMeter
from fuseshare.meters.mqtt import MqttSettings
from fuseshare.meters.service import MeterService

VALUES = {
    "current_a": (20.0, 5.0, 7.5),
    "voltage_v": (230.0, 231.0, 229.0),
    "power_w": (4500.0, 1100.0, 1650.0),
    "energy_kwh": 10.0,
}


async def test_mqtt_and_modbus_meters_run_together_and_can_be_removed(
    broker: MqttSettings, serial: str
) -> None:
    hub = MeterHub(clock=time.time)
    service = MeterService(hub, clock=time.time, mqtt=broker, check_interval_s=0.05)
    ag, sdm = serial + "-ag", serial + "-sdm"
    meter = SimulatedModbusMeter(SDM630, VALUES)
    await meter.start()
    try:
        service.add_meter(MeterSettings(ag, fuse_a=63.0))
        await service.start()
        service.add_meter(
            MeterSettings(sdm, kind="modbus", fuse_a=63.0),
            modbus=ModbusMeterSettings(sdm, host="127.0.0.1", port=meter.port, interval_s=0.05),
        )
        assert service.ingestor is not None
        await eventually(service.ingestor.connected.is_set)
        async with broker.client() as pub:
            await pub.publish(topic_for(ag), b'{"current_a": [1, 2, 3]}')
            assert await hub.next_reading(ag, timeout_s=10) is not None
        got = await hub.next_reading(sdm, timeout_s=10)
        assert got is not None and got.current_a[0] == 20.0
        kinds = [s["kind"] for s in service.stats()["sources"]]
        assert kinds == ["mqtt", "modbus"]

        service.remove_meter(sdm)
        assert hub.view(sdm) is None
        assert [s["kind"] for s in service.stats()["sources"]] == ["mqtt"]
    finally:
        await service.stop()
        await meter.stop()
