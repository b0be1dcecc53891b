"""Scenario files (../shared/SCENARIOS.md): reading and validating them.

A scenario is plain data: the supply, the group's settings, the chargers with
their wiring, the rest of the building's load, the cars' sessions and the
faults. :func:`parse_scenario` turns the JSON into immutable values and
refuses anything that cannot be simulated with one message per problem that
says where it is, what is wrong and how to fix it (raised as
:class:`~fuseshare.errors.InvalidInput`, which the CLI prints as one line).

Names beyond the contract (all optional): ``group.margin_a``,
``group.membership_max_current_a``, charger ``version`` ("1.6"/"2.0.1", used
by the real-time site), session ``battery_kwh``, ``soc_start``,
``taper_from_soc``, ``tells_needs`` (the car says its energy and departure, as an
ISO 15118 car does through OCPP 2.0.1 NotifyEVChargingNeeds; default: top-level
``cars_tell_needs``, false), top-level ``limit_lifetime_s`` (how long a charger applies
a dynamic limit without renewal, 120 s), ``quiet_limit_lifetime_s`` (the same for a limit
at or below its failsafe current, 600 s), ``charger_meter_interval_s`` (how
often chargers send their per-phase currents, 10 s like the OCPP side
configures) and ``description``.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from fuseshare.balancing import (
    Grid,
    Line,
    UnknownAlgorithmError,
    get_algorithm,
    line_factors,
    wiring_problem,
)
from fuseshare.errors import FieldError, InvalidInput

FAULT_KINDS = ("meter_offline", "charger_offline", "controller_down")
BASE_LOAD_KINDS = ("series", "household", "constant")
APPLIANCES = ("oven", "cooktop", "water_heater", "heat_pump", "sauna", "dryer")


@dataclass(frozen=True, slots=True)
class GroupSettings:
    algorithm: str = "standard"
    version: int | None = None
    outlet_active: bool = True
    max_current_online_a: float = 32.0
    max_current_offline_a: float = 16.0
    min_current_a: float = 6.0
    meter_interval_s: float = 1.0
    margin_a: float = 1.0


@dataclass(frozen=True, slots=True)
class ChargerSpec:
    id: str
    phases: tuple[Line, ...]
    max_current_a: float = 32.0
    failsafe_current_a: float = 6.0
    priority: float = 1.0
    version: str = "1.6"


@dataclass(frozen=True, slots=True)
class SessionSpec:
    charger: str
    arrive_s: float
    depart_s: float
    energy_kwh: float
    car_phases: int = 3
    car_max_current_a: float = 32.0
    battery_kwh: float = 75.0
    soc_start: float | None = None
    """None: chosen so that the requested energy ends at ``taper_from_soc`` when it can."""
    taper_from_soc: float = 0.8
    tells_needs: bool = False
    """The car tells its energy and departure when it plugs in (NotifyEVChargingNeeds)."""

    @property
    def start_soc(self) -> float:
        if self.soc_start is not None:
            return self.soc_start
        return max(0.05, min(self.taper_from_soc, 1.0) - self.energy_kwh / self.battery_kwh)


@dataclass(frozen=True, slots=True)
class FaultSpec:
    kind: str
    from_s: float
    to_s: float
    charger: str | None = None


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    duration_s: int
    seed: int
    grid: Grid
    max_supply_current_a: float
    group: GroupSettings
    chargers: tuple[ChargerSpec, ...]
    base_load: dict[str, Any]
    sessions: tuple[SessionSpec, ...]
    faults: tuple[FaultSpec, ...] = ()
    ev_response_s: float = 5.0
    limit_lifetime_s: float = 120.0
    quiet_limit_lifetime_s: float = 600.0
    charger_meter_interval_s: float = 10.0
    description: str = ""
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def charger(self, charger_id: str) -> ChargerSpec:
        for c in self.chargers:
            if c.id == charger_id:
                return c
        raise KeyError(charger_id)

    def session_cap_a(self, s: SessionSpec) -> float:
        """The most a session's car can ever draw per phase at its charger."""
        return min(s.car_max_current_a, self.charger(s.charger).max_current_a)

    def factors(self, s: SessionSpec) -> dict[Line, float]:
        """Amperes on each grid line per ampere the session's car draws."""
        return line_factors(self.grid, self.charger(s.charger).phases, s.car_phases)


def watts_per_amp(grid: Grid, wiring: tuple[Line, ...], car_phases: int) -> float:
    """Charging power per ampere of car current (SCENARIOS.md, 'How energy is counted').

    TN: 230 V for each line the car uses. IT: 230 V for a one-phase car, √3 × 230 V
    for a three-phase car, and 2 × 230 V for a car on two windings.
    """
    factors = line_factors(grid, wiring, car_phases)
    if grid is Grid.IT_230_3P:
        if len(factors) == 2:
            return 230.0
        if any(f > 1.0 for f in factors.values()):
            return 2 * 230.0
        return 3**0.5 * 230.0
    return 230.0 * len(factors)


