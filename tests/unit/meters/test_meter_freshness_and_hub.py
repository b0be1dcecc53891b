"""Freshness (pure) and the hub: online state, ages, events, wake-ups, persistence."""

from __future__ import annotations

import asyncio
import math

import pytest
from meter_fakes import T0, FakeClock, FakeRecorder, reading

from fuseshare.meters.freshness import Freshness, MeterState, staleness_window_s
from fuseshare.meters.hub import MeterHub, MeterSettings
from fuseshare.meters.reading import Rejection


@pytest.mark.parametrize(
    ("interval_s", "window_s"), [(0.5, 5.0), (1.0, 5.0), (2.0, 6.0), (10.0, 30.0)]
)
def test_window_is_five_seconds_or_three_intervals(interval_s: float, window_s: float) -> None:
    assert staleness_window_s(interval_s) == window_s


def test_freshness_transitions_are_stamped_when_they_happened() -> None:
    f = Freshness(window_s=5.0)
    assert f.state is MeterState.UNKNOWN
    assert f.evaluate(T0) is None
    t = f.seen(T0, T0)
    assert t is not None and (t.before, t.after) == (MeterState.UNKNOWN, MeterState.ONLINE)
    assert f.evaluate(T0 + 5.0) is None  # exactly at the window: still fresh
    off = f.evaluate(T0 + 30.0)
    assert off is not None and off.after is MeterState.OFFLINE
    assert off.at_s == T0 + 5.0  # went stale then, though noticed later
    assert f.evaluate(T0 + 31.0) is None
    back = f.seen(T0 + 40.0, T0 + 40.0)
    assert back is not None and (back.before, back.after) == (MeterState.OFFLINE, MeterState.ONLINE)
    assert "back online" in back.describe()


def test_an_old_reading_does_not_make_a_meter_online() -> None:
    f = Freshness(window_s=5.0)
    assert f.seen(T0 - 60, T0) is None
    assert f.state is MeterState.UNKNOWN
    assert f.age_s(T0) == 60


def make_hub(clock: FakeClock, recorder: FakeRecorder | None = None, **kw: object) -> MeterHub:
    hub = MeterHub(clock=clock, recorder=recorder, persist_interval_s=10.0)
    hub.register(MeterSettings(serial="AG-1", fuse_a=63.0, **kw))  # type: ignore[arg-type]
    return hub


def test_hub_shows_the_latest_reading_with_its_age_and_state() -> None:
    clock = FakeClock()
    hub = make_hub(clock)
    view = hub.view("AG-1")
    assert view is not None and view.state is MeterState.UNKNOWN and view.reading is None
    assert view.age_s is None and not view.online

    r = reading(ts_s=T0 - 0.2, seq=1)
    assert hub.submit(r).accepted
    clock.advance(1.5)
    view = hub.view("AG-1")
    assert view is not None and view.online and view.reading is r
    assert view.age_s == pytest.approx(1.7)  # from the meter's own timestamp
    assert view.window_s == 5.0

    clock.advance(10)
    view = hub.view("AG-1")
    assert view is not None and not view.online and view.state is MeterState.OFFLINE
    assert view.reading is r  # still shown, with its age, but not online


def test_rejected_readings_are_counted_and_never_become_the_latest() -> None:
    clock = FakeClock()
    hub = make_hub(clock)
    good = reading(seq=1)
    hub.submit(good)
    verdict = hub.submit(reading((math.nan, 1.0, 1.0), seq=2))
    assert not verdict.accepted
    hub.submit(reading((-1.0, 1.0, 1.0), seq=3))
    hub.reject("AG-1", Rejection("not_json", "payload is not JSON"), source="mqtt")
    status = hub.status("AG-1")
    assert status is not None
    assert status.reading is good
    assert status.accepted == 1
    assert status.rejected == {"not_finite": 1, "negative": 1, "not_json": 1}
    assert status.last_rejection is not None and "JSON" in status.last_rejection


def test_unknown_serials_are_counted_not_used() -> None:
    hub = make_hub(FakeClock())
    verdict = hub.submit(reading(serial="STRANGER"))
    assert not verdict.accepted and verdict.codes == ("unknown_meter",)
    hub.reject("STRANGER", Rejection("empty", "empty"))
    assert hub.unknown["STRANGER"] == 2
    assert hub.view("STRANGER") is None


def test_silence_and_return_raise_events() -> None:
    clock = FakeClock()
    hub = make_hub(clock)
    seen: list[str] = []
    hub.add_event_listener(lambda e: seen.append(e.kind))
    hub.submit(reading(seq=1))
    clock.advance(4)
    assert hub.check() == []
    clock.advance(3)
    events = hub.check()
    assert [e.kind for e in events] == ["offline"]
    assert events[0].at_s == T0 + 5.0
    assert "offline budget" in events[0].message
    clock.advance(1)
    hub.submit(reading(seq=2, at_s=clock.now_s))
    assert seen == ["online", "offline", "online"]


