"""A simulated charger that is a real OCPP-J client (1.6 and 2.0.1).

It connects over WebSocket with HTTP Basic auth, boots, reports status,
charges (start/stop, per-phase MeterValues), and behaves like a charger
towards smart charging: it stores the charging profiles it is sent and works
out, from them alone, the limit it applies at any moment. So a test can stop
the server and ask the charger what it will draw once its dynamic profile
has expired.

The charger side of the profile arithmetic is written here on purpose,
independently of ``fuseshare.ocpp.profiles``: it reads what came over the
wire, as a real charger would.

Reusable by the virtual-car simulator and the demo: drive it with
:meth:`SimChargePoint.start_transaction`, :meth:`send_meter_values`, … and
read :meth:`effective_limit_a`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import math
import ssl
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import websockets
from ocpp.charge_point import ChargePoint
from ocpp.messages import Call, unpack
from ocpp.routing import on
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v16.enums import Action as Action16
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201
from ocpp.v201.enums import Action as Action201
from websockets.asyncio.client import ClientConnection

Version = Literal["1.6", "2.0.1"]
ProfileAnswer = Literal["Accepted", "Rejected", "NoAnswer"]
NOMINAL_VOLTAGE_V = 230.0


def utc_now() -> datetime:
    return datetime.now(UTC)


def _ts(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_ts(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class HeldProfile:
    """A charging profile as the charger holds it (either version)."""

    connector_id: int
    profile_id: int
    stack_level: int
    purpose: str
    kind: str
    rate_unit: str
    periods: tuple[tuple[int, float, int | None], ...]
    start_schedule: datetime | None
    duration_s: int | None
    valid_from: datetime | None
    valid_to: datetime | None
    recurrency: str | None = None

    def limit_at(self, at: datetime, tx_start: datetime | None) -> float | None:
        """The period limit in force at ``at`` or ``None`` when this profile
        does not apply then (not valid, schedule not started or ended)."""
        if self.valid_from is not None and at < self.valid_from:
            return None
        if self.valid_to is not None and at >= self.valid_to:
            return None
        start = self.start_schedule
        if self.kind == "Relative":
            start = tx_start or at
        elif self.kind == "Recurring" and start is not None:
            period_s = 7 * 86400 if self.recurrency == "Weekly" else 86400
            elapsed = (at - start).total_seconds()
            if elapsed >= 0:
                start = start + timedelta(seconds=period_s * math.floor(elapsed / period_s))
        if start is None or at < start:
            return None
        offset_s = (at - start).total_seconds()
        if self.duration_s is not None and offset_s >= self.duration_s:
            return None
        limit = None
        for start_s, value, _ in sorted(self.periods):
            if start_s <= offset_s:
                limit = value
        return limit

    def boundaries(self, since: datetime, until: datetime) -> set[datetime]:
        """Moments in [since, until) where this profile's limit may change."""
        points: set[datetime] = set()
        for moment in (self.valid_from, self.valid_to):
            if moment is not None:
                points.add(moment)
        if self.start_schedule is not None and self.kind == "Absolute":
            for start_s, _, _ in self.periods:
                points.add(self.start_schedule + timedelta(seconds=start_s))
            if self.duration_s is not None:
                points.add(self.start_schedule + timedelta(seconds=self.duration_s))
        return {p for p in points if since <= p < until}


def held_profile(connector_id: int, raw: dict[str, Any], version: Version) -> HeldProfile:
    """Read a profile in the library's snake_case form."""
    if version == "1.6":
        schedule = raw["charging_schedule"]
        profile_id = raw["charging_profile_id"]
    else:
        schedule = raw["charging_schedule"][0]
        profile_id = raw["id"]

    def ts(key: str, source: dict[str, Any]) -> datetime | None:
        value = source.get(key)
        return None if value is None else _parse_ts(value)

    return HeldProfile(
        connector_id=connector_id,
        profile_id=int(profile_id),
        stack_level=int(raw["stack_level"]),
        purpose=str(raw["charging_profile_purpose"]).replace("ChargingStation", "ChargePoint"),
        kind=str(raw["charging_profile_kind"]),
        rate_unit=str(schedule["charging_rate_unit"]),
        periods=tuple(
            (int(p["start_period"]), float(p["limit"]), p.get("number_phases"))
            for p in schedule["charging_schedule_period"]
        ),
        start_schedule=ts("start_schedule", schedule),
        duration_s=schedule.get("duration"),
        valid_from=ts("valid_from", raw),
        valid_to=ts("valid_to", raw),
        recurrency=raw.get("recurrency_kind"),
    )


