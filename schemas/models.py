"""Pydantic models for every API body and every Kafka message of the hub.

API bodies (what courts send) validate strictly and name the field and the reason when they refuse.
Registry records keep the owner exactly as the agency recorded them: identifiers there are *not*
validated, because registries hold whatever was entered, invalid numbers included.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from .agencies import AssetKind, is_agency_name
from .identifiers import CheckCharacterError, IdType, canonical_identifier
from .money import Money, MoneyInput
from .text import check_text_tree, visible_text

__all__ = [
    "AgencyRequest",
    "AgencyResponse",
    "AgencyResult",
    "Applicant",
    "AssetRecord",
    "AssetRef",
    "Case",
    "CaseCreate",
    "CaseRegistered",
    "ControlCommand",
    "ControlOrderRequested",
    "ControlOrderState",
    "ControlOutcome",
    "ControlTick",
    "CourtCommand",
    "CourtEvent",
    "DeadLetter",
    "DeadlineReached",
    "DebtorRef",
    "DepositAsset",
    "EquityAsset",
    "Evidence",
    "ExistingControl",
    "IdentifierForm",
    "InquiryAsset",
    "InquiryCreate",
    "InquiryOpened",
    "InquiryRequested",
    "InquiryResult",
    "LandUseRightAsset",
    "LegalBasis",
    "Linkage",
    "OfficerId",
    "Party",
    "PartyRecord",
    "PriorityClaim",
    "PromotedControl",
    "Purpose",
    "RealEstateAsset",
    "RegistryOwner",
    "Seal",
    "SecuritiesAsset",
    "SecurityPosition",
    "VehicleAsset",
    "new_id",
    "utcnow",
]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:20]}"


class _Strict(BaseModel):
    """API bodies: unknown fields are refused so a misspelt field is not silently ignored."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _valid_text(cls, v: Any) -> Any:
        """Every string valid Unicode without control characters, before any other check."""
        return check_text_tree(v)


class _Message(BaseModel):
    """Kafka messages: tolerant of fields added by newer producers."""

    model_config = ConfigDict(extra="ignore")


Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(visible_text)]
# a person's id or a reason: something visible, not only spaces or invisible characters
Visible = Annotated[str, AfterValidator(visible_text)]

# Who asks and why (every inquiry and control order): an officer id of the court, the purpose, and
# the legal basis (the document that authorises it, e.g. the enforcement ruling's number). They reach
# the agencies as request headers, so they are single-line visible text.
OfficerId = Annotated[
    str,
    Field(min_length=1, max_length=100, description="an officer id of the asking court (HUB_COURT_OFFICERS)"),
    AfterValidator(visible_text),
]
Purpose = Annotated[
    str,
    Field(min_length=1, max_length=500, description="why the court asks (free text, one line)"),
    AfterValidator(visible_text),
]
LegalBasis = Annotated[
    str,
    Field(
        min_length=1,
        max_length=500,
        description="the document that authorises it, e.g. the enforcement ruling's number (one line)",
    ),
    AfterValidator(visible_text),
]

# Most messages one answer or one result may be split into (a part is at most ~512 KiB: see codec).
MAX_PARTS = 10_000


class DebtorRef(_Strict):
    """A party identified by identifier alone (as an inquiry names its subject).

    ``id_number`` is cleaned (full-width forms, spaces, hyphens) and validated. A number whose only
    fault is its check character passes here: it names a debtor only if the case registered that
    debtor with a ``check_override``, which the route and the stream worker verify against the case
    (and otherwise answer 422 with the check-character reason).
    """

    id_type: IdType
    id_number: str = Field(min_length=1, max_length=40)

    @field_validator("id_number")
    @classmethod
    def _canonical(cls, v: str, info: ValidationInfo) -> str:
        id_type = info.data.get("id_type")
        if id_type is None:  # id_type itself failed; its own error says why
            return v
        return canonical_identifier(id_type, v, check=False)