def test_a_frozen_meter_goes_offline_instead_of_feeding_stale_truth() -> None:
    clock = FakeClock()
    hub = MeterHub(clock=clock)
    from fuseshare.meters.plausibility import PlausibilityLimits

    hub.register(MeterSettings("AG-1", limits=PlausibilityLimits(frozen_after_s=30.0)))
    for k in range(60):
        hub.submit(reading(seq=k + 1, at_s=clock.now_s, voltage_v=(230.0, 230.0, 230.0)))
        clock.advance(1)
    status = hub.status("AG-1")
    assert status is not None
    assert status.state is MeterState.OFFLINE
    assert status.rejected["frozen"] > 20


async def test_next_reading_wakes_the_control_loop() -> None:
    clock = FakeClock()
    hub = make_hub(clock)
    first = reading(seq=1)
    hub.submit(first)
    assert await hub.next_reading("AG-1") is first  # already there
    waiter = asyncio.create_task(hub.next_reading("AG-1", after=first, timeout_s=5))
    await asyncio.sleep(0)
    second = reading((11.0, 8.0, 12.0), seq=2)
    hub.submit(second)
    assert await waiter is second
    assert await hub.next_reading("AG-1", after=second, timeout_s=0.01) is None


async def test_recorder_gets_events_at_once_and_status_throttled() -> None:
    clock = FakeClock()
    recorder = FakeRecorder()
    hub = make_hub(clock, recorder)
    task = asyncio.create_task(hub.run(check_interval_s=0.01))
    try:
        for k in range(30):  # 30 readings over 30 s
            hub.submit(reading((10.0 + k % 3, 8.0, 12.0), seq=k + 1, at_s=clock.now_s))
            await asyncio.sleep(0.005)
            clock.advance(1)
        clock.advance(20)  # silence: offline
        for _ in range(50):
            await asyncio.sleep(0.005)
            if len(recorder.events) >= 2:
                break
    finally:
        task.cancel()
    assert [e.kind for e in recorder.events] == ["online", "offline"]
    # ~30 s of readings at one write per 10 s, plus the state changes: a handful, not 30.
    assert 2 <= len(recorder.statuses) <= 8
    assert recorder.statuses[-1].state is MeterState.OFFLINE


def test_status_json_has_what_meters_show_prints() -> None:
    clock = FakeClock()
    hub = make_hub(clock)
    hub.submit(reading(ts_s=T0, seq=3, voltage_v=(230.0,) * 3, power_w=(2300.0, 1840.0, 2760.0)))
    clock.advance(2)
    data = hub.status("AG-1").to_json_dict()  # type: ignore[union-attr]
    assert data["online"] is True
    assert data["state"] == "online"
    assert data["age_s"] == 2.0
    assert data["reading"]["current_a"] == [10.0, 8.0, 12.0]
    assert data["reading"]["seq"] == 3
    assert data["reading"]["ts"].endswith("Z")
    assert data["counters"] == {"accepted": 1, "rejected": {}, "flagged": {}}
    assert data["installation_faults"] == []


def test_registering_again_updates_settings_and_keeps_state() -> None:
    clock = FakeClock()
    hub = make_hub(clock)
    hub.submit(reading(seq=1))
    hub.register(MeterSettings(serial="AG-1", interval_s=10.0, fuse_a=25.0))
    status = hub.status("AG-1")
    assert status is not None and status.accepted == 1 and status.window_s == 30.0
    assert "absurd" in hub.submit(reading((80.0, 1.0, 1.0), seq=2)).codes


def test_a_persisted_status_round_trips_and_goes_stale_on_its_own() -> None:
    from fuseshare.meters.hub import MeterStatus

    clock = FakeClock()
    hub = make_hub(clock)
    hub.submit(reading(ts_s=T0, seq=3, voltage_v=(230.0,) * 3, energy_kwh=12.5))
    hub.submit(reading((-1.0, 1.0, 1.0), seq=4))
    stored = hub.status("AG-1").to_json_dict()  # type: ignore[union-attr]
    again = MeterStatus.from_json_dict(stored)
    assert again.to_json_dict() == stored
    # Another process (the CLI) looks a minute later: no longer online.
    later = again.aged(T0 + 60).to_json_dict()
    assert later["online"] is False and later["state"] == "offline"
    assert later["age_s"] == 60.0
    assert later["reading"] == stored["reading"]


def test_adapters_implement_the_ports() -> None:
    from fuseshare.meters.modbus import ModbusMeterSettings, ModbusPoller
    from fuseshare.meters.mqtt import MqttIngestor, MqttSettings
    from fuseshare.meters.ports import MeterSource, ReadingSink

    hub = make_hub(FakeClock())
    assert isinstance(hub, ReadingSink)
    assert isinstance(MqttIngestor(MqttSettings(), hub, clock=FakeClock()), MeterSource)
    poller = ModbusPoller(ModbusMeterSettings("M-1", "127.0.0.1"), hub, clock=FakeClock())
    assert isinstance(poller, MeterSource)


def test_invented_serials_cannot_grow_memory_without_bound() -> None:
    hub = make_hub(FakeClock())
    for k in range(1500):
        hub.submit(reading(serial=f"X-{k}"))
    assert hub.unknown_total == 1500
    assert len(hub.unknown) == 1000


async def test_a_waiter_on_an_unregistered_meter_is_told_so() -> None:
    hub = make_hub(FakeClock())
    waiter = asyncio.create_task(hub.next_reading("AG-1", timeout_s=5))
    await asyncio.sleep(0)
    hub.unregister("AG-1")
    with pytest.raises(KeyError):
        await waiter
