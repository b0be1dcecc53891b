"""Amp Guard ingestion over MQTT (aiomqtt), and the broker settings.

The ingestor subscribes to ``fuseshare/ampguard/+/reading``, parses each
message with the total parser in :mod:`fuseshare.meters.amp_guard` and hands
the result to the sink (the hub). It never dies on a bad message; on a lost
broker it reconnects with exponential backoff and jitter.

Retained messages are dropped: a retained reading is whatever was last
published, possibly hours ago, and a reading without a timestamp would look
fresh. QoS 0: a meter sends every second and only the newest value matters.
"""

from __future__ import annotations

import asyncio
import logging
import random
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import aiomqtt

from fuseshare.meters.amp_guard import TOPIC_FILTER, parse_payload, serial_from_topic
from fuseshare.meters.ports import Clock, ReadingSink
from fuseshare.meters.reading import Reading, Rejection

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class MqttSettings:
    """Broker connection. In production these come from configuration."""

    host: str = "127.0.0.1"
    port: int = 1883
    username: str | None = None
    password: str | None = None
    tls: bool = False
    ca_file: str | None = None
    """CA bundle for the broker's certificate; None = system trust store."""
    client_id: str | None = None
    keepalive_s: int = 30
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 30.0

    @classmethod
    def from_url(cls, url: str, **overrides: Any) -> MqttSettings:
        """``mqtt://user:pass@host:1883`` or ``mqtts://host:8883`` (TLS)."""
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
            raise ValueError(f"broker URL must start with mqtt:// or mqtts://, got '{url}'")
        tls = parts.scheme in ("mqtts", "ssl")
        values: dict[str, Any] = {
            "host": parts.hostname or "127.0.0.1",
            "port": parts.port or (8883 if tls else 1883),
            "username": unquote(parts.username) if parts.username else None,
            "password": unquote(parts.password) if parts.password else None,
            "tls": tls,
        }
        values.update(overrides)
        return cls(**values)

    def client(self, *, identifier: str | None = None) -> aiomqtt.Client:
        tls_context: ssl.SSLContext | None = None
        if self.tls:
            tls_context = ssl.create_default_context(cafile=self.ca_file)
        return aiomqtt.Client(
            self.host,
            self.port,
            username=self.username,
            password=self.password,
            identifier=identifier or self.client_id,
            keepalive=self.keepalive_s,
            tls_context=tls_context,
            timeout=10,
        )


class MqttIngestor:
    """Subscribes to every Amp Guard and feeds the sink. Implements MeterSource."""

    kind = "mqtt"

    def __init__(
        self,
        settings: MqttSettings,
        sink: ReadingSink,
        *,
        clock: Clock,
        topic_filter: str = TOPIC_FILTER,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self._sink = sink
        self._clock = clock
        self._topic_filter = topic_filter
        self._rng = rng or random.Random()
        self.connected = asyncio.Event()
        """Set while subscribed (tests and health checks wait on it)."""
        self.messages = 0
        self.parsed = 0
        self.rejected = 0
        self.retained_dropped = 0
        self.bad_topic = 0
        self.connects = 0
        self.last_error: str | None = None

    def stats(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "broker": f"{self.settings.host}:{self.settings.port}",
            "connected": self.connected.is_set(),
            "connects": self.connects,
            "messages": self.messages,
            "parsed": self.parsed,
            "rejected": self.rejected,
            "retained_dropped": self.retained_dropped,
            "bad_topic": self.bad_topic,
            "last_error": self.last_error,
        }

    async def run(self) -> None:
        backoff_s = self.settings.backoff_initial_s
        while True:
            try:
                async with self.settings.client() as client:
                    await client.subscribe(self._topic_filter, qos=0)
                    self.connects += 1
                    self.connected.set()
                    backoff_s = self.settings.backoff_initial_s
                    log.info("subscribed to %s on %s", self._topic_filter, self.settings.host)
                    async for message in client.messages:
                        try:
                            self.handle(
                                str(message.topic), message.payload, retain=bool(message.retain)
                            )
                        except Exception:  # one bad message must not stop every meter
                            log.exception("MQTT message on %s could not be handled", message.topic)
            except aiomqtt.MqttError as exc:
                self.last_error = str(exc)
                log.warning("MQTT broker %s: %s", self.settings.host, exc)
            finally:
                self.connected.clear()
            delay_s = backoff_s * (0.5 + self._rng.random())
            backoff_s = min(self.settings.backoff_max_s, backoff_s * 2)
            await asyncio.sleep(delay_s)

    def handle(self, topic: str, payload: object, *, retain: bool = False) -> Reading | None:
        """Process one message (public so benchmarks can drive it without a broker)."""
        self.messages += 1
        if retain:
            self.retained_dropped += 1
            return None
        serial = serial_from_topic(topic)
        if serial is None:
            self.bad_topic += 1
            return None
        if not isinstance(payload, bytes | bytearray | str):
            self.rejected += 1
            self._sink.reject(serial, Rejection("bad_type", "payload is not bytes"), source="mqtt")
            return None
        result = parse_payload(serial, payload, received_at_s=self._clock(), source="mqtt")
        if isinstance(result, Rejection):
            self.rejected += 1
            self._sink.reject(serial, result, source="mqtt")
            return None
        self.parsed += 1
        self._sink.submit(result)
        return result
