"""API: load balancing groups, importing chargers, checks, activation, live state, history."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import StreamingResponse

from fuseshare.balancing import registry
from fuseshare.control.live import GroupLive, LiveBoard
from fuseshare.web import queries
from fuseshare.web.api import models as m
from fuseshare.web.api.deps import Id, board, wf
from fuseshare.web.auth import api_actor
from fuseshare.workflow import Actor, GroupSettings, MembershipSettings, Workflow

router = APIRouter(prefix="/api/v1", tags=["load balancing"])
live_router = APIRouter(prefix="/api/v1", tags=["live"])

KEEPALIVE_S = 15.0


@router.get("/algorithms", response_model=list[m.AlgorithmOut], responses=m.problems(401))
def list_algorithms(actor: Actor = Depends(api_actor)) -> list[dict[str, Any]]:
    """Balancing algorithms and their versions; a new group gets the newest."""
    out = []
    for name, version, description in registry.list_algorithms():
        out.append(
            {
                "name": name,
                "version": version,
                "description": description,
                "newest": version == registry.newest_version(name),
            }
        )
    return out


@router.get("/organizations/{org_id}/groups", response_model=list[m.GroupOut], responses=m.READ)
def list_groups(
    org_id: Id, actor: Actor = Depends(api_actor), workflow: Workflow = Depends(wf)
) -> list[dict[str, Any]]:
    return workflow.groups.list(actor, org_id)


def group_settings(body: m.GroupIn) -> GroupSettings:
    return GroupSettings(
        name=body.name,
        description=body.description,
        grid=body.grid,
        outlet_active=body.outlet_active,
        max_current_offline_a=body.max_current_offline_a,
        max_current_online_a=body.max_current_online_a,
        min_current_a=body.min_current_a,
        max_supply_current_a=body.max_supply_current_a,
        margin_a=body.margin_a,
    )


@router.post(
    "/organizations/{org_id}/groups", status_code=201, response_model=m.GroupOut, responses=m.WRITE
)
def create_group(
    org_id: Id, body: m.GroupIn, actor: Actor = Depends(api_actor), workflow: Workflow = Depends(wf)
) -> dict[str, Any]:
    """Create a load balancing group (a draft until it is activated)."""
    return workflow.groups.create(
        actor,
        organization=org_id,
        settings=group_settings(body),
        meter=body.meter or None,
        algorithm=body.algorithm,
        algorithm_version=body.algorithm_version,
    )


@router.get("/groups/{group_id}", response_model=m.GroupOut, responses=m.READ)
def show_group(
    group_id: Id, actor: Actor = Depends(api_actor), workflow: Workflow = Depends(wf)
) -> dict[str, Any]:
    return workflow.groups.show(actor, group_id)


@router.patch("/groups/{group_id}", response_model=m.GroupOut, responses=m.WRITE)
def update_group(
    group_id: Id,
    body: m.GroupPatch,
    actor: Actor = Depends(api_actor),
    workflow: Workflow = Depends(wf),
) -> dict[str, Any]:
    """Change settings; on an active group they must pass the checks again."""
    changes = body.model_dump(
        exclude={"meter", "clear_meter", "algorithm_version", "confirm"}, exclude_none=True
    )
    return workflow.groups.update(
        actor,
        group_id,
        meter=body.meter,
        clear_meter=body.clear_meter,
        algorithm_version=body.algorithm_version,
        confirm=body.confirm,
        **changes,
    )


@router.delete("/groups/{group_id}", status_code=204, responses=m.WRITE)
def delete_group(
    group_id: Id, actor: Actor = Depends(api_actor), workflow: Workflow = Depends(wf)
) -> Response:
    """Delete a group that is not active."""
    workflow.groups.delete(actor, group_id)
    return Response(status_code=204)


@router.post("/groups/{group_id}/chargers", response_model=m.GroupOut, responses=m.WRITE)
def import_charger(
    group_id: Id,
    body: m.MembershipIn,
    actor: Actor = Depends(api_actor),
    workflow: Workflow = Depends(wf),
) -> dict[str, Any]:
    """Import one of the organization's chargers (or change its phases, failsafe, priority)."""
    return workflow.groups.import_charger(
        actor,
        group_id,
        charger=body.charger,
        membership=MembershipSettings(
            phases=body.phases,
            failsafe_current_a=body.failsafe_current_a,
            priority=body.priority,
            max_current_a=body.max_current_a,
        ),
        confirm=body.confirm,
    )


