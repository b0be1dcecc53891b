"""Small builders shared by the balancing tests."""

from __future__ import annotations

from typing import Any

from fuseshare.balancing import (
    AlgorithmState,
    Allocation,
    ChargerInput,
    Grid,
    GroupConfig,
    Line,
    MeterInput,
    PerLine,
    Snapshot,
    Tunables,
    get_algorithm,
    parse_wiring,
)


def config(
    grid: Grid = Grid.TN_400_3P,
    *,
    fuse: float = 63.0,
    online: float | None = None,
    offline: float = 16.0,
    min_a: float = 6.0,
    outlet: bool = True,
    meter: bool = True,
    margin: float = 0.0,
    **tunables: Any,
) -> GroupConfig:
    return GroupConfig(
        grid=grid,
        max_supply_current_a=fuse,
        max_current_online_a=fuse if online is None else online,
        max_current_offline_a=offline,
        min_current_a=min_a,
        outlet_active=outlet,
        has_meter=meter,
        margin_a=margin,
        tunables=Tunables(**tunables) if tunables else None,
    )


def charger(
    cid: str, wiring: str | tuple[Line, ...] = ("L1", "L2", "L3"), **kw: Any
) -> ChargerInput:
    if isinstance(wiring, str):
        wiring = parse_wiring(wiring)
    kw.setdefault("max_current_a", 32.0)
    kw.setdefault("session_id", f"s-{cid}")
    kw.setdefault("setpoint_since_s", -1000.0)
    kw.setdefault("last_seen_s", 0.0)
    return ChargerInput(charger_id=cid, wiring=wiring, **kw)


def reading(*currents_a: float, age_s: float = 0.0, now_s: float = 0.0) -> MeterInput:
    return MeterInput(PerLine.from_values(currents_a), now_s - age_s)


def run(
    cfg: GroupConfig,
    chargers: list[ChargerInput],
    meter: MeterInput | None = None,
    *,
    now_s: float = 0.0,
    version: int = 2,
    state: AlgorithmState | None = None,
) -> tuple[Allocation, AlgorithmState]:
    algo = get_algorithm("standard", version)
    result = algo.allocate(
        Snapshot(cfg, tuple(chargers), now_s, meter), state or algo.initial_state()
    )
    return result.allocation, result.state
