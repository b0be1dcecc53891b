"""`fuseshare simulate SCENARIO --realtime`: the same scenario against a live server, in real time.

A server (the one runtime: store, meter hub, OCPP central system, control loop,
served by uvicorn on 127.0.0.1) is started in this process on a fresh SQLite
file in the output directory, and the scenario's site is set up through the
installer workflow (inventory → organization → chargers → meter → group →
import → activate). Then a :class:`~fuseshare.sim.realtime.RealtimeSite` plays
the scenario second by second over real OCPP (each charger a real 1.6 / 2.0.1
client with its password) and the real Amp Guard ingestion path, and every
second is recorded in the same :class:`~fuseshare.sim.engine.Trace` as a
virtual-clock run, so the report and CSVs mean exactly the same.

Faults: ``meter_offline`` silences the Amp Guard, ``charger_offline`` closes
that charger's WebSocket. ``controller_down`` needs the virtual clock (the
control side is this very process) and is refused with a clear message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from pathlib import Path

import numpy as np

from fuseshare.balancing import ALL_LINES
from fuseshare.config import Settings
from fuseshare.errors import InvalidInput
from fuseshare.sim.base_load import base_load_a
from fuseshare.sim.engine import Progress, SessionOutcome, SimResult, Trace
from fuseshare.sim.realtime import RealtimeSite, SiteCharger, Visit
from fuseshare.sim.scenario import Scenario

log = logging.getLogger("fuseshare.sim.realtime")

METER_SERIAL = "SIM-AG-0001"
METER_PIN = "20261124"


def _password(charger_id: str) -> str:
    return f"realtime-{charger_id}-secret"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def check_realtime(scenario: Scenario) -> None:
    if any(f.kind == "controller_down" for f in scenario.faults):
        raise InvalidInput.one(
            "faults",
            "a controller_down fault cannot be played in real time (the control side is this "
            "process); run without --realtime, or remove that fault",
        )


def seed_site(settings: Settings, scenario: Scenario) -> int:
    """Set the scenario's site up through the installer workflow; returns the group id."""
    from fuseshare.bootstrap import build_store
    from fuseshare.workflow import Actor, GroupSettings, MembershipSettings, Workflow

    wf = Workflow(build_store(settings, "always").context)
    actor = Actor.system("simulate-realtime")
    rows = ["kind,serial,secret,vendor,model,max_current_a,connectors,meter_kind"]
    rows += [
        f"charger,{c.id},{_password(c.id)},fuseshare-sim,SimCharger,{c.max_current_a:g},1,"
        for c in scenario.chargers
    ]
    rows.append(f"meter,{METER_SERIAL},{METER_PIN},fuseshare,Amp Guard,,,amp_guard")
    wf.devices.import_inventory(actor, "\n".join(rows) + "\n")
    wf.accounts.create_partner(actor, "Simulation")
    org = f"Simulated site {scenario.name}"
    wf.orgs.create(
        actor,
        partner="Simulation",
        name=org,
        site_type="company",
        contact_name="Simulator",
        contact_email="simulator@fuseshare.local",
        address="Virtual street 1",
        postal_code="0000",
        city="Oslo",
        country="NO",
    )
    for c in scenario.chargers:
        wf.devices.add_charger(actor, organization=org, serial=c.id, password=_password(c.id))
    wf.devices.add_meter(actor, organization=org, serial=METER_SERIAL, pin=METER_PIN)
    g = scenario.group
    group = wf.groups.create(
        actor,
        organization=org,
        meter=METER_SERIAL,
        settings=GroupSettings(
            name=scenario.name[:60],
            description=scenario.description or f"scenario {scenario.name}",
            grid=scenario.grid.value,
            outlet_active=g.outlet_active,
            max_current_offline_a=g.max_current_offline_a,
            max_current_online_a=g.max_current_online_a,
            min_current_a=g.min_current_a,
            max_supply_current_a=scenario.max_supply_current_a,
            margin_a=g.margin_a,
        ),
    )
    for c in scenario.chargers:
        wf.groups.import_charger(
            actor,
            scenario.name[:60],
            charger=c.id,
            membership=MembershipSettings(
                phases=",".join(c.phases),
                failsafe_current_a=c.failsafe_current_a,
                priority=max(1, round(c.priority)),
            ),
        )
    wf.groups.activate(actor, scenario.name[:60], confirm=True)
    return int(group["id"])


