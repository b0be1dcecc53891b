"""The one place where fuseshare is wired together: settings → store → workflow → app.

Everything else receives what it needs from here (engine, session factory,
clock, workflow, protocol servers), so the same parts run in tests, in the
simulator and in production.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from fuseshare.config import Settings
from fuseshare.errors import StoreUnavailable
from fuseshare.store import migrate
from fuseshare.store.engine import make_engine, make_session_factory, normalize_url, redacted
from fuseshare.workflow import Context, Workflow

if TYPE_CHECKING:
    from fastapi import FastAPI

    from fuseshare.runtime import Runtime

log = logging.getLogger("fuseshare")

MigrateMode = Literal["always", "auto", "never"]


def ensure_schema(settings: Settings, mode: MigrateMode) -> None:
    """Bring the schema to head.

    ``always``: upgrade (``serve``, ``demo``, ``db upgrade``). ``auto``: upgrade an
    SQLite file (the embedded default is created on first run) but on PostgreSQL
    only tell the operator, because production migrations are a deliberate step.
    """
    url = settings.effective_database_url
    if mode == "never":
        return
    is_sqlite = make_url(normalize_url(url)).get_backend_name() == "sqlite"
    try:
        if mode == "always" or is_sqlite:
            migrate.upgrade(url)
            return
        engine = make_engine(url)
        try:
            current = migrate.current_revision(engine)
        finally:
            engine.dispose()
    except OperationalError as exc:
        raise StoreUnavailable(
            f"cannot reach the database {redacted(url)} ("
            + str(exc.orig).strip().splitlines()[0][:200]
            + "); check DATABASE_URL and that the server is running"
        ) from exc
    if current != migrate.head_revision():
        raise StoreUnavailable(
            f"the database {redacted(url)} is at schema {current or 'empty'}, this fuseshare needs "
            f"{migrate.head_revision()}; run `fuseshare db upgrade`"
        )


@dataclass
class Store:
    engine: Engine
    context: Context


def build_store(settings: Settings, migrate_mode: MigrateMode = "auto") -> Store:
    ensure_schema(settings, migrate_mode)
    engine = make_engine(settings.effective_database_url)
    return Store(engine=engine, context=Context(make_session_factory(engine), settings))


def build_workflow(settings: Settings, migrate: MigrateMode = "auto") -> Workflow:
    return Workflow(build_store(settings, migrate).context)


def build_runtime(
    settings: Settings,
    *,
    clock: Callable[[], float] = time.time,
    migrate_mode: MigrateMode = "always",
    mqtt: bool = True,
) -> Runtime:
    """Wire the store, meters, OCPP, control loops and history for one serving process."""
    # Imported here so that the CLI's short commands do not load the serving stack.
    from fuseshare.adapters.charger_directory import StoreChargerDirectory
    from fuseshare.adapters.group_store import GroupRecords
    from fuseshare.adapters.meter_store import (
        MeterRegistrySync,
        StoreMeterCredentials,
        StoreReadingRecorder,
    )
    from fuseshare.control.history import HistoryBuffer
    from fuseshare.control.live import LiveBoard
    from fuseshare.control.supervisor import Supervisor
    from fuseshare.control.telemetry import ChargerTelemetry
    from fuseshare.meters.http_push import make_push_router
    from fuseshare.meters.hub import MeterHub
    from fuseshare.meters.mqtt import MqttSettings
    from fuseshare.meters.service import MeterService
    from fuseshare.ocpp.asgi import ocpp_router
    from fuseshare.ocpp.central import CentralSettings, CentralSystem
    from fuseshare.ocpp.profiles import LimitPolicy
    from fuseshare.runtime import Runtime
    from fuseshare.web.api.needs import make_needs_router

    store = build_store(settings, migrate_mode)
    workflow = Workflow(store.context)
    hub = MeterHub(clock=clock, recorder=StoreReadingRecorder(workflow))
    mqtt_settings = None
    if mqtt:
        mqtt_settings = MqttSettings.from_url(
            settings.mqtt_url,
            username=settings.mqtt_username or None,
            password=settings.mqtt_password or None,
        )
    meters = MeterService(hub, clock=clock, mqtt=mqtt_settings)
    telemetry = ChargerTelemetry(clock)
    central = CentralSystem(
        StoreChargerDirectory(workflow),
        telemetry,
        CentralSettings(
            heartbeat_interval_s=settings.ocpp_heartbeat_interval_s,
            policy=LimitPolicy(
                ttl_s=float(settings.ocpp_profile_lifetime_s),
                quiet_ttl_s=float(settings.ocpp_quiet_profile_lifetime_s),
            ),
        ),
    )
    history = HistoryBuffer(store.context)
    runtime = Runtime(
        settings=settings,
        store=store,
        workflow=workflow,
        clock=clock,
        hub=hub,
        meters=meters,
        meter_sync=MeterRegistrySync(workflow, meters, stale_after_s=settings.meter_stale_after_s),
        telemetry=telemetry,
        central=central,
        board=LiveBoard(),
        history=history,
        supervisor=Supervisor(store.context, lambda spec: runtime.loop_factory(spec)),
        records=GroupRecords(workflow),
    )
    hub.add_reading_listener(runtime._record_reading)
    runtime.routers = [
        ocpp_router(central),
        make_push_router(hub, StoreMeterCredentials(workflow), clock=clock),
        make_needs_router(telemetry, central.directory, central.now),
    ]
    return runtime


def build_app(runtime: Runtime) -> FastAPI:
    """The one FastAPI app of a serving process, with the runtime started in its lifespan."""
    from fuseshare.web.app import create_app

    app = create_app(runtime.settings, runtime.store, board=runtime.board, routers=runtime.routers)
    app.state.runtime = runtime

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with runtime.running():
            yield

    app.router.lifespan_context = lifespan
    return app
