"""The real app served by uvicorn in a thread, for SSE and browser tests.

``publish`` hands a GroupLive to the LiveBoard on the server's own event loop,
as the control loop would (the board's queues belong to that loop).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

from fuseshare.control.live import GroupLive, LiveBoard
from tests.conftest import free_port


class LiveServer:
    def __init__(self, app: FastAPI, board: LiveBoard) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.board = board
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=2,
        )
        self.server = uvicorn.Server(config)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread = threading.Thread(target=self._run, name="live-server", daemon=True)

    def _run(self) -> None:
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self.server.serve())

    def publish(self, live: GroupLive) -> None:
        assert self.loop is not None
        self.loop.call_soon_threadsafe(self.board.publish, live)

    @contextmanager
    def running(self) -> Iterator[LiveServer]:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)
        try:
            yield self
        finally:
            self.server.should_exit = True
            self.thread.join(timeout=10)
