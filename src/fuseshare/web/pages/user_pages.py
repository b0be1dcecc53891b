"""Users of a partner: installers, partner admins and organization users (admins only)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from fuseshare.errors import Conflict, Forbidden, InvalidInput
from fuseshare.web.auth import checked_form, page_actor
from fuseshare.web.pages.common import redirect, wf
from fuseshare.web.rendering import field_errors, render
from fuseshare.workflow import Actor

router = APIRouter(include_in_schema=False)

USER_ADMIN_ROLES = ("platform_admin", "partner_admin", "operator")
ROLE_CHOICES = ("installer", "partner_admin", "org_user")


def _require_admin(actor: Actor) -> None:
    if actor.role not in USER_ADMIN_ROLES:
        raise Forbidden("only a partner admin manages users; ask yours to add or change users")


def _context(request: Request, actor: Actor) -> dict[str, Any]:
    w = wf(request)
    orgs = w.orgs.list(actor)
    return {
        "users": w.accounts.list_users(actor),
        "orgs": orgs,
        "org_names": {o["id"]: o["name"] for o in orgs},
        "partners": w.accounts.list_partners(actor),
        "role_choices": ROLE_CHOICES,
    }


@router.get("/portal/users")
def users(request: Request, actor: Actor = Depends(page_actor)) -> Response:
    _require_admin(actor)
    return render(
        request, "users.html", {**_context(request, actor), "form": {"role": "installer"}}
    )


@router.post("/portal/users")
async def create_user(request: Request, actor: Actor = Depends(page_actor)) -> Response:
    _require_admin(actor)
    form = await checked_form(request)
    role = form.get("role", "")
    organization: Any = form.get("organization") or None
    partner: Any = form.get("partner") or actor.partner_id
    if role == "org_user":
        partner = None
    else:
        organization = None
    errors: dict[str, str] = {}
    try:
        wf(request).accounts.create_user(
            actor,
            email=form.get("email", ""),
            name=form.get("name", ""),
            password=form.get("password", ""),
            role=role,
            partner=int(partner) if partner is not None and str(partner).isdigit() else partner,
            organization=int(organization) if organization and organization.isdigit() else None,
        )
    except InvalidInput as exc:
        errors = field_errors(exc.errors)
    except Conflict as exc:
        errors = {"email": exc.message}
    if not errors:
        return redirect("/portal/users")
    return render(
        request,
        "users.html",
        {**_context(request, actor), "form": form, "errors": errors},
        status_code=422,
    )
