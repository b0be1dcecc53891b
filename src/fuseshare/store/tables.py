"""The domain schema: one set of SQLAlchemy 2 tables for SQLite and PostgreSQL.

Enumerated values are kept as short strings (see the ``*_VALUES`` tuples) so
that both databases hold the same schema and a new value needs no migration
of a native enum type. Times are timezone-aware UTC on the way out, whatever
the database keeps.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

SITE_TYPES = ("private_home", "housing_association", "company")
ROLES = ("platform_admin", "partner_admin", "installer", "org_user")
DEVICE_KINDS = ("charger", "meter")
METER_KINDS = ("amp_guard", "modbus_tcp", "http_push")
GROUP_STATES = ("draft", "active", "inactive")
CONNECTION_STATES = ("never_connected", "online", "offline")
AUTHORIZE_MODES = ("accept_all", "tag_list")


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC and always read back timezone-aware.

    SQLite keeps no zone; PostgreSQL's timestamptz does. Naive values going in
    are refused, because a naive time is a bug waiting for a daylight-saving night.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; pass a timezone-aware UTC time")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
    }


class Partner(Base):
    """An installer company."""

    __tablename__ = "partners"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    organizations: Mapped[list[Organization]] = relationship(back_populates="partner")


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id"))
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiToken(Base):
    """A token for the REST API; only its hash is kept."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    token_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]


