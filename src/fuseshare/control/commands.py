"""What the control loop tells chargers: the port and its OCPP adapter.

The loop decides; the adapter only translates "charger X may draw N A" into
the OCPP central system's call (which turns it into a failsafe default profile
plus an expiring dynamic profile, and keeps refreshing it).
"""

from __future__ import annotations

import logging
from typing import Protocol

from fuseshare.ocpp.central import CentralSystem, ChargerOffline
from fuseshare.ocpp.profiles import DYNAMIC_PROFILE_ID

log = logging.getLogger(__name__)


class ChargerCommands(Protocol):
    async def set_limit(self, serial: str, current_a: float, *, failsafe_current_a: float) -> bool:
        """Charger ``serial`` may draw ``current_a`` per phase from now; True when accepted."""
        ...

    async def release(self, serial: str) -> None:
        """Stop dynamic control: the dynamic limit goes, the failsafe limit stays."""
        ...

    async def request_sample(self, serial: str) -> None:
        """Ask the charger for its currents now (best effort; the answer arrives as telemetry)."""
        ...


class OcppCommands:
    """``ChargerCommands`` over the OCPP central system."""

    def __init__(self, central: CentralSystem) -> None:
        self._central = central

    async def set_limit(self, serial: str, current_a: float, *, failsafe_current_a: float) -> bool:
        outcome = await self._central.set_limit(
            serial, current_a, failsafe_current_a=failsafe_current_a
        )
        return bool(outcome.accepted)

    async def release(self, serial: str) -> None:
        self._central.forget_limit(serial)
        try:
            await self._central.clear_profile(serial, DYNAMIC_PROFILE_ID)
        except ChargerOffline:
            pass  # its dynamic profile expires by itself; the failsafe one stays
        except Exception as exc:  # a charger that does not answer must not stop the others
            log.warning("could not clear the dynamic limit of %s: %s", serial, exc)

    async def request_sample(self, serial: str) -> None:
        # TriggerMessage(MeterValues): a standard message, answered with a MeterValues call.
        try:
            await self._central.trigger(serial, "MeterValues")
        except Exception as exc:  # offline, refused or unanswered: the periodic samples remain
            log.debug("%s: no sample on request: %s", serial, exc)
