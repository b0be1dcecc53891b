"""API: tokens, the caller, partners and users."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from fuseshare.errors import Forbidden
from fuseshare.web.api import models as m
from fuseshare.web.api.deps import wf
from fuseshare.web.auth import NotLoggedIn, api_actor
from fuseshare.workflow import Actor, Workflow

router = APIRouter(prefix="/api/v1", tags=["accounts"])

USER_ADMIN_ROLES = ("platform_admin", "partner_admin", "operator")


@router.post("/tokens", status_code=201, response_model=m.TokenOut, responses=m.problems(401, 422))
def create_token(body: m.TokenRequest, workflow: Workflow = Depends(wf)) -> dict[str, Any]:
    """Log in with e-mail and password and get an API token (shown once; keep it safe)."""
    actor = workflow.accounts.authenticate(body.email, body.password)
    if actor is None:
        raise NotLoggedIn("wrong e-mail or password; check both and try again")
    token = workflow.accounts.create_token(actor, actor.name, body.name)
    return {"token": token, "actor": actor.name, "role": actor.role}


@router.get("/me", response_model=m.Me, responses=m.problems(401))
def me(actor: Actor = Depends(api_actor)) -> dict[str, Any]:
    """Who the token or session belongs to."""
    return {
        "name": actor.name,
        "role": actor.role,
        "partner_id": actor.partner_id,
        "organization_id": actor.organization_id,
    }


@router.get("/partners", response_model=list[m.PartnerOut], responses=m.problems(401))
def list_partners(
    actor: Actor = Depends(api_actor), workflow: Workflow = Depends(wf)
) -> list[dict[str, Any]]:
    """Partners (installer companies) the caller may see: all for a platform admin, else its own."""
    return workflow.accounts.list_partners(actor)


@router.post(
    "/partners",
    status_code=201,
    response_model=m.PartnerOut,
    responses=m.problems(401, 403, 409, 422),
)
def create_partner(
    body: m.PartnerIn, actor: Actor = Depends(api_actor), workflow: Workflow = Depends(wf)
) -> dict[str, Any]:
    """Create a partner (platform admins only)."""
    return workflow.accounts.create_partner(actor, body.name)


def _require_user_admin(actor: Actor) -> None:
    if actor.role not in USER_ADMIN_ROLES:
        raise Forbidden("only a partner admin or a platform admin manages users")


@router.get("/users", response_model=list[m.UserOut], responses=m.problems(401, 403))
def list_users(
    actor: Actor = Depends(api_actor), workflow: Workflow = Depends(wf)
) -> list[dict[str, Any]]:
    """Users of the caller's partner (all users for a platform admin)."""
    _require_user_admin(actor)
    return workflow.accounts.list_users(actor)


@router.post(
    "/users",
    status_code=201,
    response_model=m.UserOut,
    responses=m.problems(401, 403, 404, 409, 422),
)
def create_user(
    body: m.UserIn, actor: Actor = Depends(api_actor), workflow: Workflow = Depends(wf)
) -> dict[str, Any]:
    """Create an installer, a partner admin or an organization user."""
    _require_user_admin(actor)
    partner = body.partner_id if body.partner_id is not None else actor.partner_id
    if body.role == "org_user" and body.organization_id is not None:
        partner = body.partner_id
    return workflow.accounts.create_user(
        actor,
        email=body.email,
        name=body.name,
        password=body.password,
        role=body.role,
        partner=partner,
        organization=body.organization_id,
    )
