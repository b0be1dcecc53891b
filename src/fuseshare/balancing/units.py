"""A per-line current value type.

Currents are per grid line in amperes; on a one-phase supply only ``l1_a`` means
anything and the other two stay 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import NamedTuple

from fuseshare.balancing.topology import ALL_LINES, Line


class PerLine(NamedTuple):
    """One current per grid line, in A (L1, L2, L3 in grid order)."""

    l1_a: float = 0.0
    l2_a: float = 0.0
    l3_a: float = 0.0

    def of(self, line: Line) -> float:
        """The value on ``line``."""
        return self[ALL_LINES.index(line)]

    def as_dict(self) -> dict[Line, float]:
        return {"L1": self.l1_a, "L2": self.l2_a, "L3": self.l3_a}

    @classmethod
    def from_mapping(cls, values: Mapping[str, float]) -> PerLine:
        """From {"L1": 10.0, "L3": 2.0}; missing lines are 0."""
        unknown = set(values) - set(ALL_LINES)
        if unknown:
            raise ValueError(f"unknown line(s) {sorted(unknown)}; use L1, L2, L3")
        return cls(
            float(values.get("L1", 0.0)), float(values.get("L2", 0.0)), float(values.get("L3", 0.0))
        )

    @classmethod
    def from_values(cls, values: Iterable[float]) -> PerLine:
        """From one to three values in grid order (a one-phase supply gives one)."""
        items = [float(v) for v in values]
        if not 1 <= len(items) <= 3:
            raise ValueError(f"expected 1 to 3 per-line values, got {len(items)}")
        items += [0.0] * (3 - len(items))
        return cls(items[0], items[1], items[2])


ZERO = PerLine()
