"""The WebSocket route ``/ocpp/{charger_serial}`` for the one FastAPI app.

Identity is checked before the upgrade (OCPP security profile 1, and 2 when
the server runs with TLS): HTTP Basic, user = the charger's serial, password =
the one stored when it was added. Refusals are HTTP 401 via the ASGI
``websocket.http.response`` extension (uvicorn supports it).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import logging
from collections.abc import Sequence

from fastapi import APIRouter, WebSocket
from starlette.responses import Response
from starlette.websockets import WebSocketDisconnect, WebSocketState

from fuseshare.ocpp.central import SUBPROTOCOLS, CentralSystem
from fuseshare.ocpp.connection import ConnectionClosed
from fuseshare.ocpp.ports import OcppVersion

log = logging.getLogger("fuseshare.ocpp")

WWW_AUTHENTICATE = 'Basic realm="fuseshare"'


def parse_basic_auth(header: str | None) -> tuple[str, str] | None:
    """(user, password) from an ``Authorization: Basic …`` header."""
    if not header:
        return None
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    if not sep:
        return None
    return user, password


def choose_subprotocol(offered: Sequence[str]) -> tuple[str, OcppVersion] | None:
    """The first subprotocol in the client's order that we speak."""
    for name in offered:
        version = SUBPROTOCOLS.get(name.strip().lower())
        if version is not None:
            return name.strip(), version
    return None


class StarletteTransport:
    """Starlette's WebSocket as the recv/send/close the ocpp library expects."""

    def __init__(self, websocket: WebSocket) -> None:
        self._ws = websocket

    async def recv(self) -> str | bytes:
        message = await self._ws.receive()
        if message["type"] == "websocket.disconnect":
            raise ConnectionClosed(message.get("code"))
        text = message.get("text")
        if text is not None:
            return str(text)
        return bytes(message.get("bytes") or b"")

    async def send(self, message: str) -> None:
        try:
            await self._ws.send_text(message)
        except (WebSocketDisconnect, RuntimeError, OSError) as exc:
            raise ConnectionClosed(str(exc)) from exc

    async def close(self, code: int = 1000, reason: str = "") -> None:
        if self._ws.application_state is WebSocketState.CONNECTED:
            with contextlib.suppress(RuntimeError, OSError, WebSocketDisconnect):
                await self._ws.close(code, reason)


async def _deny(websocket: WebSocket, status_code: int) -> None:
    headers = {"WWW-Authenticate": WWW_AUTHENTICATE} if status_code == 401 else {}
    try:
        await websocket.send_denial_response(Response(status_code=status_code, headers=headers))
    except RuntimeError:
        # The server lacks the denial-response extension: a close before
        # accept makes it answer 403.
        await websocket.close(code=1008)


def ocpp_router(central: CentralSystem, prefix: str = "/ocpp") -> APIRouter:
    """The router to include in the FastAPI app: ``{prefix}/{charger_serial}``."""
    router = APIRouter()

    @router.websocket(prefix + "/{charger_serial}")
    async def ocpp_endpoint(websocket: WebSocket, charger_serial: str) -> None:
        credentials = parse_basic_auth(websocket.headers.get("authorization"))
        if credentials is not None and credentials[0] != charger_serial:
            log.warning(
                "charger %s sent credentials for %r; refused", charger_serial, credentials[0]
            )
            await _deny(websocket, 401)
            return
        result = await central.authenticate(
            charger_serial, None if credentials is None else credentials[1]
        )
        if not result.ok:
            await _deny(websocket, 401)
            return
        chosen = choose_subprotocol(websocket.scope.get("subprotocols") or [])
        if chosen is None:
            # OCPP-J: complete the handshake without a subprotocol, then close.
            log.warning(
                "charger %s offered no OCPP version we speak: %s",
                charger_serial,
                websocket.scope.get("subprotocols"),
            )
            await websocket.accept()
            await websocket.close(code=1002, reason="unsupported subprotocol")
            return
        name, version = chosen
        await websocket.accept(subprotocol=name)
        transport = StarletteTransport(websocket)
        try:
            await central.serve(charger_serial, transport, version)
        finally:
            await transport.close(1000)

    return router