@dataclass
class SimSettings:
    serial: str
    password: str
    base_url: str
    """e.g. ``ws://127.0.0.1:8000/ocpp``; the serial is appended."""
    version: Version = "1.6"
    vendor: str = "fuseshare-sim"
    model: str = "SimCharger"
    firmware: str = "1.0.0"
    connectors: int = 1
    max_current_a: float = 32.0
    phases: int = 3
    max_stack_level: int = 8
    rate_units: tuple[str, ...] = ("A", "W")
    clock: Callable[[], datetime] = utc_now
    ssl_context: ssl.SSLContext | None = None
    """For ``wss://`` (OCPP security profile 2)."""


@dataclass
class SimState:
    profiles: list[HeldProfile] = field(default_factory=list)
    configuration: dict[str, str] = field(default_factory=dict)
    received: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    """Every CALL from the server, in order: (action, snake_case payload)."""
    transactions: dict[int, str] = field(default_factory=dict)
    """connector → transaction id."""
    tx_started: dict[int, datetime] = field(default_factory=dict)
    charging_state: dict[int, str] = field(default_factory=dict)
    """connector → the 2.0.1 transaction's chargingState (what its car does)."""
    heartbeat_interval_s: int | None = None
    boot_status: str | None = None
    energy_wh: float = 0.0


