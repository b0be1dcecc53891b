"""OCPP 2.0.1: translate frames to :class:`ChargerEvents` and decisions to frames.

Nothing here decides anything; see ``central.py`` and ``profiles.py``.
fuseshare addresses an EVSE where 1.6 has a connector: ``connector_id`` in the
neutral records is the 2.0.1 ``evseId``.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from ocpp.routing import on
from ocpp.v201 import call, call_result
from ocpp.v201.enums import Action

from fuseshare.ocpp.connection import (
    CallFailed,
    ChargerEvents,
    ConnectionLimits,
    OcppConnection,
    Transport,
    schedule_periods,
    with_validity,
)
from fuseshare.ocpp.framing import format_ts, parse_ts
from fuseshare.ocpp.metering import BALANCING_MEASURANDS, RawValue, build_sample
from fuseshare.ocpp.ports import (
    BootInfo,
    Capabilities,
    ChargingNeeds,
    RateUnit,
    SessionStart,
    SessionStop,
)
from fuseshare.ocpp.profiles import CompositeSchedule, ProfileSpec, SchedulePeriod
from fuseshare.ocpp.ratelimit import ThrottledLog

log = logging.getLogger("fuseshare.ocpp")

_CAR_STATES = frozenset({"Charging", "SuspendedEV", "SuspendedEVSE", "EVConnected"})
"""TransactionEvent chargingStates passed on as the connector's status (Idle ends)."""

SMART_CHARGING = "SmartChargingCtrlr"
CAPABILITY_VARIABLES: tuple[tuple[str, str, str | None], ...] = (
    (SMART_CHARGING, "ProfileStackLevel", None),
    (SMART_CHARGING, "RateUnit", None),
    (SMART_CHARGING, "PeriodsPerSchedule", None),
    (SMART_CHARGING, "Entries", "ChargingProfiles"),
    (SMART_CHARGING, "Enabled", None),
    ("SampledDataCtrlr", "TxUpdatedMeasurands", None),
    ("SampledDataCtrlr", "TxUpdatedInterval", None),
)
_remote_start_ids = itertools.count(1)

MAX_NEEDS_ENERGY_KWH = 1000.0
"""More than any car's battery holds: a larger ``energyAmount`` is a unit error or garbage."""
MAX_EV_CURRENT_A = 1000.0
"""Beyond any AC onboard charger and cable."""


def raw_values(sampled: Iterable[dict[str, Any]]) -> list[RawValue]:
    out: list[RawValue] = []
    for item in sampled:
        unit = item.get("unit_of_measure") or {}
        try:
            value = float(item["value"])
        except (KeyError, TypeError, ValueError):
            continue
        out.append(
            RawValue(
                value=value,
                measurand=item.get("measurand") or "Energy.Active.Import.Register",
                phase=item.get("phase"),
                unit=unit.get("unit"),
                multiplier=int(unit.get("multiplier", 0)),
            )
        )
    return out


def _variable_key(component: str, variable: str, instance: str | None) -> str:
    return f"{component}.{variable}" + (f"[{instance}]" if instance else "")


def _int_or_none(text: str | None) -> int | None:
    try:
        return None if text is None else int(text)
    except ValueError:
        return None


