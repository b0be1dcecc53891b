"""OCPP 2.0.1 NotifyEVChargingNeeds over real sockets: what a car says reaches telemetry,
and what no car can mean does not."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

import pytest
from ocpp.exceptions import OCPPError
from ocpp.v201 import call as call201

from fuseshare.balancing import Grid
from fuseshare.ocpp import ChargingNeeds
from fuseshare.sim.realtime import RealtimeSite, SiteCharger, Visit


def needs_call(**charging_needs: object) -> call201.NotifyEVChargingNeeds:
    return call201.NotifyEVChargingNeeds(
        evse_id=1, charging_needs={"requested_energy_transfer": "AC_three_phase", **charging_needs}
    )


def ac(energy_wh: object, max_a: object) -> dict[str, object]:
    return {
        "energy_amount": energy_wh,
        "ev_min_current": 6,
        "ev_max_current": max_a,
        "ev_max_voltage": 230,
    }


async def test_a_cars_needs_reach_telemetry_and_are_accepted(server):
    server.directory.add("NEEDS-1", "pw")
    tel = server.telemetry
    async with server.sim("NEEDS-1", "2.0.1") as cp:
        await cp.boot()
        await cp.start_transaction(1, "TAG")
        departure = cp.now() + timedelta(hours=2)
        answer = await cp.call(
            needs_call(departure_time=departure.isoformat(), ac_charging_parameters=ac(30_500, 16))
        )
        assert answer.status == "Accepted"

    (serial, needs), *_ = tel.needs
    assert serial == "NEEDS-1" and len(tel.needs) == 1
    assert needs.energy_kwh == 30.5 and needs.ev_max_current_a == 16.0
    assert needs.departure_in_s == pytest.approx(7200, abs=3)


async def test_a_16_charger_cannot_tell_needs_and_sends_nothing(server):
    server.directory.add("NEEDS-2", "pw")
    async with server.sim("NEEDS-2", "1.6") as cp:
        await cp.boot()
        await cp.start_transaction(1, "TAG")
        sent = await cp.send_charging_needs(1, energy_kwh=10, departure=None, ev_max_current_a=16)
        assert sent is None
        await cp.heartbeat()
    assert server.telemetry.needs == []


async def test_values_no_car_can_mean_are_left_out_and_the_connection_lives(server, caplog):
    server.directory.add("NEEDS-3", "pw")
    tel = server.telemetry
    caplog.set_level(logging.WARNING, logger="fuseshare.ocpp")
    async with server.sim("NEEDS-3", "2.0.1") as cp:
        await cp.boot()
        await cp.start_transaction(1, "TAG")
        departure = cp.now() + timedelta(minutes=30)
        bad = [
            # negative energy, no current: the departure still counts
            needs_call(departure_time=departure.isoformat(), ac_charging_parameters=ac(-5000, 0)),
            # absurd energy and current; a departure that is no date
            needs_call(departure_time="soon", ac_charging_parameters=ac(2_000_000, 5000)),
        ]
        for payload in bad:
            assert (await cp.call(payload)).status == "Accepted"
        # DC: the energy counts, its current is no per-phase AC current.
        dc = needs_call(
            requested_energy_transfer="DC",
            dc_charging_parameters={
                "energy_amount": 40_000,
                "ev_max_current": 200,
                "ev_max_voltage": 800,
            },
        )
        assert (await cp.call(dc)).status == "Accepted"
        # NaN is no integer: the library's schema check refuses it before our handler.
        with pytest.raises(OCPPError):
            await cp.call(
                needs_call(ac_charging_parameters=ac(float("nan"), 16)), skip_schema_validation=True
            )
        assert await cp.heartbeat()
        assert cp.connected

    got = [needs for serial, needs in tel.needs if serial == "NEEDS-3"]
    assert len(got) == 3
    assert got[0].energy_kwh is None and got[0].ev_max_current_a is None
    assert got[0].departure_in_s == pytest.approx(1800, abs=3)
    assert got[1] == ChargingNeeds(None, None, None)
    assert got[2] == ChargingNeeds(40.0, None, None)
    warnings = [r.getMessage() for r in caplog.records if "left out" in r.getMessage()]
    # One line says what was wrong; the second bad message within the minute is throttled.
    assert len(warnings) == 1
    assert "energyAmount -5000" in warnings[0] and "evMaxCurrent 0" in warnings[0]


class _NoMeter:
    async def send(self, serial: str, payload: bytes) -> None:
        pass


async def test_the_realtime_site_passes_on_what_its_cars_say_on_2_0_1_only(server):
    """The virtual site behind ``simulate --realtime`` and ``demo``: a car that tells its
    needs makes a 2.0.1 charger send them after the session started; a 1.6 one cannot."""
    for serial in ("RT-201", "RT-16"):
        server.directory.add(serial, "pw")
    tel = server.telemetry
    visit = Visit(0.0, 3600.0, 20.0, 3, 16.0, tells_needs=True)
    deadline = time.monotonic() + 20.0
    site = RealtimeSite(
        base_url=server.base_url,
        chargers=[
            SiteCharger("RT-201", "pw", ("L1", "L2", "L3"), version="2.0.1"),
            SiteCharger("RT-16", "pw", ("L1", "L2", "L3"), version="1.6"),
        ],
        grid=Grid.TN_400_3P,
        meter_serial="AG-RT",
        transport=_NoMeter(),
        visits={"RT-201": [visit], "RT-16": [visit]},
        base_load=lambda _t: [0.0, 0.0, 0.0],
        should_stop=lambda: len(tel.sessions) >= 2 or time.monotonic() > deadline,
    )
    await site.run()

    assert {serial for serial, _, what in tel.sessions if what == "started"} == {"RT-201", "RT-16"}
    [(serial, needs)] = tel.needs
    assert serial == "RT-201"
    assert (needs.energy_kwh, needs.ev_max_current_a) == (20.0, 16.0)
    assert needs.departure_in_s == pytest.approx(3600, abs=5)


async def test_energy_told_mid_session_counts_what_the_session_already_had(server):
    """energyAmount is what is still missing: told after 5 kWh went in, 20 kWh more means
    a session that wants 25 kWh in all (told at the start it is the whole want)."""
    server.directory.add("NEEDS-MID", "pw")
    tel = server.telemetry
    async with server.sim("NEEDS-MID", "2.0.1") as cp:
        await cp.boot()
        await cp.start_transaction(1, "TAG")
        await cp.send_meter_values(1, current_a=(16.0, 16.0, 16.0), energy_add_wh=1.0)
        await cp.send_meter_values(1, current_a=(16.0, 16.0, 16.0), energy_add_wh=5000.0)
        answer = await cp.call(needs_call(ac_charging_parameters=ac(20_000, 16)))
        assert answer.status == "Accepted"
    (_, needs), *_ = tel.needs
    assert needs.energy_kwh == pytest.approx(25.0, abs=0.01)
