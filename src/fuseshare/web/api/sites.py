"""API: organizations, their chargers and power meters, set-up progress, audit log."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Response

from fuseshare.control.live import LiveBoard
from fuseshare.web import device_status, progress
from fuseshare.web.api import models as m
from fuseshare.web.api.deps import Id, board, wf
from fuseshare.web.auth import api_actor
from fuseshare.workflow import Actor, Workflow

router = APIRouter(prefix="/api/v1", tags=["organizations"])
devices = APIRouter(prefix="/api/v1", tags=["devices"])


@router.get("/organizations", response_model=list[m.OrganizationOut], responses=m.READ)
def list_organizations(
    search: str = Query(default="", max_length=200, description="Part of the name"),
    actor: Actor = Depends(api_actor),
    workflow: Workflow = Depends(wf),
) -> list[dict[str, Any]]:
    """Organizations (sites) the caller may see, by name."""
    return workflow.orgs.list(actor, search.strip())


@router.post("/organizations", status_code=201, response_model=m.OrganizationOut, responses=m.WRITE)
def create_organization(
    body: m.OrganizationIn, actor: Actor = Depends(api_actor), workflow: Workflow = Depends(wf)
) -> dict[str, Any]:
    """Create an organization: the site where chargers are installed."""
    values = body.model_dump(exclude={"partner_id"}, exclude_none=True)
    return workflow.orgs.create(actor, partner=body.partner_id, **values)


@router.get("/organizations/{org_id}", response_model=m.OrganizationOut, responses=m.READ)
def show_organization(
    org_id: Id, actor: Actor = Depends(api_actor), workflow: Workflow = Depends(wf)
) -> dict[str, Any]:
    return workflow.orgs.show(actor, org_id)


@router.patch("/organizations/{org_id}", response_model=m.OrganizationOut, responses=m.WRITE)
def update_organization(
    org_id: Id,
    body: m.OrganizationPatch,
    actor: Actor = Depends(api_actor),
    workflow: Workflow = Depends(wf),
) -> dict[str, Any]:
    """Change the customer's details; fields left out stay as they are."""
    return workflow.orgs.update(actor, org_id, **body.model_dump(exclude_none=True))


@router.get("/organizations/{org_id}/setup", response_model=m.SetupProgress, responses=m.READ)
def setup_progress(
    org_id: Id, actor: Actor = Depends(api_actor), workflow: Workflow = Depends(wf)
) -> dict[str, Any]:
    """The installation's progress, step by step: what the wizard shows and resumes from."""
    return progress.progress(workflow, actor, org_id).to_dict()


@router.get("/organizations/{org_id}/audit", response_model=list[m.AuditOut], responses=m.READ)
def audit_log(
    org_id: Id,
    limit: int = Query(default=200, ge=1, le=1000),
    actor: Actor = Depends(api_actor),
    workflow: Workflow = Depends(wf),
) -> list[dict[str, Any]]:
    """Who changed what in this organization, newest first."""
    return workflow.history.audit_log(actor, org_id, limit=limit)


# -- devices -----------------------------------------------------------------------------


@devices.get(
    "/organizations/{org_id}/chargers", response_model=list[m.ChargerOut], responses=m.READ
)
def list_chargers(
    org_id: Id,
    actor: Actor = Depends(api_actor),
    workflow: Workflow = Depends(wf),
    live: LiveBoard = Depends(board),
) -> list[dict[str, Any]]:
    """The organization's chargers: online state, connectors, firmware, current draw."""
    chargers = workflow.devices.list_chargers(actor, org_id)
    groups = workflow.groups.list(actor, org_id)
    return device_status.chargers_with_status(workflow, live, chargers, groups)


@devices.post(
    "/organizations/{org_id}/chargers",
    status_code=201,
    response_model=m.ChargerOut,
    responses={**m.WRITE, **m.problems(429)},
)
def add_charger(
    org_id: Id,
    body: m.ChargerIn,
    actor: Actor = Depends(api_actor),
    workflow: Workflow = Depends(wf),
) -> dict[str, Any]:
    """Add a charger by serial and the password from its box (proof of possession)."""
    return workflow.devices.add_charger(
        actor, organization=org_id, serial=body.serial, password=body.password
    )


@devices.get("/chargers/{serial}", response_model=m.ChargerOut, responses=m.READ)
def show_charger(
    serial: str, actor: Actor = Depends(api_actor), workflow: Workflow = Depends(wf)
) -> dict[str, Any]:
    return workflow.devices.show_charger(actor, serial)


@devices.delete("/chargers/{serial}", status_code=204, responses=m.WRITE)
def remove_charger(
    serial: str, actor: Actor = Depends(api_actor), workflow: Workflow = Depends(wf)
) -> Response:
    """Remove a charger from its organization (take it out of its groups first)."""
    workflow.devices.remove_charger(actor, serial)
    return Response(status_code=204)


@devices.get("/organizations/{org_id}/meters", response_model=list[m.MeterOut], responses=m.READ)
def list_meters(
    org_id: Id, actor: Actor = Depends(api_actor), workflow: Workflow = Depends(wf)
) -> list[dict[str, Any]]:
    """The organization's power meters with their state and latest reading."""
    return workflow.devices.list_meters(actor, org_id)


@devices.post(
    "/organizations/{org_id}/meters",
    status_code=201,
    response_model=m.MeterOut,
    responses={**m.WRITE, **m.problems(429)},
)
def add_meter(
    org_id: Id, body: m.MeterIn, actor: Actor = Depends(api_actor), workflow: Workflow = Depends(wf)
) -> dict[str, Any]:
    """Add a power meter by serial and the 8-digit PIN on its label."""
    return workflow.devices.add_meter(
        actor, organization=org_id, serial=body.serial, pin=body.pin, kind=body.kind
    )


@devices.get("/power-meters/{serial}", response_model=m.MeterOut, responses=m.READ)
def show_meter(
    serial: str, actor: Actor = Depends(api_actor), workflow: Workflow = Depends(wf)
) -> dict[str, Any]:
    return workflow.devices.show_meter(actor, serial)


@devices.post("/inventory", response_model=m.InventoryResult, responses=m.problems(401, 404, 422))
def import_inventory(
    body: m.InventoryIn, actor: Actor = Depends(api_actor), workflow: Workflow = Depends(wf)
) -> dict[str, int]:
    """Import manufactured devices with their secrets (platform admins only)."""
    return workflow.devices.import_inventory(actor, body.csv).to_dict()
