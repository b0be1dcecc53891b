"""Regenerate the scenario library in this folder: ``python scenarios/make_library.py``.

The JSON files are the library (SCENARIOS.md format); this script only makes
their long session lists reproducible from a seed. Edit a file by hand or
change it here and regenerate, not both.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROTATIONS = (["L1", "L2", "L3"], ["L2", "L3", "L1"], ["L3", "L1", "L2"])


def h(hours: float) -> int:
    return round(hours * 3600)


def sessions(
    rng: random.Random,
    chargers: list[str],
    *,
    arrive_h: tuple[float, float],
    stay_h: tuple[float, float],
    energy_kwh: tuple[float, float],
    cars: list[tuple[int, float]],
    share: float = 1.0,
    end_s: int = 86400,
) -> list[dict[str, Any]]:
    """One session per charger (a ``share`` of them) with arrival, stay, energy and car drawn."""
    out = []
    for cid in chargers:
        if rng.random() > share:
            continue
        arrive = h(rng.uniform(*arrive_h))
        depart = min(end_s, arrive + h(rng.uniform(*stay_h)))
        phases, max_a = rng.choice(cars)
        out.append(
            {
                "charger": cid,
                "arrive_s": arrive,
                "depart_s": depart,
                "energy_kwh": round(rng.uniform(*energy_kwh), 1),
                "car_phases": phases,
                "car_max_current_a": max_a,
            }
        )
    return sorted(out, key=lambda s: s["arrive_s"])


def group(online: float, offline: float, min_a: float = 6.0) -> dict[str, Any]:
    return {
        "algorithm": "standard",
        "version": None,
        "outlet_active": True,
        "max_current_online_a": online,
        "max_current_offline_a": offline,
        "min_current_a": min_a,
        "meter_interval_s": 1,
    }


def chargers(
    n: int, *, prefix: str, max_a: float = 32, failsafe: float = 6
) -> list[dict[str, Any]]:
    """``n`` three-phase chargers with rotated wiring, so one-phase cars spread over the lines."""
    return [
        {
            "id": f"{prefix}{k + 1:02d}",
            "phases": ROTATIONS[k % 3],
            "max_current_a": max_a,
            "failsafe_current_a": failsafe,
        }
        for k in range(n)
    ]


SCARCE_SESSIONS: dict[str, dict[str, Any]] = {
    "scarce-evening-it": {
        "arrive_h": (16.0, 18.0),
        "stay_h": (4.5, 7.5),
        "energy_kwh": (20, 50),
        "cars": [(1, 32), (3, 16), (3, 32)],
        "end_s": 86399,
    },
    "scarce-evening-tn": {
        "arrive_h": (16.5, 18.5),
        "stay_h": (4, 6.5),
        "energy_kwh": (15, 40),
        "cars": [(1, 16), (2, 16), (3, 16)],
        "end_s": 86399,
    },
}
"""What the scarce evenings' sessions are drawn from (also bench/bench_seeds.py's redraws)."""


def library() -> dict[str, dict[str, Any]]:
    rng = random.Random(2026)
    heavy = ["oven", "cooktop", "water_heater", "heat_pump", "sauna", "dryer"]
    out: dict[str, dict[str, Any]] = {}

    out["home-tn-heavy-appliances"] = {
        "name": "home-tn-heavy-appliances",
        "description": "Single-family home, TN 400 V, 3x25 A main fuse, two chargers, sauna, "
        "oven, cooktop, water heater and heat pump; two cars overnight.",
        "duration_s": 86400,
        "seed": 11,
        "grid": "TN_400_3P",
        "max_supply_current_a": 25,
        "group": group(25, 10),
        "chargers": [
            {
                "id": "GARAGE",
                "phases": ["L1", "L2", "L3"],
                "max_current_a": 16,
                "failsafe_current_a": 6,
            },
            {
                "id": "DRIVEWAY",
                "phases": ["L2", "L3", "L1"],
                "max_current_a": 32,
                "failsafe_current_a": 6,
            },
        ],
        "base_load": {
            "kind": "household",
            "seed": 11,
            "homes": 1,
            "appliances": heavy,
            "scale": 1.0,
        },
        "sessions": [
            {
                "charger": "GARAGE",
                "arrive_s": h(17.3),
                "depart_s": h(23.9),
                "energy_kwh": 38,
                "car_phases": 3,
                "car_max_current_a": 16,
            },
            {
                "charger": "DRIVEWAY",
                "arrive_s": h(18.1),
                "depart_s": h(23.95),
                "energy_kwh": 14,
                "car_phases": 1,
                "car_max_current_a": 32,
            },
            {
                "charger": "GARAGE",
                "arrive_s": h(0.0),
                "depart_s": h(7.2),
                "energy_kwh": 25,
                "car_phases": 3,
                "car_max_current_a": 16,
            },
        ],
        "ev_response_s": 5,
    }
    out["home-it-heavy-appliances"] = {
        "name": "home-it-heavy-appliances",
        "description": "Norwegian single-family home, IT 230 V, 40 A main fuse, two chargers; "
        "sauna, oven, cooktop, water heater, heat pump and dryer sit between two lines.",
        "duration_s": 86400,
        "seed": 12,
        "grid": "IT_230_3P",
        "max_supply_current_a": 40,
        "group": group(32, 16),
        "chargers": [
            {
                "id": "CAR-A",
                "phases": ["L1", "L2", "L3"],
                "max_current_a": 32,
                "failsafe_current_a": 6,
            },
            {
                "id": "CAR-B",
                "phases": ["L2", "L3", "L1"],
                "max_current_a": 32,
                "failsafe_current_a": 6,
            },
        ],
        "base_load": {
            "kind": "household",
            "seed": 12,
            "homes": 1,
            "appliances": heavy,
            "scale": 1.2,
        },
        "sessions": [
            {
                "charger": "CAR-A",
                "arrive_s": h(16.8),
                "depart_s": h(23.99),
                "energy_kwh": 45,
                "car_phases": 1,
                "car_max_current_a": 32,
            },
            {
                "charger": "CAR-B",
                "arrive_s": h(17.6),
                "depart_s": h(23.99),
                "energy_kwh": 40,
                "car_phases": 3,
                "car_max_current_a": 16,
            },
            {
                "charger": "CAR-A",
                "arrive_s": h(0.0),
                "depart_s": h(6.8),
                "energy_kwh": 20,
                "car_phases": 1,
                "car_max_current_a": 32,
            },
        ],
        "ev_response_s": 5,
    }
    housing = chargers(20, prefix="HA-")
    out["housing-association-20x63a"] = {
        "name": "housing-association-20x63a",
        "description": "Housing association garage: 20 chargers behind a 63 A IT main fuse "
        "shared with common areas and eight flats; evening arrivals, morning departures, "
        "a few daytime sessions.",
        "duration_s": 86400,
        "seed": 20,
        "grid": "IT_230_3P",
        "max_supply_current_a": 63,
        "group": group(50, 24, 8),
        "chargers": housing,
        "base_load": {
            "kind": "household",
            "seed": 20,
            "homes": 8,
            "appliances": heavy,
            "scale": 0.9,
        },
        "sessions": sorted(
            sessions(
                rng,
                [c["id"] for c in housing],
                arrive_h=(15.5, 21.0),
                stay_h=(8, 14),
                energy_kwh=(8, 40),
                cars=[(1, 32), (1, 16), (3, 16), (3, 32)],
                share=0.9,
                end_s=86399,
            )
            + sessions(
                rng,
                [c["id"] for c in housing[:8]],
                arrive_h=(0.0, 1.0),
                stay_h=(5, 7),
                energy_kwh=(5, 25),
                cars=[(1, 32), (3, 16)],
                share=0.6,
            )
            + sessions(
                rng,
                [c["id"] for c in housing[8:14]],
                arrive_h=(9.0, 11.0),
                stay_h=(2, 4),
                energy_kwh=(4, 12),
                cars=[(1, 16), (3, 16)],
                share=0.7,
            ),
            key=lambda s: (s["charger"], s["arrive_s"]),
        ),
        "ev_response_s": 5,
    }
    office = chargers(50, prefix="P-", max_a=16)
    out["office-carpark-50"] = {
        "name": "office-carpark-50",
        "description": "Office car park: 50 chargers (16 A) on TN 400 V behind a 160 A fuse "
        "shared with the office building (ventilation, kitchen, lifts) on weekdays 7-18.",
        "duration_s": 86400,
        "seed": 50,
        "grid": "TN_400_3P",
        "max_supply_current_a": 160,
        "group": group(125, 60),
        "chargers": office,
        "base_load": {
            "kind": "series",
            "points": [
                [0, 22, 20, 24],
                [h(6), 40, 36, 44],
                [h(7.5), 62, 58, 66],
                [h(11.5), 78, 70, 82],
                [h(13), 66, 60, 70],
                [h(16.5), 48, 44, 52],
                [h(18), 30, 28, 32],
                [h(22), 22, 20, 24],
            ],
        },
        "sessions": sessions(
            rng,
            [c["id"] for c in office],
            arrive_h=(7.0, 9.5),
            stay_h=(6.5, 9.5),
            energy_kwh=(6, 30),
            cars=[(3, 16), (1, 16), (2, 16), (3, 11)],
            share=0.9,
        ),
        "ev_response_s": 5,
    }
    scarce = chargers(12, prefix="S-")
    out["scarce-evening-it"] = {
        "name": "scarce-evening-it",
        "description": "Scarce capacity: 12 cars arrive on an IT 63 A site between 16 and 18 "
        "and leave before midnight, asking far more than the evening peak leaves.",
        "duration_s": 86400,
        "seed": 31,
        "grid": "IT_230_3P",
        "max_supply_current_a": 63,
        "group": group(50, 24, 8),
        "chargers": scarce,
        "base_load": {
            "kind": "household",
            "seed": 31,
            "homes": 6,
            "appliances": heavy,
            "scale": 0.9,
        },
        "sessions": sessions(
            rng,
            [c["id"] for c in scarce],
            **SCARCE_SESSIONS["scarce-evening-it"],
        ),
        "ev_response_s": 5,
    }
    scarce_tn = chargers(10, prefix="T-", max_a=16)
    out["scarce-evening-tn"] = {
        "name": "scarce-evening-tn",
        "description": "Scarce capacity on TN: 10 cars (one-, two- and three-phase) behind a "
        "3x50 A fuse in the evening peak; phase-aware sharing matters.",
        "duration_s": 86400,
        "seed": 32,
        "grid": "TN_400_3P",
        "max_supply_current_a": 50,
        "group": group(45, 20, 6),
        "chargers": scarce_tn,
        "base_load": {
            "kind": "household",
            "seed": 32,
            "homes": 5,
            "appliances": heavy,
            "scale": 0.9,
        },
        "sessions": sessions(
            rng,
            [c["id"] for c in scarce_tn],
            **SCARCE_SESSIONS["scarce-evening-tn"],
        ),
        "ev_response_s": 5,
    }
    faulty = chargers(8, prefix="F-")
    # Failsafe currents must fit the offline budget (activation refuses more): 4 x 6 A
    # = 24 A per line, the others stop when they cannot hear the system.
    for c in faulty[4:]:
        c["failsafe_current_a"] = 0
    out["faults-every-kind"] = {
        "name": "faults-every-kind",
        "description": "Eight chargers on IT 63 A through every fault kind: the meter goes "
        "silent, chargers lose their link (shorter and longer than the limit lifetime), and "
        "the whole control side is down for 15 minutes.",
        "duration_s": h(8),
        "seed": 41,
        "grid": "IT_230_3P",
        "max_supply_current_a": 63,
        "group": group(50, 24, 8),
        "chargers": faulty,
        "base_load": {
            "kind": "household",
            "seed": 41,
            "homes": 4,
            "appliances": heavy,
            "scale": 0.8,
            "start_hour": 16,
        },
        "sessions": sessions(
            rng,
            [c["id"] for c in faulty],
            arrive_h=(0.0, 0.5),
            stay_h=(6, 7.9),
            energy_kwh=(20, 45),
            cars=[(1, 32), (3, 16)],
            end_s=h(8),
        ),
        "faults": [
            {"kind": "meter_offline", "from_s": h(1), "to_s": h(1) + 600},
            {"kind": "charger_offline", "charger": "F-02", "from_s": h(2), "to_s": h(2) + 60},
            {"kind": "charger_offline", "charger": "F-05", "from_s": h(2.5), "to_s": h(2.5) + 900},
            {"kind": "controller_down", "from_s": h(4), "to_s": h(4) + 900},
            {"kind": "meter_offline", "from_s": h(6), "to_s": h(6) + 30},
        ],
        "ev_response_s": 5,
    }
    # The same evenings (and the office's day) with cars that say what they need and when
    # they leave (ISO 15118 through OCPP 2.0.1 NotifyEVChargingNeeds), which versions 5
    # and later share by.
    for name in ("scarce-evening-it", "scarce-evening-tn", "office-carpark-50"):
        told = f"{name}-15118"
        out[told] = {
            **out[name],
            "name": told,
            "description": f"{out[name]['description']} Every car tells its energy and "
            "departure (ISO 15118).",
            "cars_tell_needs": True,
        }
    # The IT evening with cars that take twice what IEC 61851-1 allows to follow a new
    # limit (old cars, slow chargers): the loop must learn it, or the fuse carries the gap.
    out["scarce-evening-it-slow-cars"] = {
        **out["scarce-evening-it"],
        "name": "scarce-evening-it-slow-cars",
        "description": f"{out['scarce-evening-it']['description']} Every car takes 10 s to "
        "follow a new limit, twice what IEC 61851-1 allows.",
        "ev_response_s": 10,
    }
    # The TN evening with cars that follow a new limit in 2 s, well within IEC's 5 s (as
    # many do): a car that has followed a raise must not look like the building's load.
    out["scarce-evening-tn-fast-cars"] = {
        **out["scarce-evening-tn"],
        "name": "scarce-evening-tn-fast-cars",
        "description": f"{out['scarce-evening-tn']['description']} Every car follows a new "
        "limit in 2 s (IEC 61851-1 allows 5 s).",
        "ev_response_s": 2,
    }
    return out


def main() -> None:
    for name, scenario in library().items():
        path = HERE / f"{name}.json"
        path.write_text(json.dumps(scenario, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {path.relative_to(HERE.parent)} ({len(scenario['sessions'])} sessions)")


if __name__ == "__main__":
    main()
