"""Plots of a simulation (matplotlib, headless): what a person looks at first.

* ``lines.png``: per grid line, the total current (rest of the building + cars)
  against the main fuse and the control side's limit, and the rest of the
  building alone; shaded where the meter was offline.
* ``chargers.png``: each charger's current over time (one row per charger, a
  heat map), so pauses, rotation and fault fallbacks are visible at a glance.

Long runs are drawn from per-minute maxima (lines) and means (chargers), which
keeps a 24 h day quick to draw without hiding a peak.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import numpy.typing as npt

from fuseshare.sim.engine import SimResult


def _bucket(n_t: int) -> int:
    return 1 if n_t <= 4 * 3600 else 60


def _reduce(values: npt.NDArray[np.float64], bucket: int, how: str) -> npt.NDArray[np.float64]:
    if bucket == 1:
        return values
    n = values.shape[0] // bucket * bucket
    if n == 0:
        return values
    shaped = values[:n].reshape(n // bucket, bucket, *values.shape[1:])
    with warnings.catch_warnings():
        # A bucket with nothing in it (no car plugged in, no limit known) is a gap in
        # the plot (NaN), not something to warn a reader about.
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.asarray(np.nanmax(shaped, axis=1) if how == "max" else np.nanmean(shaped, axis=1))


def write_plots(result: SimResult, out_dir: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sc = result.scenario
    tr = result.trace
    n_t = tr.base_a.shape[0]
    bucket = _bucket(n_t)
    hours = np.arange(0, n_t - n_t % bucket if bucket > 1 else n_t, bucket) / 3600.0
    total = _reduce(tr.total_a, bucket, "max")
    base = _reduce(tr.base_a, bucket, "max")
    limit = _reduce(tr.limit_a, bucket, "max") if not np.isnan(tr.limit_a).all() else None
    offline = _reduce((~tr.meter_online).astype(float)[:, None], bucket, "max")[:, 0] > 0
    lines = sc.grid.lines
    fig, axes = plt.subplots(
        len(lines), 1, figsize=(12, 2.6 * len(lines)), sharex=True, squeeze=False
    )
    for j, line in enumerate(lines):
        ax = axes[j][0]
        ax.plot(hours, total[: len(hours), j], lw=0.8, label="total (building + cars)")
        ax.plot(hours, base[: len(hours), j], lw=0.6, color="grey", label="rest of the building")
        if limit is not None:
            ax.plot(
                hours, limit[: len(hours), j], lw=0.6, ls="--", color="green", label="control limit"
            )
        ax.axhline(sc.max_supply_current_a, color="red", lw=1.0, label="main fuse")
        if offline.any():
            ax.fill_between(
                hours,
                0,
                1,
                where=offline[: len(hours)],
                transform=ax.get_xaxis_transform(),
                color="orange",
                alpha=0.15,
                label="meter offline",
            )
        ax.set_ylabel(f"{line} (A)")
        ax.set_ylim(bottom=0)
    axes[0][0].set_title(
        f"{sc.name}: line currents against the {sc.max_supply_current_a:g} A fuse "
        f"({result.controller})"
    )
    axes[0][0].legend(loc="upper left", fontsize=7, ncol=5)
    axes[-1][0].set_xlabel("hours from start")
    fig.tight_layout()
    lines_png = out_dir / "lines.png"
    fig.savefig(lines_png, dpi=110)
    plt.close(fig)

    car = np.where(tr.present, tr.car_a, np.nan).astype(np.float64)
    car = _reduce(car, bucket, "mean") if bucket > 1 else car
    ids = [c.id for c in sc.chargers]
    height = min(14.0, 1.5 + 0.28 * len(ids))
    fig, ax = plt.subplots(figsize=(12, height))
    image = ax.imshow(
        car.T,
        aspect="auto",
        interpolation="nearest",
        cmap="viridis",
        extent=(0.0, n_t / 3600.0, len(ids) - 0.5, -0.5),
    )
    ax.set_yticks(range(len(ids)), ids, fontsize=7 if len(ids) > 20 else 9)
    ax.set_xlabel("hours from start")
    ax.set_title(f"{sc.name}: each charger's current (A per phase; blank: no car)")
    fig.colorbar(image, ax=ax, label="A")
    fig.tight_layout()
    chargers_png = out_dir / "chargers.png"
    fig.savefig(chargers_png, dpi=110)
    plt.close(fig)
    return [lines_png, chargers_png]
