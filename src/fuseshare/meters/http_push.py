"""HTTP push: any device or script posts readings; and the meter status API.

``POST /api/meters/{serial}/readings`` with the Amp Guard JSON payload
(docs/amp-guard.md). Authentication: HTTP Basic with the meter's serial as user
name and its PIN as password, or ``Authorization: Bearer <token>``; both are
checked through :class:`~fuseshare.meters.ports.MeterCredentials` (the store
hashes, counts wrong PINs and locks out).

Answers: 202 accepted; 400 unreadable payload; 401 missing/wrong credentials;
403 credentials for another serial; 413 payload too large; 422 implausible
reading (with the reasons); 429 locked out after too many wrong PINs.

``GET /api/meters/{serial}`` returns the meter's status (online state, age of
the latest reading, the reading, counters); protect it with the portal's own
dependencies.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from fuseshare.meters.amp_guard import MAX_PAYLOAD_BYTES, SERIAL_PATTERN, parse_payload
from fuseshare.meters.hub import MeterHub
from fuseshare.meters.ports import AuthResult, Clock, MeterCredentials, ReadingSink
from fuseshare.meters.reading import Rejection

_CHALLENGE = {"WWW-Authenticate": 'Basic realm="fuseshare meter", charset="UTF-8"'}


def _error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"accepted": False, "error": code, "detail": message}, status_code=status, headers=headers
    )


def _credentials_from(header: str | None, serial: str) -> tuple[str, str] | JSONResponse:
    """(serial, secret) from the Authorization header, or the error response."""
    if not header:
        return _error(
            401, "unauthorized", "send HTTP Basic auth: the meter's serial and its PIN", _CHALLENGE
        )
    scheme, _, value = header.partition(" ")
    scheme = scheme.lower()
    value = value.strip()
    if scheme == "bearer" and value:
        return serial, value
    if scheme == "basic" and value:
        try:
            user, sep, secret = (
                base64.b64decode(value, validate=True).decode("utf-8").partition(":")
            )
        except (binascii.Error, UnicodeDecodeError):
            return _error(401, "unauthorized", "malformed Basic credentials", _CHALLENGE)
        if not sep:
            return _error(401, "unauthorized", "malformed Basic credentials", _CHALLENGE)
        if user != serial:
            return _error(403, "forbidden", f"these credentials are for meter {user}, not {serial}")
        return serial, secret
    return _error(401, "unauthorized", "use Basic (serial + PIN) or Bearer auth", _CHALLENGE)


def make_push_router(
    sink: ReadingSink,
    credentials: MeterCredentials,
    *,
    clock: Clock,
    prefix: str = "/api/meters",
) -> APIRouter:
    """The ``POST {prefix}/{serial}/readings`` endpoint, feeding ``sink``."""
    router = APIRouter(prefix=prefix, tags=["meters"])

    @router.post("/{serial}/readings", status_code=202, response_model=None)
    async def push_reading(serial: str, request: Request) -> JSONResponse | dict[str, Any]:
        if not SERIAL_PATTERN.match(serial):
            return _error(404, "unknown_meter", "not a meter serial")
        creds = _credentials_from(request.headers.get("authorization"), serial)
        if isinstance(creds, JSONResponse):
            return creds
        # The store's check may hit the database (sync SQLAlchemy): keep it off the loop.
        result = await run_in_threadpool(credentials.authenticate, creds[0], creds[1])
        if result is AuthResult.LOCKED_OUT:
            return _error(
                429, "locked_out", "too many wrong PINs; this meter is locked out for a while"
            )
        if result is not AuthResult.OK:
            return _error(401, "unauthorized", "wrong serial or PIN", _CHALLENGE)
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > MAX_PAYLOAD_BYTES:
            return _error(413, "too_large", f"a reading is at most {MAX_PAYLOAD_BYTES} bytes")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_PAYLOAD_BYTES:
                return _error(413, "too_large", f"a reading is at most {MAX_PAYLOAD_BYTES} bytes")
        parsed = parse_payload(serial, bytes(body), received_at_s=clock(), source="http")
        if isinstance(parsed, Rejection):
            sink.reject(serial, parsed, source="http")
            return _error(400, parsed.code, parsed.message)
        verdict = sink.submit(parsed)
        findings = [
            {"code": f.code, "severity": f.severity, "message": f.message} for f in verdict.findings
        ]
        if not verdict.accepted:
            return JSONResponse(
                {
                    "accepted": False,
                    "error": "implausible",
                    "detail": verdict.reason,
                    "findings": findings,
                },
                status_code=422,
            )
        return {"accepted": True, "findings": findings}

    return router


def make_status_router(
    hub: MeterHub,
    *,
    prefix: str = "/api/meters",
    dependencies: Sequence[Any] = (),
) -> APIRouter:
    """``GET {prefix}/{serial}``: the status ``fuseshare meters show --json`` prints.

    ``dependencies``: the portal's auth dependencies (e.g. ``[Depends(require_user)]``).
    """
    router = APIRouter(
        prefix=prefix,
        tags=["meters"],
        dependencies=[d if hasattr(d, "dependency") else Depends(d) for d in dependencies],
    )

    @router.get("/{serial}")
    async def meter_status(serial: str) -> dict[str, Any]:
        status = hub.status(serial)
        if status is None:
            raise HTTPException(404, f"meter {serial} is not registered")
        return status.to_json_dict()

    return router