class _Recorder:
    """Fills a Trace from the live site once per second."""

    def __init__(self, scenario: Scenario, trace: Trace, board: object, group_id: int) -> None:
        self.sc = scenario
        self.trace = trace
        self.board = board
        self.group_id = group_id
        self.index = {c.id: k for k, c in enumerate(scenario.chargers)}
        self.reasons: dict[str, int] = {}
        self.drawing: dict[str, bool] = {}
        self.pauses: dict[int, int] = {}
        self.algorithm: tuple[str, int] | None = None

    def _reason(self, text: str) -> int:
        if text not in self.reasons:
            self.reasons[text] = len(self.reasons)
        return self.reasons[text]

    def __call__(self, elapsed_s: float, site: RealtimeSite) -> None:
        t = int(elapsed_s)
        tr = self.trace
        if t >= tr.base_a.shape[0]:
            return
        live = self.board.latest(self.group_id)  # type: ignore[attr-defined]
        reasons = {c.serial: c.reason for c in live.chargers} if live is not None else {}
        if live is not None and self.algorithm is None and "algorithm" in live.extra:
            self.algorithm = (str(live.extra["algorithm"]), int(live.extra["version"]))
        if live is not None:
            for line in live.lines:
                limit = getattr(line, "site_limit_a", None)
                if limit is not None:
                    tr.limit_a[t, ALL_LINES.index(line.line)] = limit
        tr.base_a[t] = site.base_now
        total = list(site.base_now)
        for st in site.stations:
            if st.car is None or st.visit is None:
                continue
            i = self.index[st.spec.serial]
            per_line = [st.factors.get(line, 0.0) * st.drawn_a for line in ALL_LINES]
            total = [a + b for a, b in zip(total, per_line, strict=True)]
            tr.present[t, i] = True
            tr.setpoint_a[t, i] = st.applied_a
            tr.car_a[t, i] = st.drawn_a
            tr.actual_a[t, i] = per_line
            connected = st.cp.connected
            text = reasons.get(st.spec.serial, "") if connected else "link lost: charger on its own"
            tr.reason[t, i] = self._reason(text)
            key = st.spec.serial
            if self.drawing.get(key) and st.drawn_a <= 0.0 and st.car.wants_energy:
                self.pauses[st.visit.index] = self.pauses.get(st.visit.index, 0) + 1
            self.drawing[key] = st.drawn_a > 0.0
        tr.total_a[t] = total
        tr.meter_online[t] = not site.meter_silent(elapsed_s)


