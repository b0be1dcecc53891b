"""OCPP 1.6J: translate frames to :class:`ChargerEvents` and decisions to frames.

Nothing here decides anything; see ``central.py`` and ``profiles.py``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ocpp.routing import on
from ocpp.v16 import call, call_result
from ocpp.v16.enums import Action

from fuseshare.ocpp.connection import (
    CallFailed,
    OcppConnection,
    schedule_periods,
    with_validity,
)
from fuseshare.ocpp.framing import format_ts, parse_ts
from fuseshare.ocpp.metering import BALANCING_MEASURANDS, RawValue, build_sample
from fuseshare.ocpp.ports import BootInfo, Capabilities, RateUnit, SessionStart, SessionStop
from fuseshare.ocpp.profiles import CompositeSchedule, ProfileSpec, SchedulePeriod

CAPABILITY_KEYS = (
    "ChargeProfileMaxStackLevel",
    "ChargingScheduleAllowedChargingRateUnit",
    "ChargingScheduleMaxPeriods",
    "MaxChargingProfilesInstalled",
    "NumberOfConnectors",
    "MeterValuesSampledData",
    "MeterValueSampleInterval",
)


def _id_tag_info(accepted: bool) -> dict[str, str]:
    return {"status": "Accepted" if accepted else "Invalid"}


def raw_values(sampled: Iterable[dict[str, Any]]) -> list[RawValue]:
    """1.6 sampledValue entries (snake_case keys) as RawValues; unparseable
    values are skipped (value is a string on the wire)."""
    out: list[RawValue] = []
    for item in sampled:
        try:
            value = float(item["value"])
        except (KeyError, TypeError, ValueError):
            continue
        out.append(
            RawValue(
                value=value,
                measurand=item.get("measurand") or "Energy.Active.Import.Register",
                phase=item.get("phase"),
                unit=item.get("unit"),
            )
        )
    return out


def _int_or_none(text: str | None) -> int | None:
    try:
        return None if text is None else int(text)
    except ValueError:
        return None


def capabilities_from(keys: Iterable[dict[str, Any]]) -> Capabilities:
    raw = {str(k.get("key")): str(k.get("value", "")) for k in keys if k.get("key")}
    units_text = raw.get("ChargingScheduleAllowedChargingRateUnit")
    units: tuple[RateUnit, ...] | None = None
    if units_text is not None:
        parts = {p.strip().lower() for p in units_text.split(",")}
        by_name: tuple[tuple[RateUnit, set[str]], ...] = (
            ("A", {"current", "a"}),
            ("W", {"power", "w"}),
        )
        units = tuple(u for u, names in by_name if parts & names)
    return Capabilities(
        rate_units=units,
        max_stack_level=_int_or_none(raw.get("ChargeProfileMaxStackLevel")),
        max_profiles=_int_or_none(raw.get("MaxChargingProfilesInstalled")),
        max_periods_per_schedule=_int_or_none(raw.get("ChargingScheduleMaxPeriods")),
        number_of_connectors=_int_or_none(raw.get("NumberOfConnectors")),
        raw=raw,
    )


def profile_payload(spec: ProfileSpec) -> dict[str, Any]:
    """A ProfileSpec as a 1.6 csChargingProfiles (snake_case; the library
    camel-cases keys on the way out)."""
    schedule: dict[str, Any] = {
        "charging_rate_unit": spec.rate_unit,
        "start_schedule": format_ts(spec.start_schedule),
        "charging_schedule_period": schedule_periods(spec),
    }
    if spec.duration_s is not None:
        schedule["duration"] = spec.duration_s
    profile: dict[str, Any] = {
        "charging_profile_id": spec.profile_id,
        "stack_level": spec.stack_level,
        "charging_profile_purpose": spec.purpose,
        "charging_profile_kind": spec.kind,
        "charging_schedule": schedule,
    }
    return with_validity(profile, spec)


class V16Connection(OcppConnection):
    version = "1.6"
    _ocpp_version = "1.6"
    _call = call
    _call_result = call_result

    # -- from the charger ----------------------------------------------------

    @on(Action.boot_notification)
    async def on_boot_notification(
        self, charge_point_vendor: str, charge_point_model: str, **kwargs: Any
    ) -> call_result.BootNotification:
        return await self._answer_boot(
            BootInfo(
                vendor=charge_point_vendor,
                model=charge_point_model,
                firmware_version=kwargs.get("firmware_version"),
                serial_number=kwargs.get("charge_point_serial_number")
                or kwargs.get("charge_box_serial_number"),
                ocpp_version="1.6",
            )
        )

    @on(Action.status_notification)
    async def on_status_notification(
        self, connector_id: int, error_code: str, status: str, **kwargs: Any
    ) -> call_result.StatusNotification:
        await self.events.status(
            connector_id, status, None if error_code == "NoError" else error_code
        )
        return call_result.StatusNotification()

    @on(Action.meter_values)
    async def on_meter_values(
        self, connector_id: int, meter_value: list[dict[str, Any]], **kwargs: Any
    ) -> call_result.MeterValues:
        tx = kwargs.get("transaction_id")
        for mv in meter_value:
            sample = build_sample(
                parse_ts(mv["timestamp"]),
                connector_id,
                None if tx is None else str(tx),
                raw_values(mv.get("sampled_value", [])),
            )
            await self.events.meter_sample(sample)
        return call_result.MeterValues()

    @on(Action.authorize)
    async def on_authorize(self, id_tag: str, **kwargs: Any) -> call_result.Authorize:
        return call_result.Authorize(id_tag_info=_id_tag_info(await self.events.authorize(id_tag)))

    @on(Action.start_transaction)
    async def on_start_transaction(
        self, connector_id: int, id_tag: str, meter_start: int, timestamp: str, **kwargs: Any
    ) -> call_result.StartTransaction:
        accepted = await self.events.authorize(id_tag)
        tx = await self.events.session_started(
            SessionStart(
                connector_id=connector_id,
                transaction_id=None,
                id_tag=id_tag,
                meter_start_wh=float(meter_start),
                started_at=parse_ts(timestamp),
            )
        )
        return call_result.StartTransaction(
            transaction_id=int(tx), id_tag_info=_id_tag_info(accepted)
        )

    @on(Action.stop_transaction)
    async def on_stop_transaction(
        self, meter_stop: int, timestamp: str, transaction_id: int, **kwargs: Any
    ) -> call_result.StopTransaction:
        id_tag = kwargs.get("id_tag")
        await self.events.session_stopped(
            SessionStop(
                transaction_id=str(transaction_id),
                meter_stop_wh=float(meter_stop),
                stopped_at=parse_ts(timestamp),
                reason=kwargs.get("reason"),
                id_tag=id_tag,
            )
        )
        if id_tag is None:
            return call_result.StopTransaction()
        return call_result.StopTransaction(id_tag_info=_id_tag_info(True))

    @on(Action.diagnostics_status_notification)
    def on_diagnostics_status(self, **kwargs: Any) -> call_result.DiagnosticsStatusNotification:
        return call_result.DiagnosticsStatusNotification()

    # -- to the charger ------------------------------------------------------

    async def configure_for_balancing(self, sample_interval_s: int) -> dict[str, str]:
        settings = {
            "MeterValuesSampledData": ",".join(BALANCING_MEASURANDS),
            "MeterValueSampleInterval": str(sample_interval_s),
        }
        answers: dict[str, str] = {}
        for key, value in settings.items():
            try:
                result = await self.request(call.ChangeConfiguration(key=key, value=value))
                answers[key] = str(result.status)
            except CallFailed as failed:
                answers[key] = failed.reason
        return answers

    async def read_capabilities(self) -> Capabilities:
        result = await self.request(call.GetConfiguration(key=list(CAPABILITY_KEYS)))
        return capabilities_from(result.configuration_key or [])

    async def set_profile(self, spec: ProfileSpec, connector_id: int) -> None:
        result = await self.request(
            call.SetChargingProfile(
                connector_id=connector_id, cs_charging_profiles=profile_payload(spec)
            ),
            own_payload=True,
        )
        if result.status != "Accepted":
            raise CallFailed(f"SetChargingProfile {spec.profile_id}: {result.status}")

    async def clear_profile(self, profile_id: int | None, connector_id: int | None) -> str:
        result = await self.request(
            call.ClearChargingProfile(id=profile_id, connector_id=connector_id)
        )
        return str(result.status)

    async def composite_schedule(
        self, connector_id: int, duration_s: int, rate_unit: str | None
    ) -> CompositeSchedule | None:
        result = await self.request(
            call.GetCompositeSchedule(
                connector_id=connector_id, duration=duration_s, charging_rate_unit=rate_unit
            )
        )
        if result.status != "Accepted" or not result.charging_schedule:
            return None
        schedule = result.charging_schedule
        start_text = schedule.get("start_schedule") or result.schedule_start
        start = self.events.now() if start_text is None else parse_ts(start_text)
        return CompositeSchedule(
            start=start,
            duration_s=schedule.get("duration"),
            rate_unit=schedule.get("charging_rate_unit", "A"),
            periods=tuple(
                SchedulePeriod(int(p["start_period"]), float(p["limit"]), p.get("number_phases"))
                for p in schedule.get("charging_schedule_period", [])
            ),
        )

    async def trigger(self, message: str, connector_id: int | None) -> str:
        result = await self.request(
            call.TriggerMessage(requested_message=message, connector_id=connector_id)
        )
        return str(result.status)

    async def reset(self, hard: bool) -> str:
        result = await self.request(call.Reset(type="Hard" if hard else "Soft"))
        return str(result.status)

    async def remote_start(self, id_tag: str, connector_id: int | None) -> str:
        result = await self.request(
            call.RemoteStartTransaction(id_tag=id_tag, connector_id=connector_id)
        )
        return str(result.status)

    async def remote_stop(self, transaction_id: str) -> str:
        result = await self.request(call.RemoteStopTransaction(transaction_id=int(transaction_id)))
        return str(result.status)