def load_scenario(path: Path) -> Scenario:
    """Read and validate a scenario file; problems raise InvalidInput naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInput.one(
            "scenario", f"{path} does not exist; give the path of a scenario JSON file"
        ) from None
    except OSError as exc:
        raise InvalidInput.one("scenario", f"cannot read {path}: {exc.strerror}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput.one(
            "scenario",
            f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})",
        ) from None
    return parse_scenario(data, source=str(path))


class _Errors:
    def __init__(self) -> None:
        self.items: list[FieldError] = []

    def add(self, where: str, message: str) -> None:
        self.items.append(FieldError(where, message))


def _num(
    errors: _Errors,
    data: dict[str, Any],
    key: str,
    where: str,
    *,
    default: float | None = None,
    low: float | None = None,
    high: float | None = None,
    positive: bool = False,
) -> float:
    value = data.get(key, default)
    if value is None:
        errors.add(f"{where}{key}", "is required; give a number")
        return 0.0
    if isinstance(value, bool) or not isinstance(value, int | float):
        errors.add(f"{where}{key}", f"must be a number, not {json.dumps(value)}")
        return 0.0
    number = float(value)
    if positive and number <= 0:
        errors.add(f"{where}{key}", f"must be greater than 0, not {value}")
    if low is not None and number < low:
        errors.add(f"{where}{key}", f"must be at least {low:g}, not {value}")
    if high is not None and number > high:
        errors.add(f"{where}{key}", f"must be at most {high:g}, not {value}")
    return number


def parse_scenario(data: Any, *, source: str = "scenario") -> Scenario:
    """Validate a scenario (already parsed JSON). Raises InvalidInput with every problem."""
    if not isinstance(data, dict):
        raise InvalidInput.one(source, "must be a JSON object with name, duration_s, grid, ...")
    e = _Errors()
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        e.add("name", 'is required; give the scenario a short name, e.g. "it-grid-housing"')
        name = "unnamed"
    duration = _num(e, data, "duration_s", "", positive=True, high=7 * 86400)
    seed = data.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool):
        e.add("seed", f"must be an integer, not {json.dumps(seed)}")
        seed = 0
    try:
        grid = Grid(str(data.get("grid")))
    except ValueError:
        e.add(
            "grid",
            f"must be one of {', '.join(g.value for g in Grid)}, not {json.dumps(data.get('grid'))}",
        )
        grid = Grid.TN_400_3P
    fuse = _num(e, data, "max_supply_current_a", "", positive=True)
    group = _group(e, data.get("group"), fuse)
    chargers = _chargers(e, data.get("chargers"), grid)
    ids = {c.id for c in chargers}
    response = _num(e, data, "ev_response_s", "", default=5.0, low=0.0, high=60.0)
    tell = _flag(e, data, "cars_tell_needs", "", default=False)
    sessions = _sessions(e, data.get("sessions", []), ids, duration, tell)
    faults = _faults(e, data.get("faults", []), ids, duration)
    base_load = _base_load(e, data.get("base_load"), grid)
    lifetime = _num(e, data, "limit_lifetime_s", "", default=120.0, positive=True)
    quiet = _num(e, data, "quiet_limit_lifetime_s", "", default=600.0, positive=True)
    sample = _num(e, data, "charger_meter_interval_s", "", default=10.0, low=1.0, high=300.0)
    if e.items:
        raise InvalidInput([FieldError(f"{source}: {f.field}", f.message) for f in e.items])
    return Scenario(
        name=str(name),
        duration_s=int(duration),
        seed=int(seed),
        grid=grid,
        max_supply_current_a=fuse,
        group=group,
        chargers=chargers,
        base_load=base_load,
        sessions=sessions,
        faults=faults,
        ev_response_s=response,
        limit_lifetime_s=lifetime,
        quiet_limit_lifetime_s=quiet,
        charger_meter_interval_s=sample,
        description=str(data.get("description", "")),
        raw=data,
    )


def _group(e: _Errors, data: Any, fuse: float) -> GroupSettings:
    if not isinstance(data, dict):
        e.add(
            "group", "is required: an object with max_current_online_a, max_current_offline_a, ..."
        )
        return GroupSettings()
    w = "group."
    algorithm = data.get("algorithm", "standard")
    version = data.get("version")
    if not isinstance(algorithm, str):
        e.add("group.algorithm", 'must be an algorithm name such as "standard"')
        algorithm = "standard"
    if version is not None and (not isinstance(version, int) or isinstance(version, bool)):
        e.add("group.version", f"must be an integer or null (newest), not {json.dumps(version)}")
        version = None
    try:
        get_algorithm(algorithm, version)
    except UnknownAlgorithmError as exc:
        e.add("group.algorithm", str(exc))
    outlet = data.get("outlet_active", True)
    if not isinstance(outlet, bool):
        e.add("group.outlet_active", "must be true or false")
        outlet = True
    return GroupSettings(
        algorithm=algorithm,
        version=version,
        outlet_active=outlet,
        max_current_online_a=_num(e, data, "max_current_online_a", w, positive=True),
        max_current_offline_a=_num(e, data, "max_current_offline_a", w, low=0.0),
        min_current_a=_num(e, data, "min_current_a", w, default=6.0, low=6.0, high=80.0),
        meter_interval_s=_num(e, data, "meter_interval_s", w, default=1.0, low=1.0, high=60.0),
        margin_a=_num(e, data, "margin_a", w, default=1.0, low=0.0, high=max(fuse, 1.0)),
    )


def _chargers(e: _Errors, data: Any, grid: Grid) -> tuple[ChargerSpec, ...]:
    if not isinstance(data, list) or not data:
        e.add("chargers", "is required: a list of {id, phases, max_current_a, failsafe_current_a}")
        return ()
    out: list[ChargerSpec] = []
    seen: set[str] = set()
    for k, item in enumerate(data):
        w = f"chargers[{k}]."
        if not isinstance(item, dict):
            e.add(f"chargers[{k}]", "must be an object with id and phases")
            continue
        cid = item.get("id")
        if not isinstance(cid, str) or not cid:
            e.add(f"{w}id", 'is required; give the charger a unique id such as "CH1"')
            continue
        if cid in seen:
            e.add(f"{w}id", f"'{cid}' is used twice; charger ids must be unique")
        seen.add(cid)
        phases = item.get("phases")
        wiring: tuple[Line, ...] = ()
        if not isinstance(phases, list) or not all(isinstance(p, str) for p in phases):
            e.add(
                f"{w}phases",
                'must list the grid lines behind the charger\'s L1, L2, L3, e.g. ["L2", "L3", "L1"]',
            )
        else:
            wiring = cast(tuple[Line, ...], tuple(p.upper() for p in phases))
            problem = wiring_problem(grid, wiring)
            if problem is not None:
                e.add(f"{w}phases", problem)
        version = item.get("version", "1.6")
        if version not in ("1.6", "2.0.1"):
            e.add(f"{w}version", f'must be "1.6" or "2.0.1", not {json.dumps(version)}')
        max_a = _num(e, item, "max_current_a", w, default=32.0, positive=True)
        out.append(
            ChargerSpec(
                id=cid,
                phases=wiring,
                max_current_a=max_a,
                failsafe_current_a=_num(e, item, "failsafe_current_a", w, default=6.0, low=0.0),
                priority=_num(e, item, "priority", w, default=1.0, positive=True),
                version=str(version),
            )
        )
    return tuple(out)


def _flag(e: _Errors, data: dict[str, Any], name: str, where: str, *, default: bool) -> bool:
    value = data.get(name, default)
    if not isinstance(value, bool):
        e.add(f"{where}{name}", f"must be true or false, not {json.dumps(value)}")
        return default
    return value


def _sessions(
    e: _Errors,
    data: Any,
    ids: set[str],
    duration: float,
    tell: bool,
) -> tuple[SessionSpec, ...]:
    if not isinstance(data, list):
        e.add("sessions", "must be a list of {charger, arrive_s, depart_s, energy_kwh, ...}")
        return ()
    out: list[SessionSpec] = []
    for k, item in enumerate(data):
        w = f"sessions[{k}]."
        if not isinstance(item, dict):
            e.add(
                f"sessions[{k}]", "must be an object with charger, arrive_s, depart_s, energy_kwh"
            )
            continue
        charger = item.get("charger")
        if charger not in ids:
            e.add(
                f"{w}charger",
                f"{json.dumps(charger)} is not one of the chargers ({', '.join(sorted(ids))})",
            )
        arrive = _num(e, item, "arrive_s", w, low=0.0)
        depart = _num(e, item, "depart_s", w, low=0.0)
        if depart <= arrive:
            e.add(f"{w}depart_s", f"must be after arrive_s ({arrive:g}), not {depart:g}")
        if arrive >= duration > 0:
            e.add(
                f"{w}arrive_s", f"{arrive:g} is not before the end of the scenario ({duration:g} s)"
            )
        phases = item.get("car_phases", 3)
        if phases not in (1, 2, 3):
            e.add(f"{w}car_phases", f"must be 1, 2 or 3, not {json.dumps(phases)}")
            phases = 3
        battery = _num(e, item, "battery_kwh", w, default=75.0, positive=True)
        soc = item.get("soc_start")
        if soc is not None:
            soc = _num(e, item, "soc_start", w, low=0.0, high=1.0)
        out.append(
            SessionSpec(
                charger=str(charger),
                arrive_s=arrive,
                depart_s=min(depart, duration) if duration > 0 else depart,
                energy_kwh=_num(e, item, "energy_kwh", w, low=0.0),
                car_phases=int(phases),
                car_max_current_a=_num(
                    e, item, "car_max_current_a", w, default=32.0, positive=True
                ),
                battery_kwh=battery,
                soc_start=soc,
                taper_from_soc=_num(e, item, "taper_from_soc", w, default=0.8, low=0.1, high=1.0),
                tells_needs=_flag(e, item, "tells_needs", w, default=tell),
            )
        )
    by_charger: dict[str, list[tuple[float, float, int]]] = {}
    for k, s in enumerate(out):
        by_charger.setdefault(s.charger, []).append((s.arrive_s, s.depart_s, k))
    for windows in by_charger.values():
        windows.sort()
        for (_, depart, k1), (arrive, _, k2) in itertools.pairwise(windows):
            if arrive < depart:
                e.add(
                    f"sessions[{k2}].arrive_s",
                    f"overlaps sessions[{k1}] on the same charger (which leaves at {depart:g} s); "
                    "one car per charger at a time",
                )
    return tuple(out)


def _faults(e: _Errors, data: Any, ids: set[str], duration: float) -> tuple[FaultSpec, ...]:
    if not isinstance(data, list):
        e.add("faults", "must be a list of {kind, from_s, to_s[, charger]}")
        return ()
    out: list[FaultSpec] = []
    for k, item in enumerate(data):
        w = f"faults[{k}]."
        if not isinstance(item, dict):
            e.add(f"faults[{k}]", "must be an object with kind, from_s, to_s")
            continue
        kind = item.get("kind")
        if kind not in FAULT_KINDS:
            e.add(f"{w}kind", f"must be one of {', '.join(FAULT_KINDS)}, not {json.dumps(kind)}")
            continue
        start = _num(e, item, "from_s", w, low=0.0)
        end = _num(e, item, "to_s", w, low=0.0)
        if end <= start:
            e.add(f"{w}to_s", f"must be after from_s ({start:g}), not {end:g}")
        charger = item.get("charger")
        if kind == "charger_offline" and charger not in ids:
            e.add(
                f"{w}charger",
                f"a charger_offline fault names one of the chargers ({', '.join(sorted(ids))})",
            )
        out.append(FaultSpec(kind=kind, from_s=start, to_s=end, charger=charger))
    return tuple(out)


def _base_load(e: _Errors, data: Any, grid: Grid) -> dict[str, Any]:
    if data is None:
        return {"kind": "constant", "current_a": [0.0, 0.0, 0.0]}
    if not isinstance(data, dict) or data.get("kind") not in BASE_LOAD_KINDS:
        e.add("base_load.kind", f"must be one of {', '.join(BASE_LOAD_KINDS)}")
        return {"kind": "constant", "current_a": [0.0, 0.0, 0.0]}
    kind = data["kind"]
    if kind == "series":
        points = data.get("points")
        if not isinstance(points, list) or not points:
            e.add("base_load.points", "must be a list of [t_s, l1, l2, l3] points")
        else:
            for k, p in enumerate(points):
                ok = (
                    isinstance(p, list)
                    and len(p) in (2, 4)
                    and all(isinstance(v, int | float) and not isinstance(v, bool) for v in p)
                )
                if not ok or any(v < 0 for v in p):
                    e.add(
                        f"base_load.points[{k}]",
                        f"must be [t_s, l1, l2, l3] (or [t_s, l1] on one phase) with numbers >= 0, not {json.dumps(p)}",
                    )
    elif kind == "constant":
        cur = data.get("current_a")
        if not isinstance(cur, list) or not all(isinstance(v, int | float) for v in cur):
            e.add("base_load.current_a", "must be a list of per-line currents, e.g. [10, 8, 12]")
    else:
        for key in ("homes", "seed"):
            v = data.get(key)
            if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 0):
                e.add(f"base_load.{key}", f"must be a whole number >= 0, not {json.dumps(v)}")
        apps = data.get("appliances", list(APPLIANCES))
        if not isinstance(apps, list) or any(a not in APPLIANCES for a in apps):
            e.add("base_load.appliances", f"must list appliances from {', '.join(APPLIANCES)}")
    return dict(data)
