"""Secrets (charger passwords, meter PINs, user passwords, API tokens): argon2 hashes only.

A secret is never logged, never put in an audit entry and never returned.
Repeated failures for one device lock it out for a while, so a PIN of eight
digits cannot be guessed by trying.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from fuseshare.errors import LockedOut
from fuseshare.store.tables import CredentialAttempts

# Moderate cost: chargers authenticate on every (re)connect, thousands at once after an outage.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)


def hash_secret(secret: str) -> str:
    return _hasher.hash(secret)


def verify_secret(secret_hash: str, secret: str) -> bool:
    try:
        return _hasher.verify(secret_hash, secret)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _attempts(session: Session, kind: str, serial: str) -> CredentialAttempts:
    row = session.scalar(
        select(CredentialAttempts).where(
            CredentialAttempts.kind == kind, CredentialAttempts.serial == serial
        )
    )
    if row is None:
        row = CredentialAttempts(kind=kind, serial=serial, failures=0)
        session.add(row)
    return row


def check_not_locked(session: Session, kind: str, serial: str, now: datetime, noun: str) -> None:
    row = session.scalar(
        select(CredentialAttempts).where(
            CredentialAttempts.kind == kind, CredentialAttempts.serial == serial
        )
    )
    if row is not None and row.locked_until is not None and row.locked_until > now:
        minutes = max(1, int((row.locked_until - now).total_seconds() // 60) + 1)
        raise LockedOut(
            f"too many wrong {noun}s for {serial}; it is locked until "
            f"{row.locked_until:%H:%M} UTC (about {minutes} min) — check the {noun} and try then"
        )


def record_failure(
    session: Session, kind: str, serial: str, now: datetime, limit: int, lockout_s: int
) -> int:
    """Count a failure; lock the device when the limit is reached. Returns tries left (0 = locked)."""
    row = _attempts(session, kind, serial)
    row.failures += 1
    row.last_failure_at = now
    if row.failures >= limit:
        row.locked_until = now + timedelta(seconds=lockout_s)
        row.failures = 0
        return 0
    return limit - row.failures


def record_success(session: Session, kind: str, serial: str) -> None:
    row = session.scalar(
        select(CredentialAttempts).where(
            CredentialAttempts.kind == kind, CredentialAttempts.serial == serial
        )
    )
    if row is not None:
        row.failures = 0
        row.locked_until = None
