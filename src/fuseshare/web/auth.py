"""Who is asking: a portal session (cookie) or an API token (``Authorization: Bearer``).

The session keeps the actor's identity, signed; every request re-reads whether
the user is still active, so that a deactivated user is out at once.
CSRF: forms carry ``csrf_token``; htmx and script calls with a session send the
same value in the ``X-CSRF-Token`` header. Token (bearer) calls need no CSRF
token because browsers never attach them on their own.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select

from fuseshare.errors import FuseshareError
from fuseshare.store.tables import User
from fuseshare.workflow import Actor, Workflow

SESSION_ACTOR = "actor"
SESSION_CSRF = "csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class NotLoggedIn(FuseshareError):
    http_status = 401
    code = "unauthorized"


class CsrfFailed(FuseshareError):
    http_status = 403
    code = "csrf_failed"


class LoginRequired(Exception):
    """A page needs a logged-in user; the handler sends the browser to the login page."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


def workflow(request: Request) -> Workflow:
    wf: Workflow = request.app.state.workflow
    return wf


def login(request: Request, actor: Actor) -> None:
    request.session.clear()
    request.session[SESSION_ACTOR] = {
        "name": actor.name,
        "role": actor.role,
        "partner_id": actor.partner_id,
        "organization_id": actor.organization_id,
        "user_id": actor.user_id,
    }
    request.session[SESSION_CSRF] = secrets.token_urlsafe(32)


def logout(request: Request) -> None:
    request.session.clear()


def _still_active(request: Request, user_id: int | None) -> bool:
    if user_id is None:
        return False
    with workflow(request).ctx.unit() as s:
        return bool(s.scalar(select(User.active).where(User.id == user_id)))


def session_actor(request: Request) -> Actor | None:
    data: dict[str, Any] | None = request.session.get(SESSION_ACTOR)
    if not data:
        return None
    if not _still_active(request, data.get("user_id")):
        request.session.clear()
        return None
    return Actor(**data)


def csrf_token(request: Request) -> str:
    token: str | None = request.session.get(SESSION_CSRF)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[SESSION_CSRF] = token
    return token


def check_csrf(request: Request, submitted: str | None) -> None:
    expected = request.session.get(SESSION_CSRF)
    if not expected or not submitted or not hmac.compare_digest(expected, submitted):
        raise CsrfFailed(
            "this form has expired or did not come from this site; reload the page and try again"
        )


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


_bearer = HTTPBearer(
    auto_error=False,
    description="An API token: POST /api/v1/tokens, or create one on the portal's account page",
)


def api_actor(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
) -> Actor:
    """The actor of a REST call: a bearer token, or the portal session (with CSRF header)."""
    token = credentials.credentials.strip() if credentials else None
    if token:
        actor = workflow(request).accounts.actor_for_token(token)
        if actor is None:
            raise NotLoggedIn(
                "the API token is unknown or its user is deactivated; create a new one"
            )
        return actor
    actor = session_actor(request)
    if actor is None:
        raise NotLoggedIn(
            "log in: send 'Authorization: Bearer <token>' (create one with POST /api/v1/tokens)"
        )
    if request.method not in SAFE_METHODS:
        check_csrf(request, request.headers.get(CSRF_HEADER))
    return actor


def page_actor(request: Request) -> Actor:
    actor = session_actor(request)
    if actor is None:
        next_url = request.url.path
        if request.url.query:
            next_url += "?" + request.url.query
        raise LoginRequired(next_url)
    return actor


async def checked_form(request: Request) -> dict[str, str]:
    """The submitted form as plain strings, after the CSRF check."""
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    check_csrf(request, values.pop(CSRF_FIELD, None) or request.headers.get(CSRF_HEADER))
    return values
