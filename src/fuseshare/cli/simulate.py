"""`fuseshare simulate SCENARIO.json --out DIR`: one scenario through the real control loop.

The run is on a virtual clock (as fast as the machine allows); it writes
report.json, site.csv, chargers.csv (../shared/SCENARIOS.md) and, unless
``--no-plots``, lines.png and chargers.png. A bad scenario is one line on
stderr naming what is wrong, and exit code 1.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

import typer

from fuseshare.errors import InvalidInput


class _ProgressBar:
    """A one-line progress bar on stderr for long runs (only on a terminal)."""

    def __init__(self, label: str, enabled: bool) -> None:
        self.label = label
        self.enabled = enabled
        self.started = time.perf_counter()
        self._shown = -1

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total <= 0:
            return
        percent = 100 * done // total
        if percent == self._shown:
            return
        self._shown = percent
        fraction = done / total
        width = 30
        filled = int(width * fraction)
        elapsed = time.perf_counter() - self.started
        sys.stderr.write(
            f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] {fraction:4.0%} "
            f"{done / 3600:5.1f} h simulated in {elapsed:5.1f} s"
        )
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def simulate(
    scenario: Path = typer.Argument(..., help="The scenario JSON file (see SCENARIOS.md)."),
    out: Path = typer.Option(
        ..., "--out", help="Directory for report.json, site.csv, chargers.csv."
    ),
    algorithm: str | None = typer.Option(
        None, help="Run this balancing algorithm instead of the scenario's."
    ),
    version: int | None = typer.Option(
        None, help="Algorithm version instead of the scenario's (default: its own or the newest)."
    ),
    baseline: str | None = typer.Option(
        None, help="Run a baseline instead of the control loop: no_control, static_split, fcfs."
    ),
    plots: bool = typer.Option(
        True, "--plots/--no-plots", help="Also draw lines.png, chargers.png."
    ),
    progress: bool | None = typer.Option(
        None, "--progress/--no-progress", help="Progress bar (default: on a terminal)."
    ),
    realtime: bool = typer.Option(
        False,
        "--realtime",
        help="Play it in real time against a server started here: real OCPP, real meter path.",
    ),
) -> None:
    """Simulate a scenario on a virtual clock and write its report and traces."""
    try:
        from fuseshare.sim.run import run_files
    except ImportError as exc:  # numpy/scipy/matplotlib are the `sim` extra
        raise InvalidInput.one(
            "simulate",
            f"the simulator needs the 'sim' extra ({exc.name} is missing); "
            "install it with: pip install 'fuseshare[sim]'",
        ) from None
    show = sys.stderr.isatty() if progress is None else progress
    # The loop's and the meters' warnings (a charger overdrawing, a meter going silent) are
    # what the scenario plays out on purpose; the report counts them, the console stays quiet.
    for name in ("fuseshare.control", "fuseshare.meters", "fuseshare.ocpp", "uvicorn"):
        logging.getLogger(name).setLevel(logging.ERROR)
    report, paths = run_files(
        scenario,
        out,
        algorithm=algorithm,
        version=version,
        baseline=baseline,
        plots=plots,
        progress=_ProgressBar(scenario.stem, show),
        realtime=realtime,
    )
    ratio = report.get("energy_ratio")
    typer.echo(
        f"{report['scenario']} ({report['controller']}): "
        f"{report['energy_delivered_kwh']:.1f} of {report['energy_requested_kwh']:.1f} kWh requested"
        + (f", {ratio:.1%} of the upper bound" if ratio is not None else "")
        + f"; {report['seconds_above_fuse']} s above the fuse"
        f" ({report['seconds_above_fuse_unexcused']} outside the reaction delay)"
        f"; Jain {report['jain_fairness']:.3f}; {report['sessions_met']}/{report['sessions_total']} "
        f"sessions met; {report['wall_s']:.1f} s"
    )
    for path in paths:
        typer.echo(f"  wrote {path}")
