"""create_app: the routers passed in are served, and errors in websocket routes close the
socket instead of trying to send an HTTP page on it."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, WebSocket
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from fuseshare.errors import NotFound
from fuseshare.web.app import create_app
from tests.integration.web.web_site import WebSite


def test_routers_are_mounted_and_websocket_errors_close_the_socket(web_sqlite: WebSite) -> None:
    router = APIRouter()

    @router.websocket("/ocpp/{serial}")
    async def endpoint(websocket: WebSocket, serial: str) -> None:
        await websocket.accept()
        raise NotFound(f"no charger {serial}")

    app = create_app(
        web_sqlite.app.state.settings,
        web_sqlite.app.state.store,
        board=web_sqlite.board,
        routers=[router],
    )
    with TestClient(app) as client:
        with (
            pytest.raises(WebSocketDisconnect) as closed,
            client.websocket_connect("/ocpp/CH-X") as ws,
        ):
            ws.receive_text()
        assert closed.value.code == 1011
        assert client.get("/api/health").json()["status"] == "ok"
        assert client.get("/").status_code == 200


def test_the_api_docs_need_no_internet(web_sqlite: WebSite) -> None:
    import re

    client = TestClient(web_sqlite.app)
    page = client.get("/docs")
    assert page.status_code == 200
    # Every script and stylesheet the page loads is served by us, none from a CDN.
    urls = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert urls and all(u.startswith(("/static/", "data:")) for u in urls), urls
    for url in (u for u in urls if u.startswith("/static/")):
        assert client.get(url).status_code == 200, url
    spec = client.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.1") and "/api/v1/organizations" in spec["paths"]