class Party(DebtorRef):
    """A natural person (``resident_id``) or an organisation (the other identifier types).

    ``check_override``: the court's stated reason for registering a code that was really issued but
    fails its check character (credit codes issued before 2016). Without it such a code is refused
    (422 on ``id_number``: ``check character mismatch: got 9, expected F``); with it the code is
    recorded as given and links by exact equality only. An override on a code whose check is right
    is refused (422 on ``check_override``).
    """

    name: Name
    check_override: Visible | None = Field(
        default=None,
        min_length=1,
        max_length=500,
        description="why a code that fails its check character is registered anyway (it was issued so)",
    )

    @property
    def is_person(self) -> bool:
        return self.id_type == IdType.resident_id

    @model_validator(mode="after")
    def _check_character(self) -> Party:
        try:
            canonical_identifier(self.id_type, self.id_number)
        except CheckCharacterError as e:
            if self.check_override is None:
                raise _field_error("id_number", self.id_number, str(e)) from None
        else:
            if self.check_override is not None:
                raise _field_error(
                    "check_override",
                    self.check_override,
                    "the identifier's check character is right: an override is only for an issued "
                    "code that fails it",
                )
        return self


def _field_error(field: str, value: str, reason: str) -> ValidationError:
    """A validation error located at ``field`` (a model validator's own errors have no field)."""
    return ValidationError.from_exception_data(
        "Party",
        [
            InitErrorDetails(
                type=PydanticCustomError("value_error", "Value error, {reason}", {"reason": reason}),
                loc=(field,),
                input=value,
            )
        ],
    )


class Applicant(_Strict):
    name: Name


_CASE_NUMBER = re.compile(r"^[（(]\d{4}[)）].{1,20}执.{0,4}\d{1,6}号$")


class CaseCreate(_Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "case_number": "(2026)鄂0111执1234号",
                    "applicant": {"name": "某某银行股份有限公司"},
                    "debtors": [
                        {"name": "张伟", "id_type": "resident_id", "id_number": "420106197503130491"}
                    ],
                    "amount_owed": "100000.00",
                    "costs": "1500.00",
                }
            ]
        }
    )
    case_number: str = Field(
        min_length=6,
        max_length=60,
        examples=["(2026)鄂0111执1234号"],
        json_schema_extra={"pattern": _CASE_NUMBER.pattern},  # documented; the validator says why
    )
    applicant: Applicant
    debtors: list[Party] = Field(min_length=1, max_length=50)
    amount_owed: MoneyInput = Field(examples=["100000.00"])
    costs: MoneyInput = Field(default=Decimal("0.00"), examples=["1500.00"], description="yuan; absent: 0.00")

    @model_validator(mode="before")
    @classmethod
    def _default_costs(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("costs") is None:
            data = {**data, "costs": "0.00"}
        return data

    @field_validator("case_number")
    @classmethod
    def _case_number(cls, v: str) -> str:
        if not _CASE_NUMBER.match(v):
            raise ValueError("not an enforcement case number such as (2026)鄂0111执1234号")
        return v

    @field_validator("amount_owed")
    @classmethod
    def _positive(cls, v: Any) -> Any:
        if v <= 0:
            raise ValueError("must be greater than zero")
        return v

    @field_validator("costs")
    @classmethod
    def _not_negative(cls, v: Any) -> Any:
        if v < 0:
            raise ValueError("must not be negative")
        return v

    @field_validator("debtors")
    @classmethod
    def _distinct(cls, v: list[Party]) -> list[Party]:
        seen = set()
        for p in v:
            key = (p.id_type, p.id_number)
            if key in seen:
                raise ValueError(f"debtor {p.id_type} listed twice")
            seen.add(key)
        return v


class Case(CaseCreate):
    model_config = ConfigDict(extra="ignore")
    case_id: str
    court_id: str
    created_at: dt.datetime

    def debtor(self, id_type: str, id_number: str) -> Party | None:
        return next((p for p in self.debtors if p.id_type == id_type and p.id_number == id_number), None)


class InquiryCreate(_Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "case_id": "case_3f2a9c0d1e4b5a6c7d8e",
                    "debtor": {"id_type": "resident_id", "id_number": "420106197503130491"},
                    "officer": "officer-1",
                    "purpose": "enforcement of the judgment of case (2026)鄂0111执1234号",
                    "legal_basis": "(2026)鄂0111执1234号 执行裁定书",
                    "agencies": ["bank:icbc", "real_estate"],
                }
            ]
        }
    )
    case_id: str = Field(min_length=1, max_length=64)
    debtor: DebtorRef
    officer: OfficerId
    purpose: Purpose
    legal_basis: LegalBasis
    agencies: list[str] | None = Field(
        default=None,
        description="police, commerce, real_estate, land, securities, bank (every configured bank) or "
        "bank:<code>; "
        "omitted means all",
    )

    @field_validator("agencies")
    @classmethod
    def _names(cls, v: list[str] | None) -> list[str] | None:
        if v is None:
            return v
        if not v:
            raise ValueError("give at least one agency, or omit the field for all")
        for name in v:
            if name != "bank" and not is_agency_name(name):
                raise ValueError(f"unknown agency {name!r}")
        return v


