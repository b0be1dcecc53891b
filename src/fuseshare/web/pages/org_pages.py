"""The partner portal (organizations: list, search, create, edit) and the audit log."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from fuseshare.errors import Conflict, InvalidInput
from fuseshare.store.tables import SITE_TYPES
from fuseshare.web.auth import checked_form, page_actor
from fuseshare.web.pages.common import can_write, home_url, org_or_404, redirect, wf
from fuseshare.web.rendering import field_errors, render
from fuseshare.workflow import Actor

router = APIRouter(include_in_schema=False)

SITE_TYPE_LABELS = {
    "private_home": "Private home",
    "housing_association": "Housing association",
    "company": "Company",
}
ORG_FIELDS = (
    "name",
    "site_type",
    "contact_name",
    "contact_email",
    "contact_phone",
    "address",
    "postal_code",
    "city",
    "country",
)


def org_form_context(request: Request, actor: Actor) -> dict[str, Any]:
    partners = wf(request).accounts.list_partners(actor) if actor.sees_everything else []
    return {"site_types": SITE_TYPES, "site_type_labels": SITE_TYPE_LABELS, "partners": partners}


def create_org_from_form(
    request: Request, actor: Actor, form: dict[str, str]
) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """Create the organization; returns (view, {}) or (None, field errors)."""
    values = {k: form.get(k, "").strip() for k in ORG_FIELDS}
    partner: Any = None
    if actor.sees_everything:
        partner = int(form["partner"]) if form.get("partner", "").isdigit() else None
        if partner is None:
            return None, {"partner": "choose the partner (installer company) this site belongs to"}
    try:
        return wf(request).orgs.create(actor, partner=partner, **values), {}
    except InvalidInput as exc:
        return None, field_errors(exc.errors)
    except Conflict as exc:
        return None, {"name": exc.message}


@router.get("/portal")
def partner_portal(
    request: Request, search: str = "", actor: Actor = Depends(page_actor)
) -> Response:
    if actor.role == "org_user":
        return redirect(home_url(actor))
    orgs = wf(request).orgs.list(actor, search.strip())
    template = "partials/org_list.html" if request.headers.get("hx-request") else "portal.html"
    return render(
        request,
        template,
        {"orgs": orgs, "search": search, "site_type_labels": SITE_TYPE_LABELS},
    )


@router.get("/portal/orgs/new")
def new_org(request: Request, actor: Actor = Depends(page_actor)) -> Response:
    return render(request, "org_form.html", {**org_form_context(request, actor), "org": None})


@router.post("/portal/orgs/new")
async def create_org(request: Request, actor: Actor = Depends(page_actor)) -> Response:
    form = await checked_form(request)
    org, errors = create_org_from_form(request, actor, form)
    if org is None:
        return render(
            request,
            "org_form.html",
            {**org_form_context(request, actor), "org": None, "form": form, "errors": errors},
            status_code=422,
        )
    return redirect(f"/portal/orgs/{org['id']}/chargers")


@router.get("/portal/orgs/{org_id}")
def org_home(org_id: int, request: Request, actor: Actor = Depends(page_actor)) -> Response:
    org_or_404(request, actor, org_id)
    return redirect(f"/portal/orgs/{org_id}/chargers")


@router.get("/portal/orgs/{org_id}/edit")
def edit_org(org_id: int, request: Request, actor: Actor = Depends(page_actor)) -> Response:
    org = org_or_404(request, actor, org_id)
    return render(
        request,
        "org_edit.html",
        {
            **org_form_context(request, actor),
            "org": org,
            "form": org,
            "tab": "settings",
            "write": can_write(actor),
        },
    )


@router.post("/portal/orgs/{org_id}/edit")
async def update_org(org_id: int, request: Request, actor: Actor = Depends(page_actor)) -> Response:
    org = org_or_404(request, actor, org_id)
    form = await checked_form(request)
    values = {k: form.get(k, "").strip() for k in ORG_FIELDS}
    try:
        wf(request).orgs.update(actor, org_id, **values)
    except InvalidInput as exc:
        return render(
            request,
            "org_edit.html",
            {
                **org_form_context(request, actor),
                "org": org,
                "form": form,
                "errors": field_errors(exc.errors),
                "tab": "settings",
                "write": can_write(actor),
            },
            status_code=422,
        )
    return redirect(f"/portal/orgs/{org_id}/chargers")


@router.get("/portal/orgs/{org_id}/audit")
def audit(org_id: int, request: Request, actor: Actor = Depends(page_actor)) -> Response:
    org = org_or_404(request, actor, org_id)
    entries = wf(request).history.audit_log(actor, org_id)
    return render(
        request,
        "audit.html",
        {"org": org, "entries": entries, "tab": "audit", "write": can_write(actor)},
    )