async def simulate_realtime_async(
    scenario: Scenario, work_dir: Path, *, progress: Progress | None = None
) -> SimResult:
    import uvicorn

    from fuseshare.bootstrap import build_app, build_runtime
    from fuseshare.meters.simulated import InProcessTransport
    from fuseshare.server import uvicorn_config

    check_realtime(scenario)
    work_dir.mkdir(parents=True, exist_ok=True)
    db = work_dir / "realtime.sqlite3"
    if db.exists():
        db.unlink()
    settings = Settings(
        data_dir=work_dir,
        database_url=f"sqlite:///{db}",
        port=_free_port(),
        log_level="WARNING",
        ocpp_profile_lifetime_s=int(scenario.limit_lifetime_s),
        ocpp_quiet_profile_lifetime_s=int(scenario.quiet_limit_lifetime_s),
    )
    group_id = await asyncio.to_thread(seed_site, settings, scenario)
    runtime = build_runtime(settings, mqtt=False)
    server = uvicorn.Server(uvicorn_config(settings, build_app(runtime)))
    serving = asyncio.create_task(server.serve())
    n_t, n_c = scenario.duration_s, len(scenario.chargers)
    trace = Trace(
        base_a=base_load_a(scenario.base_load, scenario.grid, n_t, scenario.seed),
        total_a=np.zeros((n_t, 3)),
        limit_a=np.full((n_t, 3), np.nan),
        meter_online=np.zeros(n_t, dtype=bool),
        setpoint_a=np.zeros((n_t, n_c), dtype=np.float32),
        car_a=np.zeros((n_t, n_c), dtype=np.float32),
        actual_a=np.zeros((n_t, n_c, 3), dtype=np.float32),
        present=np.zeros((n_t, n_c), dtype=bool),
        reason=np.full((n_t, n_c), -1, dtype=np.int16),
    )
    base = trace.base_a.copy()
    visits: dict[str, list[Visit]] = {}
    for k, s in enumerate(scenario.sessions):
        visits.setdefault(s.charger, []).append(
            Visit(
                s.arrive_s,
                s.depart_s - s.arrive_s,
                s.energy_kwh,
                s.car_phases,
                s.car_max_current_a,
                index=k,
                tells_needs=s.tells_needs,
            )
        )
    recorder = _Recorder(scenario, trace, runtime.board, group_id)
    meter_off = [(f.from_s, f.to_s) for f in scenario.faults if f.kind == "meter_offline"]
    cuts = [(f.charger, f.from_s, f.to_s) for f in scenario.faults if f.kind == "charger_offline"]
    started = time.perf_counter()
    site: RealtimeSite | None = None
    try:
        while not server.started:
            if serving.done():
                await serving
            await asyncio.sleep(0.05)
        site = RealtimeSite(
            base_url=f"ws://127.0.0.1:{settings.port}/ocpp",
            chargers=[
                SiteCharger(c.id, _password(c.id), c.phases, c.version, c.max_current_a)
                for c in scenario.chargers
            ],
            grid=scenario.grid,
            meter_serial=METER_SERIAL,
            transport=InProcessTransport(runtime.hub, clock=time.time),
            visits=visits,
            base_load=lambda t: [float(v) for v in base[min(int(t), n_t - 1)]],
            seed=scenario.seed,
            response_s=scenario.ev_response_s,
            meter_silent=lambda t: any(a <= t < b for a, b in meter_off),
            link_cut=lambda serial, t: any(c == serial and a <= t < b for c, a, b in cuts),
            observer=recorder,
        )
        site.should_stop = lambda: (time.time() - site.started_s) >= n_t if site else True

        async def report_progress() -> None:
            while True:
                if progress is not None and site is not None:
                    progress(min(n_t, int(time.time() - site.started_s)), n_t)
                await asyncio.sleep(1.0)

        ticker = asyncio.create_task(report_progress())
        try:
            await site.run()
        finally:
            ticker.cancel()
    finally:
        server.should_exit = True
        with contextlib.suppress(Exception):
            await serving
    if progress is not None:
        progress(n_t, n_t)
    outcomes = [
        SessionOutcome(
            k, s.charger, s.arrive_s, s.depart_s, s.energy_kwh, pauses=recorder.pauses.get(k, 0)
        )
        for k, s in enumerate(scenario.sessions)
    ]
    sent = 0
    for st in site.stations if site else []:
        for visit, delivered in st.finished:
            outcomes[visit.index].delivered_kwh = delivered
        if st.visit is not None and st.car is not None:
            outcomes[st.visit.index].delivered_kwh = st.car.delivered_kwh
        sent += sum(1 for action, _ in st.cp.state.received if action == "SetChargingProfile")
    trace.reasons = list(recorder.reasons)
    algorithm, version = recorder.algorithm or ("standard", 0)
    return SimResult(
        scenario=scenario,
        controller=f"{algorithm} v{version} (real time, OCPP)",
        algorithm=algorithm,
        version=version,
        trace=trace,
        sessions=outcomes,
        setpoints_sent=sent,
        wall_s=time.perf_counter() - started,
    )


def simulate_realtime(
    scenario: Scenario, work_dir: Path, *, progress: Progress | None = None
) -> SimResult:
    return asyncio.run(simulate_realtime_async(scenario, work_dir, progress=progress))
