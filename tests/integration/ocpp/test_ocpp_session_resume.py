"""A car keeps its session when the charger's link or the server goes away mid-charge.

Without resuming, the control loop sees no session on the charger after a reconnect
and gives the car nothing until it is plugged in again (found with the end-to-end
restart test: the car sat at 0 A)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from ocpp.v16 import call as call16


async def _reconnect(cp) -> None:
    await cp.close()
    await cp.connect()
    await cp.boot()


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_an_open_session_in_the_store_is_resumed_at_reconnect(server, version):
    serial = f"RESUME-{version}"
    server.directory.add(serial, "pw")
    tel = server.telemetry
    async with server.sim(serial, version) as cp:
        await cp.boot()
        tx = await cp.start_transaction(1, "TAG")
        await _reconnect(cp)
        await tel.wait_for(lambda: tel.sessions.count((serial, tx, "started")) == 2)
    assert (serial, tx, "stopped") not in tel.sessions


async def test_a_transaction_the_store_does_not_know_is_resumed_from_its_meter_values(server):
    server.directory.add("RESUME-MV", "pw")
    tel = server.telemetry
    async with server.sim("RESUME-MV", "1.6") as cp:
        await cp.boot()
        tx = await cp.start_transaction(1, "TAG")
        server.directory.sessions.clear()  # the store lost it (restored from a backup, say)
        await _reconnect(cp)
        await cp.heartbeat()
        assert tel.sessions.count(("RESUME-MV", tx, "started")) == 1
        await cp.send_meter_values(1, current_a=(10.0, 10.0, 10.0))
        await tel.wait_for(lambda: tel.sessions.count(("RESUME-MV", tx, "started")) == 2)


async def test_a_session_from_the_store_ends_when_the_charger_says_it_is_available(server):
    """The car left while the server was away and the stop was lost."""
    server.directory.add("RESUME-GONE", "pw")
    tel = server.telemetry
    async with server.sim("RESUME-GONE", "1.6") as cp:
        await cp.boot()
        tx = await cp.start_transaction(1, "TAG")
        cp.state.transactions.clear()  # its stop never reached us
        await _reconnect(cp)
        await tel.wait_for(lambda: tel.sessions.count(("RESUME-GONE", tx, "started")) == 2)
        await cp.send_status(1, "Available")
        await tel.wait_for(lambda: ("RESUME-GONE", tx, "stopped") in tel.sessions)


async def test_what_the_car_said_it_needs_survives_a_reconnect(server):
    """Told once at the start (ISO 15118 does not repeat it), kept in the store, and told
    again to the control side when the session is resumed, with the departure where the
    car put it."""
    server.directory.add("RESUME-NEEDS", "pw")
    tel = server.telemetry
    async with server.sim("RESUME-NEEDS", "2.0.1") as cp:
        await cp.boot()
        await cp.start_transaction(1, "TAG")
        departure = cp.now() + timedelta(hours=3)
        await cp.send_charging_needs(1, energy_kwh=30.5, departure=departure, ev_max_current_a=16)
        await tel.wait_for(lambda: len(tel.needs) == 1)
        await _reconnect(cp)
        await tel.wait_for(lambda: len(tel.needs) == 2)
    (_, first), (serial, again) = tel.needs
    assert serial == "RESUME-NEEDS"
    assert (again.energy_kwh, again.ev_max_current_a) == (30.5, 16.0)
    assert again.departure_in_s == pytest.approx(first.departure_in_s, abs=5)


async def test_late_meter_values_of_a_stopped_transaction_do_not_bring_it_back(server):
    server.directory.add("RESUME-LATE", "pw")
    tel = server.telemetry
    async with server.sim("RESUME-LATE", "1.6") as cp:
        await cp.boot()
        tx = await cp.start_transaction(1, "TAG")
        await cp.stop_transaction(1)
        await cp.call(
            call16.MeterValues(
                connector_id=1,
                transaction_id=int(tx),
                meter_value=[
                    {
                        "timestamp": cp.now().isoformat(),
                        "sampled_value": [
                            {"value": "0.0", "measurand": "Current.Import", "unit": "A"}
                        ],
                    }
                ],
            )
        )
        await cp.heartbeat()
    assert tel.sessions == [("RESUME-LATE", tx, "started"), ("RESUME-LATE", tx, "stopped")]
