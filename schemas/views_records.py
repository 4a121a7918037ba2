"""What the API answers about a case's records (lists of inquiries and orders, events, audit, 终本
check, leads, payouts, funds) and what the operations desk and ``/healthz`` answer.

The conventions of ``schemas/views.py`` hold: :data:`MoneyText` money, :data:`Timestamp` times,
more members allowed.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from .views import FoundSummary, MoneyText, Timestamp, View, with_example

__all__ = [
    "AuditPage",
    "EventPage",
    "FundsView",
    "Health",
    "InquiryPage",
    "LeadList",
    "LeadView",
    "OpsAgencies",
    "OpsLag",
    "OrderPage",
    "PayoutView",
    "TerminationCheck",
]

_NEXT = "give it as ?cursor= for the next page; null on the last"


class InquiryListItem(FoundSummary):
    inquiry_id: str
    status: str
    version: int
    debtor: dict[str, Any] | None = None
    agencies: list[str] | None = None
    created_at: Timestamp | None = None
    updated_at: Timestamp | None = None


class InquiryPage(View):
    model_config = with_example({"items": [], "next_cursor": None})
    items: list[InquiryListItem]
    next_cursor: str | None = Field(description=_NEXT)


class OrderListItem(View):
    order_id: str
    asset_id: str
    action: str | None = None
    status: str
    amount: MoneyText | None = None
    amount_controlled: MoneyText | None = None
    effective_at: Timestamp | None = None
    expires_at: Timestamp | None = None
    created_at: Timestamp | None = None
    updated_at: Timestamp | None = None


class OrderPage(View):
    model_config = with_example({"items": [], "next_cursor": None})
    items: list[OrderListItem]
    next_cursor: str | None = Field(description=_NEXT)


class EventView(View):
    cursor: str
    event_id: str
    type: str = Field(description="inquiry_settled, order_event or a case lifecycle event")
    case_id: str
    at: Timestamp
    data: dict[str, Any]


class EventPage(View):
    model_config = with_example(
        {
            "items": [
                {
                    "cursor": "1",
                    "event_id": "evt_0a1b2c3d4e5f6a7b8c9d",
                    "type": "inquiry_settled",
                    "case_id": "case_3f2a9c0d1e4b5a6c7d8e",
                    "at": "2026-11-30T08:00:05+00:00",
                    "data": {"inquiry_id": "inq_0a1b2c3d4e5f6a7b8c9d", "status": "complete"},
                }
            ],
            "next_cursor": "1",
        }
    )
    items: list[EventView]
    next_cursor: str | None = Field(description="the cursor to read after next time")


class AuditEntry(View):
    seq: int
    at: Timestamp
    kind: str
    court_id: str
    case_id: str
    actor: str | None = None
    details: dict[str, Any]
    prev_hash: str
    hash: str


class AuditPage(View):
    model_config = with_example({"case_id": "case_3f2a9c0d1e4b5a6c7d8e", "entries": [], "next_cursor": None})
    case_id: str
    entries: list[AuditEntry]
    next_cursor: str | None = Field(description=_NEXT)


class TerminationCheck(View):
    """Whether the case may be terminated for now (终本), with each unmet condition in ``missing``."""

    model_config = with_example(
        {
            "case_id": "case_3f2a9c0d1e4b5a6c7d8e",
            "eligible": False,
            "checked_at": "2026-11-30T08:00:00+00:00",
            "rules": {"min_case_age_days": 90, "inquiry_max_age_days": 90, "required_agencies": ["police"]},
            "case_age": {"ok": False, "age_days": 0},
            "debtors": [],
            "missing": [{"what": "case_age", "reason": "case_too_young", "detail": "registered 0 days ago"}],
        }
    )
    case_id: str
    eligible: bool
    checked_at: Timestamp
    rules: dict[str, Any]
    case_age: dict[str, Any]
    debtors: list[dict[str, Any]]
    missing: list[dict[str, Any]]


_LEAD = {
    "lead_id": "lead_0a1b2c3d4e5f6a7b8c9d",
    "case_id": "case_3f2a9c0d1e4b5a6c7d8e",
    "agency": "land",
    "description": "the debtor owns a plot in the north district",
    "asset_ref": None,
    "urgent": False,
    "status": "open",
    "created_at": "2026-11-30T08:00:00+00:00",
    "due_at": "2026-12-07T08:00:00+00:00",
    "inquiry_ids": ["inq_0a1b2c3d4e5f6a7b8c9d"],
    "found": [],
    "settled_at": None,
    "settled_event_id": None,
    "overdue_at": None,
    "overdue_event_id": None,
}


class LeadView(View):
    """A lead (财产线索) and the targeted inquiries that check it."""

    model_config = with_example(_LEAD)
    lead_id: str
    case_id: str
    agency: str
    description: str
    asset_ref: str | None = None
    urgent: bool
    status: Literal["open", "verified", "not_found"]
    created_at: Timestamp
    due_at: Timestamp
    inquiry_ids: list[str]
    found: list[dict[str, Any]]
    settled_at: Timestamp | None = None
    settled_event_id: str | None = None
    overdue_at: Timestamp | None = None
    overdue_event_id: str | None = None


class LeadList(View):
    model_config = with_example({"case_id": "case_3f2a9c0d1e4b5a6c7d8e", "items": [_LEAD]})
    case_id: str
    items: list[LeadView]


_PAYOUT = {
    "payout_id": "pay_0a1b2c3d4e5f6a7b8c9d",
    "case_id": "case_3f2a9c0d1e4b5a6c7d8e",
    "amount": "5000.00",
    "payee": "某某银行股份有限公司",
    "approved_by": "judge-1",
    "paid_at": "2026-11-30T08:00:00+00:00",
}


class PayoutView(View):
    model_config = with_example(_PAYOUT)
    payout_id: str
    case_id: str
    amount: MoneyText
    payee: str
    approved_by: str
    paid_at: Timestamp


class DeductionView(View):
    order_id: str
    asset_id: str
    amount: MoneyText
    deducted_at: Timestamp
    held: MoneyText
    reminded_at: Timestamp | None = None


class FundsView(View):
    """The case's fund ledger: deducted, paid out and held (yuan)."""

    model_config = with_example(
        {
            "case_id": "case_3f2a9c0d1e4b5a6c7d8e",
            "deducted": "20000.00",
            "paid": "5000.00",
            "held": "15000.00",
            "deductions": [
                {
                    "order_id": "ord_0a1b2c3d4e5f6a7b8c9d",
                    "asset_id": "bank:icbc:6222020000000001",
                    "amount": "20000.00",
                    "deducted_at": "2026-11-30T08:00:00+00:00",
                    "held": "15000.00",
                    "reminded_at": None,
                }
            ],
            "payouts": [_PAYOUT],
        }
    )
    case_id: str
    deducted: MoneyText
    paid: MoneyText
    held: MoneyText
    deductions: list[DeductionView]
    payouts: list[PayoutView]


