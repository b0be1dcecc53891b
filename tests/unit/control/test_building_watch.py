"""The loop watches the building: a peak above what the offline budget assumes lowers the
offline budget and the failsafe currents the chargers hold, and says so."""

from __future__ import annotations

import pytest

from fuseshare.balancing.building_peak import BuildingPeak
from fuseshare.control.loop import GroupNotice

from .test_group_loop import Site, it_spec


async def run_minutes(site: Site, minutes: int) -> None:
    """A reading and a cycle every second, the cars following their limits."""
    for _ in range(minutes * 60):
        site.clock.advance(1.0)
        site.meter(*site.reading())
        await site.loop.cycle()
        for serial in ("A", "B"):
            limit = site.commands.last(serial)
            if limit is not None:
                site.car(serial, min(limit, 32.0))


async def test_a_building_inside_the_promise_changes_nothing() -> None:
    notices: list[GroupNotice] = []
    site = Site(notify=notices.append)
    site.car("A", 12.0)
    site.car("B", 10.0)
    await run_minutes(site, 3)
    assert site.loop.offline_budget is None and site.loop.failsafes == {}
    assert notices == []
    assert {fs for _, _, fs in site.commands.calls} == {6.0}  # the configured failsafe


async def test_a_heavier_building_lowers_the_offline_budget_and_the_failsafes() -> None:
    """IT, fuse 50 A, offline budget 20 A, margin 1 A. The building grows to 40 A on L2:
    it leaves 50 - 1 - 40 = 9 A there. A (L1-L2) keeps its 6 A failsafe, B (L2-L3)
    would need 6 of the 3 A left on L2: 0 A."""
    notices: list[GroupNotice] = []
    site = Site(notify=notices.append)
    site.car("A", 12.0)
    site.car("B", 10.0)
    await run_minutes(site, 2)
    site.base = (10.0, 40.0, 6.0)
    await run_minutes(site, 2)
    budget = site.loop.offline_budget
    assert budget is not None
    assert budget.l2_a == pytest.approx(9.0, abs=0.15)
    assert budget.l1_a == budget.l3_a == 20.0  # the other lines keep the configured budget
    assert site.loop.failsafes == {"B": 0.0}  # A keeps its configured 6 A
    # The lowered failsafe went out with the very next limit, without waiting for a renewal.
    last_b = [fs for serial, _, fs in site.commands.calls if serial == "B"][-1]
    assert last_b == 0.0
    assert len(notices) == 1
    notice = notices[0]
    assert (notice.kind, notice.severity, notice.group_id) == (
        "group_offline_budget_lowered",
        "warning",
        1,
    )
    assert "up to L2 40.0 A (leaves 9.0 A) under the 50 A fuse" in notice.message
    assert "B 6 → 0 A" in notice.message
    # The meter goes silent: the chargers share 9 A on L2, not 20.
    site.clock.advance(30.0)
    allocation = await site.loop.cycle()
    assert allocation is not None and not allocation.meter_online
    by = allocation.by_id()
    assert by["A"].current_a + by["B"].current_a <= 9.0 + 1e-6
    # A computation that fails closes to the lowered failsafes too.
    site.break_algorithm()
    site.commands.calls.clear()
    assert await site.loop.cycle() is None
    assert sorted(site.commands.calls) == [("A", 6.0, 6.0), ("B", 0.0, 0.0)]


async def test_a_stored_peak_is_used_from_the_first_cycle() -> None:
    """After a restart the loop starts from the peak kept in the store."""
    peak = BuildingPeak()
    for k in range(61):
        peak.add(1_799_000_000.0 + k, (10.0, 44.0, 6.0))
    site = Site(building=BuildingPeak.from_json(peak.to_json()))
    site.car("A", 0.0)
    site.car("B", 0.0)
    site.clock.advance(1.0)
    site.meter(*site.reading())
    await site.loop.cycle()
    assert site.loop.offline_budget is not None
    assert site.loop.offline_budget.l2_a == pytest.approx(5.0)
    assert {serial: fs for serial, _, fs in site.commands.calls} == {"A": 0.0, "B": 0.0}


async def test_a_car_whose_earlier_limit_is_unknown_is_not_counted_at_the_new_one() -> None:
    """A loop that has just started (after a restart) does not know what the chargers held
    before: until a reaction time has passed since its first limit, the car may still be
    on its old one, possibly 0 A, so it is not counted at the limit just sent."""
    site = Site()
    site.car("A", 0.0)
    site.car("B", 0.0)
    site.meter(*site.reading())
    await site.loop.cycle()
    sent = site.commands.last("A")
    assert sent is not None and sent > 0.0

    def follow_low() -> float | None:
        snap = site.loop.snapshot(site.clock())
        return next(c for c in snap.chargers if c.charger_id == "A").follow_low_a

    site.clock.advance(1.0)
    site.meter(*site.reading())
    assert follow_low() is None  # the algorithm goes by the car's sample instead
    site.clock.advance(5.0)
    site.meter(*site.reading())
    assert follow_low() == pytest.approx(sent)


async def test_many_quick_changes_do_not_push_out_the_limit_in_effect() -> None:
    """Limits are remembered by time, not by count: forty changes inside the reaction
    time still leave the limit held before them known."""
    site = Site()
    site.car("A", 10.0)
    site.car("B", 10.0)
    await site.settle(cycles=3)
    before = site.commands.last("A")
    assert before is not None
    member = site.loop.spec.member("A")
    assert member is not None
    t0 = site.clock()
    for k in range(40):
        site.clock.advance(0.1)
        await site.loop._send(member, 6.0 + (k % 2), site.clock())
    assert site.loop._limit_in_effect("A", t0) == before
    assert site.loop._follow_low("A", t0 + 4.0, site.clock()) == pytest.approx(min(before, 6.0))


async def test_failsafes_that_add_past_the_offline_budget_are_fitted_to_it_without_a_peak() -> None:
    """Activation refuses this; a group that never went through it (the simulator) gets
    the same guarantee from the loop: IT, offline budget 10 A, A (L1-L2) and B (L2-L3)
    at 6 A each would put 12 A on L2."""
    notices: list[GroupNotice] = []
    site = Site(it_spec(max_current_offline_a=10.0), notify=notices.append)
    assert site.loop.offline_budget is None and site.loop.failsafes == {"B": 0.0}
    site.car("A", 0.0)
    site.car("B", 0.0)
    site.meter(*site.reading())
    await site.loop.cycle()
    assert {serial: fs for serial, _, fs in site.commands.calls} == {"A": 6.0, "B": 0.0}
    assert notices == []  # nothing about the building to say
