"""Version 5: sessions whose cars said what they need are shared by it. Every case is
worked out by hand in its docstring; without needs, version 5 is version 4."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from hypothesis import given, settings

from fuseshare.balancing import (
    AlgorithmState,
    ChargerInput,
    Grid,
    ReasonCode,
    SessionState,
    get_algorithm,
)

from .support import charger, config, run
from .test_properties import sequences

TN1 = Grid.TN_230_1P


def _wants(cid: str, kwh: float | None, departure_s: float | None = 10_000.0) -> ChargerInput:
    return charger(cid, "L1", car_phases=1, energy_wanted_kwh=kwh, departure_s=departure_s)


def _currents(*chargers_: ChargerInput, offline: float = 30.0) -> dict[str, float]:
    allocation, _ = run(config(TN1, offline=offline, meter=False), list(chargers_), version=5)
    return {a.charger_id: a.current_a for a in allocation.chargers}


def test_shares_grow_with_the_current_a_car_needs_by_its_departure() -> None:
    """One-phase TN, 30 A to share, both leave in 10 000 s. A wants 9.2 kWh: 9200 Wh x
    3600 / 10 000 s / 230 V = 14.4 A; B wants 4.6 kWh: 7.2 A. Weights 2 : 1, so A gets
    20 A and B 10 A (version 4: 15 A each)."""
    a, b = _wants("A", 9.2), _wants("B", 4.6)
    assert _currents(a, b) == {"A": 20.0, "B": 10.0}
    four, _ = run(config(TN1, offline=30.0, meter=False), [a, b], version=4)
    assert [x.current_a for x in four.chargers] == [15.0, 15.0]


def test_a_car_that_said_nothing_shares_like_the_middle_one() -> None:
    """A needs 14.4 A, B 7.2 A, C said nothing: C counts as the middle need of the told
    ones (the upper middle of two: 14.4 A). Weights 1 : 0.5 : 1 over 50 A: 20, 10, 20."""
    a, b = _wants("A", 9.2), _wants("B", 4.6)
    c = charger("C", "L1", car_phases=1)
    assert _currents(a, b, c, offline=50.0) == {"A": 20.0, "B": 10.0, "C": 20.0}


def test_energy_without_departure_shares_like_the_middle_one() -> None:
    """B told its energy but not when it leaves: no need can be worked out, so it shares
    like the middle told need (A's, the only one): 15 A each."""
    a, b = _wants("A", 9.2), _wants("B", 4.6, departure_s=None)
    assert _currents(a, b) == {"A": 15.0, "B": 15.0}


def test_a_car_past_its_departure_does_not_claim_the_group() -> None:
    """A departure closer than 900 s (or past) counts as 900 s away: a car that said
    03:00 and is still there at 05:00 must not get everything. A wants 1 kWh "1000 s
    ago" and B 1 kWh in 100 s: both count as 1 kWh in 900 s, so they share equally."""
    a = _wants("A", 1.0, departure_s=-1000.0)
    b = _wants("B", 1.0, departure_s=100.0)
    assert _currents(a, b) == {"A": 15.0, "B": 15.0}


def test_rotation_ranks_by_the_fraction_of_the_wanted_energy_had() -> None:
    """10 A offline budget, min 6 A: one of two paused cars can run. A wants 9.2 kWh and
    has had 100 000 A·s (0.69 of 144 000); B wants 4.6 kWh and has had 60 000 (0.83 of
    72 000). A goes first although it has had more; version 4 ranks by what was had and
    starts B."""
    a, b = _wants("A", 9.2), _wants("B", 4.6)
    state = AlgorithmState(
        now_s=-10.0,
        sessions={
            "A": SessionState("s-A", False, -5000.0, 100_000.0),
            "B": SessionState("s-B", False, -5000.0, 60_000.0),
        },
    )
    allocation, _ = run(config(TN1, offline=10.0, meter=False), [a, b], version=5, state=state)
    got = {x.charger_id: x for x in allocation.chargers}
    assert got["A"].current_a == 10.0
    assert got["B"].current_a == 0.0
    assert got["B"].reason.code is ReasonCode.PAUSED_ROTATION
    four, _ = run(config(TN1, offline=10.0, meter=False), [a, b], version=4, state=state)
    assert {x.charger_id: x.current_a for x in four.chargers} == {"A": 0.0, "B": 10.0}


def test_absurd_needs_count_as_unknown() -> None:
    """NaN, zero, negative or infinite energy is no need: with only such, version 5
    shares like version 4 (15 A each)."""
    for bad in (math.nan, 0.0, -3.0, math.inf):
        a, b = _wants("A", bad), _wants("B", 4.6, departure_s=math.nan)
        assert _currents(a, b) == {"A": 15.0, "B": 15.0}


@pytest.mark.parametrize("version", [5, 6])
@settings(max_examples=100, deadline=None)
@given(case=sequences())
def test_without_needs_the_needs_versions_are_version_4(
    version: int, case: tuple[int, list]
) -> None:
    """Groups whose cars say nothing (every OCPP 1.6 site) see no change."""
    _version, snaps = case
    states = {4: AlgorithmState(), version: AlgorithmState()}
    for snap in snaps:
        plain = replace(
            snap,
            chargers=tuple(
                replace(ch, energy_wanted_kwh=None, departure_s=None) for ch in snap.chargers
            ),
        )
        out = {}
        for v in (4, version):
            result = get_algorithm("standard", v).allocate(plain, states[v])
            states[v] = result.state
            out[v] = result.allocation
        assert out[version].chargers == out[4].chargers
        assert out[version].lines == out[4].lines


def test_a_car_leaving_sooner_goes_before_one_equally_served_that_stays() -> None:
    """12 A offline budget, min 6 A: two sessions can run. C runs at 6 A (said nothing,
    has had nothing); A and B are paused, each has had 10 000 A·s of the same 9.2 kWh
    (144 000 A·s); A leaves in 10 000 s, B in 2000 s. The average share ahead is 6 A
    over 3 sessions = 2 per s, so by their departures A would have 30 000 and B 14 000;
    C counts as leaving at the upper middle (10 000 s): 20 000 of the middle want.
    Order B, C, A: B starts, A waits. Ranked by what they had so far, A and B tie and A
    goes first by name."""
    a, b = _wants("A", 9.2, departure_s=10_000.0), _wants("B", 9.2, departure_s=2000.0)
    c = charger("C", "L1", car_phases=1, setpoint_a=6.0)
    state = AlgorithmState(
        now_s=-10.0,
        sessions={
            "A": SessionState("s-A", False, -5000.0, 10_000.0),
            "B": SessionState("s-B", False, -5000.0, 10_000.0),
            "C": SessionState("s-C", True, -5000.0, 0.0),
        },
    )
    allocation, _ = run(config(TN1, offline=12.0, meter=False), [a, b, c], version=5, state=state)
    got = {x.charger_id: x.current_a for x in allocation.chargers}
    assert got == {"A": 0.0, "B": 6.0, "C": 6.0}
