"""History retention: per second for 48 h, per minute (averages) for a year."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from fuseshare.store.tables import MeterReadingRow, SetpointRow
from fuseshare.workflow import MembershipSettings, Workflow

from .conftest import OPERATOR, Site, group_settings

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def test_old_seconds_fold_into_minutes_and_old_minutes_go(site: Site) -> None:
    wf: Workflow = site.wf
    wf.devices.add_meter(OPERATOR, organization=site.org, serial="AG-0001", pin="12345678")
    wf.devices.add_charger(OPERATOR, organization=site.org, serial="CH-0001", password="pass-0001")
    group = wf.groups.create(
        OPERATOR, organization=site.org, settings=group_settings(), meter="AG-0001"
    )
    wf.groups.import_charger(
        OPERATOR, "Garage", charger="CH-0001", membership=MembershipSettings("L1", 6)
    )
    old = NOW - timedelta(hours=50)
    with wf.ctx.unit() as s:
        for second in range(
            120
        ):  # two whole minutes, 50 h ago: 10 A in the first, 20 A in the second
            current = 10.0 if second < 60 else 20.0
            at = old.replace(second=0) + timedelta(seconds=second)
            s.add(
                MeterReadingRow(
                    meter_id=1,
                    at=at,
                    resolution_s=1,
                    current_l1_a=current,
                    current_l2_a=1.0,
                    current_l3_a=None,
                    energy_kwh=float(second),
                )
            )
            s.add(
                SetpointRow(
                    group_id=group["id"],
                    charger_id=1,
                    at=at,
                    resolution_s=1,
                    current_a=current / 2,
                    actual_a=None,
                    reason="main fuse L1",
                )
            )
        s.add(
            MeterReadingRow(
                meter_id=1, at=NOW - timedelta(hours=1), resolution_s=1, current_l1_a=5.0
            )
        )
        s.add(
            MeterReadingRow(
                meter_id=1, at=NOW - timedelta(days=400), resolution_s=60, current_l1_a=7.0
            )
        )
    counts = wf.history.prune(now=NOW, batch=50)  # small batches: the loop must carry on
    assert counts["readings_folded"] == 120 and counts["setpoints_folded"] == 120
    assert counts["deleted"] == 1
    with wf.ctx.unit() as s:
        readings = list(s.scalars(select(MeterReadingRow).order_by(MeterReadingRow.at)))
        minutes = [r for r in readings if r.resolution_s == 60]
        assert [(r.current_l1_a, r.current_l2_a, r.current_l3_a) for r in minutes] == [
            (10.0, 1.0, None),
            (20.0, 1.0, None),
        ]
        assert [r.energy_kwh for r in minutes] == [59.0, 119.0]  # the last register of the minute
        assert [r.current_l1_a for r in readings if r.resolution_s == 1] == [
            5.0
        ]  # recent seconds stay
        setpoints = list(s.scalars(select(SetpointRow).order_by(SetpointRow.at)))
        assert [(p.resolution_s, p.current_a) for p in setpoints] == [(60, 5.0), (60, 10.0)]
