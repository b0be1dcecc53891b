"""The OCPP central system: chargers speak OCPP-J 1.6 / 2.0.1 over WebSocket.

Public API (wired by ``bootstrap``):

* :class:`CentralSystem` — registry of connected chargers, ``set_limit`` and
  the portal commands;
* :func:`ocpp_router` — the FastAPI router with ``/ocpp/{charger_serial}``;
* the ports :class:`ChargerDirectory` and :class:`TelemetrySink`.
"""

from fuseshare.ocpp.agent import LimitOutcome
from fuseshare.ocpp.asgi import ocpp_router
from fuseshare.ocpp.central import CentralSettings, CentralSystem, ChargerOffline, ChargerSnapshot
from fuseshare.ocpp.connection import CallFailed, ConnectionLimits
from fuseshare.ocpp.ports import (
    AuthResult,
    AuthStatus,
    BootInfo,
    Capabilities,
    ChargerDirectory,
    ChargingNeeds,
    MeterSample,
    OpenSession,
    PerPhase,
    SessionStart,
    SessionStop,
    TelemetrySink,
)
from fuseshare.ocpp.profiles import CompositeSchedule, LimitPlan, LimitPolicy, plan_limit

__all__ = [
    "AuthResult",
    "AuthStatus",
    "BootInfo",
    "CallFailed",
    "Capabilities",
    "CentralSettings",
    "CentralSystem",
    "ChargerDirectory",
    "ChargerOffline",
    "ChargerSnapshot",
    "ChargingNeeds",
    "CompositeSchedule",
    "ConnectionLimits",
    "LimitOutcome",
    "LimitPlan",
    "LimitPolicy",
    "MeterSample",
    "OpenSession",
    "PerPhase",
    "SessionStart",
    "SessionStop",
    "TelemetrySink",
    "ocpp_router",
    "plan_limit",
]
