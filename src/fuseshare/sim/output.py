"""Writing a simulation's files: report.json, site.csv, chargers.csv (SCENARIOS.md).

``site.csv``: one row per second,
``t_s,base_l1,base_l2,base_l3,total_l1,total_l2,total_l3,limit_l1,limit_l2,limit_l3,meter_online``.
``limit_l*`` is the control side's limit for the whole line (the rest of the
building plus the chargers' budget, margin off) while it knows one, and the
main fuse otherwise (meter offline, control side down, baselines).
Lines a supply does not have are 0. ``meter_online`` is 1 while the meter sends.

``chargers.csv``: one row per charger per second while a car is plugged in,
``t_s,charger,setpoint_a,actual_l1,actual_l2,actual_l3,reason``: the limit the
charger applied, the car's current on each grid line, and what bound the limit.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np

from fuseshare.sim.engine import SimResult

SITE_HEADER = (
    "t_s,base_l1,base_l2,base_l3,total_l1,total_l2,total_l3,limit_l1,limit_l2,limit_l3,meter_online"
)
CHARGERS_HEADER = "t_s,charger,setpoint_a,actual_l1,actual_l2,actual_l3,reason"


def write_report(report: dict[str, Any], out_dir: Path) -> Path:
    path = out_dir / "report.json"
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return path


def write_site_csv(result: SimResult, out_dir: Path) -> Path:
    tr = result.trace
    n_t = tr.base_a.shape[0]
    limit = np.where(np.isnan(tr.limit_a), result.scenario.max_supply_current_a, tr.limit_a)
    table = np.column_stack(
        [np.arange(n_t), tr.base_a, tr.total_a, limit, tr.meter_online.astype(np.float64)]
    )
    path = out_dir / "site.csv"
    fmt = ["%d"] + ["%.2f"] * 9 + ["%d"]
    np.savetxt(path, table, fmt=fmt, delimiter=",", header=SITE_HEADER, comments="")
    return path


def write_chargers_csv(result: SimResult, out_dir: Path) -> Path:
    tr = result.trace
    ids = [c.id for c in result.scenario.chargers]
    path = out_dir / "chargers.csv"
    t_idx, c_idx = np.nonzero(tr.present)  # row-major: by second, then charger order
    setpoint = tr.setpoint_a[t_idx, c_idx]
    actual = tr.actual_a[t_idx, c_idx]
    reason = tr.reason[t_idx, c_idx]
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(CHARGERS_HEADER + "\n")
        writer = csv.writer(fh, lineterminator="\n")
        reasons = tr.reasons
        rows = (
            (
                int(t),
                ids[c],
                f"{s:.1f}",
                f"{a[0]:.2f}",
                f"{a[1]:.2f}",
                f"{a[2]:.2f}",
                reasons[r] if r >= 0 else "",
            )
            for t, c, s, a, r in zip(
                t_idx.tolist(),
                c_idx.tolist(),
                setpoint.tolist(),
                actual.tolist(),
                reason.tolist(),
                strict=True,
            )
        )
        writer.writerows(rows)
    return path


def write_all(result: SimResult, report: dict[str, Any], out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    return [
        write_report(report, out_dir),
        write_site_csv(result, out_dir),
        write_chargers_csv(result, out_dir),
    ]