def capabilities_from(results: Iterable[dict[str, Any]]) -> Capabilities:
    raw: dict[str, str] = {}
    for r in results:
        if r.get("attribute_status") != "Accepted" or r.get("attribute_value") is None:
            continue
        key = _variable_key(
            r["component"]["name"], r["variable"]["name"], r["variable"].get("instance")
        )
        raw[key] = str(r["attribute_value"])
    units_text = raw.get(f"{SMART_CHARGING}.RateUnit")
    units: tuple[RateUnit, ...] | None = None
    if units_text is not None:
        parts = {p.strip().upper() for p in units_text.split(",")}
        units = tuple(u for u in ("A", "W") if u in parts)
    return Capabilities(
        rate_units=units,
        max_stack_level=_int_or_none(raw.get(f"{SMART_CHARGING}.ProfileStackLevel")),
        max_profiles=_int_or_none(raw.get(f"{SMART_CHARGING}.Entries[ChargingProfiles]")),
        max_periods_per_schedule=_int_or_none(raw.get(f"{SMART_CHARGING}.PeriodsPerSchedule")),
        raw=raw,
    )


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def charging_needs_from(needs: dict[str, Any], now: datetime) -> tuple[ChargingNeeds, list[str]]:
    """A NotifyEVChargingNeeds ``chargingNeeds`` (snake_case keys) as :class:`ChargingNeeds`,
    and what was left out of it and why.

    The schema only says "integer": a value no car can mean (negative or absurd energy,
    a current of 0 or beyond any cable, a departure that is no date) is left out
    rather than steer how the fuse is shared; the rest of the message still counts.
    A departure in the past is kept (the algorithm floors it). DC parameters carry no
    per-phase AC current, so ``ev_max_current_a`` comes from the AC parameters only.
    """
    problems: list[str] = []
    ac: dict[str, Any] = needs.get("ac_charging_parameters") or {}
    dc: dict[str, Any] = needs.get("dc_charging_parameters") or {}

    energy_kwh = None
    energy_wh = ac.get("energy_amount", dc.get("energy_amount"))
    if energy_wh is not None:
        kwh = _number(energy_wh) / 1000.0
        if 0.0 <= kwh <= MAX_NEEDS_ENERGY_KWH:  # False for NaN too
            energy_kwh = kwh
        else:
            problems.append(
                f"energyAmount {energy_wh!r} Wh (not within 0..{MAX_NEEDS_ENERGY_KWH:g} kWh)"
            )

    departure_in_s = None
    departure = needs.get("departure_time")
    if departure is not None:
        try:
            departure_in_s = (parse_ts(str(departure)) - now).total_seconds()
        except (ValueError, OverflowError):
            problems.append(f"departureTime {departure!r} (not a date-time)")

    ev_max_current_a = None
    max_a = ac.get("ev_max_current")
    if max_a is not None:
        amps = _number(max_a)
        if 0.0 < amps <= MAX_EV_CURRENT_A:
            ev_max_current_a = amps
        else:
            problems.append(f"evMaxCurrent {max_a!r} A (not within 0..{MAX_EV_CURRENT_A:g} A)")

    return ChargingNeeds(energy_kwh, departure_in_s, ev_max_current_a), problems


def profile_payload(spec: ProfileSpec) -> dict[str, Any]:
    """A ProfileSpec as a 2.0.1 ChargingProfileType (snake_case keys)."""
    schedule: dict[str, Any] = {
        "id": spec.profile_id,
        "charging_rate_unit": spec.rate_unit,
        "start_schedule": format_ts(spec.start_schedule),
        "charging_schedule_period": schedule_periods(spec),
    }
    if spec.duration_s is not None:
        schedule["duration"] = spec.duration_s
    profile: dict[str, Any] = {
        "id": spec.profile_id,
        "stack_level": spec.stack_level,
        "charging_profile_purpose": {"ChargePointMaxProfile": "ChargingStationMaxProfile"}.get(
            spec.purpose, spec.purpose
        ),
        "charging_profile_kind": spec.kind,
        "charging_schedule": [schedule],
    }
    return with_validity(profile, spec)


