"""MeterValues normalization: per-phase A, total W, register Wh."""

from __future__ import annotations

from datetime import UTC, datetime

from fuseshare.ocpp.metering import RawValue, build_sample
from fuseshare.ocpp.v16.connection import capabilities_from as caps16
from fuseshare.ocpp.v16.connection import raw_values as raw16
from fuseshare.ocpp.v201.connection import capabilities_from as caps201
from fuseshare.ocpp.v201.connection import raw_values as raw201

AT = datetime(2026, 11, 24, tzinfo=UTC)


def test_per_phase_current_power_and_energy():
    sample = build_sample(
        AT,
        1,
        "7",
        [
            RawValue(10.0, "Current.Import", "L1", "A"),
            RawValue(11.0, "Current.Import", "L2", "A"),
            RawValue(2.3, "Power.Active.Import", "L1", "kW"),
            RawValue(2.5, "Power.Active.Import", "L2", "kW"),
            RawValue(18.5, "Energy.Active.Import.Register", None, "kWh"),
            RawValue(5.0, "Voltage", "L1", "V"),
        ],
    )
    assert sample.current_a.as_tuple() == (10.0, 11.0, None)
    assert sample.power_w == 4800.0
    assert sample.energy_wh == 18500.0


def test_phaseless_current_is_assumed_on_every_phase():
    sample = build_sample(AT, 1, None, [RawValue(9.0, "Current.Import")])
    assert sample.current_a.as_tuple() == (9.0, 9.0, 9.0)


def test_default_measurand_is_energy_and_201_multiplier():
    assert build_sample(AT, 1, None, [RawValue(1.5, unit="kWh")]).energy_wh == 1500.0
    values = raw201(
        [
            {
                "value": 12,
                "measurand": "Energy.Active.Import.Register",
                "unit_of_measure": {"unit": "Wh", "multiplier": 3},
            }
        ]
    )
    assert build_sample(AT, 1, None, values).energy_wh == 12000.0


def test_v16_values_are_strings_and_junk_is_skipped():
    values = raw16(
        [
            {"value": "16.5", "measurand": "Current.Import", "phase": "L3", "unit": "A"},
            {"value": "n/a", "measurand": "Current.Import", "phase": "L1"},
        ]
    )
    assert build_sample(AT, 1, None, values).current_a.as_tuple() == (None, None, 16.5)


def test_capabilities_16():
    caps = caps16(
        [
            {"key": "ChargeProfileMaxStackLevel", "value": "3"},
            {"key": "ChargingScheduleAllowedChargingRateUnit", "value": "Current,Power"},
            {"key": "NumberOfConnectors", "value": "2"},
            {"key": "ChargingScheduleMaxPeriods", "value": "x"},
        ]
    )
    assert (caps.max_stack_level, caps.rate_units, caps.number_of_connectors) == (3, ("A", "W"), 2)
    assert caps.max_periods_per_schedule is None


def test_capabilities_201():
    def r(name, value, status="Accepted", instance=None):
        variable = {"name": name} | ({"instance": instance} if instance else {})
        return {
            "attribute_status": status,
            "attribute_value": value,
            "component": {"name": "SmartChargingCtrlr"},
            "variable": variable,
        }

    caps = caps201(
        [
            r("ProfileStackLevel", "4"),
            r("RateUnit", "W"),
            r("Entries", "12", instance="ChargingProfiles"),
            r("PeriodsPerSchedule", None, status="UnknownVariable"),
        ]
    )
    assert (caps.max_stack_level, caps.rate_units, caps.max_profiles) == (4, ("W",), 12)