class SimChargePoint:
    """One simulated charger. Use as ``async with SimChargePoint(settings) as cp:``."""

    def __init__(self, settings: SimSettings) -> None:
        self.settings = settings
        self.state = SimState()
        self.profile_answer: ProfileAnswer = "Accepted"
        self._ws: ClientConnection | None = None
        self._cp: ChargePoint | None = None
        self._reader: asyncio.Task[None] | None = None
        self._seq = itertools.count(0)
        self._tx_ids = itertools.count(1)
        self.call_received = asyncio.Event()
        self.state.configuration.update(
            {
                "ChargeProfileMaxStackLevel": str(settings.max_stack_level),
                "ChargingScheduleAllowedChargingRateUnit": ",".join(
                    {"A": "Current", "W": "Power"}[u] for u in settings.rate_units
                ),
                "ChargingScheduleMaxPeriods": "24",
                "MaxChargingProfilesInstalled": "16",
                "NumberOfConnectors": str(settings.connectors),
                "MeterValuesSampledData": "Energy.Active.Import.Register",
                "MeterValueSampleInterval": "60",
            }
        )

    # -- connection ----------------------------------------------------------

    async def __aenter__(self) -> SimChargePoint:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def connect(self, password: str | None = None) -> None:
        s = self.settings
        token = base64.b64encode(f"{s.serial}:{password or s.password}".encode()).decode()
        subprotocol = "ocpp1.6" if s.version == "1.6" else "ocpp2.0.1"
        self._ws = await websockets.connect(
            f"{s.base_url}/{s.serial}",
            subprotocols=[subprotocol],  # type: ignore[list-item]
            additional_headers={"Authorization": f"Basic {token}"},
            open_timeout=10,
            ping_interval=None,
            ssl=s.ssl_context,
        )
        cls = _Sim16 if s.version == "1.6" else _Sim201
        self._cp = cls(s.serial, self._ws, self)
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self._cp is not None
        with contextlib.suppress(websockets.ConnectionClosed, asyncio.CancelledError):
            await self._cp.start()

    @property
    def connected(self) -> bool:
        return self._reader is not None and not self._reader.done()

    async def wait_closed(self) -> None:
        if self._reader is not None:
            await self._reader

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader

    async def send_raw(self, frame: str | bytes) -> None:
        """Send any frame as is (for bad-input tests)."""
        assert self._ws is not None
        await self._ws.send(frame)

    async def call(self, payload: Any, *, skip_schema_validation: bool = False) -> Any:
        """``skip_schema_validation``: send what the schema forbids (for bad-input tests)."""
        assert self._cp is not None
        return await self._cp.call(
            payload, suppress=False, skip_schema_validation=skip_schema_validation
        )

    # -- what a charger sends -------------------------------------------------

    def now(self) -> datetime:
        return self.settings.clock()

    async def boot(self) -> str:
        s = self.settings
        if s.version == "1.6":
            result = await self.call(
                call16.BootNotification(
                    charge_point_vendor=s.vendor,
                    charge_point_model=s.model,
                    firmware_version=s.firmware,
                    charge_point_serial_number=s.serial,
                )
            )
        else:
            result = await self.call(
                call201.BootNotification(
                    charging_station={
                        "vendor_name": s.vendor,
                        "model": s.model,
                        "firmware_version": s.firmware,
                        "serial_number": s.serial,
                    },
                    reason="PowerUp",
                )
            )
        self.state.heartbeat_interval_s = result.interval
        self.state.boot_status = str(result.status)
        return str(result.status)

    async def heartbeat(self) -> str:
        payload = call16.Heartbeat() if self.settings.version == "1.6" else call201.Heartbeat()
        result = await self.call(payload)
        return str(result.current_time)

    async def send_status(
        self, connector_id: int, status: str, error_code: str = "NoError"
    ) -> None:
        if self.settings.version == "1.6":
            await self.call(
                call16.StatusNotification(
                    connector_id=connector_id,
                    error_code=error_code,
                    status=status,
                    timestamp=_ts(self.now()),
                )
            )
        else:
            await self.call(
                call201.StatusNotification(
                    timestamp=_ts(self.now()),
                    connector_status=status,
                    evse_id=connector_id,
                    connector_id=1,
                )
            )

    async def authorize(self, id_tag: str) -> str:
        if self.settings.version == "1.6":
            result = await self.call(call16.Authorize(id_tag=id_tag))
        else:
            result = await self.call(
                call201.Authorize(id_token={"id_token": id_tag, "type": "ISO14443"})
            )
        return str(
            result.id_tag_info["status"]
            if self.settings.version == "1.6"
            else result.id_token_info["status"]
        )

    async def start_transaction(self, connector_id: int = 1, id_tag: str = "TAG1") -> str:
        now = self.now()
        self.state.tx_started[connector_id] = now
        if self.settings.version == "1.6":
            result = await self.call(
                call16.StartTransaction(
                    connector_id=connector_id,
                    id_tag=id_tag,
                    meter_start=int(self.state.energy_wh),
                    timestamp=_ts(now),
                )
            )
            tx = str(result.transaction_id)
        else:
            tx = f"{self.settings.serial}-{next(self._tx_ids)}"
            self.state.charging_state[connector_id] = "Charging"
            await self.call(
                call201.TransactionEvent(
                    event_type="Started",
                    timestamp=_ts(now),
                    trigger_reason="Authorized",
                    seq_no=next(self._seq),
                    transaction_info={"transaction_id": tx, "charging_state": "Charging"},
                    evse={"id": connector_id, "connector_id": 1},
                    id_token={"id_token": id_tag, "type": "ISO14443"},
                    meter_value=[self._meter_value(None, None, "Transaction.Begin")],
                )
            )
        self.state.transactions[connector_id] = tx
        return tx

    async def send_charging_needs(
        self,
        connector_id: int,
        *,
        energy_kwh: float,
        departure: datetime | None,
        ev_max_current_a: float,
        car_phases: int = 3,
    ) -> str | None:
        """NotifyEVChargingNeeds, as a 2.0.1 charger sends it when an ISO 15118 car has
        said what it needs (right after the transaction started); returns the answer.

        OCPP 1.6 has no such message: a 1.6 charger sends nothing and returns ``None``.
        """
        if self.settings.version == "1.6":
            return None
        needs: dict[str, Any] = {
            "requested_energy_transfer": {1: "AC_single_phase", 2: "AC_two_phase"}.get(
                car_phases, "AC_three_phase"
            ),
            "ac_charging_parameters": {
                "energy_amount": round(energy_kwh * 1000.0),
                "ev_min_current": 6,
                "ev_max_current": round(ev_max_current_a),
                "ev_max_voltage": round(NOMINAL_VOLTAGE_V),
            },
        }
        if departure is not None:
            needs["departure_time"] = _ts(departure)
        result = await self.call(
            call201.NotifyEVChargingNeeds(charging_needs=needs, evse_id=connector_id)
        )
        return str(result.status)

    async def send_meter_values(
        self,
        connector_id: int,
        current_a: Iterable[float],
        *,
        power_w: float | None = None,
        energy_add_wh: float = 0.0,
    ) -> None:
        """Per-phase currents (charger L1, L2, L3), power, and the energy register."""
        currents = list(current_a)
        self.state.energy_wh += energy_add_wh
        if power_w is None:
            power_w = sum(currents) * NOMINAL_VOLTAGE_V
        mv = self._meter_value(currents, power_w, "Sample.Periodic")
        tx = self.state.transactions.get(connector_id)
        if self.settings.version == "1.6":
            await self.call(
                call16.MeterValues(
                    connector_id=connector_id,
                    meter_value=[mv],
                    transaction_id=None if tx is None else int(tx),
                )
            )
        elif tx is None:
            await self.call(call201.MeterValues(evse_id=connector_id, meter_value=[mv]))
        else:
            await self._updated(connector_id, tx, "MeterValuePeriodic", meter_value=[mv])

    async def send_charging_state(self, connector_id: int, state: str) -> None:
        """A 2.0.1 transaction's chargingState changed (Charging, SuspendedEV, ...): a
        TransactionEvent Updated with trigger ChargingStateChanged. (A 1.6 charger says
        the same in a StatusNotification, :meth:`send_status`.)"""
        tx = self.state.transactions.get(connector_id)
        if self.settings.version == "1.6" or tx is None:
            raise ValueError("a chargingState belongs to a 2.0.1 transaction")
        self.state.charging_state[connector_id] = state
        await self._updated(connector_id, tx, "ChargingStateChanged")

    async def _updated(
        self,
        connector_id: int,
        tx: str,
        trigger_reason: str,
        meter_value: list[dict[str, Any]] | None = None,
    ) -> None:
        """A 2.0.1 TransactionEvent Updated, with the transaction's chargingState."""
        await self.call(
            call201.TransactionEvent(
                event_type="Updated",
                timestamp=_ts(self.now()),
                trigger_reason=trigger_reason,
                seq_no=next(self._seq),
                transaction_info={
                    "transaction_id": tx,
                    "charging_state": self.state.charging_state.get(connector_id, "Charging"),
                },
                evse={"id": connector_id, "connector_id": 1},
                meter_value=meter_value,
            )
        )

    async def stop_transaction(self, connector_id: int = 1, reason: str = "Local") -> None:
        tx = self.state.transactions.pop(connector_id)
        self.state.tx_started.pop(connector_id, None)
        self.state.charging_state.pop(connector_id, None)
        if self.settings.version == "1.6":
            await self.call(
                call16.StopTransaction(
                    meter_stop=int(self.state.energy_wh),
                    timestamp=_ts(self.now()),
                    transaction_id=int(tx),
                    reason=reason,
                )
            )
        else:
            await self.call(
                call201.TransactionEvent(
                    event_type="Ended",
                    timestamp=_ts(self.now()),
                    trigger_reason="EVCommunicationLost",
                    seq_no=next(self._seq),
                    transaction_info={
                        "transaction_id": tx,
                        "charging_state": "Idle",
                        "stopped_reason": reason,
                    },
                    evse={"id": connector_id, "connector_id": 1},
                    meter_value=[self._meter_value(None, None, "Transaction.End")],
                )
            )

    def _meter_value(
        self, currents: list[float] | None, power_w: float | None, context: str
    ) -> dict[str, Any]:
        v16 = self.settings.version == "1.6"

        def value(number: float, measurand: str, unit: str, phase: str | None) -> dict[str, Any]:
            item: dict[str, Any] = {"measurand": measurand, "context": context}
            if v16:
                item |= {"value": f"{number:.1f}", "unit": unit}
            else:
                item |= {"value": round(number, 1), "unit_of_measure": {"unit": unit}}
            if phase is not None:
                item["phase"] = phase
            return item

        sampled = []
        for i, current in enumerate(currents or []):
            sampled.append(value(current, "Current.Import", "A", f"L{i + 1}"))
        if power_w is not None:
            sampled.append(value(power_w, "Power.Active.Import", "W", None))
        sampled.append(value(self.state.energy_wh, "Energy.Active.Import.Register", "Wh", None))
        return {"timestamp": _ts(self.now()), "sampled_value": sampled}

    # -- smart charging, charger side -----------------------------------------

    def store_profile(self, profile: HeldProfile) -> None:
        """Replace a profile with the same id, or the same stack level and purpose
        on the same connector (OCPP 1.6 §5.16.3 / 2.0.1 K01.FR.05)."""
        self.state.profiles = [
            p
            for p in self.state.profiles
            if p.profile_id != profile.profile_id
            and not (
                p.connector_id == profile.connector_id
                and p.stack_level == profile.stack_level
                and p.purpose == profile.purpose
            )
        ]
        self.state.profiles.append(profile)

    def clear_profiles(
        self,
        profile_id: int | None,
        connector_id: int | None,
        purpose: str | None,
        stack_level: int | None,
    ) -> bool:
        def matches(p: HeldProfile) -> bool:
            if profile_id is not None:
                return p.profile_id == profile_id
            return (
                (connector_id is None or p.connector_id == connector_id)
                and (purpose is None or p.purpose == purpose)
                and (stack_level is None or p.stack_level == stack_level)
            )

        before = len(self.state.profiles)
        self.state.profiles = [p for p in self.state.profiles if not matches(p)]
        return len(self.state.profiles) != before

    def _to_amps(self, profile: HeldProfile, limit: float) -> float:
        if profile.rate_unit == "W":
            return limit / (NOMINAL_VOLTAGE_V * self.settings.phases)
        return limit

    def effective_limit_a(self, at: datetime | None = None, connector_id: int = 1) -> float:
        """The current (A per phase) this charger lets a car draw at ``at``.

        TxProfile beats TxDefaultProfile (a connector's own beats connector 0),
        the highest stack level wins within a purpose, ChargePointMaxProfile
        caps everything, and the charger's own maximum caps that.
        """
        at = at or self.now()
        tx_start = self.state.tx_started.get(connector_id)

        def best(candidates: list[HeldProfile]) -> float | None:
            ranked = sorted(candidates, key=lambda p: -p.stack_level)
            for p in ranked:
                limit = p.limit_at(at, tx_start)
                if limit is not None:
                    return self._to_amps(p, limit)
            return None

        def of(purpose: str, connectors: tuple[int, ...]) -> list[HeldProfile]:
            return [
                p
                for p in self.state.profiles
                if p.purpose == purpose and p.connector_id in connectors
            ]

        limit = self.settings.max_current_a
        tx_limit = None
        if connector_id in self.state.transactions:
            tx_limit = best(of("TxProfile", (connector_id,)))
        if tx_limit is None:
            tx_limit = best(of("TxDefaultProfile", (connector_id,)))
        if tx_limit is None:
            tx_limit = best(of("TxDefaultProfile", (0,)))
        cp_max = best(of("ChargePointMaxProfile", (0,)))
        for candidate in (tx_limit, cp_max):
            if candidate is not None:
                limit = min(limit, candidate)
        return limit

    def composite_periods(
        self, start: datetime, duration_s: int, connector_id: int
    ) -> list[tuple[int, float]]:
        """(offset_s, limit A) periods from ``start`` over ``duration_s``."""
        until = start + timedelta(seconds=duration_s)
        cuts = {start}
        for p in self.state.profiles:
            cuts |= p.boundaries(start, until)
        periods: list[tuple[int, float]] = []
        for moment in sorted(cuts):
            limit = math.floor(self.effective_limit_a(moment, max(connector_id, 1)) * 10) / 10
            offset = int((moment - start).total_seconds())
            if not periods or periods[-1][1] != limit:
                if periods and periods[-1][0] == offset:
                    periods[-1] = (offset, limit)
                else:
                    periods.append((offset, limit))
        return periods


