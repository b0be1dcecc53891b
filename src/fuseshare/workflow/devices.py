"""The device inventory, and adding chargers and power meters by serial + secret.

"Add charger" and "add power meter" check the serial and the secret (the
charger's password from the box, the meter's 8-digit PIN from its label)
against the inventory of manufactured devices: proof of possession. Wrong
secrets are counted per device and lock it out for a while.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from fuseshare.errors import Conflict, FieldError, InvalidInput, LockedOut, NotFound, WrongSecret
from fuseshare.store.tables import METER_KINDS, Charger, Event, InventoryDevice, PowerMeter
from fuseshare.workflow import audit, credentials, lookup, rules
from fuseshare.workflow.actors import Actor
from fuseshare.workflow.context import Context
from fuseshare.workflow.views import charger_view, meter_view

CSV_COLUMNS = (
    "kind",
    "serial",
    "secret",
    "vendor",
    "model",
    "max_current_a",
    "connectors",
    "meter_kind",
)


@dataclass(frozen=True)
class ImportResult:
    added: int
    updated: int

    def to_dict(self) -> dict[str, int]:
        return {"added": self.added, "updated": self.updated}


@dataclass(frozen=True)
class ChargerAuth:
    """The answer to a charger's HTTP Basic credentials at the OCPP endpoint."""

    outcome: str
    """ok | unknown | wrong_password | locked | waiting_to_be_added"""
    message: str
    organization_id: int | None = None


