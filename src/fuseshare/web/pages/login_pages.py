"""Login, logout and the landing page at ``/``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from fuseshare.errors import LockedOut
from fuseshare.web.auth import checked_form, login, logout, session_actor, workflow
from fuseshare.web.pages.common import home_url, redirect
from fuseshare.web.rendering import render

router = APIRouter(include_in_schema=False)


def _safe_next(url: str | None) -> str | None:
    if url and url.startswith("/") and not url.startswith("//"):
        return url
    return None


def landing(request: Request, status: dict[str, Any]) -> Response:
    actor = session_actor(request)
    if actor is not None:
        return redirect(home_url(actor))
    return render(request, "login.html", {"status": status, "next": ""})


@router.get("/login")
def login_page(request: Request, next: str = "") -> Response:
    actor = session_actor(request)
    if actor is not None:
        return redirect(_safe_next(next) or home_url(actor))
    return render(request, "login.html", {"next": _safe_next(next) or ""})


@router.post("/login")
async def login_submit(request: Request) -> Response:
    form = await checked_form(request)
    email, password = form.get("email", "").strip(), form.get("password", "")
    errors: dict[str, str] = {}
    if not email:
        errors["email"] = "type the e-mail address you log in with"
    if not password:
        errors["password"] = "type your password"
    actor = None
    if not errors:
        try:
            actor = workflow(request).accounts.authenticate(email, password)
        except LockedOut as exc:
            errors["password"] = exc.message
    if actor is None:
        if not errors:
            errors["password"] = (
                "wrong e-mail or password; check both (the password is case-sensitive) and try "
                "again, or ask your partner admin to reset it"
            )
        return render(
            request,
            "login.html",
            {"errors": errors, "form": {"email": email}, "next": form.get("next", "")},
            status_code=422,
        )
    login(request, actor)
    return redirect(_safe_next(form.get("next")) or home_url(actor))


@router.post("/logout")
async def logout_submit(request: Request) -> Response:
    await checked_form(request)
    logout(request)
    return redirect("/login")
