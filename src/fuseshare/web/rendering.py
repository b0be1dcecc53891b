"""Jinja2 templates and the context every page gets (who is logged in, the CSRF token)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from fuseshare import __version__
from fuseshare.errors import FieldError
from fuseshare.web.auth import csrf_token, session_actor

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.globals["version"] = __version__

ROLE_LABELS = {
    "platform_admin": "Platform admin",
    "partner_admin": "Partner admin",
    "installer": "Installer",
    "org_user": "Organization user",
    "operator": "Operator",
}
templates.env.globals["role_labels"] = ROLE_LABELS


def field_errors(errors: list[FieldError]) -> dict[str, str]:
    """Field name → message, for showing each error beside its field."""
    out: dict[str, str] = {}
    for e in errors:
        out[e.field] = f"{out[e.field]} {e.message}" if e.field in out else e.message
    return out


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    ctx: dict[str, Any] = {
        "actor": session_actor(request),
        "csrf_token": csrf_token(request),
        "errors": {},
        "form": {},
    }
    ctx.update(context or {})
    return templates.TemplateResponse(request, name, ctx, status_code=status_code)