def parse_inventory_csv(text: str) -> list[dict[str, Any]]:
    """Parse and check the whole file first, so that a bad row imports nothing."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in ("kind", "serial", "secret") if c not in header]
    if missing:
        raise InvalidInput.one(
            "file",
            f"the CSV has no column {', '.join(missing)}; the first line must name the columns: "
            + ",".join(CSV_COLUMNS)
            + " (the last five may be left out)",
        )
    rows: list[dict[str, Any]] = []
    errors: list[FieldError] = []
    seen: set[tuple[str, str]] = set()
    for number, raw in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items()}
        where = f"line {number}"
        kind, serial, secret = (
            row.get("kind", "").lower(),
            row.get("serial", ""),
            row.get("secret", ""),
        )
        if kind not in ("charger", "meter"):
            errors.append(FieldError(where, f"kind '{kind}' must be 'charger' or 'meter'"))
            continue
        errors += [FieldError(where, e.message) for e in rules.check_serial("serial", serial, kind)]
        if kind == "meter":
            errors += [
                FieldError(where, f"{serial}: {e.message}") for e in rules.check_pin_format(secret)
            ]
        elif len(secret) < 6:
            errors.append(
                FieldError(where, f"{serial}: a charger password has at least 6 characters")
            )
        if (kind, serial) in seen:
            errors.append(FieldError(where, f"{kind} {serial} appears twice in the file"))
        seen.add((kind, serial))
        max_a: float | None = None
        if row.get("max_current_a"):
            try:
                max_a = float(row["max_current_a"])
                if not math.isfinite(max_a) or not 6 <= max_a <= 500:
                    raise ValueError
            except ValueError:
                errors.append(
                    FieldError(where, f"{serial}: max_current_a must be 6 to 500 amperes")
                )
        connectors: int | None = None
        if row.get("connectors"):
            try:
                connectors = int(row["connectors"])
                if not 1 <= connectors <= 16:
                    raise ValueError
            except ValueError:
                errors.append(
                    FieldError(where, f"{serial}: connectors must be a whole number 1 to 16")
                )
        meter_kind = row.get("meter_kind") or ("amp_guard" if kind == "meter" else "")
        if kind == "meter" and meter_kind not in METER_KINDS:
            errors.append(
                FieldError(where, f"{serial}: meter_kind must be one of {', '.join(METER_KINDS)}")
            )
        rows.append(
            {
                "kind": kind,
                "serial": serial,
                "secret": secret,
                "vendor": row.get("vendor", ""),
                "model": row.get("model", ""),
                "max_current_a": max_a,
                "connectors": connectors,
                "meter_kind": meter_kind or None,
            }
        )
    if errors:
        raise InvalidInput(errors)
    if not rows:
        raise InvalidInput.one("file", "the CSV has a header but no devices")
    return rows


class Devices:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    # -- inventory -------------------------------------------------------------------------

    def import_inventory(self, actor: Actor, csv_text: str) -> ImportResult:
        if not actor.sees_everything:
            raise NotFound("only the platform can import the device inventory")
        rows = parse_inventory_csv(csv_text)
        hashed = [(r, credentials.hash_secret(r.pop("secret"))) for r in rows]
        added = updated = 0
        with self._ctx.unit() as s:
            for row, secret_hash in hashed:
                existing = s.scalar(
                    select(InventoryDevice).where(
                        InventoryDevice.kind == row["kind"], InventoryDevice.serial == row["serial"]
                    )
                )
                if existing is None:
                    s.add(
                        InventoryDevice(
                            secret_hash=secret_hash, imported_at=self._ctx.clock(), **row
                        )
                    )
                    added += 1
                else:
                    for key, value in row.items():
                        setattr(existing, key, value)
                    existing.secret_hash = secret_hash
                    updated += 1
            audit.record(
                s,
                actor=actor.name,
                at=self._ctx.clock(),
                entity="inventory",
                entity_id="csv",
                action="import",
                organization_id=None,
                before=None,
                after={
                    "added": added,
                    "updated": updated,
                    "serials": [r["serial"] for r, _ in hashed][:200],
                },
            )
        return ImportResult(added, updated)

    def list_inventory(self, actor: Actor) -> list[dict[str, Any]]:
        if not actor.sees_everything:
            return []
        with self._ctx.unit() as s:
            rows = s.scalars(
                select(InventoryDevice).order_by(InventoryDevice.kind, InventoryDevice.serial)
            )
            added_chargers = set(s.scalars(select(Charger.serial)))
            added_meters = set(s.scalars(select(PowerMeter.serial)))
            return [
                {
                    "kind": d.kind,
                    "serial": d.serial,
                    "vendor": d.vendor,
                    "model": d.model,
                    "max_current_a": d.max_current_a,
                    "added": d.serial in (added_chargers if d.kind == "charger" else added_meters),
                }
                for d in rows
            ]

    def _check_secret(
        self, s: Any, kind: str, serial: str, secret: str, noun: str
    ) -> tuple[InventoryDevice, bool]:
        """The inventory device and whether the secret matched; raises when unknown or locked."""
        now = self._ctx.clock()
        device = s.scalar(
            select(InventoryDevice).where(
                InventoryDevice.kind == kind, InventoryDevice.serial == serial
            )
        )
        if device is None:
            raise NotFound(
                f"'{serial}' is not a {'charger' if kind == 'charger' else 'power meter'} we know; "
                "check the serial number on the label (letters and digits exactly as printed)"
            )
        credentials.check_not_locked(s, kind, serial, now, noun)
        if not credentials.verify_secret(device.secret_hash, secret):
            return device, False  # the caller records the failure in its own transaction
        credentials.record_success(s, kind, serial)
        return device, True

    def _fail(self, kind: str, serial: str, noun: str, where: str) -> WrongSecret:
        """Count the failure in a transaction of its own, so it sticks although the add fails."""
        settings = self._ctx.settings
        with self._ctx.unit() as s:
            left = credentials.record_failure(
                s,
                kind,
                serial,
                self._ctx.clock(),
                settings.lockout_after_failures,
                settings.lockout_s,
            )
        if left == 0:
            return WrongSecret(
                f"wrong {noun} for {serial}; too many tries, so it is locked for "
                f"{settings.lockout_s // 60} minutes — check the {noun} {where} and try again then"
            )
        return WrongSecret(
            f"wrong {noun} for {serial}; it is {where} ({left} "
            f"{'try' if left == 1 else 'tries'} left before a {settings.lockout_s // 60}-minute lock-out)"
        )

    def _add_device(
        self,
        actor: Actor,
        organization: str | int,
        *,
        table: type[Charger] | type[PowerMeter],
        kind: str,
        serial: str,
        secret: str,
        secret_noun: str,
        where: str,
        build: Callable[[int, InventoryDevice], Charger | PowerMeter],
        view: Callable[[Any], dict[str, Any]],
    ) -> dict[str, Any]:
        """Add a charger or meter: proof of possession against the inventory, then the row
        and its audit entry. A wrong secret is counted in a transaction of its own."""
        noun = "charger" if kind == "charger" else "power meter"
        with self._ctx.unit() as s:
            org = lookup.organization(s, actor, organization)
            existing = cast(
                Charger | PowerMeter | None, s.scalar(select(table).where(table.serial == serial))
            )
            if existing is not None:
                if existing.organization_id == org.id:
                    raise Conflict(f"{noun} {serial} is already added to this organization")
                raise Conflict(
                    f"{noun} {serial} is registered to another organization; it must be removed "
                    "there before it can be added here"
                )
            device, matched = self._check_secret(s, kind, serial, secret, secret_noun)
            if matched:
                row = build(org.id, device)
                s.add(row)
                s.flush()
                audit.record(
                    s,
                    actor=actor.name,
                    at=self._ctx.clock(),
                    entity="charger" if kind == "charger" else "power_meter",
                    entity_id=serial,
                    action="add",
                    organization_id=org.id,
                    before=None,
                    after=audit.snapshot(row),
                )
                return view(row)
        raise self._fail(kind, serial, secret_noun, where)

    # -- chargers ---------------------------------------------------------------------------

    def add_charger(
        self, actor: Actor, *, organization: str | int, serial: str, password: str
    ) -> dict[str, Any]:
        actor.require_write("add chargers")
        serial = serial.strip()
        errors = rules.check_serial("serial", serial, "charger")
        if not password:
            errors.append(
                FieldError("password", "give the charger's password from the card in its box")
            )
        if errors:
            raise InvalidInput(errors)
        return self._add_device(
            actor,
            organization,
            table=Charger,
            kind="charger",
            serial=serial,
            secret=password,
            secret_noun="password",
            where="on the card in the charger's box",
            build=lambda org_id, device: Charger(
                serial=serial,
                organization_id=org_id,
                password_hash=device.secret_hash,
                vendor=device.vendor,
                model=device.model,
                connectors=device.connectors or 1,
                max_current_a=device.max_current_a or 32.0,
                created_at=self._ctx.clock(),
            ),
            view=charger_view,
        )

    def remove_charger(self, actor: Actor, serial: str) -> None:
        actor.require_write("remove chargers")
        from fuseshare.store.tables import Membership

        with self._ctx.unit() as s:
            charger = lookup.charger(s, actor, serial)
            groups = [
                m.group.name
                for m in s.scalars(select(Membership).where(Membership.charger_id == charger.id))
            ]
            if groups:
                raise Conflict(
                    f"charger {serial} is in group(s) {', '.join(groups)}; remove it from them first"
                )
            before = audit.snapshot(charger)
            s.delete(charger)
            audit.record(
                s,
                actor=actor.name,
                at=self._ctx.clock(),
                entity="charger",
                entity_id=serial,
                action="remove",
                organization_id=before["organization_id"],
                before=before,
                after=None,
            )

    def list_chargers(
        self, actor: Actor, organization: str | int | None = None
    ) -> list[dict[str, Any]]:
        return self._list_devices(actor, Charger, charger_view, organization)

    def show_charger(self, actor: Actor, serial: str) -> dict[str, Any]:
        with self._ctx.unit() as s:
            return charger_view(lookup.charger(s, actor, serial))

    def waiting_to_be_added(
        self, actor: Actor, within_s: float = 24 * 3600
    ) -> list[dict[str, Any]]:
        """Known chargers that tried to connect in the last ``within_s`` but are not added yet.

        For the people who add chargers: seeing a charger knock helps to find a
        mistyped serial. Site owners (read-only) get an empty list.
        """
        if actor.role not in ("operator", "platform_admin", "partner_admin", "installer"):
            return []
        since = self._ctx.clock() - timedelta(seconds=within_s)
        with self._ctx.unit() as s:
            rows = s.execute(
                select(Event.subject, func.max(Event.at))
                .where(Event.kind == "charger_waiting_to_be_added", Event.at >= since)
                .group_by(Event.subject)
            ).all()
            added = set(
                s.scalars(select(Charger.serial).where(Charger.serial.in_([r[0] for r in rows])))
            )
            out = []
            for serial, last_at in sorted(rows, key=lambda r: r[1], reverse=True):
                if serial in added:
                    continue
                device = s.scalar(
                    select(InventoryDevice).where(
                        InventoryDevice.kind == "charger", InventoryDevice.serial == serial
                    )
                )
                out.append(
                    {
                        "serial": serial,
                        "vendor": device.vendor if device else "",
                        "model": device.model if device else "",
                        "last_attempt_at": last_at.isoformat(),
                    }
                )
            return out

    def authenticate_charger(self, serial: str, password: str) -> ChargerAuth:
        """Check a charger's OCPP credentials (HTTP Basic). Never logs the password."""
        settings = self._ctx.settings
        with self._ctx.unit() as s:
            charger = s.scalar(select(Charger).where(Charger.serial == serial))
            now = self._ctx.clock()
            if charger is None:
                device = s.scalar(
                    select(InventoryDevice).where(
                        InventoryDevice.kind == "charger", InventoryDevice.serial == serial
                    )
                )
                if device is not None:
                    return ChargerAuth(
                        "waiting_to_be_added",
                        f"{serial} is a known charger but has not been added to an organization yet",
                    )
                return ChargerAuth("unknown", f"{serial} is not a charger we know")
            try:
                credentials.check_not_locked(s, "ocpp", serial, now, "password")
            except LockedOut as exc:
                return ChargerAuth("locked", str(exc), charger.organization_id)
            if credentials.verify_secret(charger.password_hash, password):
                credentials.record_success(s, "ocpp", serial)
                return ChargerAuth("ok", "", charger.organization_id)
            credentials.record_failure(
                s, "ocpp", serial, now, settings.lockout_after_failures * 4, settings.lockout_s
            )
            return ChargerAuth(
                "wrong_password",
                f"{serial} tried to connect with a wrong password",
                charger.organization_id,
            )

    # -- meters -----------------------------------------------------------------------------

    def add_meter(
        self,
        actor: Actor,
        *,
        organization: str | int,
        serial: str,
        pin: str,
        kind: str | None = None,
        connection: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        actor.require_write("add power meters")
        serial = serial.strip()
        pin = pin.strip()
        errors = rules.check_serial("serial", serial, "power meter") + rules.check_pin_format(pin)
        if kind is not None:
            errors += rules.check_meter_kind(kind)
        if errors:
            raise InvalidInput(errors)
        return self._add_device(
            actor,
            organization,
            table=PowerMeter,
            kind="meter",
            serial=serial,
            secret=pin,
            secret_noun="PIN",
            where="the 8 digits on the label underneath the meter",
            build=lambda org_id, device: PowerMeter(
                serial=serial,
                organization_id=org_id,
                pin_hash=device.secret_hash,
                kind=kind or device.meter_kind or "amp_guard",
                connection=connection or {},
                created_at=self._ctx.clock(),
            ),
            view=meter_view,
        )

    def list_meters(
        self, actor: Actor, organization: str | int | None = None
    ) -> list[dict[str, Any]]:
        return self._list_devices(actor, PowerMeter, meter_view, organization)

    def _list_devices(
        self,
        actor: Actor,
        table: type[Charger] | type[PowerMeter],
        view: Callable[[Any], dict[str, Any]],
        organization: str | int | None,
    ) -> list[dict[str, Any]]:
        """Chargers or meters the actor may see, with their organizations in the same
        query (the tenancy check reads each row's partner)."""
        with self._ctx.unit() as s:
            query = select(table).options(joinedload(table.organization)).order_by(table.serial)
            if organization is not None:
                org = lookup.organization(s, actor, organization)
                query = query.where(table.organization_id == org.id)
            rows = cast(list[Charger | PowerMeter], list(s.scalars(query)))
            return [
                view(d)
                for d in rows
                if actor.can_see_org(d.organization_id, d.organization.partner_id)
            ]

    def show_meter(self, actor: Actor, serial: str) -> dict[str, Any]:
        with self._ctx.unit() as s:
            return meter_view(lookup.meter(s, actor, serial))

    def authenticate_meter(self, serial: str, pin: str) -> str:
        """Devices pushing readings over HTTP: serial + PIN, with the same lock-out.

        Returns ok | bad_secret | locked_out | unknown_meter.
        """
        settings = self._ctx.settings
        with self._ctx.unit() as s:
            meter = s.scalar(select(PowerMeter).where(PowerMeter.serial == serial))
            if meter is None:
                return "unknown_meter"
            now = self._ctx.clock()
            try:
                credentials.check_not_locked(s, "meter-push", serial, now, "PIN")
            except LockedOut:
                return "locked_out"
            if credentials.verify_secret(meter.pin_hash, pin):
                credentials.record_success(s, "meter-push", serial)
                return "ok"
            left = credentials.record_failure(
                s, "meter-push", serial, now, settings.lockout_after_failures, settings.lockout_s
            )
            return "locked_out" if left == 0 else "bad_secret"
