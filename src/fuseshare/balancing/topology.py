"""Supplies, grid lines and how a charger's wiring loads them.

This is the shared vocabulary of the whole product: the store keeps a group's
``grid`` as a :class:`Grid` value and a membership's wiring as a tuple of
:data:`Line` names (the grid line behind the charger's own L1, L2, L3, in that
order: the phase rotation). Everything here is pure and has no I/O.

Currents are per line in amperes. Line currents add as magnitudes, the worst
case, as ../shared/SCENARIOS.md fixes for physics and scoring alike.
"""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Literal

Line = Literal["L1", "L2", "L3"]
ALL_LINES: tuple[Line, ...] = ("L1", "L2", "L3")


class Grid(StrEnum):
    """The kind of supply a group sits on."""

    TN_400_3P = "TN_400_3P"
    """Three lines and neutral, 230 V line-to-neutral (most of Europe)."""
    IT_230_3P = "IT_230_3P"
    """Three lines without neutral, 230 V line-to-line (most of Norway)."""
    TN_230_1P = "TN_230_1P"
    """One line and neutral, 230 V."""

    @property
    def lines(self) -> tuple[Line, ...]:
        """The grid lines this supply has."""
        return ("L1",) if self is Grid.TN_230_1P else ALL_LINES

    @property
    def has_neutral(self) -> bool:
        return self is not Grid.IT_230_3P

    @property
    def label(self) -> str:
        return {
            Grid.TN_400_3P: "TN/TT 400 V three-phase with neutral",
            Grid.IT_230_3P: "IT 230 V three-phase without neutral",
            Grid.TN_230_1P: "230 V single-phase",
        }[self]

    @property
    def min_wiring_lines(self) -> int:
        """How many lines a charger must be wired to at least: one on TN, two on IT."""
        return 2 if self is Grid.IT_230_3P else 1


def parse_wiring(text: str | list[str] | tuple[str, ...]) -> tuple[Line, ...]:
    """Parse "L1,L2,L3" / "L2-L3-L1" / ["L2", "L3"] into a tuple of line names.

    Raises ValueError with a message that says what is wrong and what would be right.
    """
    parts: list[str]
    if isinstance(text, str):
        parts = [p for p in text.replace("-", ",").replace(" ", ",").split(",") if p]
    else:
        parts = list(text)
    out: list[Line] = []
    for part in parts:
        name = part.strip().upper()
        if name not in ALL_LINES:
            raise ValueError(
                f"'{part}' is not a grid line; write the lines behind the charger's L1, L2, L3 "
                "in order, e.g. 'L1,L2,L3' or 'L2,L3,L1'"
            )
        out.append(name)
    if not out:
        raise ValueError("no phases given; write e.g. 'L1,L2,L3' (three-phase) or 'L2' (one-phase)")
    return tuple(out)


def wiring_problem(grid: Grid, wiring: tuple[Line, ...]) -> str | None:
    """Why this wiring cannot exist on this supply, or None when it can."""
    if len(set(wiring)) != len(wiring):
        return f"phases {','.join(wiring)} name a line twice; each grid line can appear once"
    missing = [line for line in wiring if line not in grid.lines]
    if missing:
        return (
            f"phase {','.join(missing)} does not exist on a {grid.label} supply, which has "
            f"{','.join(grid.lines)}; wire the charger to those lines"
        )
    if not wiring:
        return "no phases given; write e.g. 'L1,L2,L3' (three-phase) or 'L2' (one-phase)"
    if len(wiring) > 3:
        return "a charger has at most three phases; give up to three lines"
    if len(wiring) < grid.min_wiring_lines:
        return (
            f"on an {grid.label} supply a charger sits between two lines; "
            f"give two or three lines, e.g. '{wiring[0]},{_next_line(wiring[0])}'"
        )
    return None


def _next_line(line: Line) -> Line:
    return ALL_LINES[(ALL_LINES.index(line) + 1) % 3]


def line_factors(grid: Grid, wiring: tuple[Line, ...], car_phases: int) -> dict[Line, float]:
    """Amperes on each grid line per ampere a car draws, for a car using ``car_phases``.

    A car uses the charger's phases starting at its L1. On TN every phase the car
    uses loads the line behind it once. On IT a one-phase car sits between the
    first two wired lines and loads both; a car on two phases sits between
    (w0, w1) and (w1, w2) so w1 carries both windings (magnitudes add: 2x, the
    worst case); a three-phase car loads each of the three lines once.
    The car is clipped to what the wiring offers.
    """
    if car_phases < 1:
        raise ValueError("a car uses at least one phase")
    if grid is Grid.IT_230_3P:
        if len(wiring) < 2:
            raise ValueError("on IT a charger needs two lines")
        if car_phases == 1 or len(wiring) == 2:
            return {wiring[0]: 1.0, wiring[1]: 1.0}
        if car_phases == 2:
            return {wiring[0]: 1.0, wiring[1]: 2.0, wiring[2]: 1.0}
        return {line: 1.0 for line in wiring[:3]}
    used = wiring[: max(1, min(car_phases, len(wiring)))]
    return {line: 1.0 for line in used}