class V201Connection(OcppConnection):
    version = "2.0.1"
    _ocpp_version = "2.0.1"
    _call = call
    _call_result = call_result

    def __init__(
        self,
        serial: str,
        transport: Transport,
        events: ChargerEvents,
        limits: ConnectionLimits = ConnectionLimits(),
    ) -> None:
        super().__init__(serial, transport, events, limits)
        # Its own throttle: a car that keeps sending nonsense must not hide bad frames.
        self._needs_log = ThrottledLog(log, limits.log_every_s)
        self._charging_states: dict[int, str] = {}
        """EVSE → the transaction's last chargingState passed on (told again on change)."""

    # -- from the charger ----------------------------------------------------

    @on(Action.boot_notification)
    async def on_boot_notification(
        self, charging_station: dict[str, Any], reason: str, **kwargs: Any
    ) -> call_result.BootNotification:
        return await self._answer_boot(
            BootInfo(
                vendor=charging_station["vendor_name"],
                model=charging_station["model"],
                firmware_version=charging_station.get("firmware_version"),
                serial_number=charging_station.get("serial_number"),
                ocpp_version="2.0.1",
            )
        )

    @on(Action.status_notification)
    async def on_status_notification(
        self, connector_status: str, evse_id: int, connector_id: int, **kwargs: Any
    ) -> call_result.StatusNotification:
        await self.events.status(evse_id, connector_status, None)
        return call_result.StatusNotification()

    @on(Action.meter_values)
    async def on_meter_values(
        self, evse_id: int, meter_value: list[dict[str, Any]], **kwargs: Any
    ) -> call_result.MeterValues:
        await self._meter_values(evse_id, None, meter_value)
        return call_result.MeterValues()

    async def _meter_values(
        self, evse_id: int, transaction_id: str | None, meter_value: list[dict[str, Any]]
    ) -> None:
        for mv in meter_value:
            sample = build_sample(
                parse_ts(mv["timestamp"]),
                evse_id,
                transaction_id,
                raw_values(mv.get("sampled_value", [])),
            )
            await self.events.meter_sample(sample)

    @on(Action.authorize)
    async def on_authorize(self, id_token: dict[str, Any], **kwargs: Any) -> call_result.Authorize:
        accepted = await self.events.authorize(id_token["id_token"])
        return call_result.Authorize(
            id_token_info={"status": "Accepted" if accepted else "Invalid"}
        )

    @on(Action.transaction_event)
    async def on_transaction_event(
        self,
        event_type: str,
        timestamp: str,
        transaction_info: dict[str, Any],
        **kwargs: Any,
    ) -> call_result.TransactionEvent:
        tx = str(transaction_info["transaction_id"])
        evse_id = int((kwargs.get("evse") or {}).get("id", 0))
        id_token = (kwargs.get("id_token") or {}).get("id_token")
        meter_value: list[dict[str, Any]] = kwargs.get("meter_value") or []
        energy_wh = None
        if meter_value:
            samples = [
                build_sample(
                    parse_ts(mv["timestamp"]), evse_id, tx, raw_values(mv["sampled_value"])
                )
                for mv in meter_value
            ]
            energy_wh = next((s.energy_wh for s in samples if s.energy_wh is not None), None)
        at = parse_ts(timestamp)
        if event_type == "Started":
            await self.events.session_started(
                SessionStart(
                    connector_id=evse_id,
                    transaction_id=tx,
                    id_tag=id_token,
                    meter_start_wh=energy_wh,
                    started_at=at,
                )
            )
        if meter_value:
            await self._meter_values(evse_id, tx, meter_value)
        state = transaction_info.get("charging_state")
        if event_type == "Ended":
            self._charging_states.pop(evse_id, None)
        elif state in _CAR_STATES and self._charging_states.get(evse_id) != state:
            # OCPP 2.0.1 says in the transaction what 1.6 said in the connector status:
            # whether the car takes current (Charging), leaves it (SuspendedEV: full, or
            # its own timer) or is offered none (SuspendedEVSE).
            self._charging_states[evse_id] = state
            await self.events.status(evse_id, state, None)
        if event_type == "Ended":
            await self.events.session_stopped(
                SessionStop(
                    transaction_id=tx,
                    meter_stop_wh=energy_wh,
                    stopped_at=at,
                    reason=transaction_info.get("stopped_reason"),
                    id_tag=id_token,
                )
            )
        if id_token is None:
            return call_result.TransactionEvent()
        accepted = await self.events.authorize(id_token)
        return call_result.TransactionEvent(
            id_token_info={"status": "Accepted" if accepted else "Invalid"}
        )

    @on(Action.notify_ev_charging_needs)
    async def on_notify_ev_charging_needs(
        self, evse_id: int, charging_needs: dict[str, Any], **kwargs: Any
    ) -> call_result.NotifyEVChargingNeeds:
        # Accepted: we act on the needs (they steer the sharing) but send no schedule back.
        needs, problems = charging_needs_from(charging_needs, self.events.now())
        if problems:
            self._needs_log.warning(
                "%s: NotifyEVChargingNeeds on EVSE %s: left out %s",
                self.serial,
                evse_id,
                "; ".join(problems),
            )
        await self.events.charging_needs(needs)
        return call_result.NotifyEVChargingNeeds(status="Accepted")

    @on(Action.notify_event)
    def on_notify_event(self, **kwargs: Any) -> call_result.NotifyEvent:
        return call_result.NotifyEvent()

    @on(Action.notify_report)
    def on_notify_report(self, **kwargs: Any) -> call_result.NotifyReport:
        return call_result.NotifyReport()

    @on(Action.security_event_notification)
    def on_security_event(self, **kwargs: Any) -> call_result.SecurityEventNotification:
        return call_result.SecurityEventNotification()

    # -- to the charger ------------------------------------------------------

    async def configure_for_balancing(self, sample_interval_s: int) -> dict[str, str]:
        settings = {
            "TxUpdatedMeasurands": ",".join(BALANCING_MEASURANDS),
            "TxUpdatedInterval": str(sample_interval_s),
        }
        result = await self.request(
            call.SetVariables(
                set_variable_data=[
                    {
                        "attribute_value": value,
                        "component": {"name": "SampledDataCtrlr"},
                        "variable": {"name": name},
                    }
                    for name, value in settings.items()
                ]
            )
        )
        return {
            f"SampledDataCtrlr.{r['variable']['name']}": str(r["attribute_status"])
            for r in result.set_variable_result
        }

    async def read_capabilities(self) -> Capabilities:
        result = await self.request(
            call.GetVariables(
                get_variable_data=[
                    {
                        "component": {"name": component},
                        "variable": {"name": name} | ({"instance": inst} if inst else {}),
                    }
                    for component, name, inst in CAPABILITY_VARIABLES
                ]
            )
        )
        return capabilities_from(result.get_variable_result)

    async def set_profile(self, spec: ProfileSpec, connector_id: int) -> None:
        result = await self.request(
            call.SetChargingProfile(evse_id=connector_id, charging_profile=profile_payload(spec)),
            own_payload=True,
        )
        if result.status != "Accepted":
            info = result.status_info or {}
            detail = f" ({info.get('reason_code')})" if info else ""
            raise CallFailed(f"SetChargingProfile {spec.profile_id}: {result.status}{detail}")

    async def clear_profile(self, profile_id: int | None, connector_id: int | None) -> str:
        criteria = None if connector_id is None else {"evse_id": connector_id}
        result = await self.request(
            call.ClearChargingProfile(
                charging_profile_id=profile_id, charging_profile_criteria=criteria
            )
        )
        return str(result.status)

    async def composite_schedule(
        self, connector_id: int, duration_s: int, rate_unit: str | None
    ) -> CompositeSchedule | None:
        result = await self.request(
            call.GetCompositeSchedule(
                duration=duration_s, evse_id=connector_id, charging_rate_unit=rate_unit
            )
        )
        if result.status != "Accepted" or not result.schedule:
            return None
        schedule = result.schedule
        return CompositeSchedule(
            start=parse_ts(schedule["schedule_start"]),
            duration_s=schedule.get("duration"),
            rate_unit=schedule.get("charging_rate_unit", "A"),
            periods=tuple(
                SchedulePeriod(int(p["start_period"]), float(p["limit"]), p.get("number_phases"))
                for p in schedule.get("charging_schedule_period", [])
            ),
        )

    async def trigger(self, message: str, connector_id: int | None) -> str:
        evse = None if connector_id is None else {"id": connector_id}
        result = await self.request(call.TriggerMessage(requested_message=message, evse=evse))
        return str(result.status)

    async def reset(self, hard: bool) -> str:
        result = await self.request(call.Reset(type="Immediate" if hard else "OnIdle"))
        return str(result.status)

    async def remote_start(self, id_tag: str, connector_id: int | None) -> str:
        result = await self.request(
            call.RequestStartTransaction(
                id_token={"id_token": id_tag, "type": "Central"},
                remote_start_id=next(_remote_start_ids),
                evse_id=connector_id,
            )
        )
        return str(result.status)

    async def remote_stop(self, transaction_id: str) -> str:
        result = await self.request(call.RequestStopTransaction(transaction_id=transaction_id))
        return str(result.status)
