"""What the court-facing API answers (``/v1``): one model per response body, for the OpenAPI schema
and the clients generated from it.

Conventions: money is a decimal string of yuan with two decimals (:data:`MoneyText`); every time is
RFC 3339 with its offset (:data:`Timestamp`; a time stored without a zone is UTC); ids are opaque
strings. Answers may carry more members than listed (``additionalProperties``): a client ignores
what it does not know. Operations-desk answers are in ``schemas/views_ops.py``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    SerializerFunctionWrapHandler,
    WithJsonSchema,
    model_serializer,
)

from .money import to_money

__all__ = [
    "ASSET_EXAMPLE",
    "AssetConfirmationView",
    "AssetView",
    "BatchAccepted",
    "BatchView",
    "CaseCreated",
    "CaseListItem",
    "CasePage",
    "CaseView",
    "InquiryAccepted",
    "InquiryView",
    "MoneyText",
    "OrderAccepted",
    "OrderView",
    "PartyView",
    "Timestamp",
    "View",
    "with_example",
]

MONEY_PATTERN = r"^-?[0-9]+\.[0-9]{2}$"


def _aware(value: Any) -> dt.datetime:
    """A time from a datetime, an ISO 8601 string or Unix seconds; one without a zone is UTC."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return dt.datetime.fromtimestamp(value, dt.UTC)
    when = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    if not isinstance(when, dt.datetime):
        raise ValueError("not a time")
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)


def _rfc3339(when: dt.datetime) -> str:
    return when.isoformat()


#: A time in an answer: RFC 3339 with its offset (``2026-11-30T08:00:00+00:00``).
Timestamp = Annotated[
    dt.datetime,
    BeforeValidator(_aware),
    PlainSerializer(_rfc3339, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time", "examples": ["2026-11-30T08:00:00+00:00"]}),
]


def _two_places(d: Decimal) -> str:
    return f"{d:.2f}"


#: Money in an answer: yuan as a decimal string with exactly two decimals (``"1500.00"``).
MoneyText = Annotated[
    Decimal,
    BeforeValidator(to_money),
    PlainSerializer(_two_places, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": MONEY_PATTERN,
            "description": "yuan, two decimals",
            "examples": ["1500.00"],
        }
    ),
]


class View(BaseModel):
    """An answer: listed members typed; members a newer hub adds pass through. A member the route
    did not give is left out rather than shown as null: the model checks and documents the answer,
    it does not change its shape (a history entry without ``event_id`` stays without one)."""

    model_config = ConfigDict(extra="allow")

    # no return annotation: pydantic would document the answers with it instead of their members
    @model_serializer(mode="wrap")
    def _given_members(self, handler: SerializerFunctionWrapHandler):
        data = handler(self)
        if isinstance(data, dict):
            given = self.model_fields_set | set(self.__pydantic_extra__ or {})
            return {k: v for k, v in data.items() if k in given}
        return data


def with_example(example: dict[str, Any]) -> ConfigDict:
    """A view's ``model_config`` with ``example`` shown in the OpenAPI document."""
    return ConfigDict(extra="allow", json_schema_extra={"examples": [example]})


class CaseCreated(View):
    model_config = with_example({"case_id": "case_3f2a9c0d1e4b5a6c7d8e"})
    case_id: str


class InquiryAccepted(View):
    model_config = with_example({"inquiry_id": "inq_0a1b2c3d4e5f6a7b8c9d", "status": "pending"})
    inquiry_id: str
    status: Literal["pending", "complete", "partial", "rejected"]


class OrderAccepted(View):
    model_config = with_example({"order_id": "ord_0a1b2c3d4e5f6a7b8c9d", "status": "pending"})
    order_id: str
    status: str = Field(description="pending, effective, waiting, partial, rejected, failed, ...")


class AssetConfirmationView(View):
    model_config = with_example(
        {
            "case_id": "case_3f2a9c0d1e4b5a6c7d8e",
            "asset_id": "bank:icbc:6222020000000001",
            "confirmed_by": "judge-1",
            "confirmed_at": "2026-11-30T08:00:00+00:00",
            "note": None,
        }
    )
    case_id: str
    asset_id: str
    confirmed_by: str
    confirmed_at: Timestamp
    note: str | None = None


class PartyView(View):
    name: str | None = None
    id_type: str
    id_number: str
    check_override: str | None = None


class Linkage(View):
    decision: Literal["match", "possible", "non_match"]
    score: float
    evidence: list[dict[str, Any]] = Field(default_factory=list)