def power_per_ampere(grid: Grid, wiring: tuple[Line, ...], car_phases: int) -> float:
    """A car's charging power per ampere it draws, in units of one 230 V winding.

    TN: one per line the car uses. IT: one for a one-phase car (a single winding
    between two lines), two for a car on two windings, and sqrt(3) for a
    three-phase car (three windings in delta carry sqrt(3) times the line current's
    power of one). Only ratios matter: this turns amperes drawn into comparable
    energy, so a one-phase car is not taken as served like a three-phase one.
    """
    factors = line_factors(grid, wiring, car_phases)
    if grid is Grid.IT_230_3P:
        if len(factors) == 2:
            return 1.0
        if any(f > 1.0 for f in factors.values()):
            return 2.0
        return math.sqrt(3.0)
    return float(len(factors))


def wired_phase_count(grid: Grid, wiring: tuple[Line, ...]) -> int:
    """How many car phases this wiring can feed at most (1 for a two-line IT charger)."""
    if grid is Grid.IT_230_3P:
        return 1 if len(wiring) == 2 else 3
    return len(wiring)


def assumed_car_phases(grid: Grid, wiring: tuple[Line, ...], car_phases: int | None) -> int:
    """The car phases to count energy with: the learned count, or every phase the wiring offers."""
    wired = wired_phase_count(grid, wiring)
    if car_phases is None:
        return wired
    return max(1, min(car_phases, wired))


def heaviest_car_phases(grid: Grid, wiring: tuple[Line, ...]) -> int:
    """The phase count of the car that loads this wiring's lines most, line by line.

    On TN every phase the charger is wired to. On IT with three lines a car on two
    windings: its middle line carries both (twice its current), its outer lines one
    each, so it loads every line at least as much as a one- or three-phase car.
    """
    if grid is Grid.IT_230_3P and len(wiring) >= 3:
        return 2
    return wired_phase_count(grid, wiring)


def wiring_line_factors(grid: Grid, wiring: tuple[Line, ...]) -> dict[Line, float]:
    """Amperes per ampere on each line for a car using every phase the wiring offers.

    What most cars do, and what commissioning sizes failsafe currents by. The balancing
    core counts an unknown car, and a charger that lost its link, as the heaviest car
    instead (:func:`heaviest_line_factors`).
    """
    return line_factors(grid, wiring, wired_phase_count(grid, wiring))


def heaviest_line_factors(grid: Grid, wiring: tuple[Line, ...]) -> dict[Line, float]:
    """Amperes per ampere on each line for the car that loads this wiring most: every
    wired phase, and on a three-line IT charger twice on the middle line
    (:func:`heaviest_car_phases`). No car plugged in there loads any line more."""
    return line_factors(grid, wiring, heaviest_car_phases(grid, wiring))


def heavier_car_phases(grid: Grid, wiring: tuple[Line, ...], known: int | None, seen: int) -> int:
    """Of the phase count known for a car and one just seen, the one that loads some
    line more (``seen`` when nothing is known; ``known`` when neither loads more).

    A car that starts on fewer phases and adds one later is then planned with what it
    may do again, and never with less: on TN more phases load more lines, on IT a car
    on two windings outweighs a three-phase one, which outweighs a one-phase one.
    """
    if known is None:
        return seen
    old = line_factors(grid, wiring, known)
    new = line_factors(grid, wiring, seen)
    return seen if any(f > old.get(line, 0.0) for line, f in new.items()) else known


def car_current_a(
    grid: Grid, wiring: tuple[Line, ...], terminal_currents_a: tuple[float, ...]
) -> float:
    """The current the car draws per phase (what a limit caps), from the currents at
    the charger's own L1, L2, L3: the largest terminal current, except that a car on
    two IT windings puts twice its current on the middle terminal."""
    values = terminal_currents_a[: len(wiring)]
    if not values:
        return 0.0
    top = max(values)
    if (
        grid is Grid.IT_230_3P
        and len(values) >= 3
        and learn_car_phases(grid, wiring, values, 0.0) == 2
    ):
        return max(values[0], values[1] / 2.0, values[2])
    return top


def learn_car_phases(
    grid: Grid, wiring: tuple[Line, ...], terminal_currents_a: tuple[float, ...], min_a: float
) -> int | None:
    """How many phases a car uses, from the currents at the charger's own L1, L2, L3.

    ``terminal_currents_a[k]`` is the current at the charger's terminal k, which is
    the current on grid line ``wiring[k]``. Returns None while the car draws less
    than ``min_a`` on every terminal (nothing to learn from). A terminal counts as
    used above a quarter of the largest terminal current (at least 1 A); the count
    is taken up to the highest used terminal, so a gap never hides a phase.
    On IT a one-phase car loads the first two terminals equally; a two-phase car
    loads the middle terminal about twice as much as the outer ones.
    """
    values = terminal_currents_a[: len(wiring)]
    if not values:
        return None
    top = max(values)
    if top < min_a:
        return None
    threshold = 0.25 * top if top > 4.0 else 1.0
    highest = 0
    for k in range(len(values) - 1, -1, -1):
        if values[k] >= threshold:
            highest = k + 1
            break
    if grid is Grid.IT_230_3P:
        if len(wiring) == 2 or highest <= 2:
            return 1
        outer = max(values[0], values[2])
        return 2 if values[1] >= 1.5 * outer else 3
    return highest
