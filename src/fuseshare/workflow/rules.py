"""Validation of what people type: one place for the API, the portal, the CLI and imports.

Pure functions: values in, a list of FieldError out (empty when all is well).
Every message says what is wrong and what would be right.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from fuseshare.balancing.topology import Grid, Line, parse_wiring, wiring_problem
from fuseshare.errors import FieldError
from fuseshare.store.tables import METER_KINDS, SITE_TYPES

MIN_CURRENT_FLOOR_A = 6.0
"""IEC 61851: a car cannot charge below 6 A."""
ABSURD_CURRENT_A = 4000.0
"""No building supply we serve has a main fuse above this; larger numbers are typos."""
SERIAL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{2,63}$")
PIN_RE = re.compile(r"^\d{8}$")


@dataclass(frozen=True)
class GroupSettings:
    """The load balancing group's electrical fields, as the workflow names them."""

    name: str
    description: str
    grid: str
    outlet_active: bool
    max_current_offline_a: float
    max_current_online_a: float
    min_current_a: float
    max_supply_current_a: float
    margin_a: float = 1.0


def _number(errors: list[FieldError], field: str, label: str, value: float) -> bool:
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        errors.append(FieldError(field, f"{label} must be a number of amperes, e.g. 16"))
        return False
    if value <= 0:
        errors.append(FieldError(field, f"{label} is {value:g} A; it must be more than 0 A"))
        return False
    if value > ABSURD_CURRENT_A:
        errors.append(
            FieldError(
                field,
                f"{label} is {value:g} A, far above any building supply; "
                f"give amperes per phase (at most {ABSURD_CURRENT_A:g} A)",
            )
        )
        return False
    return True


def check_group_settings(s: GroupSettings) -> list[FieldError]:
    errors: list[FieldError] = []
    if not s.name.strip():
        errors.append(FieldError("name", "a name is required, e.g. 'Garage A'"))
    elif len(s.name) > 200:
        errors.append(FieldError("name", "the name is longer than 200 characters; shorten it"))
    if not s.description.strip():
        errors.append(
            FieldError(
                "description",
                "a description is required: say where the chargers are and what feeds them, "
                "e.g. 'Underground garage, sub-board B2, 63 A main fuse'",
            )
        )
    if s.grid not in {g.value for g in Grid}:
        errors.append(
            FieldError(
                "grid",
                f"'{s.grid}' is not a supply we know; choose "
                + ", ".join(f"{g.value} ({g.label})" for g in Grid),
            )
        )
    supply_ok = _number(
        errors, "max_supply_current_a", "max supply current", s.max_supply_current_a
    )
    online_ok = _number(
        errors,
        "max_current_online_a",
        "max current per phase (meter online)",
        s.max_current_online_a,
    )
    offline_ok = _number(
        errors,
        "max_current_offline_a",
        "max current per phase (meter offline)",
        s.max_current_offline_a,
    )
    min_ok = _number(errors, "min_current_a", "min current per charger", s.min_current_a)
    if min_ok and s.min_current_a < MIN_CURRENT_FLOOR_A:
        errors.append(
            FieldError(
                "min_current_a",
                f"min current per charger is {s.min_current_a:g} A, but cars and IEC 61851 need "
                f"at least {MIN_CURRENT_FLOOR_A:g} A; set it to 6 A or more (8 A suits most cars)",
            )
        )
    if supply_ok and online_ok and s.max_current_online_a > s.max_supply_current_a:
        errors.append(
            FieldError(
                "max_current_online_a",
                f"max current per phase with the meter online ({s.max_current_online_a:g} A) is "
                f"above the max supply current ({s.max_supply_current_a:g} A, the main fuse); "
                f"set it to {s.max_supply_current_a:g} A or less",
            )
        )
    if online_ok and offline_ok and s.max_current_offline_a > s.max_current_online_a:
        errors.append(
            FieldError(
                "max_current_offline_a",
                f"max current per phase with the meter offline ({s.max_current_offline_a:g} A) is "
                f"above the limit with the meter online ({s.max_current_online_a:g} A); without a "
                f"meter the chargers must get less, not more: set it to "
                f"{s.max_current_online_a:g} A or less",
            )
        )
    if min_ok and online_ok and s.min_current_a > s.max_current_online_a:
        errors.append(
            FieldError(
                "min_current_a",
                f"min current per charger ({s.min_current_a:g} A) is above the group's max current "
                f"per phase ({s.max_current_online_a:g} A), so no charger could ever charge; "
                "lower the minimum",
            )
        )
    if not isinstance(s.margin_a, int | float) or not math.isfinite(s.margin_a) or s.margin_a < 0:
        errors.append(FieldError("margin_a", "the safety margin must be 0 A or more, e.g. 1"))
    elif supply_ok and s.margin_a >= s.max_supply_current_a:
        errors.append(
            FieldError("margin_a", "the safety margin must be well below the max supply current")
        )
    return errors