@router.delete("/groups/{group_id}/chargers/{serial}", response_model=m.GroupOut, responses=m.WRITE)
def remove_charger(
    group_id: Id, serial: str, actor: Actor = Depends(api_actor), workflow: Workflow = Depends(wf)
) -> dict[str, Any]:
    return workflow.groups.remove_charger(actor, group_id, serial)


@router.get("/groups/{group_id}/checks", response_model=list[m.FindingOut], responses=m.READ)
def checks(
    group_id: Id, actor: Actor = Depends(api_actor), workflow: Workflow = Depends(wf)
) -> list[dict[str, Any]]:
    """The commissioning checks as the group is now: errors refuse activation, warnings ask."""
    return workflow.groups.check(actor, group_id)


@router.post("/groups/{group_id}/activate", response_model=m.GroupOut, responses=m.WRITE)
def activate(
    group_id: Id,
    body: m.ActivateIn,
    actor: Actor = Depends(api_actor),
    workflow: Workflow = Depends(wf),
) -> dict[str, Any]:
    """Activate: 409 activation_refused on errors, 409 confirmation_needed on warnings."""
    return workflow.groups.activate(actor, group_id, confirm=body.confirm)


@router.post("/groups/{group_id}/deactivate", response_model=m.GroupOut, responses=m.WRITE)
def deactivate(
    group_id: Id, actor: Actor = Depends(api_actor), workflow: Workflow = Depends(wf)
) -> dict[str, Any]:
    return workflow.groups.deactivate(actor, group_id)


# -- live state and history --------------------------------------------------------------


@live_router.get("/groups/{group_id}/live", responses=m.READ)
def live_state(
    group_id: Id,
    actor: Actor = Depends(api_actor),
    workflow: Workflow = Depends(wf),
    live: LiveBoard = Depends(board),
) -> dict[str, Any] | None:
    """The control loop's latest state of the group (null while it is not running)."""
    workflow.groups.show(actor, group_id)
    latest = live.latest(group_id)
    return latest.to_dict() if latest else None


def _event(live: GroupLive) -> str:
    return f"event: live\ndata: {json.dumps(live.to_dict())}\n\n"


async def _stream(live: LiveBoard, group_id: int) -> AsyncIterator[str]:
    updates = live.subscribe(group_id).__aiter__()
    pending: asyncio.Future[GroupLive] = asyncio.ensure_future(anext(updates))
    try:
        yield ": connected\n\n"
        while True:
            done, _ = await asyncio.wait({pending}, timeout=KEEPALIVE_S)
            if not done:
                yield ": keep-alive\n\n"
                continue
            yield _event(pending.result())
            pending = asyncio.ensure_future(anext(updates))
    finally:
        pending.cancel()
        with contextlib.suppress(BaseException):
            await pending
        await updates.aclose()  # type: ignore[attr-defined]


@live_router.get(
    "/groups/{group_id}/live/stream",
    response_class=StreamingResponse,
    responses={**m.READ, 200: {"content": {"text/event-stream": {}}}},
)
def live_stream(
    group_id: Id,
    actor: Actor = Depends(api_actor),
    workflow: Workflow = Depends(wf),
    live: LiveBoard = Depends(board),
) -> StreamingResponse:
    """Server-sent events: ``event: live`` with the group's live state on every control cycle."""
    workflow.groups.show(actor, group_id)
    return StreamingResponse(
        _stream(live, group_id),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@live_router.get("/groups/{group_id}/history", response_model=m.HistoryOut, responses=m.READ)
def history(
    group_id: Id,
    window: Literal["hour", "day"] = Query(default="hour"),
    actor: Actor = Depends(api_actor),
    workflow: Workflow = Depends(wf),
) -> dict[str, Any]:
    """The meter's line currents and the chargers' total setpoint over the last hour or day."""
    group = workflow.groups.show(actor, group_id)
    meter_id = None
    if group["meter"]:
        meter_id = workflow.devices.show_meter(actor, group["meter"])["id"]
    return queries.history(
        workflow.ctx, group_id=group_id, meter_id=meter_id, window=window, now=workflow.ctx.clock()
    )
