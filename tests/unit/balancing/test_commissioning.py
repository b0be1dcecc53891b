"""Commissioning checks: each bad setting found, with severity and a message that says how to fix it."""

from __future__ import annotations

import pytest

from fuseshare.balancing import Finding, Grid, Membership, blocks_activation, check_group

from .support import config

IT = Grid.IT_230_3P
TN = Grid.TN_400_3P


def member(
    cid: str, wiring: str = "L1,L2,L3", failsafe: float = 0.0, max_a: float = 32.0
) -> Membership:
    return Membership(cid, tuple(wiring.split(",")), failsafe, max_a)  # type: ignore[arg-type]


def codes(findings: list[Finding]) -> set[tuple[str, str]]:
    return {(f.severity, f.code) for f in findings}


def test_a_sound_group_has_no_findings() -> None:
    cfg = config(TN, fuse=63, online=32, offline=16, min_a=8, margin=1)
    findings = check_group(cfg, [member("A", failsafe=8), member("B", "L2,L3,L1", failsafe=8)])
    assert findings == []
    assert not blocks_activation(findings)


@pytest.mark.parametrize(
    ("cfg", "members", "expected", "words"),
    [
        # 3 x 6 A on every line > 16 A offline budget.
        (
            config(TN, fuse=63, online=32, offline=16),
            [member("A", failsafe=6), member("B", failsafe=6), member("C", failsafe=6)],
            ("error", "failsafe_exceeds_offline_budget"),
            "18 A on L1",
        ),
        # IT: one-phase chargers L1-L2 and L2-L3 both load L2: 10 + 10 > 16.
        (
            config(IT, fuse=63, online=32, offline=16),
            [member("A", "L1,L2", failsafe=10), member("B", "L2,L3", failsafe=10)],
            ("error", "failsafe_exceeds_offline_budget"),
            "20 A on L2",
        ),
        # IT: two three-line chargers at 8 A fit 16 A with every car on three phases, but
        # a car on two windings of B (L3-L1, L1-L2) puts 16 A on L1: 16 + 8 > 16.
        (
            config(IT, fuse=63, online=32, offline=16),
            [member("A", "L1,L2,L3", failsafe=8), member("B", "L3,L1,L2", failsafe=8)],
            ("warning", "failsafe_two_winding_cars"),
            "24 A on L1",
        ),
        (
            config(TN, fuse=63, online=32, offline=16, min_a=16),
            [member("A", max_a=13)],
            ("error", "charger_max_below_min"),
            "can never charge",
        ),
        (
            config(TN, fuse=20, online=20, offline=16, min_a=20, margin=1),
            [],
            ("error", "min_unreachable"),
            "lower the min current",
        ),
        (
            config(TN, fuse=63, online=32, offline=6, min_a=8),
            [],
            ("warning", "min_above_offline_budget"),
            "nobody charges while the meter is offline",
        ),
        (
            config(IT, fuse=63, online=32, offline=16),
            [member("A", "L1")],
            ("error", "wiring_invalid"),
            "between two lines",
        ),
        (
            config(Grid.TN_230_1P, fuse=63, online=32, offline=16),
            [member("A", "L2")],
            ("error", "wiring_invalid"),
            "does not exist",
        ),
        (
            config(TN, fuse=50, online=63, offline=16),
            [],
            ("warning", "group_limit_above_fuse"),
            "at most 50 A",
        ),
        (
            config(TN, fuse=50, online=50, offline=60),
            [],
            ("error", "offline_budget_above_fuse"),
            "Lower it",
        ),
        (
            config(TN, fuse=63, online=32, offline=16, meter=False, outlet=True),
            [],
            ("warning", "outlet_active_without_meter"),
            "untick outlet active",
        ),
        (
            config(TN, fuse=63, online=32, offline=16),
            [member("A", failsafe=3)],
            ("error", "failsafe_invalid"),
            "6 A or more",
        ),
        (
            config(TN, fuse=63, online=32, offline=16, min_a=4),
            [],
            ("error", "min_below_iec"),
            "set it to 6 A or more",
        ),
        (
            config(TN, fuse=63, online=32, offline=16),
            [member("A"), member("A")],
            ("error", "duplicate_charger"),
            "twice",
        ),
    ],
)
def test_finding(cfg, members, expected, words) -> None:  # type: ignore[no-untyped-def]
    findings = check_group(cfg, members)
    assert expected in codes(findings)
    found = next(f for f in findings if (f.severity, f.code) == expected)
    assert words in found.message
    assert blocks_activation(findings) == any(f.severity == "error" for f in findings)


def test_errors_come_first_and_name_the_charger() -> None:
    findings = check_group(
        config(TN, fuse=50, online=63, offline=16, min_a=16), [member("X", max_a=10)]
    )
    assert [f.severity for f in findings] == sorted(
        (f.severity for f in findings), key=lambda s: s != "error"
    )
    assert next(f for f in findings if f.code == "charger_max_below_min").charger_id == "X"