# ---------------------------------------------------------------- court commands (Kafka)


class CaseRegistered(_Message):
    type: Literal["case_registered"] = "case_registered"
    case: Case
    idempotency_key: str


class InquiryRequested(_Message):
    type: Literal["inquiry_requested"] = "inquiry_requested"
    inquiry_id: str
    case_id: str
    court_id: str
    debtor: DebtorRef
    agencies: list[str]
    requested_at: dt.datetime
    idempotency_key: str
    officer: str | None = Field(default=None, description="the officer who asks (absent before officers)")
    purpose: str | None = None
    legal_basis: str | None = None


class AssetRef(_Message):
    """An asset as an inquiry found it, enough for the streams to route and cap an order.

    ``value``: the balance of a deposit (yuan), the stated value otherwise; ``available``: a
    deposit's balance less what other controls hold, when the registry said so; ``capital``: a
    stake's subscribed capital (yuan), when commerce recorded it.
    """

    asset_id: str
    agency: str
    kind: AssetKind
    ref: str
    value: Money
    owner_id_number: str | None = None
    available: Money | None = None
    capital: Money | None = None


class ControlOrderRequested(_Message):
    type: Literal["control_order_requested"] = "control_order_requested"
    order_id: str
    case_id: str
    court_id: str
    asset: AssetRef
    action: Literal["freeze", "seize", "deduct", "renew", "release"]
    amount: Money | None = None
    period_days: int | None = None
    approved_by: str
    requested_at: dt.datetime
    idempotency_key: str
    officer: str | None = Field(default=None, description="the officer who asks (absent before officers)")
    purpose: str | None = None
    legal_basis: str | None = None
    found_deposits: list[AssetRef] = Field(
        default_factory=list,
        description="every deposit the case's inquiries found (linked as match or confirmed), so the "
        "ledger can tell whether something divisible would do instead of seizing an indivisible asset",
    )


CourtCommand = Annotated[
    CaseRegistered | InquiryRequested | ControlOrderRequested, Field(discriminator="type")
]


# ---------------------------------------------------------------- agencies (Kafka)


class IdentifierForm(_Message):
    id_type: str
    id_number: str


class AgencyRequest(_Message):
    request_id: str
    inquiry_id: str
    case_id: str
    court_id: str
    agency: str
    subject: Party
    identifiers: list[IdentifierForm] = Field(description="every form a registry may hold, canonical first")
    deadline: dt.datetime
    idempotency_key: str
    officer: str | None = Field(default=None, description="the officer who asks (absent before officers)")
    purpose: str | None = None
    legal_basis: str | None = None


class RegistryOwner(_Message):
    """The owner exactly as the registry recorded them; nothing here is validated."""

    name: str
    id_type: str | None = None
    id_number: str | None = None
    birth_date: dt.date | None = None
    address: str | None = None


class ExistingControl(_Message):
    court: str
    action: str
    amount: Money | None = None
    registered_at: dt.datetime | None = None
    expires_at: dt.datetime | None = None
    position: int | None = Field(default=None, description="0 = in effect, n = n-th in the waiting queue")
    status: str = "effective"
    control_id: str | None = None