class Organization(Base):
    """A site where chargers are installed, with the customer's details."""

    __tablename__ = "organizations"
    __table_args__ = (UniqueConstraint("partner_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"))
    name: Mapped[str] = mapped_column(String(200))
    site_type: Mapped[str] = mapped_column(String(32))
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    contact_email: Mapped[str] = mapped_column(String(320), default="")
    contact_phone: Mapped[str] = mapped_column(String(64), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    postal_code: Mapped[str] = mapped_column(String(32), default="")
    city: Mapped[str] = mapped_column(String(120), default="")
    country: Mapped[str] = mapped_column(String(2), default="")
    authorize_mode: Mapped[str] = mapped_column(String(16), default="accept_all")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    partner: Mapped[Partner] = relationship(back_populates="organizations")


class IdTag(Base):
    """An RFID/app tag allowed to charge when the organization authorizes by list."""

    __tablename__ = "id_tags"
    __table_args__ = (UniqueConstraint("organization_id", "tag"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    tag: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(200), default="")


class InventoryDevice(Base):
    """A manufactured charger or meter: serial and the secret printed in the box or on the label."""

    __tablename__ = "inventory_devices"
    __table_args__ = (UniqueConstraint("kind", "serial"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    serial: Mapped[str] = mapped_column(String(64))
    secret_hash: Mapped[str] = mapped_column(String(200))
    vendor: Mapped[str] = mapped_column(String(120), default="")
    model: Mapped[str] = mapped_column(String(120), default="")
    max_current_a: Mapped[float | None] = mapped_column(Float)
    connectors: Mapped[int | None] = mapped_column(Integer)
    meter_kind: Mapped[str | None] = mapped_column(String(16))
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)


class CredentialAttempts(Base):
    """Failed secret checks per device, for the lock-out after repeated failures."""

    __tablename__ = "credential_attempts"
    __table_args__ = (UniqueConstraint("kind", "serial"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    serial: Mapped[str] = mapped_column(String(64))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime | None]
    locked_until: Mapped[datetime | None]


class Charger(Base):
    __tablename__ = "chargers"
    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[str] = mapped_column(String(64), unique=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    password_hash: Mapped[str] = mapped_column(String(200))
    vendor: Mapped[str] = mapped_column(String(120), default="")
    model: Mapped[str] = mapped_column(String(120), default="")
    connectors: Mapped[int] = mapped_column(Integer, default=1)
    max_current_a: Mapped[float] = mapped_column(Float, default=32.0)
    firmware: Mapped[str] = mapped_column(String(120), default="")
    ocpp_version: Mapped[str] = mapped_column(String(16), default="")
    capabilities: Mapped[dict[str, Any]] = mapped_column(default=dict)
    connection_state: Mapped[str] = mapped_column(String(16), default="never_connected")
    last_seen_at: Mapped[datetime | None]
    held_by: Mapped[str] = mapped_column(String(120), default="")
    controllable: Mapped[bool] = mapped_column(Boolean, default=True)
    not_controllable_reason: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    organization: Mapped[Organization] = relationship()


class ConnectorState(Base):
    """The last StatusNotification per connector."""

    __tablename__ = "connector_states"
    __table_args__ = (UniqueConstraint("charger_id", "connector_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    charger_id: Mapped[int] = mapped_column(ForeignKey("chargers.id", ondelete="CASCADE"))
    connector_id: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(32))
    error_code: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChargingSession(Base):
    """A car charging: OCPP 1.6 transaction or 2.0.1 TransactionEvent sequence."""

    __tablename__ = "charging_sessions"
    __table_args__ = (UniqueConstraint("charger_id", "transaction_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    charger_id: Mapped[int] = mapped_column(ForeignKey("chargers.id", ondelete="CASCADE"))
    connector_id: Mapped[int] = mapped_column(Integer, default=1)
    transaction_id: Mapped[str] = mapped_column(String(64))
    id_tag: Mapped[str] = mapped_column(String(64), default="")
    started_at: Mapped[datetime]
    stopped_at: Mapped[datetime | None]
    meter_start_wh: Mapped[float] = mapped_column(Float, default=0.0)
    meter_stop_wh: Mapped[float | None] = mapped_column(Float)
    energy_kwh: Mapped[float] = mapped_column(Float, default=0.0)
    stop_reason: Mapped[str] = mapped_column(String(64), default="")
    # What the car said it needs (OCPP 2.0.1 NotifyEVChargingNeeds), kept so that a
    # restarted server still shares by it.
    energy_wanted_kwh: Mapped[float | None] = mapped_column(Float)
    departure_at: Mapped[datetime | None]
    ev_max_current_a: Mapped[float | None] = mapped_column(Float)


class PowerMeter(Base):
    __tablename__ = "power_meters"
    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[str] = mapped_column(String(64), unique=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    pin_hash: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16), default="amp_guard")
    connection: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """Kind-specific settings: Modbus host, port, unit_id, model, interval_s; MQTT topic."""
    state: Mapped[str] = mapped_column(String(16), default="never_connected")
    last_reading: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    last_reading_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    organization: Mapped[Organization] = relationship()


class LoadBalancingGroup(Base):
    """Every field of the workflow's load balancing group; see DOMAIN.md."""

    __tablename__ = "lb_groups"
    __table_args__ = (UniqueConstraint("organization_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    meter_id: Mapped[int | None] = mapped_column(ForeignKey("power_meters.id"))
    algorithm: Mapped[str] = mapped_column(String(64), default="standard")
    algorithm_version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    outlet_active: Mapped[bool] = mapped_column(Boolean, default=True)
    grid: Mapped[str] = mapped_column(String(16))
    max_current_offline_a: Mapped[float] = mapped_column(Float)
    max_current_online_a: Mapped[float] = mapped_column(Float)
    min_current_a: Mapped[float] = mapped_column(Float)
    max_supply_current_a: Mapped[float] = mapped_column(Float)
    margin_a: Mapped[float] = mapped_column(Float, default=1.0)
    state: Mapped[str] = mapped_column(String(16), default="draft")
    activated_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    organization: Mapped[Organization] = relationship()
    meter: Mapped[PowerMeter | None] = relationship()
    memberships: Mapped[list[Membership]] = relationship(
        back_populates="group", cascade="all, delete-orphan", order_by="Membership.id"
    )


class BuildingPeakRow(Base):
    """Per group, the most the rest of the building has drawn
    (:class:`fuseshare.balancing.building_peak.BuildingPeak`, kept across restarts)."""

    __tablename__ = "building_peaks"
    group_id: Mapped[int] = mapped_column(
        ForeignKey("lb_groups.id", ondelete="CASCADE"), primary_key=True
    )
    data: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SharingMemoryRow(Base):
    """Per group, what each running session has had so far: the algorithm's fairness
    memory (:meth:`fuseshare.balancing.state.AlgorithmState.carried_over`), so that a
    restart does not hand the next turns to whoever had most."""

    __tablename__ = "sharing_memory"
    group_id: Mapped[int] = mapped_column(
        ForeignKey("lb_groups.id", ondelete="CASCADE"), primary_key=True
    )
    data: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Membership(Base):
    """A charger in a group: its phase wiring (rotation), failsafe current and priority."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("group_id", "charger_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("lb_groups.id", ondelete="CASCADE"))
    charger_id: Mapped[int] = mapped_column(ForeignKey("chargers.id"))
    phases: Mapped[str] = mapped_column(String(16))
    """Grid lines behind the charger's L1, L2, L3, e.g. "L2,L3,L1"."""
    failsafe_current_a: Mapped[float] = mapped_column(Float)
    priority: Mapped[int] = mapped_column(Integer, default=1)
    max_current_a: Mapped[float | None] = mapped_column(Float)
    """Optional cap for this charger in this group (its sub-circuit), below the charger's own."""
    group: Mapped[LoadBalancingGroup] = relationship(back_populates="memberships")
    charger: Mapped[Charger] = relationship()


class AuditEntry(Base):
    """One configuration change: who, what, before, after, when."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(320))
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL"), index=True
    )
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Event(Base):
    """Something an installer or owner should see: a meter went silent, a wrong password, …"""

    __tablename__ = "events"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    group_id: Mapped[int | None] = mapped_column(ForeignKey("lb_groups.id", ondelete="CASCADE"))
    severity: Mapped[str] = mapped_column(String(16), default="info")
    kind: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(120), default="")
    message: Mapped[str] = mapped_column(Text)


class MeterReadingRow(Base):
    """History of meter readings: per second for 48 h, per minute (averages) for a year."""

    __tablename__ = "meter_readings"
    __table_args__ = (Index("ix_meter_readings_meter_res_at", "meter_id", "resolution_s", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    meter_id: Mapped[int] = mapped_column(ForeignKey("power_meters.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    resolution_s: Mapped[int] = mapped_column(Integer, default=1)
    current_l1_a: Mapped[float] = mapped_column(Float)
    current_l2_a: Mapped[float | None] = mapped_column(Float)
    current_l3_a: Mapped[float | None] = mapped_column(Float)
    voltage_l1_v: Mapped[float | None] = mapped_column(Float)
    voltage_l2_v: Mapped[float | None] = mapped_column(Float)
    voltage_l3_v: Mapped[float | None] = mapped_column(Float)
    power_w: Mapped[float | None] = mapped_column(Float)
    energy_kwh: Mapped[float | None] = mapped_column(Float)


class SetpointRow(Base):
    """History of what was allocated and sent to each charger, with the reason."""

    __tablename__ = "setpoints"
    __table_args__ = (Index("ix_setpoints_group_res_at", "group_id", "resolution_s", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("lb_groups.id", ondelete="CASCADE"))
    charger_id: Mapped[int] = mapped_column(ForeignKey("chargers.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    resolution_s: Mapped[int] = mapped_column(Integer, default=1)
    current_a: Mapped[float] = mapped_column(Float)
    actual_a: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(String(200), default="")
