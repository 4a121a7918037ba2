"""The gateway's answers as the court client returns them (extra fields kept; see ``hub.client``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Generic, Literal, TypeVar

from pydantic import Field

from schemas.models import AgencyResult, InquiryAsset

from ._errors import _Answer

__all__ = [
    "Batch",
    "BatchAccepted",
    "BatchItemSummary",
    "CaseDetail",
    "CaseSummary",
    "ControlOrder",
    "Event",
    "Inquiry",
    "InquiryAccepted",
    "OrderAccepted",
    "Page",
]

T = TypeVar("T")


class Page(_Answer, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


class CaseSummary(_Answer):
    case_id: str
    case_number: str
    status: str = "active"
    applicant: dict[str, Any] | None = None
    debtors: list[dict[str, Any]] = Field(default_factory=list)
    amount_owed: Decimal | None = None
    costs: Decimal | None = None
    created_at: dt.datetime | None = None


class CaseDetail(CaseSummary):
    """``GET /v1/cases/{id}``: the case with its inquiries, assets found, controls and ledger."""

    ledger: dict[str, Any] = Field(default_factory=dict)
    controls: list[dict[str, Any]] = Field(default_factory=list)
    inquiries: list[dict[str, Any]] = Field(default_factory=list)
    assets: list[InquiryAsset] = Field(default_factory=list)


class InquiryAccepted(_Answer):
    inquiry_id: str
    status: str


class Inquiry(_Answer):
    """``GET /v1/inquiries/{id}``: status per agency and the linked assets."""

    inquiry_id: str
    case_id: str
    status: Literal["pending", "complete", "partial", "rejected"]
    detail: str | None = None
    version: int | None = None  # none while nothing has been answered
    agencies: dict[str, AgencyResult] = Field(default_factory=dict)
    assets: list[InquiryAsset] = Field(default_factory=list)
    completed_at: dt.datetime | None = None

    @property
    def settled(self) -> bool:
        return self.status != "pending"


class BatchAccepted(_Answer):
    batch_id: str
    inquiry_ids: list[str]


class BatchItemSummary(_Answer):
    inquiry_id: str
    case_id: str
    status: str
    assets: int = 0
    assets_by_kind: dict[str, dict[str, Any]] = Field(default_factory=dict)
    total_value: Decimal = Decimal("0")


class Batch(_Answer):
    """``GET /v1/inquiry-batches/{id}``: progress (inquiry status → count) and, once done, a summary."""

    batch_id: str
    status: Literal["running", "done"]
    created_at: dt.datetime | None = None
    total: int
    progress: dict[str, int] = Field(default_factory=dict)
    inquiry_ids: list[str] = Field(default_factory=list)
    summary: list[BatchItemSummary] | None = None
    totals: dict[str, Any] | None = None

    @property
    def settled(self) -> int:
        return sum(n for status, n in self.progress.items() if status != "pending")


class OrderAccepted(_Answer):
    order_id: str


class ControlOrder(_Answer):
    """``GET /v1/control-orders/{id}``: the order's state and its history of events."""

    order_id: str
    case_id: str
    asset_id: str
    action: str | None = None
    status: str
    amount: Decimal | None = None
    position: int | None = None
    amount_controlled: Decimal | None = None
    amount_deducted: Decimal | None = None
    effective_at: dt.datetime | None = None
    expires_at: dt.datetime | None = None
    reason: str | None = None
    history: list[dict[str, Any]] = Field(default_factory=list)


class Event(_Answer):
    """One event of the court's feed (``inquiry_settled``, ``order_event``, lifecycle events)."""

    cursor: str
    event_id: str
    type: str
    case_id: str | None = None
    at: dt.datetime
    data: dict[str, Any] = Field(default_factory=dict)