class _AssetBase(_Message):
    agency: str
    ref: str = Field(description="the registry's own identifier of the asset")
    owner: RegistryOwner
    value: Money
    controls: list[ExistingControl] = Field(default_factory=list)


class DepositAsset(_AssetBase):
    kind: Literal["deposit"] = "deposit"
    account_type: str | None = None
    currency: str = "CNY"
    branch: str | None = None
    available: Money | None = None


class RealEstateAsset(_AssetBase):
    kind: Literal["real_estate"] = "real_estate"
    address: str | None = None
    area_m2: float | None = None
    usage: str | None = None
    mortgages: list[dict[str, Any]] = Field(default_factory=list)


class LandUseRightAsset(_AssetBase):
    kind: Literal["land_use_right"] = "land_use_right"
    location: str | None = None
    area_m2: float | None = None
    usage: str | None = None
    term_ends: dt.date | None = None


class VehicleAsset(_AssetBase):
    kind: Literal["vehicle"] = "vehicle"
    brand_model: str | None = None
    vin: str | None = None
    registered_on: dt.date | None = None


class EquityAsset(_AssetBase):
    kind: Literal["equity"] = "equity"
    company_name: str | None = None
    company_id: str | None = None
    share_ratio: str | None = None
    subscribed_capital: Money | None = None


class SecurityPosition(_Message):
    """One holding in a securities account: the security's code (``600519``), its short name, the
    quantity held (shares or units) and its market value (yuan) as the depository valued it."""

    code: str
    name: str | None = None
    quantity: int = Field(ge=0)
    market_value: Money


class SecuritiesAsset(_AssetBase):
    """A securities account (证券账户) at the securities depository: ``ref`` is the account number,
    ``value`` the market value of all its holdings (yuan), ``frozen_value`` what freezes in effect
    block of it (a freeze states a market value; the rest of the account stays free)."""

    kind: Literal["securities"] = "securities"
    holdings: list[SecurityPosition] = Field(default_factory=list)
    frozen_value: Money | None = None
    account_type: str | None = None
    opened_on: dt.date | None = None


AssetRecord = Annotated[
    DepositAsset | RealEstateAsset | LandUseRightAsset | VehicleAsset | EquityAsset | SecuritiesAsset,
    Field(discriminator="kind"),
]


class PartyRecord(_Message):
    """A non-asset record about the subject (household registration, company role)."""

    kind: str
    owner: RegistryOwner
    detail: dict[str, Any] = Field(default_factory=dict)


AgencyStatus = Literal["answered", "no_record", "unavailable", "failed"]


class Seal(_Message):
    """The electronic seal of one registry reply (hub/signing.py): the registry's Ed25519
    ``signature`` (unpadded URL-safe base64) by key ``key_id`` of the SHA-256 ``digest``
    (``sha256:<base64>``) of the reply's status, the hub's request signature and the reply's body."""

    signer: str = Field(description="the agency whose registry signed")
    key_id: str
    digest: str
    signature: str


class AgencyResponse(_Message):
    request_id: str
    inquiry_id: str
    case_id: str
    agency: str
    status: AgencyStatus
    detail: str | None = None
    records: list[AssetRecord] = Field(default_factory=list)
    party_records: list[PartyRecord] = Field(default_factory=list)
    attempts: int = 1
    latency_ms: float | None = None
    responded_at: dt.datetime
    idempotency_key: str
    seals: list[Seal] = Field(default_factory=list, description="the registry's signed replies")
    part: int = Field(
        default=0, ge=0, description="which part of a split answer this message carries (0-based)"
    )
    parts: int = Field(
        default=1,
        ge=1,
        le=MAX_PARTS,
        description="how many messages the answer was split into (records by size; party records in part 0)",
    )

    @model_validator(mode="after")
    def _part_in_range(self) -> AgencyResponse:
        if self.part >= self.parts:
            raise ValueError(f"part {self.part} of {self.parts} parts")
        return self


# ---------------------------------------------------------------- streams internal (Kafka)


