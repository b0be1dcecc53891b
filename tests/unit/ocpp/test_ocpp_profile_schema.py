"""Every charging profile we build is valid against the official OCPP schemas.

The connections send our own SetChargingProfile frames without validating them
again on every control cycle (it was more than half a cycle's cost); this test
is where that validation lives instead, over the whole range of inputs.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from ocpp.charge_point import remove_nones, serialize_as_dict, snake_to_camel_case
from ocpp.messages import Call, _validate_payload
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201

from fuseshare.ocpp.ports import Capabilities
from fuseshare.ocpp.profiles import LimitPolicy, plan_limit
from fuseshare.ocpp.v16.connection import profile_payload as payload16
from fuseshare.ocpp.v201.connection import profile_payload as payload201


def _validate(payload: object, version: str) -> None:
    body = remove_nones(snake_to_camel_case(serialize_as_dict(payload)))
    _validate_payload(Call(unique_id="1", action=type(payload).__name__, payload=body), version)


capabilities = st.one_of(
    st.none(),
    st.builds(
        Capabilities,
        rate_units=st.sampled_from([("A",), ("W",), ("A", "W"), None]),
        max_stack_level=st.one_of(st.none(), st.integers(1, 20)),
    ),
)


@settings(max_examples=150, deadline=None)
@given(
    current_a=st.floats(0, 500, allow_nan=False),
    failsafe_a=st.floats(0, 80, allow_nan=False),
    seconds=st.integers(0, 10**9),
    ttl_s=st.floats(10, 3600),
    caps=capabilities,
    connector_id=st.integers(0, 4),
)
def test_profiles_are_schema_valid_for_both_versions(
    current_a: float,
    failsafe_a: float,
    seconds: int,
    ttl_s: float,
    caps: Capabilities | None,
    connector_id: int,
) -> None:
    now = datetime(2000, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds, microseconds=seconds % 997)
    plan = plan_limit(
        current_a,
        failsafe_a,
        now,
        capabilities=caps,
        policy=LimitPolicy(ttl_s=ttl_s),
        connector_id=connector_id,
    )
    for spec in (plan.failsafe, plan.dynamic):
        _validate(
            call16.SetChargingProfile(
                connector_id=connector_id, cs_charging_profiles=payload16(spec)
            ),
            "1.6",
        )
        _validate(
            call201.SetChargingProfile(evse_id=connector_id, charging_profile=payload201(spec)),
            "2.0.1",
        )


def test_the_schema_check_catches_a_broken_profile() -> None:
    """The check above can fail: a profile without its schedule is refused."""
    import pytest
    from ocpp.exceptions import ProtocolError

    plan = plan_limit(16.0, 6.0, datetime(2026, 11, 24, tzinfo=UTC))
    broken = payload16(plan.dynamic)
    broken.pop("charging_schedule")
    with pytest.raises(ProtocolError, match="chargingSchedule"):
        _validate(call16.SetChargingProfile(connector_id=0, cs_charging_profiles=broken), "1.6")
