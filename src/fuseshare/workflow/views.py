"""Plain, JSON-ready views of stored things, for the CLI's --json, the API and the portal.

Built inside the unit of work, so nothing is lazily loaded later. No secrets.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fuseshare.store.tables import (
    AuditEntry,
    Charger,
    LoadBalancingGroup,
    Membership,
    Organization,
    Partner,
    PowerMeter,
    User,
)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def partner_view(p: Partner) -> dict[str, Any]:
    return {"id": p.id, "name": p.name, "created_at": _iso(p.created_at)}


def user_view(u: User) -> dict[str, Any]:
    return {
        "id": u.id,
        "email": u.email,
        "name": u.name,
        "role": u.role,
        "partner_id": u.partner_id,
        "organization_id": u.organization_id,
        "active": u.active,
    }


def organization_view(o: Organization) -> dict[str, Any]:
    return {
        "id": o.id,
        "partner_id": o.partner_id,
        "partner": o.partner.name,
        "name": o.name,
        "site_type": o.site_type,
        "contact_name": o.contact_name,
        "contact_email": o.contact_email,
        "contact_phone": o.contact_phone,
        "address": o.address,
        "postal_code": o.postal_code,
        "city": o.city,
        "country": o.country,
        "authorize_mode": o.authorize_mode,
        "created_at": _iso(o.created_at),
    }


def charger_view(c: Charger) -> dict[str, Any]:
    return {
        "id": c.id,
        "serial": c.serial,
        "organization_id": c.organization_id,
        "vendor": c.vendor,
        "model": c.model,
        "connectors": c.connectors,
        "max_current_a": c.max_current_a,
        "firmware": c.firmware,
        "ocpp_version": c.ocpp_version,
        "connection_state": c.connection_state,
        "last_seen_at": _iso(c.last_seen_at),
        "controllable": c.controllable,
        "not_controllable_reason": c.not_controllable_reason,
    }


def meter_view(m: PowerMeter) -> dict[str, Any]:
    return {
        "id": m.id,
        "serial": m.serial,
        "organization_id": m.organization_id,
        "kind": m.kind,
        "connection": m.connection,
        "state": m.state,
        "last_reading": m.last_reading,
        "last_reading_at": _iso(m.last_reading_at),
    }


def membership_view(m: Membership) -> dict[str, Any]:
    return {
        "charger": m.charger.serial,
        "charger_id": m.charger_id,
        "phases": m.phases,
        "failsafe_current_a": m.failsafe_current_a,
        "priority": m.priority,
        "max_current_a": m.max_current_a,
    }


def group_view(g: LoadBalancingGroup) -> dict[str, Any]:
    return {
        "id": g.id,
        "organization_id": g.organization_id,
        "name": g.name,
        "description": g.description,
        "meter": g.meter.serial if g.meter else None,
        "algorithm": g.algorithm,
        "algorithm_version": g.algorithm_version,
        "outlet_active": g.outlet_active,
        "grid": g.grid,
        "max_current_offline_a": g.max_current_offline_a,
        "max_current_online_a": g.max_current_online_a,
        "min_current_a": g.min_current_a,
        "max_supply_current_a": g.max_supply_current_a,
        "margin_a": g.margin_a,
        "state": g.state,
        "activated_at": _iso(g.activated_at),
        "chargers": [membership_view(m) for m in g.memberships],
    }


def audit_view(a: AuditEntry) -> dict[str, Any]:
    return {
        "id": a.id,
        "at": _iso(a.at),
        "actor": a.actor,
        "organization_id": a.organization_id,
        "entity": a.entity,
        "entity_id": a.entity_id,
        "action": a.action,
        "before": a.before,
        "after": a.after,
    }
