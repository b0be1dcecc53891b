"""The logged-in user's page: who they are, and API tokens for scripts."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from fuseshare.web.auth import checked_form, page_actor
from fuseshare.web.pages.common import wf
from fuseshare.web.rendering import render
from fuseshare.workflow import Actor

router = APIRouter(include_in_schema=False)


@router.get("/account")
def account(request: Request, actor: Actor = Depends(page_actor)) -> Response:
    return render(request, "account.html", {"token": None})


@router.post("/account/tokens")
async def create_token(request: Request, actor: Actor = Depends(page_actor)) -> Response:
    form = await checked_form(request)
    name = form.get("name", "").strip() or "api"
    token = wf(request).accounts.create_token(actor, actor.name, name)
    return render(request, "account.html", {"token": token, "token_name": name})
