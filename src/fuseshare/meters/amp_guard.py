"""The Amp Guard's MQTT message: topic, payload parser and serializer.

The topic and payload are fixed (outside tools rely on them; see
docs/amp-guard.md)::

    fuseshare/ampguard/{serial}/reading
    {"seq": 41, "ts": "2026-11-24T18:00:01.000Z", "current_a": [12.1, 8.0, 15.3],
     "voltage_v": [231.0, 229.5, 230.2], "power_w": [2790, 1830, 3520],
     "energy_kwh": 18234.5}

:func:`parse_payload` is total: any bytes give a :class:`Reading` or a
:class:`Rejection` with a reason, never an exception. It checks *shape* only;
whether the numbers are believable is :mod:`fuseshare.meters.plausibility`'s job.
Pure: the arrival time comes in as an argument.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from fuseshare.meters.reading import Reading, Rejection, format_ts, parse_ts

TOPIC_PREFIX = "fuseshare/ampguard/"
TOPIC_SUFFIX = "/reading"
TOPIC_FILTER = "fuseshare/ampguard/+/reading"
"""What the ingestor subscribes to."""

MAX_PAYLOAD_BYTES = 4096
"""A real payload is ~200 bytes; anything far larger is not an Amp Guard."""

SERIAL_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
"""Serials: letters, digits, '.', '_', '-'; 1 to 64 characters."""

_MAX_SEQ = 2**63 - 1


def topic_for(serial: str) -> str:
    """The topic an Amp Guard with this serial publishes to."""
    if not SERIAL_PATTERN.match(serial):
        raise ValueError(f"'{serial}' is not a valid meter serial (letters, digits, . _ -)")
    return f"{TOPIC_PREFIX}{serial}{TOPIC_SUFFIX}"


def serial_from_topic(topic: str) -> str | None:
    """The serial in an Amp Guard topic, or None when the topic is not one."""
    if not (topic.startswith(TOPIC_PREFIX) and topic.endswith(TOPIC_SUFFIX)):
        return None
    serial = topic[len(TOPIC_PREFIX) : -len(TOPIC_SUFFIX)]
    return serial if SERIAL_PATTERN.match(serial) else None


class _Invalid(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _reject_constant(name: str) -> Any:
    # Python's json accepts NaN/Infinity; JSON does not, and neither do we.
    raise _Invalid("not_finite", f"{name} is not a JSON number; send finite numbers only")


def _number(value: object, field: str, index: int | None = None) -> float:
    # The common case first: a finite float (bool is an int, never a float).
    if type(value) is float and math.isfinite(value):
        return value
    if index is not None:
        field = f"{field}[{index}]"  # named only when something is wrong
    # bool is an int subclass in Python; true/false are not measurements.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Invalid("bad_type", f"{field} must be a number, got {type(value).__name__}")
    try:
        out = float(value)
    except OverflowError:
        raise _Invalid("not_finite", f"{field} is too large to be a number") from None
    if not math.isfinite(out):
        raise _Invalid("not_finite", f"{field} must be a finite number")
    return out


def _per_line(value: object, field: str, lines: int | None) -> tuple[float, ...]:
    if not isinstance(value, list):
        raise _Invalid("bad_type", f"{field} must be a list of numbers in line order L1, L2, L3")
    if lines is None and len(value) not in (1, 3):
        raise _Invalid(
            "line_count",
            f"{field} has {len(value)} values; give 3 (L1, L2, L3) or 1 (one-phase supply)",
        )
    if lines is not None and len(value) != lines:
        raise _Invalid(
            "line_count",
            f"{field} has {len(value)} values but current_a has {lines}; give one per line",
        )
    return tuple([_number(v, field, i) for i, v in enumerate(value)])


def parse_payload(
    serial: str,
    payload: bytes | bytearray | str,
    *,
    received_at_s: float,
    source: str = "mqtt",
) -> Reading | Rejection:
    """Turn an Amp Guard payload into a :class:`Reading`, or say why not.

    Unknown fields are ignored so that newer Amp Guard firmware can add fields
    without breaking older servers.
    """
    try:
        return _parse(serial, payload, received_at_s, source)
    except _Invalid as exc:
        return Rejection(exc.code, exc.message)
    except Exception as exc:  # totality: a parser bug must not kill an ingestor
        return Rejection("invalid", f"payload could not be read: {type(exc).__name__}")


def _parse(
    serial: str, payload: bytes | bytearray | str, received_at_s: float, source: str
) -> Reading:
    if not SERIAL_PATTERN.match(serial):
        raise _Invalid("bad_serial", "serial must be 1-64 letters, digits, '.', '_' or '-'")
    raw = payload.encode() if isinstance(payload, str) else bytes(payload)
    if len(raw) > MAX_PAYLOAD_BYTES:
        raise _Invalid("too_large", f"payload is {len(raw)} bytes; at most {MAX_PAYLOAD_BYTES}")
    if not raw.strip():
        raise _Invalid("empty", "payload is empty; send a JSON object with current_a")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _Invalid("not_utf8", "payload is not UTF-8 text") from None
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise _Invalid("not_json", "payload nests too deeply") from None
    except ValueError as exc:
        raise _Invalid("not_json", f"payload is not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise _Invalid("not_object", 'payload must be a JSON object like {"current_a": [...]}')
    if "current_a" not in data:
        raise _Invalid("missing_current", "current_a is required: a list of amperes per line")
    current_a = _per_line(data["current_a"], "current_a", None)
    lines = len(current_a)
    voltage_v = (
        None if data.get("voltage_v") is None else _per_line(data["voltage_v"], "voltage_v", lines)
    )
    power_w = None if data.get("power_w") is None else _per_line(data["power_w"], "power_w", lines)
    energy_kwh = (
        None if data.get("energy_kwh") is None else _number(data["energy_kwh"], "energy_kwh")
    )
    seq: int | None = None
    if data.get("seq") is not None:
        raw_seq = data["seq"]
        if isinstance(raw_seq, bool) or not isinstance(raw_seq, int):
            raise _Invalid("bad_type", "seq must be a whole number")
        if not 0 <= raw_seq <= _MAX_SEQ:
            raise _Invalid("bad_seq", "seq must be between 0 and 2^63-1")
        seq = raw_seq
    meter_ts_s: float | None = None
    if data.get("ts") is not None:
        raw_ts = data["ts"]
        if not isinstance(raw_ts, str):
            raise _Invalid("bad_ts", 'ts must be a string like "2026-11-24T18:00:01.000Z"')
        try:
            meter_ts_s = parse_ts(raw_ts)
        except (ValueError, OverflowError, OSError) as exc:
            raise _Invalid(
                "bad_ts", f"ts '{raw_ts[:40]}' is not an RFC 3339 UTC time ({exc})"
            ) from None
    return Reading(
        serial=serial,
        current_a=current_a,
        received_at_s=received_at_s,
        voltage_v=voltage_v,
        power_w=power_w,
        energy_kwh=energy_kwh,
        meter_ts_s=meter_ts_s,
        seq=seq,
        source=source,
    )


def payload_dict(
    *,
    current_a: tuple[float, ...] | list[float],
    seq: int | None = None,
    ts_s: float | None = None,
    voltage_v: tuple[float, ...] | list[float] | None = None,
    power_w: tuple[float, ...] | list[float] | None = None,
    energy_kwh: float | None = None,
) -> dict[str, Any]:
    """Build an Amp Guard payload (fields in the documented order; None left out)."""
    out: dict[str, Any] = {}
    if seq is not None:
        out["seq"] = seq
    if ts_s is not None:
        out["ts"] = format_ts(ts_s)
    out["current_a"] = list(current_a)
    if voltage_v is not None:
        out["voltage_v"] = list(voltage_v)
    if power_w is not None:
        out["power_w"] = list(power_w)
    if energy_kwh is not None:
        out["energy_kwh"] = energy_kwh
    return out


def serialize_reading(reading: Reading) -> bytes:
    """The Amp Guard payload for a reading (what the simulated Amp Guard publishes)."""
    return encode_payload(
        payload_dict(
            current_a=reading.current_a,
            seq=reading.seq,
            ts_s=reading.meter_ts_s,
            voltage_v=reading.voltage_v,
            power_w=reading.power_w,
            energy_kwh=reading.energy_kwh,
        )
    )


def encode_payload(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), allow_nan=False).encode()
