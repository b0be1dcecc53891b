"""The balancing core: given a snapshot of a load balancing group, decide each charger's current.

Pure code: no I/O, no asyncio, no wall clock (time comes in as ``now_s``), so the
same code runs in tests, in the simulator and in production. Currents are per
phase in A, times in s. Public API:

Topology (:mod:`.topology`)
    ``Grid`` (TN_400_3P, IT_230_3P, TN_230_1P), ``Line``, ``ALL_LINES``,
    ``parse_wiring``, ``wiring_problem``, ``line_factors``, ``wired_phase_count``,
    ``wiring_line_factors``, ``assumed_car_phases``, ``heaviest_car_phases``, ``heaviest_line_factors``,
    ``heavier_car_phases``, ``learn_car_phases``, ``car_current_a``.
Values (:mod:`.units`)
    ``PerLine(l1_a, l2_a, l3_a)`` with ``.of(line)``, ``.as_dict()``,
    ``PerLine.from_mapping``, ``PerLine.from_values``.
Input (:mod:`.snapshot`)
    ``Snapshot(config, chargers, now_s, meter=None)``, ``GroupConfig``,
    ``Tunables``, ``ChargerInput``, ``MeterInput(currents_a, read_at_s)``.
Output (:mod:`.allocation`)
    ``Allocation`` (``chargers``, ``lines``, ``meter_online``, ``by_id()``),
    ``ChargerAllocation`` (``current_a``, ``reason``, ``target_a``, ``reserved_a``,
    ``line_load_a``, ``changed``), ``Reason(code, text, line)``, ``ReasonCode``,
    ``LineBudget``, ``LimitSource``.
State (:mod:`.state`)
    ``AlgorithmState`` (carried by the caller between cycles; ``to_json``/``from_json``),
    ``SessionState``.
Algorithms (:mod:`.registry`, :mod:`.algorithm`)
    ``get_algorithm(name, version=None) -> Algorithm``, ``newest_version(name)``,
    ``list_algorithms()``, ``UnknownAlgorithmError``; an ``Algorithm`` has
    ``name``, ``version``, ``description``, ``initial_state()`` and
    ``allocate(snapshot, state) -> AllocationResult(allocation, state)``.
    ``allocate(snapshot, state, name=..., version=...)`` is a shortcut.
Commissioning (:mod:`.commissioning`)
    ``check_group(config, memberships) -> list[Finding]``, ``Membership``,
    ``Finding(severity, code, message, charger_id, line)``, ``blocks_activation``.
JSON (:mod:`.codec`, :mod:`.replay`)
    ``snapshot_to_json``/``snapshot_from_json``, ``allocation_to_json``,
    ``run_scenario(scenario) -> list[dict]`` (golden files, field cases).
"""

from __future__ import annotations

from fuseshare.balancing.algorithm import Algorithm, AllocationResult
from fuseshare.balancing.allocation import (
    Allocation,
    ChargerAllocation,
    LimitSource,
    LineBudget,
    Reason,
    ReasonCode,
)
from fuseshare.balancing.codec import (
    allocation_to_json,
    config_from_json,
    config_to_json,
    snapshot_from_json,
    snapshot_to_json,
)
from fuseshare.balancing.commissioning import Finding, Membership, blocks_activation, check_group
from fuseshare.balancing.registry import (
    UnknownAlgorithmError,
    get_algorithm,
    list_algorithms,
    newest_version,
)
from fuseshare.balancing.replay import run_scenario
from fuseshare.balancing.snapshot import (
    IEC_MIN_CURRENT_A,
    ChargerInput,
    GroupConfig,
    MeterInput,
    Snapshot,
    Tunables,
)
from fuseshare.balancing.state import AlgorithmState, SessionState
from fuseshare.balancing.topology import (
    ALL_LINES,
    Grid,
    Line,
    assumed_car_phases,
    car_current_a,
    heavier_car_phases,
    heaviest_car_phases,
    heaviest_line_factors,
    learn_car_phases,
    line_factors,
    parse_wiring,
    wired_phase_count,
    wiring_line_factors,
    wiring_problem,
)
from fuseshare.balancing.units import PerLine


def allocate(
    snapshot: Snapshot,
    state: AlgorithmState | None = None,
    *,
    name: str = "standard",
    version: int | None = None,
) -> AllocationResult:
    """Allocate with the named algorithm (newest version when None) from ``state``."""
    algorithm = get_algorithm(name, version)
    return algorithm.allocate(snapshot, state if state is not None else algorithm.initial_state())


__all__ = [
    "ALL_LINES",
    "IEC_MIN_CURRENT_A",
    "Algorithm",
    "AlgorithmState",
    "Allocation",
    "AllocationResult",
    "ChargerAllocation",
    "ChargerInput",
    "Finding",
    "Grid",
    "GroupConfig",
    "LimitSource",
    "Line",
    "LineBudget",
    "Membership",
    "MeterInput",
    "PerLine",
    "Reason",
    "ReasonCode",
    "SessionState",
    "Snapshot",
    "Tunables",
    "UnknownAlgorithmError",
    "allocate",
    "allocation_to_json",
    "assumed_car_phases",
    "blocks_activation",
    "car_current_a",
    "check_group",
    "config_from_json",
    "config_to_json",
    "get_algorithm",
    "heavier_car_phases",
    "heaviest_car_phases",
    "heaviest_line_factors",
    "learn_car_phases",
    "line_factors",
    "list_algorithms",
    "newest_version",
    "parse_wiring",
    "run_scenario",
    "snapshot_from_json",
    "snapshot_to_json",
    "wired_phase_count",
    "wiring_line_factors",
    "wiring_problem",
]