class InquiryOpened(_Message):
    inquiry_id: str
    case_id: str
    court_id: str
    debtor: Party
    agencies: list[str]
    deadline: dt.datetime
    opened_at: dt.datetime


class DeadlineReached(_Message):
    """The SLA timer asking the owner of the inquiry's partition to settle it; with ``compact``, to
    shrink a long-settled inquiry's state to a tombstone (its result is in the read model)."""

    inquiry_id: str
    at: dt.datetime
    compact: bool = False


# ---------------------------------------------------------------- results (Kafka and API)


class Evidence(_Message):
    field: str
    outcome: str
    weight: float
    detail: str | None = None


class Linkage(_Message):
    decision: Literal["match", "possible", "non_match"]
    score: float
    evidence: list[Evidence] = Field(default_factory=list)


class InquiryAsset(_Message):
    asset_id: str
    agency: str
    kind: AssetKind
    ref: str
    owner: RegistryOwner
    value: Money
    controls: list[ExistingControl] = Field(default_factory=list)
    linkage: Linkage
    details: dict[str, Any] = Field(default_factory=dict)


class AgencyResult(_Message):
    status: Literal["pending", "answered", "no_record", "unavailable", "failed"]
    detail: str | None = None
    seals: list[Seal] = Field(
        default_factory=list, description="the registry's signed replies of this answer"
    )
    assets: int = 0
    excluded_non_matches: int = 0
    responded_at: dt.datetime | None = None


class InquiryResult(_Message):
    inquiry_id: str
    case_id: str
    court_id: str
    status: Literal["pending", "complete", "partial", "rejected"]
    detail: str | None = None
    agencies: dict[str, AgencyResult] = Field(default_factory=dict)
    assets: list[InquiryAsset] = Field(default_factory=list)
    excluded_non_matches: int = 0
    version: int = Field(
        default=0,
        ge=0,
        le=2**31 - 1,
        description="grows with each change of the result; bounded so that every database stores it "
        "(a larger one is a forged or corrupt message and is dead-lettered)",
    )
    updated_at: dt.datetime
    completed_at: dt.datetime | None = None
    part: int = Field(
        default=0, ge=0, description="which part of a split result this message carries; part 0 leads"
    )
    parts: int = Field(
        default=1,
        ge=1,
        le=MAX_PARTS,
        description="how many messages this version was split into: every part carries the same header "
        "(status, agencies, counts, version) and a slice of ``assets``; the whole result is the parts' "
        "assets concatenated in part order",
    )

    @model_validator(mode="after")
    def _part_in_range(self) -> InquiryResult:
        if self.part >= self.parts:
            raise ValueError(f"part {self.part} of {self.parts} parts")
        return self


# ---------------------------------------------------------------- dead letters


class DeadLetter(_Message):
    """What could never be processed, with the original message and why (Kafka Connect's DLQ shape)."""

    source_topic: str
    partition: int | None = None
    offset: int | None = None
    key: str | None = None
    value: str = Field(
        description="the original message, as text (or base64 when not UTF-8); cut to its first "
        "DEAD_LETTER_VALUE_BYTES bytes when longer (``truncated``)"
    )
    value_encoding: Literal["utf-8", "base64"] = "utf-8"
    value_size: int | None = Field(default=None, ge=0, description="bytes of the original message")
    truncated: bool = False
    stage: str
    error_class: str
    reason: str
    failed_at: dt.datetime
    context: dict[str, str] = Field(default_factory=dict)


# ---------------------------------------------------------------- control orders (Kafka)

ControlAction = Literal["freeze", "seize", "deduct", "renew", "release", "expire", "status"]
ControlOutcomeKind = Literal[
    "effective", "waiting", "partial", "rejected", "renewed", "released", "deducted", "expired", "failed"
]


