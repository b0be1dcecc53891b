"""API: tell a charging session what its car needs, for cars that cannot say it.

An ISO 15118 car on an OCPP 2.0.1 charger says its energy and departure itself
(NotifyEVChargingNeeds); a car on a 1.6 charger cannot, so its driver, the site
owner's app or an installer can: ``PUT /api/v1/chargers/{serial}/needs``. The
needs belong to the car charging there now (its session), go to the control side
at once (balancing versions 5 and later share by them, see docs/sharing.md) and are kept
with the session, so a restart does not forget them. Anyone who may see the
charger's organization may tell them, site owners included: they describe a car,
they change no setting.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from pydantic import AwareDatetime, BaseModel, Field

from fuseshare.control.telemetry import ChargerTelemetry
from fuseshare.errors import Conflict, InvalidInput
from fuseshare.ocpp.ports import ChargerDirectory, ChargingNeeds
from fuseshare.web.api import models as m
from fuseshare.web.api.deps import wf
from fuseshare.web.auth import api_actor
from fuseshare.workflow import Actor, Workflow

MAX_AHEAD = timedelta(days=7)
"""A departure further ahead than this is a typo (a wrong year or month)."""


class NeedsIn(m.Strict):
    energy_kwh: float | None = Field(
        default=None, gt=0, le=1000, description="The energy the car wants in this session, kWh"
    )
    departure: AwareDatetime | None = Field(
        default=None, description="When the car leaves, with its time zone (ISO 8601)"
    )


class NeedsOut(BaseModel):
    serial: str
    transaction_id: str
    energy_kwh: float | None
    departure: datetime | None


def make_needs_router(
    telemetry: ChargerTelemetry, directory: ChargerDirectory, now: Callable[[], datetime]
) -> APIRouter:
    """The endpoint, on the live telemetry and the store of the serving process."""
    router = APIRouter(prefix="/api/v1", tags=["devices"])

    @router.put("/chargers/{serial}/needs", response_model=NeedsOut, responses=m.WRITE)
    async def tell_needs(
        serial: str,
        body: NeedsIn,
        actor: Actor = Depends(api_actor),
        workflow: Workflow = Depends(wf),
    ) -> dict[str, Any]:
        """Tell the session charging at this charger what its car needs: the energy it
        wants and when it leaves (either or both)."""
        # Visibility: 404 for a charger this user may not see.
        await run_in_threadpool(workflow.devices.show_charger, actor, serial)
        at = now()
        if body.energy_kwh is None and body.departure is None:
            raise InvalidInput.one(
                "energy_kwh", "give energy_kwh, departure or both (nothing to tell otherwise)"
            )
        if body.departure is not None and not at < body.departure <= at + MAX_AHEAD:
            raise InvalidInput.one(
                "departure",
                f"{body.departure.isoformat()} is not within the next 7 days "
                f"(now {at.isoformat(timespec='seconds')}); give a future time with its zone",
            )
        transaction_id = telemetry.state(serial).session_id
        if transaction_id is None:
            raise Conflict(
                f"no car is charging at {serial} now; needs belong to a session, "
                "so tell them once the car has started"
            )
        # What is not given now stays as told before (by the car or by someone else).
        before = telemetry.told_needs(serial) or ChargingNeeds()
        needs = ChargingNeeds(
            energy_kwh=before.energy_kwh if body.energy_kwh is None else body.energy_kwh,
            departure_in_s=before.departure_in_s
            if body.departure is None
            else (body.departure - at).total_seconds(),
            ev_max_current_a=before.ev_max_current_a,
        )
        telemetry.charging_needs(serial, needs)
        await directory.session_needs(serial, transaction_id, needs, at)
        left_s = needs.departure_in_s
        return {
            "serial": serial,
            "transaction_id": transaction_id,
            "energy_kwh": needs.energy_kwh,
            "departure": None if left_s is None else at + timedelta(seconds=left_s),
        }

    return router
