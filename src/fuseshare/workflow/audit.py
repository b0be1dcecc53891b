"""The audit log: every configuration change with who, what, before, after and when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from fuseshare.store.tables import AuditEntry

# Never put these in the log: they are secrets, even hashed.
_SECRET_COLUMNS = {"password_hash", "pin_hash", "secret_hash", "token_hash"}


def snapshot(obj: Any) -> dict[str, Any]:
    """The row's columns as JSON-friendly values, without secrets."""
    out: dict[str, Any] = {}
    for column in obj.__table__.columns:
        if column.key in _SECRET_COLUMNS:
            continue
        value = getattr(obj, column.key)
        if isinstance(value, datetime):
            value = value.isoformat()
        out[column.key] = value
    return out


def record(
    session: Session,
    *,
    actor: str,
    at: datetime,
    entity: str,
    entity_id: object,
    action: str,
    organization_id: int | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    if before is not None and after is not None:
        # Keep only what changed (and the identity) so the log says what happened.
        changed = {k for k in after if before.get(k) != after.get(k)}
        if not changed:
            return
        before = {k: before.get(k) for k in sorted(changed)}
        after = {k: after[k] for k in sorted(changed)}
    session.add(
        AuditEntry(
            at=at,
            actor=actor,
            organization_id=organization_id,
            entity=entity,
            entity_id=str(entity_id),
            action=action,
            before=before,
            after=after,
        )
    )
