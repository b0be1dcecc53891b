"""Load balancing groups: create, edit, import chargers, activate and deactivate.

Activation runs the commissioning checks: the pure ones of the balancing core
(settings that cannot work electrically) and the ones only the store can
answer (a meter of another organization, a charger in another active group).
Errors refuse activation; warnings ask for confirmation.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fuseshare.balancing import registry as algorithms
from fuseshare.errors import (
    ActivationRefused,
    ConfirmationNeeded,
    Conflict,
    FieldError,
    Finding,
    InvalidInput,
)
from fuseshare.store.tables import LoadBalancingGroup, Membership, PowerMeter
from fuseshare.workflow import audit, commissioning, lookup, rules
from fuseshare.workflow.actors import Actor
from fuseshare.workflow.context import Context
from fuseshare.workflow.views import group_view

Findings = list[Finding]
Dicts = list[dict[str, Any]]
"""(An alias: inside ``Groups`` the name ``list`` is the method that lists groups.)"""

SETTING_FIELDS = (
    "name",
    "description",
    "grid",
    "outlet_active",
    "max_current_offline_a",
    "max_current_online_a",
    "min_current_a",
    "max_supply_current_a",
    "margin_a",
)


def _meter_in_org(s: Session, actor: Actor, serial: str | None, organization_id: int) -> int | None:
    if not serial:
        return None
    meter = s.scalar(select(PowerMeter).where(PowerMeter.serial == serial.strip()))
    if meter is None or not actor.can_see_org(meter.organization_id, meter.organization.partner_id):
        raise InvalidInput.one(
            "meter", f"no power meter '{serial}' has been added; add it first (serial + PIN)"
        )
    if meter.organization_id != organization_id:
        raise InvalidInput.one(
            "meter",
            f"power meter {serial} belongs to another organization; choose a meter of this "
            "organization, or leave the meter empty",
        )
    return meter.id


def _active_groups_of(s: Session, charger_id: int, except_group: int) -> list[LoadBalancingGroup]:
    return list(
        s.scalars(
            select(LoadBalancingGroup)
            .join(Membership, Membership.group_id == LoadBalancingGroup.id)
            .where(
                Membership.charger_id == charger_id,
                LoadBalancingGroup.state == "active",
                LoadBalancingGroup.id != except_group,
            )
        )
    )


def _algorithm_errors(name: str, version: int | None) -> tuple[int | None, list[FieldError]]:
    try:
        resolved = algorithms.newest_version(name) if version is None else version
        algorithms.get_algorithm(name, resolved)
    except (KeyError, ValueError, LookupError) as exc:
        message = exc.args[0] if exc.args else str(exc)
        return None, [FieldError("algorithm_version" if version else "algorithm", str(message))]
    return resolved, []


class Groups:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def _audit(
        self,
        s: Session,
        actor: Actor,
        g: LoadBalancingGroup,
        action: str,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
        entity: str = "group",
        entity_id: object = None,
    ) -> None:
        audit.record(
            s,
            actor=actor.name,
            at=self._ctx.clock(),
            entity=entity,
            entity_id=entity_id if entity_id is not None else g.id,
            action=action,
            organization_id=g.organization_id,
            before=before,
            after=after,
        )

    def create(
        self,
        actor: Actor,
        *,
        organization: str | int,
        settings: rules.GroupSettings,
        meter: str | None = None,
        algorithm: str = "standard",
        algorithm_version: int | None = None,
    ) -> dict[str, Any]:
        actor.require_write("create load balancing groups")
        errors = rules.check_group_settings(settings)
        version, algo_errors = _algorithm_errors(algorithm, algorithm_version)
        errors += algo_errors
        if errors:
            raise InvalidInput(errors)
        with self._ctx.unit() as s:
            org = lookup.organization(s, actor, organization)
            meter_id = _meter_in_org(s, actor, meter, org.id)
            if s.scalar(
                select(LoadBalancingGroup).where(
                    LoadBalancingGroup.organization_id == org.id,
                    LoadBalancingGroup.name == settings.name.strip(),
                )
            ):
                raise InvalidInput.one(
                    "name", f"this organization has a group called '{settings.name}' already"
                )
            values = asdict(settings)
            values["name"] = settings.name.strip()
            values["description"] = settings.description.strip()
            now = self._ctx.clock()
            g = LoadBalancingGroup(
                organization_id=org.id,
                meter_id=meter_id,
                algorithm=algorithm,
                algorithm_version=version,
                state="draft",
                created_at=now,
                updated_at=now,
                **values,
            )
            s.add(g)
            s.flush()
            self._audit(s, actor, g, "create", None, audit.snapshot(g))
            return group_view(g)

    def update(
        self,
        actor: Actor,
        ref: str | int,
        *,
        meter: str | None = None,
        clear_meter: bool = False,
        algorithm_version: int | None = None,
        confirm: bool = False,
        **changes: Any,
    ) -> dict[str, Any]:
        """Change settings. On an active group the change must pass the checks again,
        and takes effect on the control loop's next cycle."""
        actor.require_write("change load balancing groups")
        changes = {k: v for k, v in changes.items() if v is not None}
        unknown = set(changes) - set(SETTING_FIELDS)
        if unknown:
            raise InvalidInput.one(sorted(unknown)[0], "unknown group field")
        with self._ctx.unit() as s:
            g = lookup.group(s, actor, ref)
            before = audit.snapshot(g)
            current = {f: getattr(g, f) for f in SETTING_FIELDS}
            current.update(changes)
            settings = rules.GroupSettings(**current)
            errors = rules.check_group_settings(settings)
            if algorithm_version is not None:
                _, algo_errors = _algorithm_errors(g.algorithm, algorithm_version)
                errors += algo_errors
            if errors:
                raise InvalidInput(errors)
            for key, value in changes.items():
                setattr(g, key, value.strip() if isinstance(value, str) else value)
            if algorithm_version is not None:
                g.algorithm_version = algorithm_version
            if clear_meter:
                g.meter_id = None
            elif meter is not None:
                g.meter_id = _meter_in_org(s, actor, meter, g.organization_id)
            s.flush()
            if g.state == "active":
                findings = self._findings(s, g)
                self._gate(findings, confirm)
            self._audit(s, actor, g, "update", before, audit.snapshot(g))
            return group_view(g)

    def delete(self, actor: Actor, ref: str | int) -> None:
        actor.require_write("delete load balancing groups")
        with self._ctx.unit() as s:
            g = lookup.group(s, actor, ref)
            if g.state == "active":
                raise Conflict(
                    f"group '{g.name}' is active; deactivate it first so that its chargers are "
                    "left at a safe fixed limit"
                )
            before = group_view(g)
            self._audit(s, actor, g, "delete", before, None)
            s.delete(g)

    def list(self, actor: Actor, organization: str | int | None = None) -> list[dict[str, Any]]:
        with self._ctx.unit() as s:
            query = select(LoadBalancingGroup).order_by(LoadBalancingGroup.id)
            if organization is not None:
                org = lookup.organization(s, actor, organization)
                query = query.where(LoadBalancingGroup.organization_id == org.id)
            return [
                group_view(g)
                for g in s.scalars(query)
                if actor.can_see_org(g.organization_id, g.organization.partner_id)
            ]

    def show(self, actor: Actor, ref: str | int) -> dict[str, Any]:
        with self._ctx.unit() as s:
            return group_view(lookup.group(s, actor, ref))

    def import_charger(
        self,
        actor: Actor,
        ref: str | int,
        *,
        charger: str,
        membership: rules.MembershipSettings,
        confirm: bool = False,
    ) -> dict[str, Any]:
        """Put a charger of the organization into the group (or change its membership)."""
        actor.require_write("import chargers into groups")
        with self._ctx.unit() as s:
            g = lookup.group(s, actor, ref)
            c = lookup.charger(s, actor, charger)
            if c.organization_id != g.organization_id:
                raise InvalidInput.one(
                    "charger",
                    f"charger {c.serial} belongs to another organization; add it to this "
                    "organization first",
                )
            wiring, errors = rules.check_membership(membership, g.grid, c.serial, c.max_current_a)
            if errors:
                raise InvalidInput(errors)
            assert wiring is not None
            if g.state == "active":
                others = _active_groups_of(s, c.id, g.id)
                if others:
                    raise InvalidInput.one("charger", _two_groups_message(c.serial, others[0]))
            existing = s.scalar(
                select(Membership).where(Membership.group_id == g.id, Membership.charger_id == c.id)
            )
            before = audit.snapshot(existing) if existing else None
            if existing is None:
                existing = Membership(group_id=g.id, charger_id=c.id)
                s.add(existing)
            existing.phases = ",".join(wiring)
            existing.failsafe_current_a = float(membership.failsafe_current_a)
            existing.priority = membership.priority
            existing.max_current_a = membership.max_current_a
            g.updated_at = self._ctx.clock()  # the control loop notices changes by this
            s.flush()
            s.refresh(g)
            if g.state == "active":
                self._gate(self._findings(s, g), confirm)
            self._audit(
                s,
                actor,
                g,
                "import" if before is None else "update",
                before,
                audit.snapshot(existing),
                entity="membership",
                entity_id=f"{g.id}:{c.serial}",
            )
            return group_view(g)

    def remove_charger(self, actor: Actor, ref: str | int, charger: str) -> dict[str, Any]:
        actor.require_write("remove chargers from groups")
        with self._ctx.unit() as s:
            g = lookup.group(s, actor, ref)
            c = lookup.charger(s, actor, charger)
            m = s.scalar(
                select(Membership).where(Membership.group_id == g.id, Membership.charger_id == c.id)
            )
            if m is None:
                raise InvalidInput.one("charger", f"charger {c.serial} is not in group '{g.name}'")
            before = audit.snapshot(m)
            g.memberships.remove(m)
            g.updated_at = self._ctx.clock()
            s.flush()
            self._audit(
                s,
                actor,
                g,
                "remove",
                before,
                None,
                entity="membership",
                entity_id=f"{g.id}:{c.serial}",
            )
            return group_view(g)

    # -- commissioning and activation -----------------------------------------------------

    def _findings(self, s: Session, g: LoadBalancingGroup) -> Findings:
        findings = commissioning.pure_findings(g)
        if not g.memberships:
            findings.append(
                Finding(
                    "error",
                    "no_chargers",
                    "the group has no chargers; import the organization's chargers into it first",
                )
            )
        if g.meter is not None and g.meter.organization_id != g.organization_id:
            findings.append(
                Finding(
                    "error",
                    "meter_other_organization",
                    f"power meter {g.meter.serial} belongs to another organization; choose this "
                    "organization's meter",
                    field="meter",
                )
            )
        for m in g.memberships:
            if m.charger.organization_id != g.organization_id:
                findings.append(
                    Finding(
                        "error",
                        "charger_other_organization",
                        f"charger {m.charger.serial} belongs to another organization; remove it",
                        charger=m.charger.serial,
                    )
                )
            others = _active_groups_of(s, m.charger_id, g.id)
            if others:
                findings.append(
                    Finding(
                        "error",
                        "charger_in_two_active_groups",
                        _two_groups_message(m.charger.serial, others[0]),
                        charger=m.charger.serial,
                    )
                )
        return findings

    @staticmethod
    def _gate(findings: Findings, confirm: bool) -> None:
        if any(f.severity == "error" for f in findings):
            raise ActivationRefused(findings)
        if findings and not confirm:
            raise ConfirmationNeeded(findings)

    def check(self, actor: Actor, ref: str | int) -> Dicts:
        """The commissioning findings for the group as it is now."""
        with self._ctx.unit() as s:
            return [f.to_dict() for f in self._findings(s, lookup.group(s, actor, ref))]

    def activate(self, actor: Actor, ref: str | int, *, confirm: bool = False) -> dict[str, Any]:
        actor.require_write("activate load balancing groups")
        with self._ctx.unit() as s:
            g = lookup.group(s, actor, ref)
            if g.state == "active":
                return group_view(g)
            self._gate(self._findings(s, g), confirm)
            before = audit.snapshot(g)
            g.state = "active"
            g.activated_at = g.updated_at = self._ctx.clock()
            s.flush()
            self._audit(s, actor, g, "activate", before, audit.snapshot(g))
            return group_view(g)

    def deactivate(self, actor: Actor, ref: str | int) -> dict[str, Any]:
        actor.require_write("deactivate load balancing groups")
        with self._ctx.unit() as s:
            g = lookup.group(s, actor, ref)
            if g.state != "active":
                return group_view(g)
            before = audit.snapshot(g)
            g.state = "inactive"
            g.updated_at = self._ctx.clock()
            s.flush()
            self._audit(s, actor, g, "deactivate", before, audit.snapshot(g))
            return group_view(g)


def _two_groups_message(serial: str, other: LoadBalancingGroup) -> str:
    return (
        f"charger {serial} is already in active group '{other.name}'; a charger can be balanced by "
        "one active group only — remove it there or deactivate that group"
    )
