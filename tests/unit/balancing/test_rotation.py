"""Rotation of paused sessions: fairness over an evening, min on/off times.

The loop below plays the control loop: each cycle's currents become the next
cycle's setpoints. Every case is worked out by hand in its docstring.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from fuseshare.balancing import (
    AlgorithmState,
    Allocation,
    ChargerInput,
    Grid,
    GroupConfig,
    ReasonCode,
)

from .support import charger, config, run

# One-phase 17 A offline budget, no meter, min 8: room for two sessions at a time.
CFG = config(Grid.TN_230_1P, fuse=63, offline=17, min_a=8, meter=False, outlet=False)


def play(
    cfg: GroupConfig,
    sessions: Callable[[float], dict[str, bool]],
    until_s: float,
    every_s: float = 60.0,
) -> list[tuple[float, Allocation]]:
    """Run cycles from 0 to ``until_s``; ``sessions(t)`` says who is plugged in."""
    setpoints: dict[str, tuple[float, float]] = {}
    state = AlgorithmState()
    out = []
    t = 0.0
    while t <= until_s:
        present = sessions(t)
        chargers: list[ChargerInput] = []
        for cid, plugged in present.items():
            sp, since = setpoints.get(cid, (0.0, -1000.0))
            chargers.append(
                charger(
                    cid,
                    "L1",
                    session_id=f"s-{cid}" if plugged else None,
                    setpoint_a=sp,
                    setpoint_since_s=since,
                )
            )
        allocation, state = run(cfg, chargers, None, now_s=t, state=state)
        for a in allocation.chargers:
            if a.changed:
                setpoints[a.charger_id] = (a.current_a, t)
        out.append((t, allocation))
        t += every_s
    return out


def currents(history: list[tuple[float, Allocation]], t: float) -> dict[str, float]:
    for when, allocation in history:
        if when == t:
            return {c.charger_id: c.current_a for c in allocation.chargers}
    raise KeyError(t)


def test_three_cars_rotate_by_hand() -> None:
    """Three cars from t=0, room for two at min (8+8 <= 17 < 24).

    t=0:    all served 0, id order: A and B charge (8.5 each), C paused.
    t=900:  A and B are past their 15 min on time; C has been served least, then A
            (tie with B, id order): B pauses at once; C must wait one cycle
            because B may still draw its old current (capacity being released).
    t=960:  C starts.
    t=1200: B's 5 min off time is over; B (served 900 s x 8.5 A) is now behind A
            (1200 s x 8.5 A): A pauses, C is inside its min on time.
    t=1260: B starts.
    """
    history = play(CFG, lambda t: {"A": True, "B": True, "C": True}, 1300)
    assert currents(history, 0) == {"A": 8.5, "B": 8.5, "C": 0.0}
    assert currents(history, 840) == {"A": 8.5, "B": 8.5, "C": 0.0}
    assert currents(history, 900) == {"A": 8.5, "B": 0.0, "C": 0.0}
    at_900 = dict(history)[900].by_id()
    assert at_900["B"].reason.code is ReasonCode.PAUSED_ROTATION
    assert at_900["C"].reason.code is ReasonCode.WAITING_RELEASE
    assert currents(history, 960) == {"A": 8.5, "B": 0.0, "C": 8.5}
    assert dict(history)[960].by_id()["B"].reason.code is ReasonCode.PAUSED_MIN_OFF
    assert currents(history, 1200) == {"A": 0.0, "B": 0.0, "C": 8.5}
    assert currents(history, 1260) == {"A": 0.0, "B": 8.5, "C": 8.5}


def _runs(history: list[tuple[float, Allocation]], cid: str) -> list[tuple[bool, float, float]]:
    """(on, start, end) stretches of one charger."""
    out: list[tuple[bool, float, float]] = []
    for t, allocation in history:
        on = allocation.by_id()[cid].current_a > 0
        if out and out[-1][0] == on:
            out[-1] = (on, out[-1][1], t)
        else:
            out.append((on, t, t))
    return out


def test_evening_is_fair_and_calm() -> None:
    """Four cars on room for two, four hours: everyone gets about half the time,
    and nobody is switched faster than the min on/off times allow."""
    history = play(CFG, lambda t: dict.fromkeys("ABCD", True), 4 * 3600)
    on_time = {cid: 0.0 for cid in "ABCD"}
    for _, allocation in history:
        for c in allocation.chargers:
            if c.current_a > 0:
                on_time[c.charger_id] += 60.0
    total = sum(on_time.values())
    for seconds in on_time.values():
        assert seconds / total == pytest.approx(0.25, abs=0.05), on_time
    for cid in "ABCD":
        stretches = _runs(history, cid)
        # Every stretch but the last is complete: check it against the min times.
        for on, start, end in stretches[1:-1]:
            length = end - start + 60.0
            assert length >= (900.0 if on else 300.0), (cid, on, start, end)


def test_newcomer_does_not_wait_forever() -> None:
    """A and B charge for an hour; C arrives at 3600 with the least served: it
    starts within two cycles (one to pause the most served, one to release)."""
    history = play(CFG, lambda t: {"A": True, "B": True, "C": t >= 3600}, 3780)
    assert currents(history, 3540) == {"A": 8.5, "B": 8.5, "C": 0.0}
    assert currents(history, 3720)["C"] == 8.5


def test_not_first_come_first_served() -> None:
    """A came first and has been served most: it is the one that pauses for D."""
    history = play(
        CFG,
        lambda t: {"A": True, "B": t >= 600, "D": t >= 1800},
        1900,
    )
    assert currents(history, 1800)["A"] == 0.0
    assert currents(history, 1800)["B"] == 8.5


def test_min_on_time_protects_a_fresh_start() -> None:
    """C arrives just after B started: B keeps charging for its min on time even
    though C has been served less."""
    history = play(CFG, lambda t: {"A": True, "B": t >= 60, "C": t >= 120}, 1200)
    assert currents(history, 120) == {"A": 8.5, "B": 8.5, "C": 0.0}
    # A is past its min on time at 900 (started 0) and pauses; B (started 60) stays.
    assert currents(history, 900)["A"] == 0.0
    assert currents(history, 900)["B"] == 8.5


def test_weights_give_more_turns() -> None:
    """B has weight 3: it is served three times as much before it yields."""
    setpoint: dict[str, tuple[float, float]] = {}
    state = AlgorithmState()
    on_time = {"A": 0.0, "B": 0.0, "C": 0.0}
    cfg = config(Grid.TN_230_1P, fuse=63, offline=9, min_a=8, meter=False, outlet=False)
    for k in range(int(6 * 3600 / 60)):
        t = k * 60.0
        chargers = [
            charger(
                cid,
                "L1",
                weight=3.0 if cid == "B" else 1.0,
                setpoint_a=setpoint.get(cid, (0.0, -1e3))[0],
                setpoint_since_s=setpoint.get(cid, (0.0, -1e3))[1],
            )
            for cid in "ABC"
        ]
        allocation, state = run(cfg, chargers, None, now_s=t, state=state)
        for a in allocation.chargers:
            if a.changed:
                setpoint[a.charger_id] = (a.current_a, t)
            if a.current_a > 0:
                on_time[a.charger_id] += 60.0
    assert on_time["B"] > 2.0 * on_time["A"]
    assert on_time["A"] == pytest.approx(on_time["C"], rel=0.3)
