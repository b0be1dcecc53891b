"""MeterValues, normalized: the sampled values of either OCPP version turned
into one :class:`~fuseshare.ocpp.ports.MeterSample` in A, W and Wh."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from fuseshare.ocpp.ports import MeterSample, PerPhase

CURRENT_IMPORT = "Current.Import"
CURRENT_OFFERED = "Current.Offered"
POWER_IMPORT = "Power.Active.Import"
ENERGY_IMPORT = "Energy.Active.Import.Register"
BALANCING_MEASURANDS = (CURRENT_IMPORT, POWER_IMPORT, ENERGY_IMPORT)
"""What a charger must sample for load balancing (per phase where it can)."""

_SCALE = {"W": 1.0, "kW": 1000.0, "Wh": 1.0, "kWh": 1000.0, "A": 1.0, "kvarh": 1000.0}
_PHASE_INDEX = {"L1": 0, "L2": 1, "L3": 2, "L1-N": 0, "L2-N": 1, "L3-N": 2}


@dataclass(frozen=True, slots=True)
class RawValue:
    """One sampled value as a version adapter read it from the wire."""

    value: float
    measurand: str = ENERGY_IMPORT
    """OCPP's default measurand when none is given."""
    phase: str | None = None
    unit: str | None = None
    multiplier: int = 0
    """2.0.1 unitOfMeasure.multiplier: value × 10^multiplier."""


def _normalized(raw: RawValue) -> float:
    scale = _SCALE.get(raw.unit or "", 1.0)
    return raw.value * scale * (10.0**raw.multiplier)


def build_sample(
    at: datetime,
    connector_id: int,
    transaction_id: str | None,
    values: Iterable[RawValue],
) -> MeterSample:
    """Fold sampled values into one sample; unknown measurands are ignored.

    Per-phase current is kept per phase; a phase-less current is taken as the
    same on all three phases only when no phase value is present. Total power
    is the phase-less value or else the sum of the phases.
    """
    current: list[float | None] = [None, None, None]
    current_total: float | None = None
    power: list[float | None] = [None, None, None]
    power_total: float | None = None
    energy_wh: float | None = None
    offered: float | None = None
    for raw in values:
        value = _normalized(raw)
        index = _PHASE_INDEX.get(raw.phase or "")
        if raw.measurand == CURRENT_IMPORT:
            if index is None:
                current_total = value
            else:
                current[index] = value
        elif raw.measurand == POWER_IMPORT:
            if index is None:
                power_total = value
            else:
                power[index] = value
        elif raw.measurand == ENERGY_IMPORT and index is None:
            energy_wh = value
        elif raw.measurand == CURRENT_OFFERED:
            offered = value
    if all(c is None for c in current) and current_total is not None:
        current = [current_total, current_total, current_total]
    if power_total is None and any(p is not None for p in power):
        power_total = sum(p for p in power if p is not None)
    return MeterSample(
        at=at,
        connector_id=connector_id,
        transaction_id=transaction_id,
        current_a=PerPhase(*current),
        power_w=power_total,
        power_per_phase_w=PerPhase(*power),
        energy_wh=energy_wh,
        offered_current_a=offered,
    )
