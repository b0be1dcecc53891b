"""Chargers and meters as the portal shows them: the stored view plus live state.

Connector states come from the store; the current a charger draws now comes
from the control loop's LiveBoard (only balanced chargers have one).
"""

from __future__ import annotations

from typing import Any

from fuseshare.control.live import LiveBoard
from fuseshare.web import queries
from fuseshare.workflow import Workflow


def live_chargers(board: LiveBoard, groups: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """serial → the charger's live entry, from every group given that has live state."""
    out: dict[str, dict[str, Any]] = {}
    for g in groups:
        live = board.latest(g["id"])
        if live is None:
            continue
        for c in live.chargers:
            out[c.serial] = {
                "state": c.state,
                "online": c.online,
                "setpoint_a": c.setpoint_a,
                "current_a": list(c.actual_a),
                "reason": c.reason,
                "group_id": g["id"],
            }
    return out


def chargers_with_status(
    wf: Workflow,
    board: LiveBoard,
    chargers: list[dict[str, Any]],
    groups: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    connectors = queries.connector_states(wf.ctx, [c["id"] for c in chargers])
    live = live_chargers(board, groups)
    out = []
    for c in chargers:
        entry = live.get(c["serial"])
        out.append(
            {
                **c,
                "connector_states": connectors.get(c["id"], []),
                "current_a": entry["current_a"] if entry else None,
                "live": entry,
            }
        )
    return out


def meter_currents(meter: dict[str, Any]) -> list[float] | None:
    """The latest per-line currents of a meter view's ``last_reading``, whatever its shape."""
    reading = meter.get("last_reading") or {}
    currents = reading.get("current_a")
    if isinstance(currents, list) and currents:
        return [float(v) for v in currents if isinstance(v, int | float)]
    keys = ("current_l1_a", "current_l2_a", "current_l3_a")
    values = [float(v) for k in keys if isinstance(v := reading.get(k), int | float)]
    return values or None
