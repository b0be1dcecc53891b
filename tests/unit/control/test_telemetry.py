"""Charger telemetry: state from OCPP messages, currents lined up with the meter's time."""

from __future__ import annotations

from datetime import UTC, datetime

from fuseshare.control.telemetry import ChargerTelemetry
from fuseshare.ocpp.ports import ChargingNeeds, MeterSample, PerPhase

from .fakes import ManualClock


def sample(current_a: float) -> MeterSample:
    return MeterSample(
        at=datetime.now(UTC),
        connector_id=1,
        transaction_id="1",
        current_a=PerPhase(current_a, None, None),
        power_w=None,
        power_per_phase_w=PerPhase(),
        energy_wh=None,
    )


def test_currents_are_taken_as_of_the_meter_readings_time() -> None:
    clock = ManualClock(100.0)
    t = ChargerTelemetry(clock)
    t.connection_changed("A", True)
    t.meter_sample("A", sample(16.0))  # at 100
    clock.advance(1.0)
    t.meter_sample("A", sample(8.9))  # at 101: the car followed a lower limit
    state = t.state("A")
    assert state.measured_a == (8.9, 0.0, 0.0)
    # A reading taken at 100.5 saw the car at 16 A, not 8.9 A.
    assert state.measured_as_of(100.5) == (16.0, 0.0, 0.0)
    assert state.measured_as_of(101.0) == (8.9, 0.0, 0.0)
    # A reading older than every sample: the earliest sample is the best we know.
    assert state.measured_as_of(50.0) == (16.0, 0.0, 0.0)


def test_wakes_on_link_status_and_session_changes_but_not_on_samples() -> None:
    clock = ManualClock()
    t = ChargerTelemetry(clock)
    woken: list[str] = []
    t.watch("A", lambda: woken.append("A"))
    t.connection_changed("A", True)
    t.connector_status("A", 1, "Charging", None)
    t.connector_status("A", 1, "Charging", None)  # unchanged: no wake
    t.session_started("A", "tx1", 1)
    t.meter_sample("A", sample(10.0))
    t.controllability("A", False, "rejected")
    assert len(woken) == 4
    state = t.state("A")
    assert (
        state.session_id == "tx1"
        and not state.controllable
        and state.not_controllable_reason == "rejected"
    )
    t.connector_status("A", 1, "SuspendedEV", None)
    assert not state.car_wants_energy
    t.connection_changed("A", False)
    assert state.measured_a is None and not state.samples


def test_charging_needs_put_the_departure_on_the_control_clock_until_the_session_stops() -> None:
    clock = ManualClock(1000.0)
    t = ChargerTelemetry(clock)
    woken: list[str] = []
    t.watch("A", lambda: woken.append("A"))
    t.session_started("A", "tx1", 1)
    t.charging_needs("A", ChargingNeeds(30.0, 3600.0, 16.0))
    clock.advance(600.0)  # the departure stays where the car said, not 3600 s from now
    state = t.state("A")
    assert state.needs == ChargingNeeds(30.0, 3600.0, 16.0)
    assert state.departure_s == 4600.0
    assert len(woken) == 2  # a car's needs change its share at once

    t.charging_needs("A", ChargingNeeds(25.0, None, None))  # said again, without a departure
    assert state.departure_s is None

    t.session_stopped("A", "other-tx")  # not this session's end: kept
    assert state.needs is not None
    t.session_stopped("A", "tx1")
    assert state.needs is None and state.departure_s is None


def test_needs_told_before_the_transaction_starts_are_its_own_but_never_the_next_cars() -> None:
    """ISO 15118 tells its needs before power flows, which may be before the charger
    starts the transaction: those are kept for it. Needs told during a session whose
    stop was lost (the link dropped at the end) must not carry over to the next car."""
    t = ChargerTelemetry(ManualClock(0.0))
    t.charging_needs("A", ChargingNeeds(20.0, 3600.0, 16.0))
    t.session_started("A", "tx1", 1)
    assert t.state("A").needs == ChargingNeeds(20.0, 3600.0, 16.0)
    t.session_started("A", "tx2", 1)  # tx1's stop never arrived
    state = t.state("A")
    assert state.needs is None and state.departure_s is None


def test_needs_told_long_before_any_session_belong_to_none() -> None:
    """Told 11 minutes before a session starts: that was another car that never started
    (more than 10 minutes, NEEDS_BEFORE_START_S)."""
    clock = ManualClock(0.0)
    t = ChargerTelemetry(clock)
    t.charging_needs("A", ChargingNeeds(20.0, 3600.0, 16.0))
    clock.advance(660.0)
    t.session_started("A", "tx1", 1)
    assert t.state("A").needs is None
