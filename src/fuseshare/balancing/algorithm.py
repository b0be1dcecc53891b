"""What every balancing algorithm looks like, whatever its name and version."""

from __future__ import annotations

from typing import NamedTuple, Protocol

from fuseshare.balancing.allocation import Allocation
from fuseshare.balancing.snapshot import GroupConfig, Snapshot, Tunables
from fuseshare.balancing.state import AlgorithmState


class AllocationResult(NamedTuple):
    allocation: Allocation
    state: AlgorithmState
    """Pass this to the next ``allocate`` call of the same group."""


class Algorithm(Protocol):
    """A versioned balancing algorithm. Implementations are pure and deterministic:
    the same snapshot and state always give the same result, and nothing is mutated.
    """

    @property
    def name(self) -> str: ...

    @property
    def version(self) -> int: ...

    @property
    def description(self) -> str: ...

    def initial_state(self) -> AlgorithmState: ...

    def tunables(self, config: GroupConfig) -> Tunables:
        """The timing knobs a group runs with: its own, else this version's defaults."""
        ...

    def allocate(self, snapshot: Snapshot, state: AlgorithmState) -> AllocationResult: ...