class _SimMixin:
    """Server → charger handlers shared by both versions (translation only)."""

    sim: SimChargePoint

    def _note(self, action: str, payload: dict[str, Any]) -> None:
        self.sim.state.received.append((action, payload))
        self.sim.call_received.set()

    async def route_message(self, raw_msg: str) -> None:
        if self.sim.profile_answer == "NoAnswer":
            with contextlib.suppress(Exception):
                msg = unpack(raw_msg)
                if isinstance(msg, Call) and msg.action == "SetChargingProfile":
                    self._note("SetChargingProfile(ignored)", msg.payload)
                    return
        await super().route_message(raw_msg)  # type: ignore[misc]


class _Sim16(_SimMixin, ChargePoint):  # type: ignore[misc]
    _ocpp_version = "1.6"
    _call = call16
    _call_result = result16

    def __init__(self, serial: str, ws: ClientConnection, sim: SimChargePoint) -> None:
        super().__init__(serial, ws)
        self.sim = sim

    @on(Action16.change_configuration)
    def on_change_configuration(self, key: str, value: str, **kw: Any) -> Any:
        self._note("ChangeConfiguration", {"key": key, "value": value})
        self.sim.state.configuration[key] = value
        return result16.ChangeConfiguration(status="Accepted")

    @on(Action16.get_configuration)
    def on_get_configuration(self, key: list[str] | None = None, **kw: Any) -> Any:
        self._note("GetConfiguration", {"key": key})
        config = self.sim.state.configuration
        keys = key if key else list(config)
        return result16.GetConfiguration(
            configuration_key=[
                {"key": k, "readonly": False, "value": config[k]} for k in keys if k in config
            ],
            unknown_key=[k for k in keys if k not in config] or None,
        )

    @on(Action16.set_charging_profile)
    def on_set_charging_profile(
        self, connector_id: int, cs_charging_profiles: dict[str, Any], **kw: Any
    ) -> Any:
        self._note("SetChargingProfile", {"connector_id": connector_id, **cs_charging_profiles})
        if self.sim.profile_answer == "Accepted":
            self.sim.store_profile(held_profile(connector_id, cs_charging_profiles, "1.6"))
        return result16.SetChargingProfile(status=self.sim.profile_answer)

    @on(Action16.clear_charging_profile)
    def on_clear_charging_profile(self, **kw: Any) -> Any:
        self._note("ClearChargingProfile", kw)
        found = self.sim.clear_profiles(
            kw.get("id"),
            kw.get("connector_id"),
            kw.get("charging_profile_purpose"),
            kw.get("stack_level"),
        )
        return result16.ClearChargingProfile(status="Accepted" if found else "Unknown")

    @on(Action16.get_composite_schedule)
    def on_get_composite_schedule(self, connector_id: int, duration: int, **kw: Any) -> Any:
        self._note("GetCompositeSchedule", {"connector_id": connector_id, "duration": duration})
        start = self.sim.now().replace(microsecond=0)
        periods = self.sim.composite_periods(start, duration, connector_id)
        return result16.GetCompositeSchedule(
            status="Accepted",
            connector_id=connector_id,
            schedule_start=_ts(start),
            charging_schedule={
                "duration": duration,
                "start_schedule": _ts(start),
                "charging_rate_unit": "A",
                "charging_schedule_period": [{"start_period": o, "limit": v} for o, v in periods],
            },
        )

    @on(Action16.trigger_message)
    def on_trigger_message(self, requested_message: str, **kw: Any) -> Any:
        self._note("TriggerMessage", {"requested_message": requested_message, **kw})
        return result16.TriggerMessage(status="Accepted")

    @on(Action16.reset)
    def on_reset(self, type: str, **kw: Any) -> Any:
        self._note("Reset", {"type": type})
        return result16.Reset(status="Accepted")

    @on(Action16.remote_start_transaction)
    def on_remote_start(self, id_tag: str, **kw: Any) -> Any:
        self._note("RemoteStartTransaction", {"id_tag": id_tag, **kw})
        return result16.RemoteStartTransaction(status="Accepted")

    @on(Action16.remote_stop_transaction)
    def on_remote_stop(self, transaction_id: int, **kw: Any) -> Any:
        self._note("RemoteStopTransaction", {"transaction_id": transaction_id})
        return result16.RemoteStopTransaction(status="Accepted")


