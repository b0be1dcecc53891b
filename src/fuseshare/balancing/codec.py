"""Plain-JSON forms of snapshots and allocations (for recording field cases and golden files).

Only dicts, lists, strings and numbers: ``json.dumps`` works on every result.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fuseshare.balancing.allocation import Allocation
from fuseshare.balancing.snapshot import (
    ChargerInput,
    GroupConfig,
    MeterInput,
    Snapshot,
    Tunables,
)
from fuseshare.balancing.topology import Grid, parse_wiring
from fuseshare.balancing.units import PerLine

_TUNABLE_NAMES = frozenset(Tunables.__dataclass_fields__)
_CHARGER_NAMES = frozenset(ChargerInput.__dataclass_fields__)
_CHARGER_FLOATS = (
    "max_current_a",
    "failsafe_current_a",
    "weight",
    "last_seen_s",
    "measured_at_s",
    "car_max_current_a",
    "energy_wanted_kwh",
    "departure_s",
    "membership_max_current_a",
    "setpoint_a",
    "setpoint_since_s",
    "follow_low_a",
    "sample_settled_limit_a",
    "sample_follow_low_a",
    "drawn_low_a",
)


def config_from_json(data: Mapping[str, Any]) -> GroupConfig:
    tunables = dict(data.get("tunables") or {})
    unknown = set(tunables) - _TUNABLE_NAMES
    if unknown:
        raise ValueError(f"unknown tunables {sorted(unknown)}; known: {sorted(_TUNABLE_NAMES)}")
    return GroupConfig(
        grid=Grid(data["grid"]),
        max_supply_current_a=float(data["max_supply_current_a"]),
        max_current_online_a=float(data["max_current_online_a"]),
        max_current_offline_a=float(data["max_current_offline_a"]),
        min_current_a=float(data.get("min_current_a", 6.0)),
        outlet_active=bool(data.get("outlet_active", True)),
        has_meter=bool(data.get("has_meter", True)),
        margin_a=float(data.get("margin_a", 1.0)),
        tunables=Tunables(**tunables) if tunables else None,
    )


def config_to_json(config: GroupConfig) -> dict[str, Any]:
    defaults = Tunables()
    given = config.tunables
    tunables = (
        {}
        if given is None
        else {
            name: getattr(given, name)
            for name in sorted(_TUNABLE_NAMES)
            if getattr(given, name) != getattr(defaults, name)
        }
    )
    return {
        "grid": config.grid.value,
        "max_supply_current_a": config.max_supply_current_a,
        "max_current_online_a": config.max_current_online_a,
        "max_current_offline_a": config.max_current_offline_a,
        "min_current_a": config.min_current_a,
        "outlet_active": config.outlet_active,
        "has_meter": config.has_meter,
        "margin_a": config.margin_a,
        "tunables": tunables,
    }


def charger_from_json(data: Mapping[str, Any]) -> ChargerInput:
    unknown = set(data) - _CHARGER_NAMES
    if unknown:
        raise ValueError(
            f"unknown charger fields {sorted(unknown)}; known: {sorted(_CHARGER_NAMES)}"
        )
    values = dict(data)
    values["wiring"] = parse_wiring(values["wiring"])
    if values.get("measured_a") is not None:
        values["measured_a"] = tuple(float(v) for v in values["measured_a"])
    for name in _CHARGER_FLOATS:
        if values.get(name) is not None:
            values[name] = float(values[name])
    return ChargerInput(**values)


def charger_to_json(ch: ChargerInput) -> dict[str, Any]:
    out: dict[str, Any] = {name: getattr(ch, name) for name in ChargerInput.__dataclass_fields__}
    out["wiring"] = list(ch.wiring)
    if ch.measured_a is not None:
        out["measured_a"] = list(ch.measured_a)
    return out


def meter_from_json(data: Mapping[str, Any] | None) -> MeterInput | None:
    if data is None:
        return None
    return MeterInput(PerLine.from_values(data["currents_a"]), float(data["read_at_s"]))


def meter_to_json(meter: MeterInput | None) -> dict[str, Any] | None:
    if meter is None:
        return None
    return {"currents_a": list(meter.currents_a), "read_at_s": meter.read_at_s}


def snapshot_from_json(data: Mapping[str, Any]) -> Snapshot:
    return Snapshot(
        config=config_from_json(data["config"]),
        chargers=tuple(charger_from_json(c) for c in data["chargers"]),
        now_s=float(data["now_s"]),
        meter=meter_from_json(data.get("meter")),
        offline_budget_a=None
        if data.get("offline_budget_a") is None
        else PerLine.from_values(data["offline_budget_a"]),
    )


def snapshot_to_json(snapshot: Snapshot) -> dict[str, Any]:
    """A snapshot as JSON: what the control loop records to turn a field case into a test."""
    return {
        "now_s": snapshot.now_s,
        "config": config_to_json(snapshot.config),
        "meter": meter_to_json(snapshot.meter),
        "offline_budget_a": None
        if snapshot.offline_budget_a is None
        else list(snapshot.offline_budget_a),
        "chargers": [charger_to_json(c) for c in snapshot.chargers],
    }


def allocation_to_json(allocation: Allocation, *, detail: bool = True) -> dict[str, Any]:
    """An allocation as JSON; ``detail=False`` keeps only current, code and reason text."""
    chargers: dict[str, Any] = {}
    for c in allocation.chargers:
        entry: dict[str, Any] = {
            "current_a": c.current_a,
            "code": c.reason.code.value,
            "reason": c.reason.text,
        }
        if detail:
            entry["target_a"] = c.target_a
            entry["reserved_a"] = c.reserved_a
            entry["line_load_a"] = [round(v, 6) for v in c.line_load_a]
        chargers[c.charger_id] = entry
    lines = {
        b.line: {
            "source": b.source.value,
            "limit_a": round(b.limit_a, 6),
            "other_load_a": None if b.other_load_a is None else round(b.other_load_a, 6),
            "reserved_a": round(b.reserved_a, 6),
            "used_a": round(b.used_a, 6),
        }
        for b in allocation.lines
    }
    return {
        "algorithm": allocation.algorithm,
        "version": allocation.version,
        "now_s": allocation.now_s,
        "meter_online": allocation.meter_online,
        "chargers": chargers,
        "lines": lines,
    }