class AssetView(View):
    """An asset an inquiry found: ``ref`` is the registry's own reference; ``controls`` the controls
    registered on it (by any court); ``linkage`` how surely it is the debtor's."""

    asset_id: str
    agency: str
    kind: str = Field(description="deposit, real_estate, land_use_right, vehicle, equity or securities")
    ref: str
    owner: dict[str, Any]
    value: MoneyText
    controls: list[dict[str, Any]] = Field(default_factory=list)
    linkage: Linkage
    details: dict[str, Any] = Field(default_factory=dict)


class AgencyStatus(View):
    status: Literal["pending", "answered", "no_record", "unavailable", "failed"]
    detail: str | None = None


ASSET_EXAMPLE = {
    "asset_id": "bank:icbc:6222020000000001",
    "agency": "bank:icbc",
    "kind": "deposit",
    "ref": "6222020000000001",
    "owner": {"name": "张伟", "id_type": "resident_id", "id_number": "420106197503130491"},
    "value": "80000.00",
    "controls": [],
    "linkage": {"decision": "match", "score": 1.0, "evidence": []},
    "details": {"available": "80000.00"},
}


class InquiryView(View):
    """An inquiry: its status per agency and the assets found (linked to the debtor)."""

    model_config = with_example(
        {
            "inquiry_id": "inq_0a1b2c3d4e5f6a7b8c9d",
            "case_id": "case_3f2a9c0d1e4b5a6c7d8e",
            "status": "complete",
            "agencies": {"bank:icbc": {"status": "answered", "detail": None}},
            "assets": [ASSET_EXAMPLE],
            "requested": {"agencies": ["bank:icbc"]},
        }
    )
    inquiry_id: str
    case_id: str
    status: Literal["pending", "complete", "partial", "rejected"]
    detail: str | None = None
    agencies: dict[str, AgencyStatus]
    assets: list[AssetView]
    version: int | None = None
    updated_at: Timestamp | None = None
    completed_at: Timestamp | None = None
    requested: dict[str, Any] = Field(description="the inquiry as the court submitted it")
    assets_total: int | None = Field(default=None, description="with assets_limit: all assets found")
    assets_next_offset: int | None = Field(default=None, description="with assets_limit: the next page")


class Ledger(View):
    cap: MoneyText = Field(description="amount owed plus costs")
    secured: MoneyText | None = None
    deducted: MoneyText | None = None


class CaseControl(View):
    order_id: str
    asset_id: str
    action: str | None = None
    status: str
    amount_controlled: MoneyText | None = None
    expires_at: Timestamp | None = None


class CaseInquiry(View):
    inquiry_id: str
    status: str
    debtor: dict[str, Any] | None = None


class RequerySchedule(View):
    ends_at: Timestamp | None = None
    next_period: int | None = None
    next_due_at: Timestamp | None = None


class TerminationView(View):
    """A termination (终本) of a case: ``terminated`` while in force, ``resumed`` after."""

    model_config = with_example(
        {
            "termination_id": "term_0a1b2c3d4e5f6a7b8c9d",
            "case_id": "case_3f2a9c0d1e4b5a6c7d8e",
            "status": "terminated",
            "approved_by": "judge-1",
            "reason": "no property found after every agency was asked",
            "terminated_at": "2026-11-30T08:00:00+00:00",
            "resumed_by": None,
            "resume_reason": None,
            "resumed_at": None,
            "requery": {"ends_at": "2031-11-30T08:00:00+00:00", "next_period": 1, "next_due_at": None},
        }
    )
    termination_id: str
    case_id: str
    status: Literal["terminated", "resumed"]
    approved_by: str
    reason: str
    terminated_at: Timestamp
    resumed_by: str | None = None
    resume_reason: str | None = None
    resumed_at: Timestamp | None = None
    requery: RequerySchedule | None = None


class RequeryView(View):
    termination_id: str
    period: int
    debtor_index: int
    due_at: Timestamp | None = None
    submitted_at: Timestamp | None = None
    inquiry_id: str | None = None
    refused: Any = None
    reported_at: Timestamp | None = None
    event_id: str | None = None


class CaseView(View):
    """A case with what has been found and controlled so far."""

    model_config = with_example(
        {
            "case_id": "case_3f2a9c0d1e4b5a6c7d8e",
            "court_id": "court-a",
            "case_number": "(2026)鄂0111执1234号",
            "applicant": {"name": "某某银行股份有限公司"},
            "debtors": [{"name": "张伟", "id_type": "resident_id", "id_number": "420106197503130491"}],
            "amount_owed": "100000.00",
            "costs": "1500.00",
            "created_at": "2026-11-30T08:00:00+00:00",
            "status": "active",
            "ledger": {"cap": "101500.00"},
            "controls": [],
            "inquiries": [],
            "assets": [],
            "termination": None,
            "requeries": [],
        }
    )
    case_id: str
    court_id: str
    case_number: str
    applicant: dict[str, Any]
    debtors: list[PartyView]
    amount_owed: MoneyText
    costs: MoneyText
    created_at: Timestamp
    status: Literal["active", "terminated"]
    ledger: Ledger
    controls: list[CaseControl]
    inquiries: list[CaseInquiry]
    assets: list[AssetView]
    termination: TerminationView | None = None
    requeries: list[RequeryView] = Field(default_factory=list)


