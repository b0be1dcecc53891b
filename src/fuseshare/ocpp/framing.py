"""OCPP-J frames: parsing untrusted input, the CALLERROR each version prescribes,
timestamps on the wire.

The ``ocpp`` library logs and drops what it cannot parse; OCPP 2.0.1 (part 4,
§4.2.3) wants a CALLERROR with ``RpcFrameworkError`` and message id ``"-1"``
when the id cannot be read, and ``MessageTypeNotSupported`` for an unknown
message type. OCPP 1.6J prescribes nothing there; we answer with its closest
codes (``FormationViolation``, ``GenericError``). Responses (CALLRESULT /
CALLERROR) are never answered, whatever is wrong with them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeAlias

from ocpp.messages import Call, CallError, CallResult

from fuseshare.ocpp.ports import OcppVersion

UNKNOWN_MESSAGE_ID = "-1"

_V16_CODES = {
    "FormatViolation": "FormationViolation",
    "OccurrenceConstraintViolation": "OccurenceConstraintViolation",
    "RpcFrameworkError": "FormationViolation",
    "MessageTypeNotSupported": "GenericError",
}
_V201_CODES = {
    "FormationViolation": "FormatViolation",
    "OccurenceConstraintViolation": "OccurrenceConstraintViolation",
}


def error_code_for(version: OcppVersion, code: str) -> str:
    """The spelling of an error code that ``version`` defines."""
    table = _V16_CODES if version == "1.6" else _V201_CODES
    return table.get(code, code)


@dataclass(frozen=True, slots=True)
class BadFrame:
    """A frame that is not usable OCPP-J."""

    unique_id: str
    error_code: str
    description: str
    respond: bool
    """False for broken responses: a CALLRESULT/CALLERROR is never answered."""

    def call_error(self, version: OcppVersion) -> str:
        return str(
            CallError(
                self.unique_id, error_code_for(version, self.error_code), self.description, {}
            ).to_json()
        )


Frame: TypeAlias = "Call | CallResult | CallError | BadFrame"

_ID_PREFIX = re.compile(r'^\s*\[\s*([234])\s*,\s*"([^"\\]{1,36})"')


def peek_call_id(raw: str) -> str | None:
    """The message id of a CALL read from the first bytes only (for frames too
    large to parse)."""
    match = _ID_PREFIX.match(raw[:64])
    if match is None or match.group(1) != "2":
        return None
    return match.group(2)


def parse_frame(raw: str | bytes) -> Frame:
    """Parse one WebSocket message into a Call, CallResult, CallError or BadFrame."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        msg = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return BadFrame(UNKNOWN_MESSAGE_ID, "RpcFrameworkError", "Message is not valid JSON", True)
    if not isinstance(msg, list) or not msg:
        return BadFrame(UNKNOWN_MESSAGE_ID, "RpcFrameworkError", "Message must be an array", True)
    type_id = msg[0]
    if type(type_id) is not int:
        return BadFrame(
            UNKNOWN_MESSAGE_ID, "RpcFrameworkError", "Message type must be a number", True
        )
    unique_id = msg[1] if len(msg) > 1 else None
    if type_id not in (2, 3, 4):
        uid = unique_id if isinstance(unique_id, str) else UNKNOWN_MESSAGE_ID
        return BadFrame(uid, "MessageTypeNotSupported", f"Unknown message type {type_id}", True)
    if not isinstance(unique_id, str) or not 0 < len(unique_id) <= 36:
        return BadFrame(
            UNKNOWN_MESSAGE_ID,
            "RpcFrameworkError",
            "Message id must be a string of 1 to 36 characters",
            type_id == 2,
        )
    if type_id == 2:
        if len(msg) != 4 or not isinstance(msg[2], str) or not isinstance(msg[3], dict):
            return BadFrame(
                unique_id,
                "FormatViolation",
                "A CALL is [2, id, action, {payload}]",
                True,
            )
        return Call(unique_id, msg[2], msg[3])
    if type_id == 3:
        if len(msg) != 3 or not isinstance(msg[2], dict):
            return BadFrame(unique_id, "FormatViolation", "Malformed CALLRESULT", False)
        return CallResult(unique_id, msg[2])
    if len(msg) not in (4, 5) or not isinstance(msg[2], str):
        return BadFrame(unique_id, "FormatViolation", "Malformed CALLERROR", False)
    details = msg[4] if len(msg) == 5 else {}
    return CallError(unique_id, msg[2], str(msg[3]), details)


def format_ts(at: datetime) -> str:
    """ISO 8601 UTC with a Z, as both OCPP versions expect."""
    if at.tzinfo is None:
        raise ValueError("timestamps on the wire must be timezone-aware")
    at = at.astimezone(UTC)
    if at.microsecond:
        return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_ts(text: str) -> datetime:
    """Parse an OCPP timestamp; naive ones are taken as UTC."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
