"""Table-driven allocation arithmetic, every case worked out by hand in its comment."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from fuseshare.balancing import ChargerInput, Grid, GroupConfig, MeterInput, ReasonCode

from .support import charger, config, reading, run

IT = Grid.IT_230_3P
TN = Grid.TN_400_3P
TN1 = Grid.TN_230_1P


@dataclass
class Case:
    id: str
    cfg: GroupConfig
    chargers: list[ChargerInput]
    meter: MeterInput | None
    currents: dict[str, float]
    reasons: dict[str, str] = field(default_factory=dict)
    """charger id -> reason text (or just the code when it starts with '=')."""
    version: int = 2


CASES = [
    # DOMAIN.md's worked example. Rest of the building: L1 22-12=10, L2 38-12-10=16,
    # L3 16-10=6. Room: L1 50-10-1=39, L2 50-16-1=33, L3 50-6-1=43. A loads L1+L2,
    # B loads L2+L3: a+b <= 33 binds, the fair split is 16.5 A each.
    Case(
        "domain worked example (IT)",
        config(IT, fuse=50, online=50, min_a=8, margin=1),
        [
            charger("A", "L1,L2", measured_a=(12.0, 12.0), setpoint_a=12.0),
            charger("B", "L2,L3", measured_a=(10.0, 10.0), setpoint_a=10.0),
        ],
        reading(22, 38, 16),
        {"A": 16.5, "B": 16.5},
        {"A": "main fuse L2", "B": "main fuse L2"},
    ),
    # The same cars on TN, A on L1 and B on L2: no shared line. Rest: L1 10, L2 16.
    # Room: L1 50-10-1=39, L2 50-16-1=33; both stop at the charger max of 32 A.
    Case(
        "same cars on TN share no line",
        config(TN, fuse=50, online=50, min_a=8, margin=1),
        [
            charger("A", "L1", measured_a=(12.0,), setpoint_a=12.0),
            charger("B", "L2", measured_a=(10.0,), setpoint_a=10.0),
        ],
        reading(22, 26, 6),
        {"A": 32.0, "B": 32.0},
        {"A": "charger max 32.0 A", "B": "charger max 32.0 A"},
    ),
    # Group limit below the fuse: min(63-5-1=57, 20-1=19) = 19 per line, two
    # three-phase chargers share every line: 9.5 A each.
    Case(
        "group limit binds",
        config(TN, fuse=63, online=20, margin=1),
        [charger("A"), charger("B")],
        reading(5, 5, 5),
        {"A": 9.5, "B": 9.5},
        {"A": "group limit L1", "B": "group limit L1"},
    ),
    # Outlet unticked: the reading 20 A is the rest of the building; room 40-20-1=19.
    Case(
        "outlet unticked: reading is the rest",
        config(TN1, fuse=40, margin=1, outlet=False),
        [charger("A", "L1", measured_a=(10.0,), setpoint_a=10.0)],
        reading(20),
        {"A": 19.0},
        {"A": "main fuse L1"},
    ),
    # Outlet ticked: 20 - 10 (the charger) = 10 A rest; room 40-10-1=29.
    Case(
        "outlet ticked: chargers subtracted",
        config(TN1, fuse=40, margin=1, outlet=True),
        [charger("A", "L1", measured_a=(10.0,), setpoint_a=10.0)],
        reading(20),
        {"A": 29.0},
        {"A": "main fuse L1"},
    ),
    # Reading 60 s old (> 10 s): offline budget 16 A shared by two three-phase chargers.
    Case(
        "stale meter: offline budget",
        config(TN, fuse=63, offline=16),
        [charger("A"), charger("B")],
        reading(0, 0, 0, age_s=60),
        {"A": 8.0, "B": 8.0},
        {"A": "meter offline: offline budget L1"},
    ),
    Case(
        "a reading that is not a number is no reading",
        config(TN, fuse=63, offline=16),
        [charger("A"), charger("B")],
        reading(0, float("nan"), 0),
        {"A": 8.0, "B": 8.0},
        {"A": "meter offline: offline budget L1"},
    ),
    Case(
        "no meter: offline budget",
        config(TN, fuse=63, offline=16, meter=False, outlet=False),
        [charger("A"), charger("B")],
        None,
        {"A": 8.0, "B": 8.0},
        {"A": "no meter: offline budget L1"},
    ),
    # C lost its link 5 s ago with failsafe 10 A: 10 A reserved on L1-L3.
    # Fuse 32, nothing else: A gets 32-10=22.
    Case(
        "offline charger: failsafe reserved",
        config(TN, fuse=32),
        [
            charger("A"),
            charger("C", online=False, failsafe_current_a=10.0, setpoint_a=6.0, last_seen_s=-5.0),
        ],
        reading(0, 0, 0),
        {"A": 22.0, "C": 0.0},
        {"A": "main fuse L1", "C": "=charger_offline"},
    ),
    # Its last setpoint (16 A) may still be in force for 120 s: 16 reserved, A gets 16.
    Case(
        "offline charger: last setpoint still in force",
        config(TN, fuse=32),
        [
            charger("A"),
            charger("C", online=False, failsafe_current_a=10.0, setpoint_a=16.0, last_seen_s=-5.0),
        ],
        reading(0, 0, 0),
        {"A": 16.0, "C": 0.0},
    ),
    # ... but not after the lifetime: back to the failsafe current.
    Case(
        "offline charger: failsafe after setpoint lifetime",
        config(TN, fuse=32),
        [
            charger("A"),
            charger(
                "C", online=False, failsafe_current_a=10.0, setpoint_a=16.0, last_seen_s=-500.0
            ),
        ],
        reading(0, 0, 0),
        {"A": 22.0, "C": 0.0},
    ),
    # Offline charger's stale measured current is NOT subtracted from the reading:
    # reading 20 (of which C's 6), A measured 0: rest 20, room 40-20=20, minus 6 reserved = 14.
    Case(
        "offline charger's stale measurement not subtracted",
        config(TN1, fuse=40),
        [
            charger("A", "L1", measured_a=(0.0,)),
            charger(
                "C",
                "L1",
                online=False,
                failsafe_current_a=6.0,
                measured_a=(16.0,),
                last_seen_s=-500.0,
            ),
        ],
        reading(20),
        {"A": 14.0, "C": 0.0},
    ),
    # X draws 16 A without a known session: that stays in the rest of the building
    # (nobody accounts for it otherwise). Rest 26-10 = 16, room 40-16 = 24 for A.
    Case(
        "a charger drawing without a session is not subtracted",
        config(TN1, fuse=40),
        [
            charger("A", "L1", measured_a=(10.0,), setpoint_a=10.0),
            charger("X", "L1", session_id=None, measured_a=(16.0,)),
        ],
        reading(26),
        {"A": 24.0, "X": 0.0},
        {"A": "main fuse L1"},
    ),
    # Weights 2:1 under a 30 A line: 20 and 10.
    Case(
        "weights",
        config(TN1, fuse=30),
        [charger("A", "L1", weight=2.0), charger("B", "L1", weight=1.0)],
        reading(0),
        {"A": 20.0, "B": 10.0},
        {"A": "main fuse L1", "B": "main fuse L1"},
    ),
    # Caps: A charger max 10, B membership 12, C car max 7 (below min 8: kept at 8),
    # D takes the rest of 50: 50-10-12-8 = 20.
    Case(
        "caps hand the rest on",
        config(TN1, fuse=50, min_a=8),
        [
            charger("A", "L1", max_current_a=10.0),
            charger("B", "L1", membership_max_current_a=12.0),
            charger("C", "L1", car_max_current_a=7.0),
            charger("D", "L1"),
        ],
        reading(0),
        {"A": 10.0, "B": 12.0, "C": 8.0, "D": 20.0},
        {
            "A": "charger max 10.0 A",
            "B": "membership limit 12.0 A",
            "C": "car max 7.0 A",
            "D": "main fuse L1",
        },
    ),
    # 12 A for two sessions with min 8: one pauses (B: same served time, id order).
    Case(
        "not enough for both: one paused",
        config(TN1, fuse=12, min_a=8),
        [charger("A", "L1"), charger("B", "L1")],
        reading(0),
        {"A": 12.0, "B": 0.0},
        {"A": "main fuse L1", "B": "=paused_rotation"},
    ),
    Case(
        "not enough for one",
        config(TN1, fuse=5, min_a=8),
        [charger("A", "L1")],
        reading(0),
        {"A": 0.0},
        {"A": "paused: main fuse L1 leaves less than 8.0 A"},
    ),
    # IT, three-phase car: 1 A per line per A. Fuse 20: 20 A.
    Case(
        "IT three-phase car",
        config(IT, fuse=20),
        [charger("A", car_phases=3)],
        reading(0, 0, 0),
        {"A": 20.0},
        {"A": "main fuse L1"},
    ),
    # IT, two-phase car: the middle line carries both windings (2 A per A): 10 A.
    Case(
        "IT two-phase car",
        config(IT, fuse=20),
        [charger("A", car_phases=2)],
        reading(0, 0, 0),
        {"A": 10.0},
        {"A": "main fuse L2"},
    ),
    # IT, rotated one-phase chargers: A on L1-L2, B on L2-L3, C on L3-L1, fuse 30:
    # every line carries two cars: 15 each.
    Case(
        "IT rotation spreads one-phase cars",
        config(IT, fuse=30),
        [
            charger("A", "L1,L2"),
            charger("B", "L2,L3"),
            charger("C", "L3,L1"),
        ],
        reading(0, 0, 0),
        {"A": 15.0, "B": 15.0, "C": 15.0},
    ),
    Case(
        "charger max below min",
        config(TN1, fuse=40, min_a=8),
        [charger("A", "L1", max_current_a=6.0)],
        reading(0),
        {"A": 0.0},
        {"A": "=paused_max_below_min"},
    ),
    Case(
        "no session",
        config(TN1, fuse=40),
        [charger("A", "L1", session_id=None), charger("B", "L1")],
        reading(0),
        {"A": 0.0, "B": 32.0},
        {"A": "no session"},
    ),
    # A full car keeps the min (8) so it can ask again; B gets 30-8 = 22.
    Case(
        "car wants no energy keeps min",
        config(TN1, fuse=30, min_a=8),
        [charger("A", "L1", wants_energy=False), charger("B", "L1")],
        reading(0),
        {"A": 8.0, "B": 22.0},
        {"A": "=car_full"},
    ),
    # Phases learned from meter values: both cars are one-phase (A on L1, B on L2
    # through rotation), so they share no line: 20 A each on a 20 A fuse.
    Case(
        "learned one-phase cars share no line",
        config(TN, fuse=20),
        [
            charger("A", "L1,L2,L3", measured_a=(10.0, 0.0, 0.0), setpoint_a=10.0),
            charger("B", "L2,L3,L1", measured_a=(10.0, 0.0, 0.0), setpoint_a=10.0),
        ],
        reading(10, 10, 0),
        {"A": 20.0, "B": 20.0},
    ),
    # Without meter values both are assumed three-phase and share every line: 10 each.
    Case(
        "unknown phases: assume every wired phase",
        config(TN, fuse=20),
        [charger("A", "L1,L2,L3"), charger("B", "L2,L3,L1")],
        reading(0, 0, 0),
        {"A": 10.0, "B": 10.0},
    ),
    # Margin: 30 - 0 - 2 = 28.
    Case(
        "margin",
        config(TN1, fuse=30, margin=2),
        [charger("A", "L1")],
        reading(0),
        {"A": 28.0},
    ),
    # Version 1 ignores the meter and shares the offline budget statically.
    Case(
        "v1 static share",
        config(TN1, fuse=63, offline=16),
        [charger("A", "L1"), charger("B", "L1")],
        reading(0),
        {"A": 8.0, "B": 8.0},
        {"A": "offline budget L1"},
        version=1,
    ),
    # v1, min 10, budget 16: only the heavier weight charges (static priority).
    Case(
        "v1 pauses by weight",
        config(TN1, fuse=63, offline=16, min_a=10),
        [charger("A", "L1", weight=1.0), charger("B", "L1", weight=2.0)],
        None,
        {"A": 0.0, "B": 16.0},
        {"A": "=paused_priority"},
        version=1,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_allocation(case: Case) -> None:
    allocation, _ = run(case.cfg, case.chargers, case.meter, version=case.version)
    by_id = allocation.by_id()
    got = {cid: by_id[cid].current_a for cid in case.currents}
    assert got == pytest.approx(case.currents)
    for cid, expected in case.reasons.items():
        reason = by_id[cid].reason
        if expected.startswith("="):
            assert reason.code == ReasonCode(expected[1:]), reason
        else:
            assert reason.text == expected


def test_worked_example_line_budgets() -> None:
    case = CASES[0]
    allocation, _ = run(case.cfg, case.chargers, case.meter)
    lines = {b.line: b for b in allocation.lines}
    assert {line: b.other_load_a for line, b in lines.items()} == {"L1": 10, "L2": 16, "L3": 6}
    assert {line: b.limit_a for line, b in lines.items()} == {"L1": 39, "L2": 33, "L3": 43}
    assert lines["L2"].used_a == pytest.approx(33.0)
    assert allocation.meter_online


def test_one_phase_supply_has_one_line() -> None:
    allocation, _ = run(config(TN1, fuse=20), [charger("A", "L1")], reading(0))
    assert [b.line for b in allocation.lines] == ["L1"]


@pytest.mark.parametrize("version", [2, 3])  # the versions that read the meter
def test_a_line_the_building_alone_overloads_does_not_pause_chargers_on_other_lines(
    version: int,
) -> None:
    """TN, fuse 40 A: the building draws 46 A on L1 (room 40 - 46 - 1 = -7 A). The
    one-phase charger on L2 does not load L1, so it still gets L2's room."""
    cfg = config(Grid.TN_400_3P, fuse=40.0, margin=1.0, offline=40.0)
    chargers = [charger("A", "L1", setpoint_a=0.0), charger("B", "L2", setpoint_a=0.0)]
    allocation, _ = run(cfg, chargers, reading(46.0, 5.0, 5.0), version=version)
    by = allocation.by_id()
    assert by["A"].current_a == 0.0 and by["A"].reason.code is ReasonCode.PAUSED_CAPACITY
    assert by["B"].current_a == pytest.approx(32.0)  # 40 - 5 - 1 = 34 A of room, max 32
