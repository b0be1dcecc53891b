"""`fuseshare demo`: a seeded site on SQLite, served on one port, with a live simulated site.

The seed goes through the same workflow an installer uses (inventory →
organization → chargers → meter → group → import → activate), so the demo
shows the product as it is, not a fixture.

The server (uvicorn, started programmatically with the one runtime) runs next
to a :class:`~fuseshare.sim.realtime.RealtimeSite` in the same process: the six
demo chargers connect over real OCPP (1.6 and 2.0.1) to 127.0.0.1 with their
passwords, cars plug in within the first minute, and the demo Amp Guard
publishes the building's currents (MQTT when a broker answers, else in process
into the meter hub). So within a minute the dashboard shows cars charging and
limits moving.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from fuseshare.balancing import Grid, parse_wiring
from fuseshare.bootstrap import build_store
from fuseshare.config import Settings
from fuseshare.errors import Conflict
from fuseshare.sim.realtime import RealtimeSite, SiteCharger, demo_base_load, demo_schedule
from fuseshare.workflow import Actor, GroupSettings, MembershipSettings, Workflow

log = logging.getLogger("fuseshare.demo")

DEMO_PARTNER = "Nordlys Elektro AS"
DEMO_ORG = "Solbakken Borettslag"
DEMO_GROUP = "Garage"
DEMO_LOGIN = ("demo@fuseshare.local", "fuseshare-demo")
DEMO_METER = ("DEMO-AG-0001", "20261124")
DEMO_SEED = 2026
DEMO_CHARGER_VERSIONS = ("1.6", "1.6", "1.6", "2.0.1", "2.0.1", "2.0.1")
DEMO_CHARGERS = [
    (f"DEMO-CH-{n:04d}", f"demo-pass-{n:04d}", phases)
    for n, phases in enumerate(
        ["L1,L2,L3", "L2,L3,L1", "L3,L1,L2", "L1,L2,L3", "L2,L3,L1", "L3,L1,L2"], 1
    )
]


def inventory_csv() -> str:
    lines = ["kind,serial,secret,vendor,model,max_current_a,connectors,meter_kind"]
    lines += [f"charger,{s},{p},Fusebox,HomeCharge 22,32,1," for s, p, _ in DEMO_CHARGERS]
    lines.append(f"meter,{DEMO_METER[0]},{DEMO_METER[1]},fuseshare,Amp Guard,,,amp_guard")
    return "\n".join(lines) + "\n"


def seed(wf: Workflow) -> bool:
    """Seed the demo site; returns False when it was seeded already."""
    actor = Actor.system("demo-seed")
    if wf.orgs.list(actor, DEMO_ORG):
        return False
    wf.devices.import_inventory(actor, inventory_csv())
    with contextlib.suppress(Conflict):
        wf.accounts.create_partner(actor, DEMO_PARTNER)
    wf.accounts.create_user(
        actor,
        email=DEMO_LOGIN[0],
        name="Demo Installer",
        password=DEMO_LOGIN[1],
        role="partner_admin",
        partner=DEMO_PARTNER,
    )
    wf.orgs.create(
        actor,
        partner=DEMO_PARTNER,
        name=DEMO_ORG,
        site_type="housing_association",
        contact_name="Kari Nordmann",
        contact_email="styret@solbakken.example",
        address="Solbakken 1",
        postal_code="0150",
        city="Oslo",
        country="NO",
    )
    for serial, password, _ in DEMO_CHARGERS:
        wf.devices.add_charger(actor, organization=DEMO_ORG, serial=serial, password=password)
    wf.devices.add_meter(actor, organization=DEMO_ORG, serial=DEMO_METER[0], pin=DEMO_METER[1])
    wf.groups.create(
        actor,
        organization=DEMO_ORG,
        meter=DEMO_METER[0],
        settings=GroupSettings(
            name=DEMO_GROUP,
            description="Underground garage, sub-board B1, behind the 63 A main fuse",
            grid="IT_230_3P",
            outlet_active=True,
            max_current_offline_a=36,
            max_current_online_a=50,
            min_current_a=8,
            max_supply_current_a=63,
        ),
    )
    for serial, _, phases in DEMO_CHARGERS:
        wf.groups.import_charger(
            actor,
            DEMO_GROUP,
            charger=serial,
            membership=MembershipSettings(phases=phases, failsafe_current_a=6),
        )
    wf.groups.activate(actor, DEMO_GROUP, confirm=True)
    return True


def run_demo(
    settings: Settings,
    *,
    host: str | None,
    port: int | None,
    data_dir: Path | None,
    fresh: bool,
    simulate_site: bool = True,
) -> None:
    directory = (data_dir or settings.data_dir / "demo").expanduser()
    if fresh and directory.exists():
        shutil.rmtree(directory)
    settings = settings.with_overrides(
        host=host,
        port=port,
        data_dir=directory,
        database_url=f"sqlite:///{directory / 'demo.sqlite3'}",
    )
    wf = Workflow(build_store(settings, "always").context)
    seeded = seed(wf)
    url = f"http://{settings.host}:{settings.port}/"
    typer.echo(
        f"fuseshare demo {'seeded' if seeded else 'resumed'} in {directory}\n"
        f"  portal:  {url}\n"
        f"  login:   {DEMO_LOGIN[0]} / {DEMO_LOGIN[1]}\n"
        f"  site:    {DEMO_ORG}, group '{DEMO_GROUP}' ({len(DEMO_CHARGERS)} chargers, IT 230 V, 63 A fuse)\n"
        + (
            "  cars:    simulated; the first plug in within a minute (open the group's dashboard)\n"
            if simulate_site
            else ""
        )
        + "  stop with Ctrl+C",
        nl=True,
    )
    sys.stdout.flush()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_demo(settings, simulate_site=simulate_site))


def site_chargers() -> list[SiteCharger]:
    return [
        SiteCharger(serial, password, parse_wiring(phases), version=version)
        for (serial, password, phases), version in zip(
            DEMO_CHARGERS, DEMO_CHARGER_VERSIONS, strict=True
        )
    ]


async def serve_demo(settings: Settings, *, simulate_site: bool = True) -> None:
    """Serve the runtime with uvicorn and run the simulated site beside it until stopped."""
    import uvicorn

    from fuseshare.bootstrap import build_app, build_runtime
    from fuseshare.meters.mqtt import MqttSettings
    from fuseshare.server import uvicorn_config

    runtime = build_runtime(settings)
    server = uvicorn.Server(uvicorn_config(settings, build_app(runtime)))
    serving = asyncio.create_task(server.serve(), name="uvicorn")
    site_task: asyncio.Task[None] | None = None
    try:
        while not server.started:
            if serving.done():
                await serving  # it failed to start (port taken): let the error out
                return
            await asyncio.sleep(0.05)
        if simulate_site:
            mqtt = MqttSettings.from_url(
                settings.mqtt_url,
                username=settings.mqtt_username or None,
                password=settings.mqtt_password or None,
            )
            site_task = asyncio.create_task(
                _run_site(settings, runtime.hub, mqtt, lambda: server.should_exit),
                name="demo-site",
            )
        await serving
    finally:
        server.should_exit = True
        if site_task is not None:
            site_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await site_task
        if not serving.done():
            await serving


async def _run_site(
    settings: Settings, hub: Any, mqtt: Any, should_stop: Callable[[], bool]
) -> None:
    from fuseshare.meters.simulated import choose_transport

    scheme = "wss" if settings.tls_certfile else "ws"
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    async with choose_transport(hub, clock=time.time, mqtt=mqtt) as transport:
        log.info("demo meter publishes via %s", type(transport).__name__)
        chargers = site_chargers()
        site = RealtimeSite(
            base_url=f"{scheme}://{host}:{settings.port}/ocpp",
            chargers=chargers,
            grid=Grid.IT_230_3P,
            meter_serial=DEMO_METER[0],
            transport=transport,
            visits=demo_schedule([c.serial for c in chargers], seed=DEMO_SEED),
            base_load=demo_base_load(
                Grid.IT_230_3P, seed=DEMO_SEED, homes=6, start_hour=(time.time() % 86400) / 3600
            ),
            seed=DEMO_SEED,
            should_stop=should_stop,
        )
        try:
            await site.run()
        except Exception:  # the demo's cars must never take the server down
            log.exception("the simulated demo site stopped")