class ControlCommand(_Message):
    """What the hub asks an agency to do to one asset (``hub.agency.<agency>.controls``).

    ``freeze``/``seize`` register a new control; ``renew``, ``release``, ``deduct`` and ``expire``
    act on the agency's ``control_id`` returned earlier. ``expire`` is the hub's expiry notice: the
    hub's clock decided the control's period ended, and the agency lapses it (idempotent; the agency
    lapses controls by itself anyway). ``status`` asks what a waiting control is now (the agency
    answers ``effective`` once it was promoted); it changes nothing.
    """

    order_id: str = Field(description="the hub's order id; the agency's idempotency key")
    case_id: str
    court_id: str
    case_number: str
    agency: str
    asset_kind: AssetKind
    asset_ref: str
    action: ControlAction
    amount: Money | None = None
    control_id: str | None = None
    period_days: int | None = Field(default=None, description="legal period asked for (freeze/seize/renew)")
    owner_id_number: str | None = Field(
        default=None,
        description="the owner's identifier as the registry recorded it (whose stake in a company)",
    )
    approved_by: str
    requested_at: dt.datetime
    idempotency_key: str
    officer: str | None = Field(default=None, description="the officer who asks (absent before officers)")
    purpose: str | None = None
    legal_basis: str | None = None


class PromotedControl(_Message):
    """A waiting control that took effect because an earlier one was released or expired."""

    control_id: str
    order_id: str | None = None
    case_id: str | None = None
    court: str
    amount_controlled: Money | None = None
    effective_at: dt.datetime
    expires_at: dt.datetime | None = None


class ControlOutcome(_Message):
    """What the agency did (``hub.control.results``, keyed by case id)."""

    order_id: str
    case_id: str
    court_id: str
    agency: str
    asset_ref: str
    action: ControlAction
    outcome: ControlOutcomeKind
    control_id: str | None = None
    position: int | None = Field(default=None, description="0 = in effect; n = n-th in the waiting queue")
    amount_controlled: Money | None = None
    amount_deducted: Money | None = None
    effective_at: dt.datetime | None = None
    expires_at: dt.datetime | None = None
    reason: str | None = None
    promoted: list[PromotedControl] = Field(default_factory=list)
    decided_at: dt.datetime
    idempotency_key: str
    ahead_expires_at: dt.datetime | None = Field(
        default=None, description="waiting: when the control ahead of it ends unless renewed"
    )


class ControlTick(_Message):
    """The streams' timer asking the owner of a case's partition to remind or expire a control, or
    to ``check`` with the agency whether a waiting control took effect (the one ahead was due to end).

    ``due``: the instant the tick is about (the expiry, or when the control ahead ends).
    """

    case_id: str
    order_id: str
    kind: Literal["remind", "expire", "check"]
    at: dt.datetime
    due: dt.datetime | None = None


CourtEventKind = Literal[
    "effective",
    "waiting",
    "partial",
    "rejected",
    "failed",
    "promoted",
    "renewed",
    "expiring",
    "expired",
    "released",
    "deducted",
    "over_secured",
]


class ControlOrderState(_Message):
    """A control order as the court sees it (``GET /v1/control-orders/{order_id}``)."""

    order_id: str
    case_id: str
    court_id: str
    asset_id: str
    agency: str
    action: str
    amount: Money | None = None
    status: Literal[
        "pending",
        "effective",
        "waiting",
        "partial",
        "rejected",
        "failed",
        "released",
        "expired",
        "deducted",
        "renewed",
    ]
    position: int | None = None
    amount_controlled: Money | None = None
    amount_deducted: Money | None = None
    control_id: str | None = None
    effective_at: dt.datetime | None = None
    expires_at: dt.datetime | None = None
    reason: str | None = None
    approved_by: str
    requested_at: dt.datetime


class CourtEvent(_Message):
    """One outcome pushed to a court (``hub.court.outcomes``; webhooks; the order's history)."""

    event_id: str = Field(description="stable for the same outcome: a repeat is recognisable")
    kind: CourtEventKind
    case_id: str
    court_id: str
    order_id: str
    order: ControlOrderState
    detail: str | None = None
    secured: Money | None = Field(default=None, description="value secured for the case after this event")
    deducted_total: Money | None = None
    at: dt.datetime


# ---------------------------------------------------------------- control orders (API)


