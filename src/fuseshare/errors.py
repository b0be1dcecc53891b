"""Errors a user can act on. Every message says what is wrong and what would be right.

The CLI prints them as one line, the API as a JSON problem, the portal beside
the field named in ``FieldError.field``.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any


class FuseshareError(Exception):
    """Base of every error a user, an installer or a script can fix."""

    http_status = 400
    code = "invalid"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_dict(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message}


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


@dataclass(frozen=True)
class Finding:
    """A commissioning or validation finding: an error blocks, a warning asks for confirmation."""

    severity: str
    code: str
    message: str
    charger: str | None = None
    field: str | None = None
    extra: dict[str, Any] = dc_field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
        }
        if self.charger:
            out["charger"] = self.charger
        if self.field:
            out["field"] = self.field
        return out


class InvalidInput(FuseshareError):
    """One or more fields are wrong; each error names its field."""

    http_status = 422

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))

    @classmethod
    def one(cls, field_name: str, message: str) -> InvalidInput:
        return cls([FieldError(field_name, message)])

    def to_dict(self) -> dict[str, Any]:
        return {
            "error": self.code,
            "message": self.message,
            "fields": [{"field": e.field, "message": e.message} for e in self.errors],
        }


class NotFound(FuseshareError):
    http_status = 404
    code = "not_found"


class Conflict(FuseshareError):
    http_status = 409
    code = "conflict"


class WrongSecret(FuseshareError):
    """A charger password or meter PIN did not match."""

    http_status = 403
    code = "wrong_secret"


class LockedOut(FuseshareError):
    http_status = 429
    code = "locked_out"


class ActivationRefused(FuseshareError):
    """Commissioning found errors; the group stays as it was."""

    http_status = 409
    code = "activation_refused"

    def __init__(self, findings: list[Finding]) -> None:
        self.findings = findings
        errors = [f for f in findings if f.severity == "error"]
        super().__init__(
            "cannot activate: "
            + "; ".join(f.message for f in errors)
            + " — fix these and try again"
        )

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "findings": [f.to_dict() for f in self.findings]}


class ConfirmationNeeded(FuseshareError):
    """Commissioning found warnings only; activation needs an explicit confirmation."""

    http_status = 409
    code = "confirmation_needed"

    def __init__(self, findings: list[Finding]) -> None:
        self.findings = findings
        super().__init__(
            "activation needs confirmation: "
            + "; ".join(f.message for f in findings)
            + " — confirm (--yes / confirm=true) to activate anyway"
        )

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "findings": [f.to_dict() for f in self.findings]}


class Forbidden(FuseshareError):
    http_status = 403
    code = "forbidden"


class StoreUnavailable(FuseshareError):
    """The database cannot be reached or is not migrated."""

    http_status = 503
    code = "store_unavailable"
