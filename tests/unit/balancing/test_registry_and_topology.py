"""Algorithm registry, topology tables and the purity of the core."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import fuseshare.balancing as balancing
from fuseshare.balancing import (
    Grid,
    UnknownAlgorithmError,
    car_current_a,
    get_algorithm,
    heavier_car_phases,
    heaviest_line_factors,
    learn_car_phases,
    line_factors,
    list_algorithms,
    newest_version,
    parse_wiring,
    wiring_problem,
)


def test_registry() -> None:
    assert newest_version("standard") == 11
    assert get_algorithm("standard").version == 11
    assert get_algorithm("standard", 1).version == 1
    assert [(n, v) for n, v, _ in list_algorithms()] == [
        ("standard", 1),
        ("standard", 2),
        ("standard", 3),
        ("standard", 4),
        ("standard", 5),
        ("standard", 6),
        ("standard", 7),
        ("standard", 8),
        ("standard", 9),
        ("standard", 10),
        ("standard", 11),
    ]
    with pytest.raises(
        UnknownAlgorithmError, match="no version 12; available: 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11"
    ):
        get_algorithm("standard", 12)
    with pytest.raises(UnknownAlgorithmError, match="unknown balancing algorithm 'magic'"):
        get_algorithm("magic", 1)
    with pytest.raises(UnknownAlgorithmError):
        newest_version("magic")


@pytest.mark.parametrize(
    ("grid", "wiring", "car_phases", "expected"),
    [
        (Grid.TN_400_3P, "L1,L2,L3", 3, {"L1": 1, "L2": 1, "L3": 1}),
        (Grid.TN_400_3P, "L2,L3,L1", 1, {"L2": 1}),
        (Grid.TN_400_3P, "L3,L1,L2", 2, {"L3": 1, "L1": 1}),
        (Grid.TN_400_3P, "L2", 3, {"L2": 1}),
        (Grid.IT_230_3P, "L2,L3,L1", 1, {"L2": 1, "L3": 1}),
        (Grid.IT_230_3P, "L1,L2,L3", 2, {"L1": 1, "L2": 2, "L3": 1}),
        (Grid.IT_230_3P, "L3,L1,L2", 3, {"L3": 1, "L1": 1, "L2": 1}),
        (Grid.IT_230_3P, "L3,L1", 3, {"L3": 1, "L1": 1}),
        (Grid.TN_230_1P, "L1", 3, {"L1": 1}),
    ],
)
def test_line_factors(grid: Grid, wiring: str, car_phases: int, expected: dict[str, float]) -> None:
    assert line_factors(grid, parse_wiring(wiring), car_phases) == expected


@pytest.mark.parametrize(
    ("grid", "wiring", "phases", "expected"),
    [
        (Grid.TN_400_3P, "L1,L2,L3", (10.0, 0.2, 0.0), 1),
        (Grid.TN_400_3P, "L1,L2,L3", (10.0, 9.5, 0.0), 2),
        (Grid.TN_400_3P, "L1,L2,L3", (10.0, 9.5, 9.8), 3),
        (Grid.TN_400_3P, "L1,L2,L3", (10.0, 0.0, 9.8), 3),  # a gap never hides a phase
        (Grid.TN_400_3P, "L1,L2,L3", (1.0, 1.0, 1.0), None),  # too little to learn from
        (Grid.IT_230_3P, "L1,L2,L3", (10.0, 10.0, 0.0), 1),
        (Grid.IT_230_3P, "L1,L2,L3", (10.0, 10.0, 10.0), 3),
        (Grid.IT_230_3P, "L1,L2,L3", (10.0, 20.0, 10.0), 2),
        (Grid.IT_230_3P, "L1,L2", (10.0, 10.0), 1),
    ],
)
def test_learn_car_phases(
    grid: Grid, wiring: str, phases: tuple[float, ...], expected: int | None
) -> None:
    assert learn_car_phases(grid, parse_wiring(wiring), phases, 2.0) == expected


@pytest.mark.parametrize(
    ("grid", "wiring", "expected"),
    [
        (Grid.TN_400_3P, "L2,L3,L1", {"L2": 1, "L3": 1, "L1": 1}),
        (Grid.TN_400_3P, "L3", {"L3": 1}),
        # A car on two IT windings loads the middle line twice: the heaviest car there.
        (Grid.IT_230_3P, "L2,L3,L1", {"L2": 1, "L3": 2, "L1": 1}),
        (Grid.IT_230_3P, "L3,L1", {"L3": 1, "L1": 1}),
        (Grid.TN_230_1P, "L1", {"L1": 1}),
    ],
)
def test_an_unknown_car_is_counted_as_the_heaviest_the_wiring_can_carry(
    grid: Grid, wiring: str, expected: dict[str, float]
) -> None:
    """What an unknown car and a charger without its link are counted with: no car
    plugged in there can load any line more."""
    w = parse_wiring(wiring)
    assert heaviest_line_factors(grid, w) == expected
    for phases in (1, 2, 3):
        for line, f in line_factors(grid, w, phases).items():
            assert f <= expected[line]


@pytest.mark.parametrize(
    ("grid", "known", "seen", "expected"),
    [
        (Grid.TN_400_3P, None, 1, 1),
        (Grid.TN_400_3P, 1, 3, 3),
        (Grid.TN_400_3P, 3, 1, 3),  # a car that drops a phase may add it again
        (Grid.IT_230_3P, 1, 3, 3),
        (Grid.IT_230_3P, 3, 2, 2),  # two windings outweigh three on the middle line
        (Grid.IT_230_3P, 2, 3, 2),
        (Grid.IT_230_3P, 2, 1, 2),
    ],
)
def test_learned_phases_only_grow_in_what_they_load(
    grid: Grid, known: int | None, seen: int, expected: int
) -> None:
    assert heavier_car_phases(grid, parse_wiring("L1,L2,L3"), known, seen) == expected


@pytest.mark.parametrize(
    ("grid", "wiring", "terminals", "expected"),
    [
        (Grid.TN_400_3P, "L1,L2,L3", (10.0, 9.6, 9.8), 10.0),
        (Grid.TN_400_3P, "L1", (12.0,), 12.0),
        (Grid.IT_230_3P, "L1,L2,L3", (10.0, 10.0, 0.0), 10.0),  # one winding
        (Grid.IT_230_3P, "L1,L2,L3", (10.0, 10.0, 10.0), 10.0),  # three
        (Grid.IT_230_3P, "L1,L2,L3", (10.0, 20.0, 10.0), 10.0),  # two: middle carries both
        (Grid.IT_230_3P, "L1,L2", (16.0, 16.0), 16.0),
        (Grid.IT_230_3P, "L1,L2,L3", (0.0, 0.0, 0.0), 0.0),
    ],
)
def test_the_cars_current_from_the_terminal_currents(
    grid: Grid, wiring: str, terminals: tuple[float, ...], expected: float
) -> None:
    """What a limit caps is the car's current per phase, not its charger's largest
    terminal current: a car on two IT windings at a 10 A limit shows 20 A on one."""
    assert car_current_a(grid, parse_wiring(wiring), terminals) == expected


@pytest.mark.parametrize(
    ("grid", "wiring", "words"),
    [
        (Grid.TN_400_3P, ("L1", "L1"), "twice"),
        (Grid.TN_230_1P, ("L2",), "does not exist"),
        (Grid.IT_230_3P, ("L3",), "'L3,L1'"),
        (Grid.IT_230_3P, (), "no phases given"),
    ],
)
def test_wiring_problem(grid: Grid, wiring: tuple[str, ...], words: str) -> None:
    problem = wiring_problem(grid, wiring)  # type: ignore[arg-type]
    assert problem is not None and words in problem


def test_core_imports_nothing_impure() -> None:
    """Backs up the import-linter contract: only the standard library's pure parts, and
    numpy/scipy for the linear programme of version 6's plan (arithmetic, no I/O)."""
    allowed_roots = {
        "numpy",
        "scipy",
        "__future__",
        "collections",
        "dataclasses",
        "enum",
        "functools",
        "math",
        "operator",
        "typing",
    }
    for path in Path(balancing.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                root = name.split(".")[0]
                ok = root in allowed_roots or name.startswith("fuseshare.balancing")
                assert ok, f"{path.name} imports {name}"