class PriorityClaim(_Strict):
    """The priority claim (优先受偿权) a control order enforces, e.g. a mortgage registered on the
    asset (DOMAIN rule 7): such a court, waiting behind another court's first seizure, may ask for
    the transfer of the disposal (``POST /v1/control-orders/{order_id}/transfer-requests``).

    ``kind``: ``mortgage`` (抵押权), ``pledge`` (质权), ``lien`` (留置权) or ``construction_price``
    (建设工程价款优先受偿权); ``reference``: the registration of the right, e.g. the mortgage's
    registration certificate number (one line, at most 200 characters)."""

    kind: Literal["mortgage", "pledge", "lien", "construction_price"]
    reference: Visible = Field(
        min_length=1, max_length=200, description="the registration of the right, e.g. 不动产登记证明号"
    )


class ControlOrderCreate(_Strict):
    """A control order. ``amount`` (yuan) is required to freeze and to deduct, and refused otherwise:
    on a deposit it is the money to block; on a securities account the market value to block; on
    equity it is the subscribed capital (出资额) of the debtor's stake to freeze, at most the stake's
    subscribed capital (checked by the gateway once it knows the asset). A seizure takes the whole
    asset. ``period_days`` (freeze, seize, renew) must not exceed the legal maximum of the asset's
    kind (deposits 365, vehicles 730, others 1095; checked by the gateway): a longer period is
    refused, not silently shortened."""

    case_id: str = Field(min_length=1, max_length=64)
    asset_id: str = Field(
        min_length=1, max_length=300, description="an asset_id from an inquiry of this case"
    )
    action: Literal["freeze", "seize", "deduct", "renew", "release"]
    amount: MoneyInput | None = Field(
        default=None,
        description="yuan: to block (deposit, securities) or subscribed capital to freeze (equity); deduct",
    )
    approved_by: Visible = Field(min_length=1, max_length=100, description="a judge of the asking court")
    period_days: int | None = Field(
        default=None, ge=1, description="days; default and ceiling: the legal maximum of the asset's kind"
    )
    officer: OfficerId
    purpose: Purpose
    legal_basis: LegalBasis
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "case_id": "case_3f2a9c0d1e4b5a6c7d8e",
                    "asset_id": "bank:icbc:6222020000000001",
                    "action": "freeze",
                    "amount": "20000.00",
                    "approved_by": "judge-1",
                    "officer": "officer-1",
                    "purpose": "enforcement of the judgment of case (2026)鄂0111执1234号",
                    "legal_basis": "(2026)鄂0111执1234号 执行裁定书",
                }
            ]
        }
    )
    priority_claim: PriorityClaim | None = Field(
        default=None, description="seize or freeze: the priority claim (e.g. a mortgage) the order enforces"
    )

    @model_validator(mode="after")
    def _amount(self) -> ControlOrderCreate:
        if self.priority_claim is not None and self.action not in ("seize", "freeze"):
            reason = f"priority_claim applies to seize and freeze, not {self.action}"
            raise _field_error("priority_claim", self.priority_claim.kind, reason)
        if self.action in ("freeze", "deduct"):
            if self.amount is None:
                raise _field_error("amount", "", f"amount is required to {self.action}")
            if self.amount <= 0:
                raise _field_error("amount", str(self.amount), "amount must be greater than zero")
        elif self.amount is not None:
            reason = f"amount applies to freeze and deduct, not {self.action}"
            raise _field_error("amount", str(self.amount), reason)
        if self.period_days is not None and self.action not in ("freeze", "seize", "renew"):
            reason = f"period_days applies to freeze, seize and renew, not {self.action}"
            raise _field_error("period_days", str(self.period_days), reason)
        return self


class AssetConfirmationCreate(_Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "asset_id": "bank:icbc:6222020000000001",
                    "confirmed_by": "judge-1",
                    "note": "same birth date",
                }
            ]
        }
    )
    asset_id: str = Field(min_length=1, max_length=300)
    confirmed_by: Visible = Field(min_length=1, max_length=100, description="a judge of the asking court")
    note: str | None = Field(default=None, max_length=1000)
