"""Commissioning checks: settings that cannot work, found before a group is activated.

Pure functions for the portal, the API and the CLI alike. Each finding says what
is wrong and how to fix it. ``error`` blocks activation; ``warning`` asks the
installer to confirm.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from fuseshare.balancing.snapshot import IEC_MIN_CURRENT_A, GroupConfig
from fuseshare.balancing.topology import (
    ALL_LINES,
    Line,
    heaviest_line_factors,
    wiring_line_factors,
    wiring_problem,
)

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Membership:
    """A charger in the group as the installer configured it."""

    charger_id: str
    wiring: tuple[Line, ...]
    failsafe_current_a: float
    max_current_a: float


@dataclass(frozen=True, slots=True)
class Finding:
    severity: Severity
    code: str
    message: str
    charger_id: str | None = None
    line: Line | None = None


def blocks_activation(findings: Sequence[Finding]) -> bool:
    """True when any finding is an error."""
    return any(f.severity == "error" for f in findings)


def _a(value: float) -> str:
    return f"{value:g} A"


def check_group(config: GroupConfig, memberships: Sequence[Membership]) -> list[Finding]:
    """Every problem with this group's settings and memberships, errors first."""
    out = _check_config(config) + _check_memberships(config, memberships)
    return sorted(out, key=lambda f: (f.severity != "error",))


def _check_config(c: GroupConfig) -> list[Finding]:
    out: list[Finding] = []
    fuse, online, offline, margin = (
        c.max_supply_current_a,
        c.max_current_online_a,
        c.max_current_offline_a,
        c.margin_a,
    )
    if fuse <= 0:
        out.append(
            Finding(
                "error",
                "fuse_invalid",
                "max supply current must be the main fuse rating in A, above 0",
            )
        )
    if c.min_current_a < IEC_MIN_CURRENT_A:
        out.append(
            Finding(
                "error",
                "min_below_iec",
                f"min current {_a(c.min_current_a)} is below 6 A, which cars and IEC 61851 do not "
                "accept; set it to 6 A or more (many cars want 8 A)",
            )
        )
    if margin < 0:
        out.append(
            Finding(
                "error",
                "margin_negative",
                f"safety margin {_a(margin)} is negative; use 0 A or more",
            )
        )
    if offline < 0:
        out.append(
            Finding(
                "error",
                "offline_budget_negative",
                "max current with the meter offline must be 0 A or more",
            )
        )
    if offline > fuse > 0:
        out.append(
            Finding(
                "error",
                "offline_budget_above_fuse",
                f"max current with the meter offline ({_a(offline)}) is above the main fuse "
                f"({_a(fuse)}); without a reading the chargers alone could blow it. Lower it to "
                "what the fuse can carry on top of the building's own peak load",
            )
        )
    if online > fuse > 0:
        out.append(
            Finding(
                "warning",
                "group_limit_above_fuse",
                f"max current with the meter online ({_a(online)}) is above the main fuse "
                f"({_a(fuse)}); the fuse will be the limit. Set it to the chargers' sub-circuit "
                f"rating, at most {_a(fuse)}",
            )
        )
    if offline > online:
        out.append(
            Finding(
                "warning",
                "offline_budget_above_group_limit",
                f"max current with the meter offline ({_a(offline)}) is above the one with the "
                f"meter online ({_a(online)}); only {_a(online)} will be used. Lower the offline value",
            )
        )
    if c.outlet_active and not c.has_meter:
        out.append(
            Finding(
                "warning",
                "outlet_active_without_meter",
                "outlet active is ticked but the group has no power meter; without a meter the "
                "chargers only share the offline budget. Add the meter, or untick outlet active",
            )
        )
    best = min(fuse, online) - margin
    if c.effective_min_a > best:
        out.append(
            Finding(
                "error",
                "min_unreachable",
                f"min current {_a(c.effective_min_a)} is more than any charger can ever get "
                f"({_a(best)}: the lower of main fuse and group limit, minus the margin); "
                "lower the min current or raise the limits",
            )
        )
    elif c.effective_min_a > min(offline, fuse, online):
        if c.has_meter:
            out.append(
                Finding(
                    "warning",
                    "min_above_offline_budget",
                    f"min current {_a(c.effective_min_a)} is above the offline budget "
                    f"({_a(offline)}): nobody charges while the meter is offline. Raise the "
                    "offline budget or lower the min current",
                )
            )
        else:
            out.append(
                Finding(
                    "error",
                    "min_unreachable",
                    f"min current {_a(c.effective_min_a)} is above the offline budget "
                    f"({_a(offline)}), which is all a group without a meter ever gets; "
                    "raise the offline budget or lower the min current",
                )
            )
    return out


