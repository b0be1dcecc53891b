"""The installation wizard: organization → chargers → meter → group → import → checks →
activate, ending on the live dashboard.

Every step commits real entities through the workflow, so an installer who
leaves halfway keeps what was entered; ``/portal/wizard/{org}`` resumes at the
first step that is not done (see fuseshare.web.progress).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from fuseshare.errors import NotFound
from fuseshare.web import progress as setup
from fuseshare.web.auth import checked_form, page_actor
from fuseshare.web.pages import device_pages, group_form, org_pages
from fuseshare.web.pages.common import can_write, redirect, wf
from fuseshare.web.pages.group_pages import activate_outcome
from fuseshare.web.rendering import render
from fuseshare.workflow import Actor

router = APIRouter(include_in_schema=False)

STEP_NAMES = tuple(step for step, _ in setup.STEPS)


def _url(org_id: int, step: str) -> str:
    return f"/portal/wizard/{org_id}/{step}"


def _dashboard_url(org_id: int, group: dict[str, Any]) -> str:
    return f"/portal/orgs/{org_id}/groups/{group['id']}/dashboard"


def _ctx(request: Request, actor: Actor, org_id: int, step: str) -> dict[str, Any]:
    p = setup.progress(wf(request), actor, org_id)
    return {
        "org": p.organization,
        "progress": p,
        "steps": setup.STEPS,
        "step": step,
        "group": p.group,
        "chargers": p.chargers,
        "meters": p.meters,
        "write": can_write(actor),
    }


@router.get("/portal/wizard")
def wizard_start(request: Request, actor: Actor = Depends(page_actor)) -> Response:
    orgs = wf(request).orgs.list(actor)
    rows = []
    for org in orgs:
        p = setup.progress(wf(request), actor, org["id"])
        rows.append({"org": org, "next_step": p.next_step})
    return render(request, "wizard_start.html", {"rows": rows})


@router.get("/portal/wizard/new")
def wizard_new(request: Request, actor: Actor = Depends(page_actor)) -> Response:
    ctx = org_pages.org_form_context(request, actor)
    return render(request, "wizard_org.html", {**ctx, "steps": setup.STEPS, "step": "organization"})


@router.post("/portal/wizard/new")
async def wizard_create_org(request: Request, actor: Actor = Depends(page_actor)) -> Response:
    form = await checked_form(request)
    org, errors = org_pages.create_org_from_form(request, actor, form)
    if org is None:
        ctx = org_pages.org_form_context(request, actor)
        return render(
            request,
            "wizard_org.html",
            {**ctx, "steps": setup.STEPS, "step": "organization", "form": form, "errors": errors},
            status_code=422,
        )
    return redirect(_url(org["id"], "chargers"))


@router.get("/portal/wizard/{org_id}")
def wizard_resume(org_id: int, request: Request, actor: Actor = Depends(page_actor)) -> Response:
    p = setup.progress(wf(request), actor, org_id)
    if p.next_step == "dashboard" and p.group is not None:
        return redirect(_dashboard_url(org_id, p.group))
    return redirect(_url(org_id, p.next_step))


@router.get("/portal/wizard/{org_id}/{step}")
def wizard_step(
    org_id: int, step: str, request: Request, actor: Actor = Depends(page_actor)
) -> Response:
    if step not in STEP_NAMES or step == "organization":
        if step == "organization":
            return redirect(f"/portal/orgs/{org_id}/edit")
        raise NotFound(f"the wizard has no step '{step}'")
    ctx = _ctx(request, actor, org_id, step)
    needs_group = step in ("import", "checks")
    if needs_group and ctx["group"] is None:
        return redirect(_url(org_id, "group"))
    if step == "group":
        ctx.update(group_form.group_form_context(request, actor, org_id))
    if step == "import":
        ctx["rows"] = group_form.import_rows(ctx["group"], ctx["chargers"])
    if step == "checks":
        ctx["findings"] = wf(request).groups.check(actor, ctx["group"]["id"])
    return render(request, f"wizard_{step}.html", ctx)


@router.post("/portal/wizard/{org_id}/{step}")
async def wizard_submit(
    org_id: int, step: str, request: Request, actor: Actor = Depends(page_actor)
) -> Response:
    ctx = _ctx(request, actor, org_id, step)
    form = await checked_form(request)
    errors: dict[str, str] = {}
    if step == "chargers":
        errors = device_pages.add_charger(request, actor, org_id, form)
        if not errors:
            return redirect(_url(org_id, "chargers"))
        ctx["form"] = {"serial": form.get("serial", "")}
    elif step == "meter":
        errors = device_pages.add_meter(request, actor, org_id, form)
        if not errors:
            return redirect(_url(org_id, "group"))
        ctx["form"] = {"serial": form.get("serial", "")}
    elif step == "group":
        group, errors = group_form.create_group(request, actor, org_id, form)
        if group is not None:
            return redirect(_url(org_id, "import"))
        ctx.update(
            group_form.group_form_context(request, actor, org_id, group_form.form_values(form))
        )
    elif step == "import" and ctx["group"] is not None:
        errors = group_form.import_chargers(request, actor, ctx["group"], form)
        if not errors:
            return redirect(_url(org_id, "checks"))
        ctx["rows"] = group_form.import_rows(ctx["group"], ctx["chargers"], form)
    elif step == "checks" and ctx["group"] is not None:
        ok, outcome = activate_outcome(
            request, actor, ctx["group"]["id"], form.get("confirm") == "1"
        )
        if ok:
            return redirect(_dashboard_url(org_id, ctx["group"]))
        ctx.update(outcome)
        ctx["findings"] = wf(request).groups.check(actor, ctx["group"]["id"])
        return render(request, "wizard_checks.html", ctx, status_code=409)
    else:
        raise NotFound(f"the wizard has no step '{step}' to submit")
    return render(request, f"wizard_{step}.html", {**ctx, "errors": errors}, status_code=422)
