"""One simulation from file to files: what ``fuseshare simulate`` and the benchmark call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fuseshare.errors import InvalidInput
from fuseshare.sim.baselines import BASELINES
from fuseshare.sim.baselines import baseline as make_baseline
from fuseshare.sim.controllers import Controller, LoopController
from fuseshare.sim.engine import Progress, SimResult, simulate
from fuseshare.sim.metrics import report as make_report
from fuseshare.sim.output import write_all
from fuseshare.sim.scenario import Scenario, load_scenario
from fuseshare.sim.upper_bound import energy_upper_bound_kwh


def controller_for(
    *, algorithm: str | None = None, version: int | None = None, baseline: str | None = None
) -> Controller:
    """The real control loop (optionally another algorithm/version), or a baseline by name."""
    if baseline is not None:
        if baseline not in BASELINES:
            raise InvalidInput.one(
                "baseline", f"'{baseline}' is not a baseline; choose {', '.join(BASELINES)}"
            )
        return make_baseline(baseline)
    if algorithm is not None or version is not None:
        from fuseshare.balancing import UnknownAlgorithmError, get_algorithm

        try:
            get_algorithm(algorithm or "standard", version)
        except UnknownAlgorithmError as exc:
            raise InvalidInput.one("algorithm", str(exc)) from None
    return LoopController(algorithm, version)


def run_scenario(
    scenario: Scenario,
    controller: Controller | None = None,
    *,
    progress: Progress | None = None,
    upper_bound: bool = True,
) -> tuple[SimResult, dict[str, Any]]:
    """Simulate and score: the result (traces) and the report.json dictionary."""
    result = simulate(scenario, controller, progress=progress)
    bound = energy_upper_bound_kwh(scenario, result.trace.base_a) if upper_bound else None
    return result, make_report(result, bound)


def run_files(
    scenario_path: Path,
    out_dir: Path,
    *,
    algorithm: str | None = None,
    version: int | None = None,
    baseline: str | None = None,
    plots: bool = True,
    progress: Progress | None = None,
    realtime: bool = False,
) -> tuple[dict[str, Any], list[Path]]:
    """Load, simulate, score, and write report.json, site.csv, chargers.csv (+ plots).

    ``realtime``: play the scenario in real time against a server started in this
    process, over real OCPP and the real meter path (:mod:`fuseshare.sim.realtime_run`).
    """
    scenario = load_scenario(scenario_path)
    if out_dir.exists() and not out_dir.is_dir():
        raise InvalidInput.one("out", f"{out_dir} exists and is not a directory; give a directory")
    if realtime:
        from fuseshare.sim.realtime_run import check_realtime, simulate_realtime

        if baseline is not None or algorithm is not None or version is not None:
            raise InvalidInput.one(
                "realtime",
                "--realtime runs the server's own algorithm; drop --baseline/--algorithm/--version",
            )
        check_realtime(scenario)
        result = simulate_realtime(scenario, out_dir / "server", progress=progress)
        report = make_report(result, energy_upper_bound_kwh(scenario, result.trace.base_a))
    else:
        controller = controller_for(algorithm=algorithm, version=version, baseline=baseline)
        result, report = run_scenario(scenario, controller, progress=progress)
    paths = write_all(result, report, out_dir)
    if plots:
        from fuseshare.sim.plots import write_plots

        paths += write_plots(result, out_dir)
    return report, paths
