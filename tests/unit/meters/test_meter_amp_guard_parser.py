"""The Amp Guard topic and payload parser: table-driven cases and properties."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from meter_fakes import T0

from fuseshare.meters.amp_guard import (
    TOPIC_FILTER,
    encode_payload,
    parse_payload,
    payload_dict,
    serial_from_topic,
    serialize_reading,
    topic_for,
)
from fuseshare.meters.reading import Reading, Rejection, format_ts, parse_ts

DOC_EXAMPLE = (
    b'{"seq": 41, "ts": "2026-11-24T18:00:01.000Z", "current_a": [12.1, 8.0, 15.3],'
    b' "voltage_v": [231.0, 229.5, 230.2], "power_w": [2790, 1830, 3520],'
    b' "energy_kwh": 18234.5}'
)


def test_the_documented_example_parses_into_every_field() -> None:
    r = parse_payload("AG-1", DOC_EXAMPLE, received_at_s=T0)
    assert isinstance(r, Reading)
    assert r.serial == "AG-1"
    assert r.seq == 41
    assert r.meter_ts_s == parse_ts("2026-11-24T18:00:01Z")
    assert r.current_a == (12.1, 8.0, 15.3)
    assert r.voltage_v == (231.0, 229.5, 230.2)
    assert r.power_w == (2790.0, 1830.0, 3520.0)
    assert r.energy_kwh == 18234.5
    assert r.received_at_s == T0
    assert r.lines == ("L1", "L2", "L3")


def test_only_current_is_required_and_one_phase_supplies_send_one_value() -> None:
    r = parse_payload("AG-1", b'{"current_a": [7.5]}', received_at_s=T0)
    assert isinstance(r, Reading)
    assert r.current_a == (7.5,)
    assert (r.seq, r.meter_ts_s, r.voltage_v, r.power_w, r.energy_kwh) == (None,) * 5
    assert r.measured_at_s == T0


def test_unknown_fields_are_ignored_for_newer_firmware() -> None:
    r = parse_payload("AG-1", b'{"current_a": [1, 2, 3], "frequency_hz": 50.01}', received_at_s=T0)
    assert isinstance(r, Reading)


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (b"", "empty"),
        (b"   ", "empty"),
        (b"\xff\xfe", "not_utf8"),
        (b"{", "not_json"),
        (b"[1, 2, 3]", "not_object"),
        (b'"hello"', "not_object"),
        (b"{}", "missing_current"),
        (b'{"current_a": 12}', "bad_type"),
        (b'{"current_a": [1, 2]}', "line_count"),
        (b'{"current_a": []}', "line_count"),
        (b'{"current_a": [1, 2, 3, 4]}', "line_count"),
        (b'{"current_a": ["1", 2, 3]}', "bad_type"),
        (b'{"current_a": [true, 2, 3]}', "bad_type"),
        (b'{"current_a": [NaN, 2, 3]}', "not_finite"),
        (b'{"current_a": [Infinity, 2, 3]}', "not_finite"),
        (b'{"current_a": [1e400, 2, 3]}', "not_finite"),
        (b'{"current_a": [1, 2, 3], "voltage_v": [230]}', "line_count"),
        (b'{"current_a": [1, 2, 3], "power_w": "lots"}', "bad_type"),
        (b'{"current_a": [1, 2, 3], "energy_kwh": "1"}', "bad_type"),
        (b'{"current_a": [1, 2, 3], "seq": 1.5}', "bad_type"),
        (b'{"current_a": [1, 2, 3], "seq": -1}', "bad_seq"),
        (b'{"current_a": [1, 2, 3], "ts": 1795000000}', "bad_ts"),
        (b'{"current_a": [1, 2, 3], "ts": "2026-11-24T18:00:01"}', "bad_ts"),
        (b'{"current_a": [1, 2, 3], "ts": "yesterday"}', "bad_ts"),
        (b"[" * 100_000, "too_large"),
        (b"[" * 4000, "not_json"),
    ],
)
def test_bad_payloads_are_rejected_with_a_reason(payload: bytes, code: str) -> None:
    r = parse_payload("AG-1", payload, received_at_s=T0)
    assert isinstance(r, Rejection)
    assert r.code == code
    assert r.message


def test_negative_currents_parse_so_plausibility_can_count_them() -> None:
    # Shape is fine; whether -3 A is believable is plausibility's call.
    r = parse_payload("AG-1", b'{"current_a": [-3, 2, 3]}', received_at_s=T0)
    assert isinstance(r, Reading)


def test_topics() -> None:
    assert topic_for("AG-00042") == "fuseshare/ampguard/AG-00042/reading"
    assert serial_from_topic("fuseshare/ampguard/AG-00042/reading") == "AG-00042"
    assert serial_from_topic("fuseshare/ampguard/AG-00042/status") is None
    assert serial_from_topic("fuseshare/ampguard/a/b/reading") is None
    assert serial_from_topic("fuseshare/ampguard//reading") is None
    assert TOPIC_FILTER == "fuseshare/ampguard/+/reading"
    with pytest.raises(ValueError):
        topic_for("bad/serial")


def test_timestamps_round_trip_in_the_documented_format() -> None:
    assert format_ts(parse_ts("2026-11-24T18:00:01.000Z")) == "2026-11-24T18:00:01.000Z"
    assert parse_ts("2026-11-24T19:00:01+01:00") == parse_ts("2026-11-24T18:00:01Z")


def test_serialize_then_parse_is_identity() -> None:
    original = Reading(
        serial="AG-9",
        current_a=(1.5, 0.0, 63.25),
        received_at_s=T0,
        voltage_v=(230.0, 231.1, 229.9),
        power_w=(300.0, -12.5, 14000.0),
        energy_kwh=12.5,
        meter_ts_s=T0 - 0.25,
        seq=7,
        source="mqtt",
    )
    again = parse_payload("AG-9", serialize_reading(original), received_at_s=T0)
    assert again == original


# -- properties --------------------------------------------------------------

finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


@given(st.binary(max_size=600))
@settings(max_examples=300, deadline=None)
def test_any_bytes_give_a_reading_or_a_rejection(payload: bytes) -> None:
    r = parse_payload("AG-1", payload, received_at_s=T0)
    assert isinstance(r, Reading | Rejection)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | finite | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=20,
)
amp_guard_like = st.fixed_dictionaries(
    {},
    optional={
        "seq": st.integers(min_value=-5, max_value=2**64) | json_values,
        "ts": st.just("2026-11-24T18:00:01.000Z") | st.text(max_size=30) | json_values,
        "current_a": st.lists(finite | json_values, min_size=0, max_size=4),
        "voltage_v": st.lists(finite, min_size=0, max_size=4) | json_values,
        "power_w": st.lists(finite, min_size=0, max_size=4) | json_values,
        "energy_kwh": finite | json_values,
    },
)


@given(json_values | amp_guard_like)
@settings(max_examples=400, deadline=None)
def test_any_json_gives_a_reading_or_a_rejection_and_readings_are_well_formed(data: object) -> None:
    r = parse_payload("AG-1", json.dumps(data).encode(), received_at_s=T0)
    if isinstance(r, Rejection):
        assert r.code and r.message
        return
    assert len(r.current_a) in (1, 3)
    assert all(math.isfinite(v) for v in r.current_a)
    for values in (r.voltage_v, r.power_w):
        assert values is None or len(values) == len(r.current_a)
    assert r.seq is None or r.seq >= 0


@given(
    st.lists(finite, min_size=3, max_size=3) | st.lists(finite, min_size=1, max_size=1),
    st.integers(min_value=0, max_value=2**63 - 1),
    st.floats(min_value=0, max_value=4_000_000_000, allow_nan=False),
)
@settings(max_examples=200, deadline=None)
def test_what_we_publish_we_parse(current: list[float], seq: int, ts_s: float) -> None:
    body = encode_payload(payload_dict(current_a=current, seq=seq, ts_s=ts_s))
    r = parse_payload("AG-1", body, received_at_s=T0)
    assert isinstance(r, Reading)
    assert r.current_a == tuple(current)
    assert r.seq == seq
    assert r.meter_ts_s is not None and abs(r.meter_ts_s - ts_s) < 0.001