@dataclass(frozen=True)
class MembershipSettings:
    phases: str
    failsafe_current_a: float
    priority: int = 1
    max_current_a: float | None = None


def check_membership(
    m: MembershipSettings, grid: str, charger_serial: str, charger_max_a: float
) -> tuple[tuple[Line, ...] | None, list[FieldError]]:
    """Validate a charger's membership; returns the parsed wiring (or None) and the errors."""
    errors: list[FieldError] = []
    wiring: tuple[Line, ...] | None = None
    try:
        wiring = parse_wiring(m.phases)
    except ValueError as exc:
        errors.append(FieldError("phases", f"{charger_serial}: {exc}"))
    if wiring is not None and grid in {g.value for g in Grid}:
        problem = wiring_problem(Grid(grid), wiring)
        if problem:
            errors.append(FieldError("phases", f"{charger_serial}: {problem}"))
            wiring = None
    f = m.failsafe_current_a
    if not isinstance(f, int | float) or not math.isfinite(f) or f < 0:
        errors.append(
            FieldError(
                "failsafe_current_a",
                f"{charger_serial}: the failsafe current must be 0 A (stop when the link is lost) "
                "or at least 6 A",
            )
        )
    elif 0 < f < MIN_CURRENT_FLOOR_A:
        errors.append(
            FieldError(
                "failsafe_current_a",
                f"{charger_serial}: a failsafe current of {f:g} A is below what cars accept; use 0 A "
                "(stop when the link is lost) or at least 6 A",
            )
        )
    elif f > charger_max_a:
        errors.append(
            FieldError(
                "failsafe_current_a",
                f"{charger_serial}: the failsafe current ({f:g} A) is above the charger's maximum "
                f"({charger_max_a:g} A); set it to {charger_max_a:g} A or less",
            )
        )
    if isinstance(m.priority, bool) or not isinstance(m.priority, int) or not 1 <= m.priority <= 10:
        errors.append(
            FieldError("priority", f"{charger_serial}: priority is a whole number from 1 to 10")
        )
    if m.max_current_a is not None:
        mx = m.max_current_a
        if not isinstance(mx, int | float) or not math.isfinite(mx) or mx < MIN_CURRENT_FLOOR_A:
            errors.append(
                FieldError(
                    "max_current_a",
                    f"{charger_serial}: a charger limit must be at least 6 A (or left empty)",
                )
            )
        elif mx > charger_max_a:
            errors.append(
                FieldError(
                    "max_current_a",
                    f"{charger_serial}: the limit ({mx:g} A) is above the charger's own maximum "
                    f"({charger_max_a:g} A)",
                )
            )
    return wiring, errors


def check_serial(field: str, serial: str, noun: str) -> list[FieldError]:
    if not SERIAL_RE.match(serial):
        return [
            FieldError(
                field,
                f"'{serial}' is not a {noun} serial number; it has 3 to 64 letters, digits, "
                "'-', '_', '.' or ':', as printed on the label",
            )
        ]
    return []


def check_pin_format(pin: str) -> list[FieldError]:
    if not PIN_RE.match(pin):
        return [
            FieldError(
                "pin",
                f"the PIN must be exactly 8 digits, as on the label underneath the Amp Guard; "
                f"you gave {len(pin)} character{'s' if len(pin) != 1 else ''}"
                + ("" if pin.isdigit() or not pin else " including non-digits"),
            )
        ]
    return []


def check_site_type(site_type: str) -> list[FieldError]:
    if site_type not in SITE_TYPES:
        return [FieldError("site_type", "choose one of: " + ", ".join(SITE_TYPES))]
    return []


def check_meter_kind(kind: str) -> list[FieldError]:
    if kind not in METER_KINDS:
        return [FieldError("kind", "choose one of: " + ", ".join(METER_KINDS))]
    return []