def _check_memberships(c: GroupConfig, members: Sequence[Membership]) -> list[Finding]:
    out: list[Finding] = []
    seen: set[str] = set()
    per_line: dict[Line, list[tuple[str, float]]] = {line: [] for line in ALL_LINES}
    heaviest: dict[Line, float] = dict.fromkeys(ALL_LINES, 0.0)
    for m in members:
        cid = m.charger_id
        if cid in seen:
            out.append(
                Finding(
                    "error",
                    "duplicate_charger",
                    f"charger {cid} is in the group twice; remove one",
                    cid,
                )
            )
            continue
        seen.add(cid)
        problem = wiring_problem(c.grid, m.wiring) if m.wiring else "no phases given"
        if problem is not None:
            out.append(Finding("error", "wiring_invalid", f"charger {cid}: {problem}", cid))
        if m.max_current_a < c.effective_min_a:
            out.append(
                Finding(
                    "error",
                    "charger_max_below_min",
                    f"charger {cid} can give at most {_a(m.max_current_a)}, below the group's min "
                    f"current {_a(c.effective_min_a)}, so it can never charge; lower the group's min "
                    "current or check the charger's max",
                    cid,
                )
            )
        fs = m.failsafe_current_a
        if fs < 0 or 0 < fs < IEC_MIN_CURRENT_A:
            out.append(
                Finding(
                    "error",
                    "failsafe_invalid",
                    f"charger {cid}: failsafe current {_a(fs)} is not possible; use 0 A (stop "
                    "when the link is lost) or 6 A or more",
                    cid,
                )
            )
        elif fs > m.max_current_a:
            out.append(
                Finding(
                    "warning",
                    "failsafe_above_max",
                    f"charger {cid}: failsafe current {_a(fs)} is above its max "
                    f"{_a(m.max_current_a)}; it will never draw more than {_a(m.max_current_a)}",
                    cid,
                )
            )
        if problem is None and fs > 0:
            drawn = min(fs, max(m.max_current_a, 0.0))
            for line, factor in wiring_line_factors(c.grid, m.wiring).items():
                per_line[line].append((cid, factor * drawn))
            for line, factor in heaviest_line_factors(c.grid, m.wiring).items():
                heaviest[line] += factor * drawn
    budget = c.effective_offline_a
    for line in c.grid.lines:
        loads = per_line[line]
        total = sum(v for _, v in loads)
        if budget + 1e-9 >= total and heaviest[line] > budget + 1e-9:
            out.append(
                Finding(
                    "warning",
                    "failsafe_two_winding_cars",
                    f"a car charging on two windings of an IT supply loads "
                    f"its charger's middle line twice: with such cars plugged in while the system "
                    f"is down, failsafe currents could add up to {_a(round(heaviest[line], 3))} "
                    f"on {line}, more than the offline budget of {_a(budget)}. If such cars "
                    "charge here, lower failsafe currents or raise the offline budget",
                    None,
                    line,
                )
            )
        if total > budget + 1e-9:
            each = math.floor(budget / len(loads) * 10) / 10
            keep = int(budget // IEC_MIN_CURRENT_A)
            hint = (
                f"lower them to {_a(each)} each"
                if each >= IEC_MIN_CURRENT_A
                else f"at most {keep} of them can keep 6 A; set the others to 0 A"
            )
            names = ", ".join(f"{cid} {_a(v)}" for cid, v in loads)
            out.append(
                Finding(
                    "error",
                    "failsafe_exceeds_offline_budget",
                    f"failsafe currents add up to {_a(round(total, 3))} on {line} ({names}), more "
                    f"than the offline budget of {_a(budget)}; if the system goes down they could "
                    f"overload the supply. {hint[0].upper()}{hint[1:]}, or raise the offline budget",
                    None,
                    line,
                )
            )
    return out
