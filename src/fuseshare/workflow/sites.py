"""Organizations: the sites where chargers are installed, with the customer's details."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from fuseshare.errors import Conflict, FieldError, Forbidden, InvalidInput
from fuseshare.store.tables import AUTHORIZE_MODES, Organization
from fuseshare.workflow import audit, lookup, rules
from fuseshare.workflow.actors import Actor
from fuseshare.workflow.context import Context
from fuseshare.workflow.views import organization_view

EDITABLE = (
    "name",
    "site_type",
    "contact_name",
    "contact_email",
    "contact_phone",
    "address",
    "postal_code",
    "city",
    "country",
    "authorize_mode",
)


def _check(values: dict[str, Any]) -> list[FieldError]:
    errors: list[FieldError] = []
    if "name" in values and not str(values["name"]).strip():
        errors.append(FieldError("name", "a name is required, e.g. 'Solbakken Borettslag'"))
    if "site_type" in values:
        errors += rules.check_site_type(values["site_type"])
    email = str(values.get("contact_email") or "")
    if email and ("@" not in email or "." not in email.split("@")[-1]):
        errors.append(FieldError("contact_email", f"'{email}' is not an e-mail address"))
    country = str(values.get("country") or "")
    if country and (len(country) != 2 or not country.isalpha()):
        errors.append(FieldError("country", "use the two-letter country code, e.g. NO or DE"))
    if "authorize_mode" in values and values["authorize_mode"] not in AUTHORIZE_MODES:
        errors.append(FieldError("authorize_mode", "choose one of: " + ", ".join(AUTHORIZE_MODES)))
    return errors


class Organizations:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def create(
        self, actor: Actor, *, partner: str | int | None = None, **values: Any
    ) -> dict[str, Any]:
        actor.require_write("create organizations")
        unknown = set(values) - set(EDITABLE)
        if unknown:
            raise InvalidInput.one(sorted(unknown)[0], "unknown field")
        values.setdefault("site_type", "private_home")
        if values.get("country"):
            values["country"] = str(values["country"]).upper()
        values["name"] = str(values.get("name", "")).strip()
        errors = _check(values)
        if errors:
            raise InvalidInput(errors)
        with self._ctx.unit() as s:
            if partner is None:
                if actor.partner_id is None:
                    raise InvalidInput.one(
                        "partner", "say which partner (installer company) this site belongs to"
                    )
                partner_id = actor.partner_id
            else:
                partner_id = lookup.partner(s, partner).id
                if not actor.sees_everything and partner_id != actor.partner_id:
                    raise Forbidden("you can only create organizations for your own partner")
            exists = s.scalar(
                select(Organization).where(
                    Organization.partner_id == partner_id, Organization.name == values["name"]
                )
            )
            if exists:
                raise Conflict(
                    f"an organization called '{values['name']}' exists already (id {exists.id}); "
                    "use it or choose another name"
                )
            org = Organization(partner_id=partner_id, created_at=self._ctx.clock(), **values)
            s.add(org)
            s.flush()
            audit.record(
                s,
                actor=actor.name,
                at=self._ctx.clock(),
                entity="organization",
                entity_id=org.id,
                action="create",
                organization_id=org.id,
                before=None,
                after=audit.snapshot(org),
            )
            return organization_view(org)

    def update(self, actor: Actor, ref: str | int, **values: Any) -> dict[str, Any]:
        actor.require_write("change organizations")
        values = {k: v for k, v in values.items() if v is not None}
        unknown = set(values) - set(EDITABLE)
        if unknown:
            raise InvalidInput.one(sorted(unknown)[0], "unknown field")
        errors = _check(values)
        if errors:
            raise InvalidInput(errors)
        with self._ctx.unit() as s:
            org = lookup.organization(s, actor, ref)
            before = audit.snapshot(org)
            for key, value in values.items():
                setattr(org, key, value)
            s.flush()
            audit.record(
                s,
                actor=actor.name,
                at=self._ctx.clock(),
                entity="organization",
                entity_id=org.id,
                action="update",
                organization_id=org.id,
                before=before,
                after=audit.snapshot(org),
            )
            return organization_view(org)

    def list(self, actor: Actor, search: str = "") -> list[dict[str, Any]]:
        with self._ctx.unit() as s:
            query = select(Organization).order_by(Organization.name)
            if search:
                query = query.where(Organization.name.ilike(f"%{search}%"))
            return [
                organization_view(o)
                for o in s.scalars(query)
                if actor.can_see_org(o.id, o.partner_id)
            ]

    def show(self, actor: Actor, ref: str | int) -> dict[str, Any]:
        with self._ctx.unit() as s:
            return organization_view(lookup.organization(s, actor, ref))
