"""Partners (installer companies), their users, and API tokens."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select

from fuseshare.errors import Conflict, Forbidden, InvalidInput, NotFound
from fuseshare.store.tables import ROLES, ApiToken, Partner, User
from fuseshare.workflow import audit, credentials, lookup
from fuseshare.workflow.actors import Actor
from fuseshare.workflow.context import Context
from fuseshare.workflow.credentials import hash_secret, verify_secret
from fuseshare.workflow.views import partner_view, user_view

MIN_PASSWORD_LENGTH = 10


class Accounts:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def create_partner(self, actor: Actor, name: str) -> dict[str, Any]:
        if not actor.sees_everything:
            raise Forbidden("only a platform admin can create partners")
        name = name.strip()
        if not name:
            raise InvalidInput.one("name", "a partner name is required, e.g. 'Nordlys Elektro AS'")
        with self._ctx.unit() as s:
            if s.scalar(select(Partner).where(Partner.name == name)):
                raise Conflict(f"a partner called '{name}' exists already; choose another name")
            p = Partner(name=name, created_at=self._ctx.clock())
            s.add(p)
            s.flush()
            audit.record(
                s,
                actor=actor.name,
                at=self._ctx.clock(),
                entity="partner",
                entity_id=p.id,
                action="create",
                organization_id=None,
                before=None,
                after=audit.snapshot(p),
            )
            return partner_view(p)

    def list_partners(self, actor: Actor) -> list[dict[str, Any]]:
        with self._ctx.unit() as s:
            rows = s.scalars(select(Partner).order_by(Partner.name))
            return [
                partner_view(p) for p in rows if actor.sees_everything or actor.partner_id == p.id
            ]

    def create_user(
        self,
        actor: Actor,
        *,
        email: str,
        name: str,
        password: str,
        role: str,
        partner: str | int | None = None,
        organization: str | int | None = None,
    ) -> dict[str, Any]:
        email = email.strip().lower()
        errors = []
        if "@" not in email or "." not in email.split("@")[-1]:
            errors.append(("email", f"'{email}' is not an e-mail address"))
        if role not in ROLES:
            errors.append(("role", "choose one of: " + ", ".join(ROLES)))
        if len(password) < MIN_PASSWORD_LENGTH:
            errors.append(
                ("password", f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
            )
        if role in ("partner_admin", "installer") and partner is None:
            errors.append(("partner", f"a {role} belongs to a partner; give --partner"))
        if role == "org_user" and organization is None:
            errors.append(("organization", "an org_user belongs to an organization; give --org"))
        if errors:
            from fuseshare.errors import FieldError

            raise InvalidInput([FieldError(f, m) for f, m in errors])
        if not actor.sees_everything and actor.role != "partner_admin":
            raise Forbidden(f"{actor.name} may not create users; ask your partner's admin to do it")
        if role == "platform_admin" and not actor.sees_everything:
            raise Forbidden("only a platform admin can create platform admins")
        with self._ctx.unit() as s:
            if s.scalar(select(User).where(User.email == email)):
                raise Conflict(f"a user with e-mail {email} exists already")
            partner_id = lookup.partner(s, partner).id if partner is not None else None
            org_id = None
            if organization is not None:
                org = lookup.organization(s, actor, organization)
                org_id, partner_id = org.id, partner_id or org.partner_id
            if not actor.sees_everything and partner_id != actor.partner_id:
                raise Forbidden("you can only create users of your own partner")
            user = User(
                email=email,
                name=name.strip() or email,
                password_hash=hash_secret(password),
                role=role,
                partner_id=partner_id,
                organization_id=org_id,
                created_at=self._ctx.clock(),
            )
            s.add(user)
            s.flush()
            audit.record(
                s,
                actor=actor.name,
                at=self._ctx.clock(),
                entity="user",
                entity_id=user.id,
                action="create",
                organization_id=org_id,
                before=None,
                after=audit.snapshot(user),
            )
            return user_view(user)

    def list_users(self, actor: Actor) -> list[dict[str, Any]]:
        with self._ctx.unit() as s:
            rows = s.scalars(select(User).order_by(User.email))
            return [
                user_view(u)
                for u in rows
                if actor.sees_everything or u.partner_id == actor.partner_id
            ]

    def authenticate(self, email: str, password: str) -> Actor | None:
        """The actor for a portal login, or None. Same answer for unknown e-mail and wrong password.

        Repeated failures for one e-mail lock it for a while (LockedOut), whether the
        account exists or not, so that passwords cannot be guessed by trying.
        """
        email = email.strip().lower()
        settings = self._ctx.settings
        with self._ctx.unit() as s:
            credentials.check_not_locked(s, "login", email, self._ctx.clock(), "password")
            user = s.scalar(select(User).where(User.email == email))
            if user is None or not user.active:
                # Spend the same time as a real check so e-mails cannot be probed by timing.
                verify_secret(_DUMMY_HASH, password)
                ok = False
            else:
                ok = verify_secret(user.password_hash, password)
            if ok and user is not None:
                credentials.record_success(s, "login", email)
                return actor_for(user)
        with self._ctx.unit() as s:  # counted in its own transaction: it must stick
            credentials.record_failure(
                s,
                "login",
                email,
                self._ctx.clock(),
                settings.lockout_after_failures * 2,
                settings.lockout_s,
            )
        return None

    def create_token(self, actor: Actor, user_email: str, name: str) -> str:
        """A new API token for the user; the plain token is returned once and never kept."""
        with self._ctx.unit() as s:
            user = s.scalar(select(User).where(User.email == user_email.strip().lower()))
            if user is None:
                raise NotFound(f"no user {user_email}")
            if not actor.sees_everything and actor.user_id != user.id:
                raise Forbidden("you can only create tokens for yourself")
            token = "fs_" + secrets.token_urlsafe(32)
            s.add(
                ApiToken(
                    user_id=user.id,
                    name=name or "token",
                    prefix=token[:12],
                    token_hash=hash_secret(token),
                    created_at=self._ctx.clock(),
                )
            )
            return token

    def actor_for_token(self, token: str) -> Actor | None:
        with self._ctx.unit() as s:
            for row in s.scalars(select(ApiToken).where(ApiToken.prefix == token[:12])):
                if verify_secret(row.token_hash, token):
                    row.last_used_at = self._ctx.clock()
                    user = s.get(User, row.user_id)
                    if user is not None and user.active:
                        return actor_for(user)
            return None


def actor_for(user: User) -> Actor:
    return Actor(
        name=user.email,
        role=user.role,
        partner_id=user.partner_id,
        organization_id=user.organization_id,
        user_id=user.id,
    )


_DUMMY_HASH = hash_secret("not-a-real-password")