class OpsLag(View):
    """The lag sampler's evaluation per consumer group and partition (``hub.lag``). ``sampled_at``:
    when the offsets were last read (RFC 3339); ``now`` and each group's ``history`` times are Unix
    seconds, the time base the desk's charts plot."""

    model_config = with_example(
        {
            "sampled_at": "2026-11-30T08:00:00+00:00",
            "now": 1796025601.0,
            "samples": 12,
            "interval_seconds": 5.0,
            "window": 10,
            "stop_seconds": 60.0,
            "error": None,
            "status_codes": {"ok": 0, "warn": 1, "stall": 2, "stop": 3, "rewind": 4},
            "groups": [],
        }
    )
    sampled_at: Timestamp | None = None
    now: float = Field(description="Unix seconds")
    samples: int
    interval_seconds: float
    window: int
    stop_seconds: float
    error: str | None = None
    status_codes: dict[str, int]
    groups: list[dict[str, Any]]


class OpsAgencies(View):
    """Agency health from the connectors (``reachable``, circuit, calls) with dead-letter counts."""

    model_config = with_example(
        {
            "connectors": "ok",
            "agencies": {"police": {"reachable": True, "dead_letters_recorded": 0}},
            "dead_letters": [],
            "dead_letters_total": 0,
        }
    )
    connectors: str
    agencies: dict[str, dict[str, Any]]
    dead_letters: list[dict[str, Any]]
    dead_letters_total: int


class Health(View):
    """``status`` ``ok`` (HTTP 200) or ``degraded`` (HTTP 503); each component ``ok`` or a sentence."""

    model_config = with_example(
        {"status": "ok", "components": {"database": "ok", "broker": "ok"}, "loops": {"outbox relay": {}}}
    )
    status: Literal["ok", "degraded"]
    components: dict[str, str]
    loops: dict[str, Any]
