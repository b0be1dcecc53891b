"""Real things for meter integration tests: an MQTT broker, free ports, fakes.

The broker: 127.0.0.1:1883 when something listens there; otherwise a private
``mosquitto`` (on PATH or /usr/sbin/mosquitto) on a free port; otherwise the
test is skipped, unless FUSESHARE_REQUIRE_BROKER is set (CI), then it fails.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from meter_helpers import FakeCredentials, PrivateBroker, listening, mosquitto_binary

from fuseshare.meters.mqtt import MqttSettings


def _no_broker(reason: str) -> None:
    if os.environ.get("FUSESHARE_REQUIRE_BROKER"):
        pytest.fail(f"FUSESHARE_REQUIRE_BROKER is set but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def broker() -> Iterator[MqttSettings]:
    """Settings for a running MQTT broker."""
    if listening("127.0.0.1", 1883):
        yield MqttSettings(host="127.0.0.1", port=1883, backoff_initial_s=0.05, backoff_max_s=0.5)
        return
    binary = mosquitto_binary()
    if binary is None:
        _no_broker("no MQTT broker on 127.0.0.1:1883 and no mosquitto binary to start one")
    assert binary is not None
    private = PrivateBroker(binary)
    private.start()
    try:
        yield private.settings
    finally:
        private.close()


@pytest.fixture
def private_broker() -> Iterator[PrivateBroker]:
    """A broker this test may stop and restart."""
    binary = mosquitto_binary()
    if binary is None:
        _no_broker("no mosquitto binary to start a private broker")
    assert binary is not None
    private = PrivateBroker(binary)
    private.start()
    try:
        yield private
    finally:
        private.close()


@pytest.fixture
def serial() -> str:
    """A serial (and so a topic) no other test or parallel run uses."""
    return f"T-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def credentials() -> FakeCredentials:
    """The store's PIN check, faked: serial -> PIN, lock-out after 3 wrong PINs."""
    return FakeCredentials()
