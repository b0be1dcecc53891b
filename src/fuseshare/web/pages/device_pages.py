"""Admin portal: the organization's chargers and power meters."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from fuseshare.errors import Conflict, InvalidInput, LockedOut, NotFound, WrongSecret
from fuseshare.web import device_status, queries
from fuseshare.web.auth import checked_form, page_actor
from fuseshare.web.pages.common import can_write, org_or_404, redirect, wf
from fuseshare.web.rendering import field_errors, render
from fuseshare.workflow import Actor

router = APIRouter(include_in_schema=False)


def add_charger(
    request: Request, actor: Actor, org_id: int, form: dict[str, str]
) -> dict[str, str]:
    """Add the charger named in the form; returns field errors (empty on success)."""
    try:
        wf(request).devices.add_charger(
            actor,
            organization=org_id,
            serial=form.get("serial", ""),
            password=form.get("password", ""),
        )
    except InvalidInput as exc:
        return field_errors(exc.errors)
    except (WrongSecret, LockedOut) as exc:
        return {"password": exc.message}
    except (Conflict, NotFound) as exc:
        return {"serial": exc.message}
    return {}


def add_meter(request: Request, actor: Actor, org_id: int, form: dict[str, str]) -> dict[str, str]:
    try:
        wf(request).devices.add_meter(
            actor, organization=org_id, serial=form.get("serial", ""), pin=form.get("pin", "")
        )
    except InvalidInput as exc:
        return field_errors(exc.errors)
    except (WrongSecret, LockedOut) as exc:
        return {"pin": exc.message}
    except (Conflict, NotFound) as exc:
        return {"serial": exc.message}
    return {}


def chargers_context(request: Request, actor: Actor, org_id: int) -> dict[str, Any]:
    w = wf(request)
    chargers = w.devices.list_chargers(actor, org_id)
    groups = w.groups.list(actor, org_id)
    rows = device_status.chargers_with_status(w, request.app.state.board, chargers, groups)
    return {
        "chargers": [c for c in rows if c["connection_state"] != "never_connected"],
        "waiting": [c for c in rows if c["connection_state"] == "never_connected"],
        "all_chargers": rows,
        "knocking": w.devices.waiting_to_be_added(actor),
        "events": queries.events(wf(request).ctx, org_id, "charger_"),
    }


@router.get("/portal/orgs/{org_id}/chargers")
def chargers(org_id: int, request: Request, actor: Actor = Depends(page_actor)) -> Response:
    org = org_or_404(request, actor, org_id)
    ctx = {"org": org, "tab": "chargers", "write": can_write(actor)}
    ctx.update(chargers_context(request, actor, org_id))
    if request.headers.get("hx-request"):
        return render(request, "partials/charger_table.html", ctx)
    return render(request, "chargers.html", ctx)


@router.post("/portal/orgs/{org_id}/chargers")
async def charger_add(
    org_id: int, request: Request, actor: Actor = Depends(page_actor)
) -> Response:
    org = org_or_404(request, actor, org_id)
    form = await checked_form(request)
    errors = add_charger(request, actor, org_id, form)
    if not errors:
        return redirect(f"/portal/orgs/{org_id}/chargers")
    ctx = {"org": org, "tab": "chargers", "write": can_write(actor), "errors": errors}
    ctx["form"] = {"serial": form.get("serial", "")}
    ctx.update(chargers_context(request, actor, org_id))
    return render(request, "chargers.html", ctx, status_code=422)


@router.get("/portal/orgs/{org_id}/chargers/{serial}/remove")
def charger_remove_confirm(
    org_id: int, serial: str, request: Request, actor: Actor = Depends(page_actor)
) -> Response:
    org = org_or_404(request, actor, org_id)
    charger = wf(request).devices.show_charger(actor, serial)
    if charger["organization_id"] != org_id:
        raise NotFound(f"no charger '{serial}' in this organization")
    return render(
        request,
        "confirm.html",
        {
            "org": org,
            "tab": "chargers",
            "title": f"Remove charger {serial}?",
            "text": "The charger is taken out of this organization. It can be added again later "
            "with its serial and password.",
            "action": f"/portal/orgs/{org_id}/chargers/{serial}/remove",
            "button": "Remove charger",
            "cancel": f"/portal/orgs/{org_id}/chargers",
        },
    )


@router.post("/portal/orgs/{org_id}/chargers/{serial}/remove")
async def charger_remove(
    org_id: int, serial: str, request: Request, actor: Actor = Depends(page_actor)
) -> Response:
    org_or_404(request, actor, org_id)
    await checked_form(request)
    charger = wf(request).devices.show_charger(actor, serial)
    if charger["organization_id"] != org_id:
        raise NotFound(f"no charger '{serial}' in this organization")
    wf(request).devices.remove_charger(actor, serial)
    return redirect(f"/portal/orgs/{org_id}/chargers")


def meters_context(request: Request, actor: Actor, org_id: int) -> dict[str, Any]:
    meters = wf(request).devices.list_meters(actor, org_id)
    return {
        "meters": [{**m, "currents": device_status.meter_currents(m)} for m in meters],
        "events": queries.events(wf(request).ctx, org_id, "meter_"),
    }


@router.get("/portal/orgs/{org_id}/meters")
def meters(org_id: int, request: Request, actor: Actor = Depends(page_actor)) -> Response:
    org = org_or_404(request, actor, org_id)
    ctx = {"org": org, "tab": "meters", "write": can_write(actor)}
    ctx.update(meters_context(request, actor, org_id))
    if request.headers.get("hx-request"):
        return render(request, "partials/meter_table.html", ctx)
    return render(request, "meters.html", ctx)


@router.post("/portal/orgs/{org_id}/meters")
async def meter_add(org_id: int, request: Request, actor: Actor = Depends(page_actor)) -> Response:
    org = org_or_404(request, actor, org_id)
    form = await checked_form(request)
    errors = add_meter(request, actor, org_id, form)
    if not errors:
        return redirect(f"/portal/orgs/{org_id}/meters")
    ctx = {"org": org, "tab": "meters", "write": can_write(actor), "errors": errors}
    ctx["form"] = {"serial": form.get("serial", "")}
    ctx.update(meters_context(request, actor, org_id))
    return render(request, "meters.html", ctx, status_code=422)
