"""Who is acting: the audit log's "who" and the tenancy scope of every operation."""

from __future__ import annotations

import getpass
from dataclasses import dataclass

from fuseshare.errors import Forbidden

WRITE_ROLES = ("platform_admin", "partner_admin", "installer", "operator")


@dataclass(frozen=True)
class Actor:
    """A person or process. ``operator`` is the CLI on the server itself: full access."""

    name: str
    role: str
    partner_id: int | None = None
    organization_id: int | None = None
    user_id: int | None = None

    @classmethod
    def cli(cls) -> Actor:
        try:
            user = getpass.getuser()
        except Exception:
            user = "unknown"
        return cls(name=f"cli:{user}", role="operator")

    @classmethod
    def system(cls, what: str = "system") -> Actor:
        return cls(name=what, role="operator")

    @property
    def sees_everything(self) -> bool:
        return self.role in ("operator", "platform_admin")

    def can_see_org(self, organization_id: int, partner_id: int) -> bool:
        if self.sees_everything:
            return True
        if self.role in ("partner_admin", "installer"):
            return self.partner_id == partner_id
        return self.organization_id == organization_id

    def require_write(self, what: str) -> None:
        if self.role not in WRITE_ROLES:
            raise Forbidden(
                f"{self.name} may look but not {what}; ask your installer or partner to do it"
            )
