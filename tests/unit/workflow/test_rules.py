"""The validation rules, table-driven: what is refused, on which field, saying what."""

from __future__ import annotations

import math

import pytest

from fuseshare.workflow.rules import (
    GroupSettings,
    MembershipSettings,
    check_group_settings,
    check_membership,
    check_pin_format,
    check_serial,
)

OK = GroupSettings(
    name="Garage",
    description="B1",
    grid="TN_400_3P",
    outlet_active=True,
    max_current_offline_a=16,
    max_current_online_a=32,
    min_current_a=8,
    max_supply_current_a=63,
)


def with_(**kw: object) -> GroupSettings:
    return GroupSettings(**{**OK.__dict__, **kw})  # type: ignore[arg-type]


def test_sane_settings_pass() -> None:
    assert check_group_settings(OK) == []
    assert check_group_settings(with_(min_current_a=6, max_current_online_a=63)) == []


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"min_current_a": 5.9}, "min_current_a", "at least 6 A"),
        ({"min_current_a": 0}, "min_current_a", "more than 0 A"),
        ({"min_current_a": 40}, "min_current_a", "no charger could ever charge"),
        ({"max_current_online_a": 63.5}, "max_current_online_a", "set it to 63 A or less"),
        ({"max_current_offline_a": 33}, "max_current_offline_a", "must get less, not more"),
        ({"max_supply_current_a": math.inf}, "max_supply_current_a", "must be a number"),
        ({"max_supply_current_a": 63000}, "max_supply_current_a", "far above any building supply"),
        ({"max_current_offline_a": -1}, "max_current_offline_a", "more than 0 A"),
        ({"grid": "TT_400"}, "grid", "IT_230_3P (IT 230 V three-phase without neutral)"),
        ({"name": ""}, "name", "required"),
        ({"description": "  "}, "description", "required"),
        ({"margin_a": -1}, "margin_a", "0 A or more"),
    ],
)
def test_refused_group_settings(change: dict[str, object], field: str, words: str) -> None:
    errors = {e.field: e.message for e in check_group_settings(with_(**change))}
    assert field in errors and words in errors[field]


@pytest.mark.parametrize(
    ("grid", "phases", "failsafe", "priority", "field", "words"),
    [
        ("TN_230_1P", "L3", 6, 1, "phases", "L3 does not exist"),
        ("IT_230_3P", "L2", 6, 1, "phases", "sits between two lines"),
        ("TN_400_3P", "L1,L1,L2", 6, 1, "phases", "name a line twice"),
        ("TN_400_3P", "X1", 6, 1, "phases", "'X1' is not a grid line"),
        ("TN_400_3P", "", 6, 1, "phases", "no phases given"),
        ("TN_400_3P", "L1", 2, 1, "failsafe_current_a", "below what cars accept"),
        ("TN_400_3P", "L1", -1, 1, "failsafe_current_a", "must be 0 A"),
        ("TN_400_3P", "L1", 40, 1, "failsafe_current_a", "above the charger's maximum"),
        ("TN_400_3P", "L1", 6, 0, "priority", "1 to 10"),
    ],
)
def test_refused_memberships(
    grid: str, phases: str, failsafe: float, priority: int, field: str, words: str
) -> None:
    _, errors = check_membership(MembershipSettings(phases, failsafe, priority), grid, "CH-1", 32)
    messages = {e.field: e.message for e in errors}
    assert field in messages and words in messages[field] and messages[field].startswith("CH-1:")


@pytest.mark.parametrize(
    ("grid", "phases", "wiring"),
    [
        ("TN_400_3P", "L2,L3,L1", ("L2", "L3", "L1")),
        ("TN_400_3P", "l3", ("L3",)),
        ("IT_230_3P", "L2-L3", ("L2", "L3")),
        ("TN_230_1P", "L1", ("L1",)),
    ],
)
def test_accepted_memberships_give_the_wiring(
    grid: str, phases: str, wiring: tuple[str, ...]
) -> None:
    parsed, errors = check_membership(MembershipSettings(phases, 0), grid, "CH-1", 32)
    assert errors == [] and parsed == wiring


@pytest.mark.parametrize(
    ("pin", "ok"),
    [
        ("12345678", True),
        ("1234567", False),
        ("1234567a", False),
        ("", False),
        ("123456789", False),
    ],
)
def test_pin_format(pin: str, ok: bool) -> None:
    assert (check_pin_format(pin) == []) is ok


@pytest.mark.parametrize(
    ("serial", "ok"), [("CH-0001", True), ("ab", False), ("has space", False), ("-lead", False)]
)
def test_serial_format(serial: str, ok: bool) -> None:
    assert (check_serial("serial", serial, "charger") == []) is ok
