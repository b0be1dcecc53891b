"""Helpers shared by the portal pages: scoping by organization, redirects, number parsing."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse

from fuseshare.errors import NotFound
from fuseshare.web.auth import workflow
from fuseshare.workflow import Actor, Workflow
from fuseshare.workflow.actors import WRITE_ROLES


def wf(request: Request) -> Workflow:
    return workflow(request)


def can_write(actor: Actor) -> bool:
    return actor.role in WRITE_ROLES


def home_url(actor: Actor) -> str:
    if actor.role == "org_user" and actor.organization_id is not None:
        return f"/portal/orgs/{actor.organization_id}/chargers"
    return "/portal"


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def org_or_404(request: Request, actor: Actor, org_id: int) -> dict[str, Any]:
    return wf(request).orgs.show(actor, org_id)


def group_in_org(request: Request, actor: Actor, org_id: int, group_id: int) -> dict[str, Any]:
    group = wf(request).groups.show(actor, group_id)
    if group["organization_id"] != org_id:
        raise NotFound(f"no load balancing group {group_id} in this organization")
    return group


def number(raw: str | None) -> Any:
    """A form value as a number when it is one; otherwise the text as typed, so that the
    workflow's validation names the field and says what a valid value looks like."""
    text = (raw or "").strip().replace(",", ".")
    try:
        value = float(text)
    except ValueError:
        return raw or ""
    return int(value) if value.is_integer() and "." not in text else value


def integer(raw: str | None) -> Any:
    text = (raw or "").strip()
    try:
        return int(text)
    except ValueError:
        return raw or ""
