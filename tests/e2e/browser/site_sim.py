"""A simulated site for the dashboard: a simulated Amp Guard (the building's load) plus
chargers drawing current, turned into the LiveBoard states and history rows the
control loop would produce."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fuseshare.control.live import ChargerLive, GroupLive, LineLive, MeterLive
from fuseshare.meters.simulated import SimulatedAmpGuard, household_load
from fuseshare.store.tables import MeterReadingRow, SetpointRow
from fuseshare.workflow import Actor, Workflow

FUSE_A = 63.0
GROUP_LIMIT_A = 32.0
MARGIN_A = 1.0


class SimulatedSite:
    def __init__(self, group_id: int, meter: str, chargers: list[str]) -> None:
        self.group_id = group_id
        self.meter = SimulatedAmpGuard(meter, household_load(seed=7), seed=7)
        self.chargers = chargers

    def state(self, at: datetime, *, meter_online: bool = True) -> GroupLive:
        building = self.meter.sample(at.timestamp())["current_a"]
        per_charger = [16.0, 10.0][: len(self.chargers)]
        charging = [(a, a, a) for a in per_charger]
        chargers_a = [sum(c[i] for c in charging) for i in range(3)]
        load = [round(b + c, 1) for b, c in zip(building, chargers_a, strict=True)]
        lines = tuple(
            LineLive(
                line=f"L{i + 1}",
                load_a=load[i],
                chargers_a=chargers_a[i],
                limit_a=round(min(GROUP_LIMIT_A, FUSE_A - MARGIN_A - building[i]), 1),
                fuse_a=FUSE_A,
                group_limit_a=GROUP_LIMIT_A,
                binding="group limit" if i else "main fuse L1",
            )
            for i in range(3)
        )
        chargers = tuple(
            ChargerLive(
                serial=serial,
                state="charging",
                online=True,
                setpoint_a=per_charger[n],
                actual_a=charging[n],
                reason="main fuse L1" if n == 0 else "car draws less",
            )
            for n, serial in enumerate(self.chargers)
        )
        meter = MeterLive(
            self.meter.serial, meter_online, 0.5 if meter_online else 42.0, tuple(load)
        )
        return GroupLive(self.group_id, at, "active", meter, lines, chargers)

    def record_history(self, wf: Workflow, now: datetime, minutes: int = 30) -> None:
        """What the control loop would have recorded over the last ``minutes``."""
        meter_id = wf.devices.show_meter(_operator(), self.meter.serial)["id"]
        ids = [wf.devices.show_charger(_operator(), s)["id"] for s in self.chargers]
        with wf.ctx.unit() as s:
            for k in range(minutes * 6):
                at = now - timedelta(seconds=10 * (minutes * 6 - k))
                live = self.state(at)
                m = live.meter.current_a
                s.add(
                    MeterReadingRow(
                        meter_id=meter_id,
                        at=at,
                        current_l1_a=m[0],
                        current_l2_a=m[1],
                        current_l3_a=m[2],
                    )
                )
                for cid, c in zip(ids, live.chargers, strict=True):
                    s.add(
                        SetpointRow(
                            group_id=self.group_id,
                            charger_id=cid,
                            at=at,
                            current_a=c.setpoint_a or 0.0,
                            actual_a=c.actual_a[0],
                            reason=c.reason,
                        )
                    )


def _operator() -> Actor:
    return Actor.system("simulated-site")


def now_utc() -> datetime:
    return datetime.now(UTC)
