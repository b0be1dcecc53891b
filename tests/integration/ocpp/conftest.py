"""Fixtures for the OCPP integration tests (see ocpp_harness.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Any

import pytest
from ocpp_harness import TEST_SETTINGS, RunningServer, start_server

from fuseshare.ocpp import CentralSettings


@pytest.fixture
async def server() -> AsyncIterator[RunningServer]:
    running = await start_server()
    yield running
    if not running.task.done():
        await running.central.close()
        await running.stop()


@pytest.fixture
def settings_with() -> Callable[..., CentralSettings]:
    def make(**kw: Any) -> CentralSettings:
        return replace(TEST_SETTINGS, **kw)

    return make
