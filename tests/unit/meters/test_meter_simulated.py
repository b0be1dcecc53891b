"""The simulated Amp Guard produces believable readings through the real parser."""

from __future__ import annotations

from meter_fakes import T0, FakeClock, ListSink

from fuseshare.meters.amp_guard import parse_payload
from fuseshare.meters.hub import MeterHub, MeterSettings
from fuseshare.meters.reading import Reading
from fuseshare.meters.simulated import (
    InProcessTransport,
    SimulatedAmpGuard,
    household_load,
    run_simulated,
    series_load,
)


def test_series_load_holds_each_point_until_the_next() -> None:
    load = series_load([[0, 10.0, 8.0, 12.0], [3600, 25.0, 9.0, 30.0]], origin_s=T0)
    assert load(T0) == (10.0, 8.0, 12.0)
    assert load(T0 + 3599) == (10.0, 8.0, 12.0)
    assert load(T0 + 3600) == (25.0, 9.0, 30.0)
    assert load(T0 - 5) == (10.0, 8.0, 12.0)


def test_samples_follow_the_load_and_parse_cleanly() -> None:
    guard = SimulatedAmpGuard("AG-SIM", series_load([[0, 20.0, 10.0, 5.0]]), seed=1)
    readings = []
    for k in range(60):
        r = parse_payload("AG-SIM", guard.payload(T0 + k), received_at_s=T0 + k)
        assert isinstance(r, Reading)
        readings.append(r)
    assert [r.seq for r in readings] == list(range(1, 61))
    mean_l1 = sum(r.current_a[0] for r in readings) / len(readings)
    assert 19.0 < mean_l1 < 21.0
    assert all(225 < v < 235 for r in readings for v in r.voltage_v or ())
    assert all(p > 0 for r in readings for p in r.power_w or ())
    # 35 A × 230 V ≈ 7.8 kW for a minute ≈ 0.13 kWh
    assert readings[0].energy_kwh is not None and readings[-1].energy_kwh is not None
    assert 0.10 < readings[-1].energy_kwh - readings[0].energy_kwh < 0.16


def test_same_seed_same_readings() -> None:
    a = SimulatedAmpGuard("AG-SIM", household_load(seed=3), seed=5)
    b = SimulatedAmpGuard("AG-SIM", household_load(seed=3), seed=5)
    assert [a.payload(T0 + k) for k in range(5)] == [b.payload(T0 + k) for k in range(5)]


async def test_in_process_transport_feeds_the_hub_and_a_day_of_household_load_is_plausible() -> (
    None
):
    clock = FakeClock()
    hub = MeterHub(clock=clock)
    hub.register(MeterSettings("AG-SIM", fuse_a=63.0))
    guard = SimulatedAmpGuard("AG-SIM", household_load(seed=2), seed=2)

    async def tick(seconds: float) -> None:
        clock.advance(seconds)

    sent = await run_simulated(
        guard,
        InProcessTransport(hub, clock=clock),
        clock=clock,
        interval_s=30.0,
        count=2880,
        sleep=tick,
    )
    status = hub.status("AG-SIM")
    assert status is not None
    assert sent == 2880
    assert status.accepted == 2880, status.rejected
    assert status.installation_faults == ()


async def test_in_process_transport_sends_bytes_through_the_parser() -> None:
    sink = ListSink()
    transport = InProcessTransport(sink, clock=FakeClock())
    await transport.send("AG-SIM", b'{"current_a": [1, 2, 3]}')
    await transport.send("AG-SIM", b"garbage")
    assert [r.current_a for r in sink.readings] == [(1.0, 2.0, 3.0)]
    assert [rej.code for _, rej in sink.rejections] == ["not_json"]
