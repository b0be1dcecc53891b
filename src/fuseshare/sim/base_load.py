"""The rest of the building: per-line current of everything that is not a charger.

:func:`base_load_a` turns a scenario's ``base_load`` into an array of shape
``(duration_s, 3)``: amperes on grid lines L1, L2, L3 for every simulated
second (a one-phase supply uses column 0 only). Kinds:

``series``    ``points`` ``[t_s, l1, l2, l3]``, each held until the next (SCENARIOS.md).
``constant``  ``current_a`` ``[l1, l2, l3]``.
``household`` homes with a daily profile (night low, morning and evening peaks)
              plus heavy appliances switching on and off, drawn from ``seed``:
              ``{"kind": "household", "seed": 7, "homes": 1, "scale": 1.0,
              "appliances": ["oven", "cooktop", "water_heater", "heat_pump", "sauna", "dryer"],
              "start_hour": 0}``. Everything switches on whole minutes.

How an appliance loads the grid follows the same rule as a car
(:func:`fuseshare.balancing.line_factors`): a one-phase appliance loads one line
on TN and two lines on IT (it sits between two lines); a three-phase appliance
loads all three. On a one-phase supply everything is on L1.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from fuseshare.balancing import ALL_LINES, Grid, Line, line_factors

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Appliance:
    """A heavy appliance: its power, how many phases, and when and how long it runs."""

    name: str
    power_w: float
    phases: int
    runs_per_day: float
    run_min: tuple[int, int]
    """Shortest and longest run, minutes."""
    hours: tuple[float, ...]
    """Hours of the day around which it tends to start (empty: any time)."""
    owned_by: float = 1.0
    """Share of homes that have one, when a scenario has several homes (a lone home has all)."""


APPLIANCE_MODELS: dict[str, Appliance] = {
    "oven": Appliance("oven", 3500.0, 1, 0.6, (30, 75), (17.0, 18.5), 0.9),
    "cooktop": Appliance("cooktop", 7000.0, 3, 1.0, (10, 35), (7.5, 12.0, 17.5), 0.9),
    "water_heater": Appliance(
        "water_heater", 2800.0, 1, 3.0, (20, 60), (6.5, 8.0, 19.0, 22.0), 0.7
    ),
    "heat_pump": Appliance("heat_pump", 3500.0, 3, 12.0, (15, 40), (), 0.3),
    "sauna": Appliance("sauna", 9000.0, 3, 0.35, (60, 120), (19.5,), 0.15),
    "dryer": Appliance("dryer", 2500.0, 1, 0.5, (45, 90), (10.0, 20.0), 0.4),
}


def amps_per_line(grid: Grid, power_w: float, phases: int) -> float:
    """Current per loaded line for an appliance of ``power_w`` on ``phases`` phases."""
    if grid is Grid.TN_230_1P:
        return power_w / 230.0
    if grid is Grid.IT_230_3P:
        return power_w / (math.sqrt(3) * 230.0) if phases == 3 else power_w / 230.0
    return power_w / (230.0 * phases)


def base_load_a(spec: dict[str, Any], grid: Grid, duration_s: int, seed: int) -> FloatArray:
    """Per-second per-line base load, shape ``(duration_s, 3)``."""
    kind = spec.get("kind", "constant")
    out = np.zeros((duration_s, 3))
    if kind == "constant":
        values = [float(v) for v in spec.get("current_a", [0.0, 0.0, 0.0])][:3]
        out[:, : len(values)] = values
    elif kind == "series":
        points = sorted(spec["points"], key=lambda p: p[0])
        for k, p in enumerate(points):
            start = max(0, math.ceil(p[0]))
            end = duration_s if k + 1 == len(points) else max(0, math.ceil(points[k + 1][0]))
            if k == 0:
                start = 0  # the first point also holds before its own time
            if start < min(end, duration_s):
                values = [float(v) for v in p[1:4]]
                out[start:end, : len(values)] = values
    elif kind == "household":
        minutes = household_minutes_a(spec, grid, duration_s // 60 + 2, seed)
        out[:] = np.repeat(minutes, 60, axis=0)[:duration_s]
    else:
        raise ValueError(f"unknown base load kind {kind!r}")
    if grid is Grid.TN_230_1P:
        out[:, 1:] = 0.0
    return out


def household_minutes_a(spec: dict[str, Any], grid: Grid, n_minutes: int, seed: int) -> FloatArray:
    """Per-minute per-line current of ``homes`` homes with their appliances."""
    rng = random.Random(int(spec.get("seed", seed)))
    homes = int(spec.get("homes", 1))
    scale = float(spec.get("scale", 1.0))
    start_hour = float(spec.get("start_hour", 0.0))
    names = list(spec.get("appliances", list(APPLIANCE_MODELS)))
    hour = (start_hour + np.arange(n_minutes) / 60.0) % 24.0
    daily = (
        0.35
        + 0.45 * np.exp(-((hour - 7.5) ** 2) / 1.5)
        + 0.9 * np.exp(-((hour - 18.5) ** 2) / 4.0)
        - 0.15 * np.exp(-((hour - 3.5) ** 2) / 4.0)
    )
    out = np.zeros((n_minutes, 3))
    lines = grid.lines
    for _ in range(homes):
        # Lighting, fridge, electronics: about 300 W at night, 1.5 kW at the evening peak,
        # on the home's own line (pair on IT) with a little per-minute wobble.
        home_line = rng.choice(lines)
        wobble = np.array([rng.uniform(0.85, 1.15) for _ in range(n_minutes)])
        small_w = 900.0 * daily * wobble * scale
        _add(out, grid, home_line, 1, small_w / 230.0)
        for name in names:
            model = APPLIANCE_MODELS[name]
            if homes > 1 and rng.random() > model.owned_by:
                continue
            for start, length in _runs(rng, model, n_minutes, start_hour):
                amps = amps_per_line(grid, model.power_w * scale, model.phases)
                line = rng.choice(lines)
                _add_window(out, grid, line, model.phases, amps, start, start + length)
    return out


def _runs(
    rng: random.Random, model: Appliance, n_minutes: int, start_hour: float
) -> list[tuple[int, int]]:
    """Start minute and length of each run over ``n_minutes``."""
    days = max(1.0, n_minutes / 1440.0)
    count = _poisson(rng, model.runs_per_day * days)
    runs = []
    for _ in range(count):
        if model.hours:
            centre_h = rng.choice(model.hours) + rng.gauss(0.0, 0.75)
            day = rng.randrange(math.ceil(days))
            start = int(((centre_h - start_hour) % 24.0) * 60 + day * 1440)
        else:
            start = rng.randrange(n_minutes)
        runs.append((start, rng.randint(*model.run_min)))
    return runs


def _poisson(rng: random.Random, mean: float) -> int:
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _factors(grid: Grid, line: Line, phases: int) -> dict[Line, float]:
    if grid is Grid.TN_230_1P:
        return {"L1": 1.0}
    start = ALL_LINES.index(line)
    wiring = tuple(ALL_LINES[(start + k) % 3] for k in range(3))
    return line_factors(grid, wiring, 3 if phases == 3 else 1)


def _add(out: FloatArray, grid: Grid, line: Line, phases: int, amps: FloatArray) -> None:
    for target, factor in _factors(grid, line, phases).items():
        out[:, ALL_LINES.index(target)] += factor * amps


def _add_window(
    out: FloatArray, grid: Grid, line: Line, phases: int, amps: float, start: int, end: int
) -> None:
    start, end = max(0, start), min(out.shape[0], end)
    if start >= end:
        return
    for target, factor in _factors(grid, line, phases).items():
        out[start:end, ALL_LINES.index(target)] += factor * amps