class _Sim201(_SimMixin, ChargePoint):  # type: ignore[misc]
    _ocpp_version = "2.0.1"
    _call = call201
    _call_result = result201

    def __init__(self, serial: str, ws: ClientConnection, sim: SimChargePoint) -> None:
        super().__init__(serial, ws)
        self.sim = sim

    def _variables(self) -> dict[str, str]:
        config = self.sim.state.configuration
        units = [u for u in self.sim.settings.rate_units]
        return {
            "SmartChargingCtrlr.ProfileStackLevel": config["ChargeProfileMaxStackLevel"],
            "SmartChargingCtrlr.RateUnit": ",".join(units),
            "SmartChargingCtrlr.PeriodsPerSchedule": config["ChargingScheduleMaxPeriods"],
            "SmartChargingCtrlr.Entries[ChargingProfiles]": config["MaxChargingProfilesInstalled"],
            "SmartChargingCtrlr.Enabled": "true",
        } | {k: v for k, v in config.items() if k.startswith("SampledDataCtrlr.")}

    @on(Action201.set_variables)
    def on_set_variables(self, set_variable_data: list[dict[str, Any]], **kw: Any) -> Any:
        self._note("SetVariables", {"set_variable_data": set_variable_data})
        results = []
        for item in set_variable_data:
            name = f"{item['component']['name']}.{item['variable']['name']}"
            self.sim.state.configuration[name] = str(item["attribute_value"])
            results.append(
                {
                    "attribute_status": "Accepted",
                    "component": item["component"],
                    "variable": item["variable"],
                }
            )
        return result201.SetVariables(set_variable_result=results)

    @on(Action201.get_variables)
    def on_get_variables(self, get_variable_data: list[dict[str, Any]], **kw: Any) -> Any:
        self._note("GetVariables", {"get_variable_data": get_variable_data})
        known = self._variables()
        results = []
        for item in get_variable_data:
            variable = item["variable"]
            key = f"{item['component']['name']}.{variable['name']}"
            if variable.get("instance"):
                key += f"[{variable['instance']}]"
            value = known.get(key)
            entry: dict[str, Any] = {
                "attribute_status": "Accepted" if value is not None else "UnknownVariable",
                "component": item["component"],
                "variable": variable,
            }
            if value is not None:
                entry["attribute_value"] = value
            results.append(entry)
        return result201.GetVariables(get_variable_result=results)

    @on(Action201.set_charging_profile)
    def on_set_charging_profile(
        self, evse_id: int, charging_profile: dict[str, Any], **kw: Any
    ) -> Any:
        self._note("SetChargingProfile", {"evse_id": evse_id, **charging_profile})
        if self.sim.profile_answer == "Accepted":
            self.sim.store_profile(held_profile(evse_id, charging_profile, "2.0.1"))
        return result201.SetChargingProfile(status=self.sim.profile_answer)

    @on(Action201.clear_charging_profile)
    def on_clear_charging_profile(self, **kw: Any) -> Any:
        self._note("ClearChargingProfile", kw)
        criteria = kw.get("charging_profile_criteria") or {}
        found = self.sim.clear_profiles(
            kw.get("charging_profile_id"),
            criteria.get("evse_id"),
            criteria.get("charging_profile_purpose"),
            criteria.get("stack_level"),
        )
        return result201.ClearChargingProfile(status="Accepted" if found else "Unknown")

    @on(Action201.get_composite_schedule)
    def on_get_composite_schedule(self, duration: int, evse_id: int, **kw: Any) -> Any:
        self._note("GetCompositeSchedule", {"evse_id": evse_id, "duration": duration})
        start = self.sim.now().replace(microsecond=0)
        periods = self.sim.composite_periods(start, duration, evse_id)
        return result201.GetCompositeSchedule(
            status="Accepted",
            schedule={
                "evse_id": evse_id,
                "duration": duration,
                "schedule_start": _ts(start),
                "charging_rate_unit": "A",
                "charging_schedule_period": [{"start_period": o, "limit": v} for o, v in periods],
            },
        )

    @on(Action201.trigger_message)
    def on_trigger_message(self, requested_message: str, **kw: Any) -> Any:
        self._note("TriggerMessage", {"requested_message": requested_message, **kw})
        return result201.TriggerMessage(status="Accepted")

    @on(Action201.reset)
    def on_reset(self, type: str, **kw: Any) -> Any:
        self._note("Reset", {"type": type})
        return result201.Reset(status="Accepted")

    @on(Action201.request_start_transaction)
    def on_request_start(self, id_token: dict[str, Any], remote_start_id: int, **kw: Any) -> Any:
        self._note("RequestStartTransaction", {"id_token": id_token, **kw})
        return result201.RequestStartTransaction(status="Accepted")

    @on(Action201.request_stop_transaction)
    def on_request_stop(self, transaction_id: str, **kw: Any) -> Any:
        self._note("RequestStopTransaction", {"transaction_id": transaction_id})
        return result201.RequestStopTransaction(status="Accepted")
