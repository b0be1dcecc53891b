"""Run a balancing scenario (a sequence of snapshots) and return the allocations as JSON.

This is how golden files (tests/scenarios/balancing/) and recorded field cases
are replayed. Pure: the caller reads and writes the files. Format::

    {"name": "...", "description": "...", "algorithm": "standard", "version": 2,
     "config": {...GroupConfig fields..., "tunables": {...}},
     "chargers": [{"charger_id": "A", "wiring": ["L1", "L2"], "max_current_a": 32, ...}],
     "feedback": true,
     "steps": [
       {"now_s": 0, "meter": {"base_a": [10, 16, 6]},
        "chargers": {"A": {"session_id": "a1", "car": {"phases": 1, "max_a": 32}}},
        "every_s": 10, "until_s": 600}
     ]}

- A step's ``chargers`` entries override :class:`ChargerInput` fields from then on.
- ``car`` (a helper, not a ChargerInput field) models the car: with ``feedback``
  its ``measured_a`` is ``min(setpoint, max_a)`` on the terminals the car uses.
- ``feedback``: each charger's ``setpoint_a``/``setpoint_since_s`` come from the
  previous allocation (as the control loop does); otherwise give them in steps.
- ``meter``: ``{"currents_a": [...]}`` a raw reading, or ``{"base_a": [...]}`` the
  rest of the building (the chargers' measured current is added when outlet
  active is ticked); ``"age_s"`` makes it old; ``null`` means no reading. A step
  without ``meter`` keeps the previous one, read afresh.
- ``every_s`` + ``until_s`` repeat a step (overrides applied once).
- Recorded snapshots (:func:`codec.snapshot_to_json`) fit too: one step per
  snapshot with every charger's fields, ``"feedback": false``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fuseshare.balancing.codec import charger_from_json, config_from_json
from fuseshare.balancing.registry import get_algorithm
from fuseshare.balancing.snapshot import ChargerInput, GroupConfig, MeterInput, Snapshot
from fuseshare.balancing.topology import Grid, parse_wiring
from fuseshare.balancing.units import PerLine


def _car_terminals(grid: Grid, wiring_len: int, phases: int, draw_a: float) -> tuple[float, ...]:
    if grid is Grid.IT_230_3P:
        used = 2 if phases == 1 or wiring_len == 2 else 3
    else:
        used = min(phases, wiring_len)
    return tuple(draw_a if k < used else 0.0 for k in range(wiring_len))


def _step_times(step: Mapping[str, Any]) -> list[float]:
    start = float(step["now_s"])
    every = step.get("every_s")
    until = step.get("until_s")
    if every is None or until is None:
        return [start]
    out: list[float] = []
    k = 0
    while start + k * float(every) <= float(until) + 1e-9:
        out.append(start + k * float(every))
        k += 1
    return out


def run_scenario(scenario: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Replay ``scenario``; one compact allocation dict per cycle."""
    algo = get_algorithm(scenario.get("algorithm", "standard"), scenario.get("version"))
    config = config_from_json(scenario["config"])
    feedback = bool(scenario.get("feedback", True))
    fields: dict[str, dict[str, Any]] = {}
    cars: dict[str, dict[str, Any] | None] = {}
    for c in scenario["chargers"]:
        entry = dict(c)
        cars[entry["charger_id"]] = entry.pop("car", None)
        fields[entry["charger_id"]] = entry
    setpoints: dict[str, tuple[float, float | None]] = {}
    meter_spec: Mapping[str, Any] | None = None
    state = algo.initial_state()
    out: list[dict[str, Any]] = []
    for step in scenario["steps"]:
        for cid, override in dict(step.get("chargers", {})).items():
            override = dict(override)
            if "car" in override:
                cars[cid] = override.pop("car")
            fields.setdefault(cid, {"charger_id": cid}).update(override)
        if "meter" in step:
            meter_spec = step["meter"]
        for now in _step_times(step):
            chargers = []
            for cid, f in fields.items():
                values = dict(f)
                if feedback and cid in setpoints:
                    values["setpoint_a"], values["setpoint_since_s"] = setpoints[cid]
                car = cars.get(cid)
                if feedback and car is not None and values.get("session_id") is not None:
                    wiring = parse_wiring(values["wiring"])
                    draw = min(float(values.get("setpoint_a", 0.0)), float(car.get("max_a", 1e9)))
                    values["measured_a"] = _car_terminals(
                        config.grid, len(wiring), int(car.get("phases", 3)), draw
                    )
                chargers.append(charger_from_json(values))
            snapshot = Snapshot(
                config, tuple(chargers), now, _meter(meter_spec, config, chargers, now)
            )
            allocation, state = algo.allocate(snapshot, state)
            for a in allocation.chargers:
                ch_online = fields[a.charger_id].get("online", True)
                if feedback and ch_online and (a.changed or a.charger_id not in setpoints):
                    setpoints[a.charger_id] = (a.current_a, now)
            out.append(
                {
                    "now_s": now,
                    "meter_online": allocation.meter_online,
                    "chargers": {
                        a.charger_id: {
                            "current_a": round(a.current_a, 3),
                            "code": a.reason.code.value,
                            "reason": a.reason.text,
                        }
                        for a in allocation.chargers
                    },
                    "lines": {
                        b.line: {"limit_a": round(b.limit_a, 3), "used_a": round(b.used_a, 3)}
                        for b in allocation.lines
                    },
                }
            )
    return out


def _meter(
    spec: Mapping[str, Any] | None,
    config: GroupConfig,
    chargers: list[ChargerInput],
    now_s: float,
) -> MeterInput | None:
    if spec is None:
        return None
    read_at = now_s - float(spec.get("age_s", 0.0))
    if "currents_a" in spec:
        return MeterInput(PerLine.from_values(spec["currents_a"]), read_at)
    base = list(PerLine.from_values(spec["base_a"]))
    if config.outlet_active:
        index = {"L1": 0, "L2": 1, "L3": 2}
        for ch in chargers:
            if ch.measured_a:
                for k, value in enumerate(ch.measured_a[: len(ch.wiring)]):
                    base[index[ch.wiring[k]]] += value
    return MeterInput(PerLine(base[0], base[1], base[2]), read_at)
