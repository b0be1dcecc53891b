"""fuseshare dies mid-session: each charger falls back to its failsafe current
by itself, when its dynamic profile expires — shown from the profiles it holds."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

import pytest

from fuseshare.ocpp.profiles import DYNAMIC_PROFILE_ID, FAILSAFE_PROFILE_ID


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_server_stops_mid_session_and_charger_falls_back_to_failsafe(server, version):
    ttl_s = server.central.settings.policy.ttl_s
    server.directory.add("CH-FS", "pw", failsafe_a=6.0)
    cp = server.sim("CH-FS", version)
    await cp.connect()
    await cp.boot()
    await cp.send_status(1, "Charging" if version == "1.6" else "Occupied")
    await cp.start_transaction(1, "TAG1")
    await server.central.wait_ready("CH-FS")
    outcome = await server.central.set_limit("CH-FS", 20.0)
    assert outcome.accepted
    await cp.send_meter_values(1, [19.5, 19.6, 19.4], energy_add_wh=500)

    # The server process goes away without a word.
    await server.stop()
    await cp.wait_closed()
    assert not cp.connected

    held = {p.profile_id: p for p in cp.state.profiles}
    assert set(held) == {FAILSAFE_PROFILE_ID, DYNAMIC_PROFILE_ID}
    assert held[FAILSAFE_PROFILE_ID].valid_to is None
    assert held[FAILSAFE_PROFILE_ID].stack_level < held[DYNAMIC_PROFILE_ID].stack_level

    now = cp.now()
    assert cp.effective_limit_a(now) == 20.0
    expires = held[DYNAMIC_PROFILE_ID].valid_to
    assert expires is not None and expires <= now + timedelta(seconds=ttl_s + 1)
    assert cp.effective_limit_a(expires - timedelta(seconds=1)) == 20.0
    assert cp.effective_limit_a(expires) == 6.0
    assert cp.effective_limit_a(now + timedelta(days=30)) == 6.0

    # The charger's own composite schedule says the same.
    periods = cp.composite_periods(now.replace(microsecond=0), 3600, 1)
    assert periods[0][1] == 20.0
    assert periods[-1][1] == 6.0
    assert 0 < periods[-1][0] <= ttl_s + 1
    await cp.close()


async def _limited(server, serial: str, version: str, current_a: float):
    """A charger with a 6 A failsafe, connected and booted, holding ``current_a``."""
    server.directory.add(serial, "pw", failsafe_a=6.0)
    cp = server.sim(serial, version)
    await cp.connect()
    await cp.boot()
    await server.central.wait_ready(serial)
    assert (await server.central.set_limit(serial, current_a)).accepted
    return cp


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_a_limit_at_or_below_the_failsafe_holds_for_the_longer_quiet_lease(server, version):
    """An idle charger's 0 A: its expiry could only raise it, so its lease is the quiet one
    (10 minutes, refreshed every 200 s instead of every 40 s); then the failsafe holds."""
    policy = server.central.settings.policy
    assert policy.quiet_ttl_s > policy.ttl_s
    cp = await _limited(server, "CH-QUIET", version, 0.0)

    await server.stop()
    await cp.wait_closed()
    now = cp.now()
    held = {p.profile_id: p for p in cp.state.profiles}
    expires = held[DYNAMIC_PROFILE_ID].valid_to
    assert expires is not None
    assert now + timedelta(seconds=policy.ttl_s + 1) < expires
    assert expires <= now + timedelta(seconds=policy.quiet_ttl_s + 1)
    assert cp.effective_limit_a(now + timedelta(seconds=policy.ttl_s + 1)) == 0.0
    assert cp.effective_limit_a(expires - timedelta(seconds=1)) == 0.0
    assert cp.effective_limit_a(expires) == 6.0
    await cp.close()


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_link_drop_and_reconnect_restores_the_leased_limit(server, version):
    cp = await _limited(server, "CH-RC", version, 14.0)
    await cp.close()
    await server.telemetry.wait_for(lambda: ("CH-RC", False) in server.telemetry.connections)
    cp.state.profiles.clear()  # e.g. the charger lost its profiles in a power cut

    await cp.connect()
    await cp.boot()
    await server.central.wait_ready("CH-RC")
    assert cp.effective_limit_a() == 14.0
    assert {p.profile_id for p in cp.state.profiles} == {FAILSAFE_PROFILE_ID, DYNAMIC_PROFILE_ID}
    await cp.close()


async def test_dynamic_profile_is_refreshed_while_leased_then_left_to_expire(settings_with):
    from ocpp_harness import start_server

    from fuseshare.ocpp.profiles import LimitPolicy

    # Short lifetimes so that the behaviour shows within a few seconds.
    settings = settings_with(
        policy=LimitPolicy(ttl_s=3, refresh_fraction=1 / 3, clock_skew_s=0), limit_lease_s=4
    )
    running = await start_server(settings)
    try:
        running.directory.add("CH-LEASE", "pw", failsafe_a=6.0)
        async with running.sim("CH-LEASE", "1.6") as cp:
            await cp.boot()
            await running.central.wait_ready("CH-LEASE")
            assert (await running.central.set_limit("CH-LEASE", 20.0)).accepted

            def dynamic_sends() -> list[str]:
                return [
                    p["valid_to"]
                    for action, p in cp.state.received
                    if action == "SetChargingProfile"
                    and p["charging_profile_id"] == DYNAMIC_PROFILE_ID
                ]

            async def until(predicate, timeout_s=20.0):
                async def loop():
                    while not predicate():
                        cp.call_received.clear()
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(cp.call_received.wait(), 0.5)

                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(loop(), timeout_s)
                return predicate()

            # Refreshed before it expires: new profiles with later validTo.
            assert await until(lambda: len(dynamic_sends()) >= 3)
            sends = dynamic_sends()
            assert sends == sorted(sends) and len(set(sends)) == len(sends)
            assert cp.effective_limit_a() == 20.0

            # The lease runs out (the control side stopped asking): the dynamic
            # profile is no longer refreshed and the charger falls to failsafe.
            def expired() -> bool:
                held = {p.profile_id: p for p in cp.state.profiles}
                valid_to = held[DYNAMIC_PROFILE_ID].valid_to
                return valid_to is not None and valid_to <= cp.now()

            assert await until(expired)
            assert cp.effective_limit_a() == 6.0
    finally:
        await running.central.close()
        await running.stop()
