"""Find things by id, name or serial within what the actor may see.

Something the actor may not see is reported exactly like something that does
not exist, so that no one learns of another partner's sites.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from fuseshare.errors import InvalidInput, NotFound
from fuseshare.store.tables import Charger, LoadBalancingGroup, Organization, Partner, PowerMeter
from fuseshare.workflow.actors import Actor


def partner(session: Session, ref: str | int) -> Partner:
    row = None
    if isinstance(ref, int) or str(ref).isdigit():
        row = session.get(Partner, int(ref))
    if row is None:
        row = session.scalar(select(Partner).where(Partner.name == str(ref)))
    if row is None:
        raise NotFound(f"no partner '{ref}'; see `fuseshare partners list`")
    return row


def organization(session: Session, actor: Actor, ref: str | int) -> Organization:
    candidates: list[Organization] = []
    if isinstance(ref, int) or str(ref).isdigit():
        org = session.get(Organization, int(ref))
        if org is not None:
            candidates = [org]
    if not candidates:
        candidates = list(
            session.scalars(select(Organization).where(Organization.name == str(ref)))
        )
    visible = [o for o in candidates if actor.can_see_org(o.id, o.partner_id)]
    if not visible:
        raise NotFound(f"no organization '{ref}'; see `fuseshare orgs list` for names and ids")
    if len(visible) > 1:
        ids = ", ".join(str(o.id) for o in visible)
        raise InvalidInput.one(
            "organization", f"{len(visible)} organizations are called '{ref}'; use the id ({ids})"
        )
    return visible[0]


def group(session: Session, actor: Actor, ref: str | int) -> LoadBalancingGroup:
    candidates: list[LoadBalancingGroup] = []
    if isinstance(ref, int) or str(ref).isdigit():
        g = session.get(LoadBalancingGroup, int(ref))
        if g is not None:
            candidates = [g]
    if not candidates:
        candidates = list(
            session.scalars(select(LoadBalancingGroup).where(LoadBalancingGroup.name == str(ref)))
        )
    visible = [
        g for g in candidates if actor.can_see_org(g.organization_id, g.organization.partner_id)
    ]
    if not visible:
        raise NotFound(f"no load balancing group '{ref}'; see `fuseshare groups list`")
    if len(visible) > 1:
        ids = ", ".join(str(g.id) for g in visible)
        raise InvalidInput.one(
            "group", f"{len(visible)} groups are called '{ref}'; use the id ({ids})"
        )
    return visible[0]


def charger(session: Session, actor: Actor, serial: str) -> Charger:
    row = session.scalar(select(Charger).where(Charger.serial == serial.strip()))
    if row is None or not actor.can_see_org(row.organization_id, row.organization.partner_id):
        raise NotFound(
            f"no charger '{serial}' has been added; add it with `fuseshare chargers add`"
        )
    return row


def meter(session: Session, actor: Actor, serial: str) -> PowerMeter:
    row = session.scalar(select(PowerMeter).where(PowerMeter.serial == serial.strip()))
    if row is None or not actor.can_see_org(row.organization_id, row.organization.partner_id):
        raise NotFound(
            f"no power meter '{serial}' has been added; add it with `fuseshare meters add`"
        )
    return row