class HistoryEntry(View):
    event: str
    status: str
    at: Timestamp
    detail: Any = None
    event_id: str | None = None
    position: int | None = None
    amount_controlled: MoneyText | None = None


class OrderView(View):
    """A control order: its status at the agency and its history, oldest first."""

    model_config = with_example(
        {
            "order_id": "ord_0a1b2c3d4e5f6a7b8c9d",
            "case_id": "case_3f2a9c0d1e4b5a6c7d8e",
            "asset_id": "bank:icbc:6222020000000001",
            "action": "freeze",
            "amount": "20000.00",
            "approved_by": "judge-1",
            "status": "effective",
            "position": 1,
            "amount_controlled": "20000.00",
            "amount_deducted": None,
            "control_id": "ctl-1",
            "effective_at": "2026-11-30T08:00:05+00:00",
            "expires_at": "2027-11-30T08:00:05+00:00",
            "reason": None,
            "history": [
                {"event": "submitted", "status": "pending", "at": "2026-11-30T08:00:00+00:00", "detail": None}
            ],
        }
    )
    order_id: str
    case_id: str
    asset_id: str
    action: str
    amount: MoneyText | None = None
    approved_by: str | None = None
    status: str = Field(
        description="pending, effective, waiting, partial, rejected, failed, released, expired or deducted"
    )
    position: int | None = None
    amount_controlled: MoneyText | None = None
    amount_deducted: MoneyText | None = None
    control_id: str | None = None
    effective_at: Timestamp | None = None
    expires_at: Timestamp | None = None
    reason: str | None = None
    history: list[HistoryEntry]


class KindCount(View):
    count: int
    value: MoneyText


class FoundSummary(View):
    assets: int
    assets_by_kind: dict[str, KindCount]
    total_value: MoneyText


class BatchAccepted(View):
    model_config = with_example(
        {"batch_id": "bat_0a1b2c3d4e5f6a7b8c9d", "inquiry_ids": ["inq_0a1b2c3d4e5f6a7b8c9d"]}
    )
    batch_id: str
    inquiry_ids: list[str] = Field(description="one inquiry per item, in item order")


class BatchItemSummary(FoundSummary):
    inquiry_id: str
    case_id: str
    status: str


class BatchTotals(View):
    assets: int
    total_value: MoneyText


class BatchView(View):
    """A batch: ``running`` until every inquiry settled, then ``done`` with its summary."""

    model_config = with_example(
        {
            "batch_id": "bat_0a1b2c3d4e5f6a7b8c9d",
            "status": "done",
            "created_at": "2026-11-30T08:00:00+00:00",
            "total": 1,
            "progress": {"complete": 1},
            "inquiry_ids": ["inq_0a1b2c3d4e5f6a7b8c9d"],
            "summary": [
                {
                    "inquiry_id": "inq_0a1b2c3d4e5f6a7b8c9d",
                    "case_id": "case_3f2a9c0d1e4b5a6c7d8e",
                    "status": "complete",
                    "assets": 1,
                    "assets_by_kind": {"deposit": {"count": 1, "value": "80000.00"}},
                    "total_value": "80000.00",
                }
            ],
            "totals": {"assets": 1, "total_value": "80000.00"},
        }
    )
    batch_id: str
    status: Literal["running", "done"]
    created_at: Timestamp
    total: int
    progress: dict[str, int] = Field(description="inquiries by status")
    inquiry_ids: list[str]
    summary: list[BatchItemSummary] | None = None
    totals: BatchTotals | None = None


class CaseListItem(View):
    case_id: str
    case_number: str
    status: str
    applicant: dict[str, Any] | None = None
    debtors: list[PartyView] = Field(default_factory=list)
    amount_owed: MoneyText | None = None
    costs: MoneyText | None = None
    created_at: Timestamp | None = None


class CasePage(View):
    model_config = with_example({"items": [], "next_cursor": None})
    items: list[CaseListItem]
    next_cursor: str | None = Field(description="give it as ?cursor= for the next page; null on the last")
