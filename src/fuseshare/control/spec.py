"""A running group's configuration, read from the store into immutable values."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from fuseshare.balancing import GroupConfig, Line, parse_wiring
from fuseshare.balancing.topology import Grid
from fuseshare.store.tables import (
    BuildingPeakRow,
    LoadBalancingGroup,
    Membership,
    SharingMemoryRow,
)


@dataclass(frozen=True, slots=True)
class MemberSpec:
    serial: str
    charger_id: int
    wiring: tuple[Line, ...]
    failsafe_current_a: float
    weight: float
    max_current_a: float
    """The charger's own maximum."""
    membership_max_current_a: float | None


@dataclass(frozen=True, slots=True)
class GroupSpec:
    group_id: int
    organization_id: int
    name: str
    algorithm: str
    version: int
    config: GroupConfig
    meter_serial: str | None
    meter_id: int | None
    members: tuple[MemberSpec, ...]
    updated_at: datetime
    building_peak: dict[str, Any] | None = None
    """The building's peak as kept in the store (read when the loop starts)."""
    sharing_memory: dict[str, Any] | None = None
    """What the running sessions have had, as kept in the store (read when the loop starts)."""

    def member(self, serial: str) -> MemberSpec | None:
        for m in self.members:
            if m.serial == serial:
                return m
        return None


def spec_of(g: LoadBalancingGroup) -> GroupSpec:
    config = GroupConfig(
        grid=Grid(g.grid),
        max_supply_current_a=g.max_supply_current_a,
        max_current_online_a=g.max_current_online_a,
        max_current_offline_a=g.max_current_offline_a,
        min_current_a=g.min_current_a,
        outlet_active=g.outlet_active,
        has_meter=g.meter_id is not None,
        margin_a=g.margin_a,
    )
    members = tuple(
        MemberSpec(
            serial=m.charger.serial,
            charger_id=m.charger_id,
            wiring=parse_wiring(m.phases),
            failsafe_current_a=m.failsafe_current_a,
            weight=float(m.priority),
            max_current_a=m.charger.max_current_a,
            membership_max_current_a=m.max_current_a,
        )
        for m in g.memberships
    )
    return GroupSpec(
        group_id=g.id,
        organization_id=g.organization_id,
        name=g.name,
        algorithm=g.algorithm,
        version=g.algorithm_version,
        config=config,
        meter_serial=g.meter.serial if g.meter else None,
        meter_id=g.meter_id,
        members=members,
        updated_at=g.updated_at,
    )


def active_versions(s: Session) -> dict[int, datetime]:
    """Active group ids with their last change: cheap enough to poll every second or two."""
    rows = s.execute(
        select(LoadBalancingGroup.id, LoadBalancingGroup.updated_at).where(
            LoadBalancingGroup.state == "active"
        )
    )
    return {gid: updated for gid, updated in rows}


def load_specs(s: Session, group_ids: list[int]) -> dict[int, GroupSpec]:
    groups = s.scalars(
        select(LoadBalancingGroup)
        .where(LoadBalancingGroup.id.in_(group_ids))
        .options(
            selectinload(LoadBalancingGroup.memberships).selectinload(Membership.charger),
            selectinload(LoadBalancingGroup.meter),
        )
    )
    peaks = {
        row.group_id: row.data
        for row in s.scalars(select(BuildingPeakRow).where(BuildingPeakRow.group_id.in_(group_ids)))
    }
    memories = {
        row.group_id: row.data
        for row in s.scalars(
            select(SharingMemoryRow).where(SharingMemoryRow.group_id.in_(group_ids))
        )
    }
    return {
        g.id: replace(spec_of(g), building_peak=peaks.get(g.id), sharing_memory=memories.get(g.id))
        for g in groups
    }
