"""The FastAPI application: one app for the portal, the REST API and the OCPP endpoint.

``create_app`` is called by ``fuseshare.server`` (and by tests) with the
settings, the store, the control loop's LiveBoard and the routers of the other
parts (OCPP websocket, meter HTTP push).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import func, select
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from fuseshare import __version__
from fuseshare.bootstrap import Store
from fuseshare.config import Settings
from fuseshare.control.live import LiveBoard
from fuseshare.errors import FuseshareError
from fuseshare.store import migrate
from fuseshare.store.tables import Charger, LoadBalancingGroup, Organization, PowerMeter
from fuseshare.web.api import accounts as api_accounts
from fuseshare.web.api import groups as api_groups
from fuseshare.web.api import sites as api_sites
from fuseshare.web.auth import LoginRequired
from fuseshare.web.pages import (
    account_pages,
    device_pages,
    group_pages,
    login_pages,
    org_pages,
    user_pages,
    wizard_pages,
)
from fuseshare.web.rendering import HERE, render
from fuseshare.web.session_key import session_secret
from fuseshare.workflow import Workflow

SESSION_MAX_AGE_S = 12 * 3600


def _status(store: Store) -> dict[str, Any]:
    with store.context.unit() as s:
        counts = {
            "organizations": s.scalar(select(func.count()).select_from(Organization)),
            "chargers": s.scalar(select(func.count()).select_from(Charger)),
            "chargers_online": s.scalar(
                select(func.count())
                .select_from(Charger)
                .where(Charger.connection_state == "online")
            ),
            "power_meters": s.scalar(select(func.count()).select_from(PowerMeter)),
            "groups_active": s.scalar(
                select(func.count())
                .select_from(LoadBalancingGroup)
                .where(LoadBalancingGroup.state == "active")
            ),
        }
    return {
        "status": "ok",
        "version": __version__,
        "schema": migrate.current_revision(store.engine),
        **counts,
    }


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


async def _websocket_failed(conn: Any) -> None:
    """An error escaped a websocket route (OCPP): an HTTP answer cannot be sent on it,
    so close it as an internal error and answer nothing."""
    with contextlib.suppress(Exception):
        await conn.close(code=1011)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(FuseshareError)
    async def _fuseshare_error(request: Request, exc: FuseshareError) -> Response | None:
        if request.scope["type"] == "websocket":
            await _websocket_failed(request)
            return None
        if _wants_json(request):
            headers = {"WWW-Authenticate": "Bearer"} if exc.http_status == 401 else None
            return JSONResponse(exc.to_dict(), status_code=exc.http_status, headers=headers)
        return render(
            request,
            "error.html",
            {"status": exc.http_status, "message": exc.message},
            status_code=exc.http_status,
        )

    @app.exception_handler(LoginRequired)
    async def _login_required(_request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(f"/login?next={quote(exc.next_url)}", status_code=303)

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, exc: RequestValidationError) -> Response | None:
        if request.scope["type"] == "websocket":
            await _websocket_failed(request)
            return None
        fields = []
        for e in exc.errors():
            loc = [str(p) for p in e.get("loc", ()) if p not in ("body", "query", "path")]
            fields.append({"field": ".".join(loc) or "body", "message": str(e.get("msg", ""))})
        message = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
        if not _wants_json(request):
            return render(
                request, "error.html", {"status": 422, "message": message}, status_code=422
            )
        return JSONResponse(
            {"error": "invalid", "message": message, "fields": fields}, status_code=422
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response | None:
        if request.scope["type"] == "websocket":
            await _websocket_failed(request)
            return None
        message = str(exc.detail)
        if exc.status_code == 404 and message == "Not Found":
            message = "there is no page at this address; go back to the portal"
        if _wants_json(request):
            code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http")
            return JSONResponse(
                {"error": code, "message": message},
                status_code=exc.status_code,
                headers=getattr(exc, "headers", None),
            )
        return render(
            request,
            "error.html",
            {"status": exc.status_code, "message": message},
            status_code=exc.status_code,
        )


SWAGGER_UI = "swagger-ui-5.32.0"
"""Vendored Swagger UI (static/vendor), for /docs without a CDN."""


def create_app(
    settings: Settings,
    store: Store,
    *,
    board: LiveBoard | None = None,
    routers: Sequence[APIRouter] = (),
) -> FastAPI:
    app = FastAPI(
        title="fuseshare",
        version=__version__,
        description=(
            "Load balancing of EV chargers behind a shared main fuse. Authenticate with "
            "`Authorization: Bearer <token>`; get a token with `POST /api/v1/tokens`. Every "
            "error is a JSON problem with a message that says what to do."
        ),
        docs_url=None,  # served below from vendored files: installations may have no internet
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.store = store
    app.state.workflow = Workflow(store.context)
    app.state.board = board if board is not None else LiveBoard()
    app.add_middleware(
        SessionMiddleware,
        secret_key=session_secret(settings),
        session_cookie="fuseshare_session",
        max_age=SESSION_MAX_AGE_S,
        same_site="lax",
        https_only=bool(settings.tls_certfile),
    )
    _install_error_handlers(app)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.get("/docs", include_in_schema=False)
    def api_docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="fuseshare API",
            swagger_js_url=f"/static/vendor/{SWAGGER_UI}/swagger-ui-bundle.js",
            swagger_css_url=f"/static/vendor/{SWAGGER_UI}/swagger-ui.css",
            swagger_favicon_url="data:,",
        )

    @app.get("/api/health", tags=["system"])
    def health() -> dict[str, Any]:
        """The server's state: version, schema and counts; 503 when the database is away."""
        return _status(store)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index(request: Request) -> Response:
        return login_pages.landing(request, _status(store))

    for router in (
        api_accounts.router,
        api_sites.router,
        api_sites.devices,
        api_groups.router,
        api_groups.live_router,
        login_pages.router,
        account_pages.router,
        org_pages.router,
        device_pages.router,
        group_pages.router,
        wizard_pages.router,
        user_pages.router,
        *routers,
    ):
        app.include_router(router)
    return app
