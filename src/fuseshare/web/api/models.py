"""Request and response bodies of the REST API, as they appear in the OpenAPI document.

Responses mirror the workflow's views (fuseshare.workflow.views); requests
carry what the workflow operations take. Validation of values is the
workflow's: these models only fix the JSON types.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SiteType = Literal["private_home", "housing_association", "company"]
GridName = Literal["TN_400_3P", "IT_230_3P", "TN_230_1P"]
Role = Literal["platform_admin", "partner_admin", "installer", "org_user"]
MeterKind = Literal["amp_guard", "modbus_tcp", "http_push"]
AuthorizeMode = Literal["accept_all", "tag_list"]

Amperes = Field(allow_inf_nan=False)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- errors ------------------------------------------------------------------------------


class FieldProblem(BaseModel):
    field: str
    message: str


class FindingOut(BaseModel):
    severity: Literal["error", "warning"]
    code: str
    message: str
    charger: str | None = None
    field: str | None = None


class Problem(BaseModel):
    """Every error: a code, a message that says what to do, and per-field details."""

    error: str
    message: str
    fields: list[FieldProblem] | None = None
    findings: list[FindingOut] | None = None


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    descriptions = {
        400: "The request cannot be carried out as it is",
        401: "Not logged in: send a bearer token",
        403: "Not allowed for this user (read-only), a wrong device secret, or CSRF",
        404: "No such thing, or not visible to this user",
        409: "Conflicts with what exists (duplicate, active group, commissioning findings)",
        422: "A field is wrong; each error names its field",
        429: "Locked out after too many wrong device secrets",
    }
    return {s: {"model": Problem, "description": descriptions[s]} for s in statuses}


READ = problems(401, 404, 422)
WRITE = problems(400, 401, 403, 404, 409, 422)


# -- accounts ----------------------------------------------------------------------------


class TokenRequest(Strict):
    email: str = Field(max_length=320)
    password: str = Field(max_length=500)
    name: str = Field(default="api", max_length=200)


class TokenOut(BaseModel):
    token: str
    actor: str
    role: str


class Me(BaseModel):
    name: str
    role: str
    partner_id: int | None
    organization_id: int | None


class PartnerIn(Strict):
    name: str = Field(max_length=200)


class PartnerOut(BaseModel):
    id: int
    name: str
    created_at: str | None


class UserIn(Strict):
    email: str = Field(max_length=320)
    name: str = Field(default="", max_length=200)
    password: str = Field(max_length=500)
    role: Role
    partner_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    organization_id: int | None = Field(default=None, ge=1, le=2**31 - 1)


class UserOut(BaseModel):
    id: int
    email: str
    name: str
    role: str
    partner_id: int | None
    organization_id: int | None
    active: bool


# -- organizations -----------------------------------------------------------------------


class OrganizationFields(Strict):
    contact_name: str | None = Field(default=None, max_length=200)
    contact_email: str | None = Field(default=None, max_length=320)
    contact_phone: str | None = Field(default=None, max_length=64)
    address: str | None = Field(default=None, max_length=300)
    postal_code: str | None = Field(default=None, max_length=32)
    city: str | None = Field(default=None, max_length=120)
    country: str | None = Field(default=None, max_length=2)
    authorize_mode: AuthorizeMode | None = None


class OrganizationIn(OrganizationFields):
    name: str = Field(max_length=200)
    site_type: SiteType = "private_home"
    partner_id: int | None = Field(
        default=None, ge=1, le=2**31 - 1, description="Platform admins only: whose customer"
    )


class OrganizationPatch(OrganizationFields):
    name: str | None = Field(default=None, max_length=200)
    site_type: SiteType | None = None


class OrganizationOut(BaseModel):
    id: int
    partner_id: int
    partner: str
    name: str
    site_type: str
    contact_name: str
    contact_email: str
    contact_phone: str
    address: str
    postal_code: str
    city: str
    country: str
    authorize_mode: str
    created_at: str | None


class SetupStep(BaseModel):
    step: str
    title: str
    done: bool


class SetupProgress(BaseModel):
    """How far the installation of a site has come; the wizard resumes at ``next_step``."""

    organization_id: int
    next_step: str
    group_id: int | None
    steps: list[SetupStep]


# -- devices -----------------------------------------------------------------------------


class ChargerIn(Strict):
    serial: str = Field(max_length=64)
    password: str = Field(max_length=200, description="The password on the card in the box")


class ConnectorOut(BaseModel):
    connector_id: int
    status: str
    error_code: str


class ChargerOut(BaseModel):
    id: int
    serial: str
    organization_id: int
    vendor: str
    model: str
    connectors: int
    max_current_a: float
    firmware: str
    ocpp_version: str
    connection_state: str
    last_seen_at: str | None
    controllable: bool
    not_controllable_reason: str
    connector_states: list[ConnectorOut] = []
    current_a: list[float] | None = Field(
        default=None, description="Per-phase current the charger draws now, when it is balanced"
    )


class MeterIn(Strict):
    serial: str = Field(max_length=64)
    pin: str = Field(max_length=32, description="The 8 digits on the label underneath the meter")
    kind: MeterKind | None = None


class MeterOut(BaseModel):
    id: int
    serial: str
    organization_id: int
    kind: str
    connection: dict[str, Any]
    state: str
    last_reading: dict[str, Any] | None
    last_reading_at: str | None


class InventoryIn(Strict):
    csv: str = Field(
        max_length=2_000_000,
        description="kind,serial,secret[,vendor,model,max_current_a,connectors,meter_kind]",
    )


class InventoryResult(BaseModel):
    added: int
    updated: int


# -- groups ------------------------------------------------------------------------------


class GroupIn(Strict):
    name: str = Field(max_length=200)
    description: str = Field(max_length=5000)
    grid: GridName = "TN_400_3P"
    outlet_active: bool = True
    max_current_offline_a: float = Field(default=16.0, allow_inf_nan=False)
    max_current_online_a: float = Field(default=32.0, allow_inf_nan=False)
    min_current_a: float = Field(default=8.0, allow_inf_nan=False)
    max_supply_current_a: float = Field(default=63.0, allow_inf_nan=False)
    margin_a: float = Field(default=1.0, allow_inf_nan=False)
    meter: str | None = Field(default=None, max_length=64, description="Power meter serial")
    algorithm: str = Field(default="standard", max_length=64)
    algorithm_version: int | None = Field(
        default=None, ge=1, le=10_000, description="Empty: the newest version"
    )


class GroupPatch(Strict):
    name: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    grid: GridName | None = None
    outlet_active: bool | None = None
    max_current_offline_a: float | None = Field(default=None, allow_inf_nan=False)
    max_current_online_a: float | None = Field(default=None, allow_inf_nan=False)
    min_current_a: float | None = Field(default=None, allow_inf_nan=False)
    max_supply_current_a: float | None = Field(default=None, allow_inf_nan=False)
    margin_a: float | None = Field(default=None, allow_inf_nan=False)
    meter: str | None = Field(default=None, max_length=64)
    clear_meter: bool = False
    algorithm_version: int | None = Field(default=None, ge=1, le=10_000)
    confirm: bool = Field(default=False, description="Accept commissioning warnings")


class MembershipIn(Strict):
    charger: str = Field(max_length=64, description="The charger's serial")
    phases: str = Field(
        max_length=16, description="Grid lines behind the charger's L1, L2, L3, e.g. 'L2,L3,L1'"
    )
    failsafe_current_a: float = Field(allow_inf_nan=False)
    priority: int = Field(default=1, ge=-(2**31), le=2**31 - 1)
    max_current_a: float | None = Field(default=None, allow_inf_nan=False)
    confirm: bool = False


class MembershipOut(BaseModel):
    charger: str
    charger_id: int
    phases: str
    failsafe_current_a: float
    priority: int
    max_current_a: float | None


class GroupOut(BaseModel):
    id: int
    organization_id: int
    name: str
    description: str
    meter: str | None
    algorithm: str
    algorithm_version: int
    outlet_active: bool
    grid: str
    max_current_offline_a: float
    max_current_online_a: float
    min_current_a: float
    max_supply_current_a: float
    margin_a: float
    state: str
    activated_at: str | None
    chargers: list[MembershipOut]


class ActivateIn(Strict):
    confirm: bool = Field(default=False, description="Accept commissioning warnings")


class AlgorithmOut(BaseModel):
    name: str
    version: int
    description: str
    newest: bool


# -- history and live --------------------------------------------------------------------


class AuditOut(BaseModel):
    id: int
    at: str | None
    actor: str
    organization_id: int | None
    entity: str
    entity_id: str
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class HistoryOut(BaseModel):
    """Columns for a chart: epoch seconds, and one series per quantity (null = no value)."""

    window: Literal["hour", "day"]
    resolution_s: int
    t: list[float]
    meter_l1_a: list[float | None]
    meter_l2_a: list[float | None]
    meter_l3_a: list[float | None]
    setpoint_total_a: list[float | None]
