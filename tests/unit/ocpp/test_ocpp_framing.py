"""Parsing untrusted frames and the CALLERROR codes per version."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ocpp.messages import Call, CallError, CallResult

from fuseshare.ocpp.asgi import choose_subprotocol, parse_basic_auth
from fuseshare.ocpp.framing import (
    BadFrame,
    error_code_for,
    format_ts,
    parse_frame,
    parse_ts,
    peek_call_id,
)


@pytest.mark.parametrize(
    ("raw", "uid", "code", "respond"),
    [
        ("nope", "-1", "RpcFrameworkError", True),
        (b"\xff\xfe", "-1", "RpcFrameworkError", True),
        ("{}", "-1", "RpcFrameworkError", True),
        ("[]", "-1", "RpcFrameworkError", True),
        ('["2", "a", "X", {}]', "-1", "RpcFrameworkError", True),
        ('[9, "a", "X", {}]', "a", "MessageTypeNotSupported", True),
        ('[2, 5, "X", {}]', "-1", "RpcFrameworkError", True),
        ('[2, "a", "X"]', "a", "FormatViolation", True),
        ('[2, "a", "X", []]', "a", "FormatViolation", True),
        ('[3, "a"]', "a", "FormatViolation", False),
        ('[4, "a", 5, "d", {}]', "a", "FormatViolation", False),
        ("[3, 7, {}]", "-1", "RpcFrameworkError", False),
    ],
)
def test_bad_frames(raw, uid, code, respond):
    frame = parse_frame(raw)
    assert frame == BadFrame(uid, code, frame.description, respond)


def test_good_frames():
    assert isinstance(parse_frame('[2, "a", "Heartbeat", {}]'), Call)
    assert isinstance(parse_frame('[3, "a", {}]'), CallResult)
    assert isinstance(parse_frame('[4, "a", "GenericError", "x", {}]'), CallError)


@pytest.mark.parametrize(
    ("version", "code", "expected"),
    [
        ("1.6", "FormatViolation", "FormationViolation"),
        ("1.6", "OccurrenceConstraintViolation", "OccurenceConstraintViolation"),
        ("1.6", "RpcFrameworkError", "FormationViolation"),
        ("2.0.1", "FormationViolation", "FormatViolation"),
        ("2.0.1", "RpcFrameworkError", "RpcFrameworkError"),
        ("2.0.1", "NotSupported", "NotSupported"),
    ],
)
def test_error_codes_per_version(version, code, expected):
    assert error_code_for(version, code) == expected


def test_bad_frame_call_error_is_json():
    frame = parse_frame("nope")
    assert isinstance(frame, BadFrame)
    assert json.loads(frame.call_error("2.0.1"))[:3] == [4, "-1", "RpcFrameworkError"]


def test_peek_call_id():
    assert peek_call_id('[2,"abc","DataTransfer",{"data":"...') == "abc"
    assert peek_call_id('[3,"abc",{}]') is None
    assert peek_call_id("garbage") is None


@given(st.text(max_size=200) | st.binary(max_size=200))
def test_parse_frame_never_raises(raw):
    parse_frame(raw)


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=5),
        lambda c: st.lists(c, max_size=5) | st.dictionaries(st.text(max_size=5), c, max_size=3),
        max_leaves=20,
    )
)
def test_parse_frame_never_raises_on_json(value):
    parse_frame(json.dumps(value))


def test_timestamps_round_trip():
    at = datetime(2026, 11, 24, 18, 0, 1, tzinfo=UTC)
    assert format_ts(at) == "2026-11-24T18:00:01Z"
    assert parse_ts("2026-11-24T18:00:01Z") == at
    assert parse_ts("2026-11-24T18:00:01.000Z") == at
    assert parse_ts("2026-11-24T18:00:01") == at
    assert parse_ts("2026-11-24T19:00:01+01:00") == at


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Basic Q0gtMTpwdw==", ("CH-1", "pw")),
        ("basic Q0gtMTpwOnc=", ("CH-1", "p:w")),
        ("Bearer x", None),
        ("Basic !!!", None),
        ("Basic Q0gtMQ==", None),
        (None, None),
    ],
)
def test_parse_basic_auth(header, expected):
    assert parse_basic_auth(header) == expected


def test_choose_subprotocol_follows_client_order():
    assert choose_subprotocol(["ocpp2.0.1", "ocpp1.6"]) == ("ocpp2.0.1", "2.0.1")
    assert choose_subprotocol(["ocpp1.6", "ocpp2.0.1"]) == ("ocpp1.6", "1.6")
    assert choose_subprotocol(["ocpp2.1"]) is None
