"""The live stream (server-sent events) carries what the control loop publishes."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx

from fuseshare.control.live import ChargerLive, GroupLive, LineLive, MeterLive
from tests.integration.web.live_server import LiveServer
from tests.integration.web.web_site import WebSite


def sample(group_id: int, load_a: float) -> GroupLive:
    return GroupLive(
        group_id=group_id,
        at=datetime.now(UTC),
        state="active",
        meter=MeterLive("AG-A1", True, 0.3, (load_a, 10.0, 5.0)),
        lines=(LineLive("L1", load_a, 12.0, 30.0, 63.0, 32.0, "main fuse L1"),),
        chargers=(
            ChargerLive("CH-A1", "charging", True, 16.0, (12.0, 0.0, 0.0), "car draws less"),
        ),
    )


def test_sse_streams_each_published_state(web_sqlite: WebSite) -> None:
    web = web_sqlite
    token = web.token("org_user")
    with LiveServer(web.app, web.board).running() as server:
        url = f"{server.url}/api/v1/groups/{web.group_a}/live/stream"
        headers = {"Authorization": f"Bearer {token}"}
        received: list[dict[str, object]] = []
        with httpx.stream("GET", url, headers=headers, timeout=30) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            for line in response.iter_lines():
                if line == ": connected":
                    server.publish(sample(web.group_a, 21.5))
                elif line.startswith("data: "):
                    received.append(json.loads(line[6:]))
                    if len(received) == 1:
                        server.publish(sample(web.group_a, 33.0))
                    else:
                        break
        assert [r["lines"][0]["load_a"] for r in received] == [21.5, 33.0]  # type: ignore[index]
        other = httpx.get(
            f"{server.url}/api/v1/groups/{web.group_b}/live/stream", headers=headers, timeout=10
        )
        assert other.status_code == 404
