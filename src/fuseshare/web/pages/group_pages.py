"""Admin portal: load balancing groups — create, import chargers, check, activate,
deactivate, edit, delete — and the live dashboard."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from fuseshare.errors import ActivationRefused, ConfirmationNeeded, Conflict, InvalidInput
from fuseshare.web import queries
from fuseshare.web.auth import checked_form, page_actor
from fuseshare.web.pages import group_form
from fuseshare.web.pages.common import can_write, group_in_org, org_or_404, redirect, wf
from fuseshare.web.rendering import field_errors, render
from fuseshare.workflow import Actor

router = APIRouter(include_in_schema=False)


def _base(request: Request, actor: Actor, org_id: int) -> dict[str, Any]:
    return {"org": org_or_404(request, actor, org_id), "tab": "groups", "write": can_write(actor)}


@router.get("/portal/orgs/{org_id}/groups")
def groups(org_id: int, request: Request, actor: Actor = Depends(page_actor)) -> Response:
    ctx = _base(request, actor, org_id)
    ctx["groups"] = wf(request).groups.list(actor, org_id)
    ctx["has_chargers"] = bool(wf(request).devices.list_chargers(actor, org_id))
    return render(request, "groups.html", ctx)


@router.get("/portal/orgs/{org_id}/groups/new")
def new_group(org_id: int, request: Request, actor: Actor = Depends(page_actor)) -> Response:
    ctx = _base(request, actor, org_id)
    ctx.update(group_form.group_form_context(request, actor, org_id))
    return render(request, "group_form.html", {**ctx, "group": None})


@router.post("/portal/orgs/{org_id}/groups/new")
async def create_group(
    org_id: int, request: Request, actor: Actor = Depends(page_actor)
) -> Response:
    ctx = _base(request, actor, org_id)
    form = await checked_form(request)
    group, errors = group_form.create_group(request, actor, org_id, form)
    if group is not None:
        return redirect(f"/portal/orgs/{org_id}/groups/{group['id']}")
    ctx.update(group_form.group_form_context(request, actor, org_id, group_form.form_values(form)))
    return render(request, "group_form.html", {**ctx, "group": None, "errors": errors}, 422)


def detail_context(
    request: Request, actor: Actor, org_id: int, group_id: int, form: dict[str, str] | None = None
) -> dict[str, Any]:
    ctx = _base(request, actor, org_id)
    group = group_in_org(request, actor, org_id, group_id)
    chargers = wf(request).devices.list_chargers(actor, org_id)
    ctx.update(
        {
            "group": group,
            "rows": group_form.import_rows(group, chargers, form),
            "findings": wf(request).groups.check(actor, group_id),
            "events": queries.events(wf(request).ctx, org_id, "group_", group_id=group_id),
            "events_subject": "Group",
            "grids": dict(
                (g, label)
                for g, label in group_form.group_form_context(request, actor, org_id)["grids"]
            ),
        }
    )
    return ctx


@router.get("/portal/orgs/{org_id}/groups/{group_id}")
def group_detail(
    org_id: int, group_id: int, request: Request, actor: Actor = Depends(page_actor)
) -> Response:
    return render(request, "group_detail.html", detail_context(request, actor, org_id, group_id))


@router.post("/portal/orgs/{org_id}/groups/{group_id}/import")
async def import_chargers(
    org_id: int, group_id: int, request: Request, actor: Actor = Depends(page_actor)
) -> Response:
    group = group_in_org(request, actor, org_id, group_id)
    form = await checked_form(request)
    errors = group_form.import_chargers(request, actor, group, form)
    if not errors:
        return redirect(f"/portal/orgs/{org_id}/groups/{group_id}#import")
    ctx = detail_context(request, actor, org_id, group_id, form)
    return render(request, "group_detail.html", {**ctx, "errors": errors}, 422)


@router.post("/portal/orgs/{org_id}/groups/{group_id}/remove-charger")
async def remove_charger(
    org_id: int, group_id: int, request: Request, actor: Actor = Depends(page_actor)
) -> Response:
    group_in_org(request, actor, org_id, group_id)
    form = await checked_form(request)
    wf(request).groups.remove_charger(actor, group_id, form.get("charger", ""))
    return redirect(f"/portal/orgs/{org_id}/groups/{group_id}#import")


def activate_outcome(
    request: Request, actor: Actor, group_id: int, confirm: bool
) -> tuple[bool, dict[str, Any]]:
    """Try to activate; (True, {}) or (False, what to show: refused or needs confirmation)."""
    try:
        wf(request).groups.activate(actor, group_id, confirm=confirm)
    except ActivationRefused as exc:
        return False, {"refused": [f.to_dict() for f in exc.findings]}
    except ConfirmationNeeded as exc:
        return False, {"needs_confirmation": [f.to_dict() for f in exc.findings]}
    return True, {}


@router.post("/portal/orgs/{org_id}/groups/{group_id}/activate")
async def activate(
    org_id: int, group_id: int, request: Request, actor: Actor = Depends(page_actor)
) -> Response:
    group_in_org(request, actor, org_id, group_id)
    form = await checked_form(request)
    ok, outcome = activate_outcome(request, actor, group_id, form.get("confirm") == "1")
    if ok:
        return redirect(f"/portal/orgs/{org_id}/groups/{group_id}/dashboard")
    ctx = detail_context(request, actor, org_id, group_id)
    return render(request, "group_detail.html", {**ctx, **outcome}, 409)


@router.post("/portal/orgs/{org_id}/groups/{group_id}/deactivate")
async def deactivate(
    org_id: int, group_id: int, request: Request, actor: Actor = Depends(page_actor)
) -> Response:
    group_in_org(request, actor, org_id, group_id)
    await checked_form(request)
    wf(request).groups.deactivate(actor, group_id)
    return redirect(f"/portal/orgs/{org_id}/groups/{group_id}")


def _edit_values(group: dict[str, Any]) -> dict[str, Any]:
    values = {k: group[k] for k in group_form.SETTING_NAMES}
    values["meter"] = group["meter"] or ""
    values["algorithm"] = f"{group['algorithm']}:{group['algorithm_version']}"
    return values


@router.get("/portal/orgs/{org_id}/groups/{group_id}/edit")
def edit_group(
    org_id: int, group_id: int, request: Request, actor: Actor = Depends(page_actor)
) -> Response:
    ctx = _base(request, actor, org_id)
    group = group_in_org(request, actor, org_id, group_id)
    ctx.update(group_form.group_form_context(request, actor, org_id, _edit_values(group)))
    return render(request, "group_form.html", {**ctx, "group": group})


@router.post("/portal/orgs/{org_id}/groups/{group_id}/edit")
async def update_group(
    org_id: int, group_id: int, request: Request, actor: Actor = Depends(page_actor)
) -> Response:
    ctx = _base(request, actor, org_id)
    group = group_in_org(request, actor, org_id, group_id)
    form = await checked_form(request)
    settings, meter, _algorithm, version = group_form.parse_group_form(form)
    outcome: dict[str, Any] = {}
    try:
        wf(request).groups.update(
            actor,
            group_id,
            meter=meter,
            clear_meter=meter is None,
            algorithm_version=version if version != group["algorithm_version"] else None,
            confirm=form.get("confirm") == "1",
            **asdict(settings),
        )
        return redirect(f"/portal/orgs/{org_id}/groups/{group_id}")
    except InvalidInput as exc:
        outcome["errors"] = field_errors(exc.errors)
    except ConfirmationNeeded as exc:
        outcome["needs_confirmation"] = [f.to_dict() for f in exc.findings]
    except ActivationRefused as exc:
        outcome["refused"] = [f.to_dict() for f in exc.findings]
    ctx.update(group_form.group_form_context(request, actor, org_id, group_form.form_values(form)))
    return render(request, "group_form.html", {**ctx, "group": group, **outcome}, 422)


@router.get("/portal/orgs/{org_id}/groups/{group_id}/delete")
def delete_confirm(
    org_id: int, group_id: int, request: Request, actor: Actor = Depends(page_actor)
) -> Response:
    ctx = _base(request, actor, org_id)
    group = group_in_org(request, actor, org_id, group_id)
    return render(
        request,
        "confirm.html",
        {
            **ctx,
            "title": f"Delete group '{group['name']}'?",
            "text": "The group and its chargers' settings in it (phases, failsafe current) are "
            "deleted. The chargers stay in the organization. This cannot be undone.",
            "action": f"/portal/orgs/{org_id}/groups/{group_id}/delete",
            "button": "Delete group",
            "cancel": f"/portal/orgs/{org_id}/groups/{group_id}",
            "blocked": "Deactivate the group first: an active group cannot be deleted."
            if group["state"] == "active"
            else "",
        },
    )


@router.post("/portal/orgs/{org_id}/groups/{group_id}/delete")
async def delete_group(
    org_id: int, group_id: int, request: Request, actor: Actor = Depends(page_actor)
) -> Response:
    group_in_org(request, actor, org_id, group_id)
    await checked_form(request)
    try:
        wf(request).groups.delete(actor, group_id)
    except Conflict as exc:
        ctx = detail_context(request, actor, org_id, group_id)
        return render(request, "group_detail.html", {**ctx, "problem": exc.message}, 409)
    return redirect(f"/portal/orgs/{org_id}/groups")


@router.get("/portal/orgs/{org_id}/groups/{group_id}/dashboard")
def dashboard(
    org_id: int, group_id: int, request: Request, actor: Actor = Depends(page_actor)
) -> Response:
    ctx = _base(request, actor, org_id)
    group = group_in_org(request, actor, org_id, group_id)
    latest = request.app.state.board.latest(group_id)
    return render(
        request,
        "dashboard.html",
        {**ctx, "group": group, "initial": latest.to_dict() if latest else None},
    )
