"""Run the one server process: portal, REST API and OCPP on one port (uvicorn)."""

from __future__ import annotations

import logging

import uvicorn
from fastapi import FastAPI

from fuseshare.bootstrap import build_app, build_runtime
from fuseshare.config import Settings

log = logging.getLogger("fuseshare.server")


def uvicorn_config(settings: Settings, app: FastAPI) -> uvicorn.Config:
    kwargs: dict[str, object] = {}
    if settings.tls_certfile:
        # OCPP security profile 2: TLS with HTTP Basic auth.
        kwargs = {
            "ssl_certfile": settings.tls_certfile,
            "ssl_keyfile": settings.tls_keyfile or None,
        }
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        ws="websockets-sansio",
        # The OCPP layer answers frames over 64 KiB with a CALLERROR itself; uvicorn only
        # closes the connection for far larger ones.
        ws_max_size=256 * 1024,
        ws_ping_interval=30,
        ws_ping_timeout=30,
        proxy_headers=False,
        **kwargs,  # type: ignore[arg-type]
    )


def run_server(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    app = build_app(build_runtime(settings))
    scheme = "https" if settings.tls_certfile else "http"
    log.info("fuseshare listening on %s://%s:%s", scheme, settings.host, settings.port)
    uvicorn.Server(uvicorn_config(settings, app)).run()
