"""API bodies and views of first-seizure transfers (DOMAIN rule 7, SPC reply 法释〔2016〕6号).

The court that seized an asset first disposes of it (auction, sale). A court enforcing a priority
claim on the asset (its waiting control order states ``priority_claim``, e.g. a mortgage) may ask
for the transfer of the disposal once ``HUB_TRANSFER_DISPOSAL_DAYS`` (60) have passed since the
first seizure took effect without the first court recording the start of disposal; the first court
answers within ``HUB_TRANSFER_ANSWER_DAYS`` (15).

- ``POST /v1/control-orders/{order_id}/disposal`` (the first court, its order) takes
  :class:`DisposalCreate` and answers :class:`DisposalView`;
- ``POST /v1/control-orders/{order_id}/transfer-requests`` (the waiting court, its order stating
  ``priority_claim``) takes :class:`TransferRequestCreate` and answers :class:`TransferRequestView`;
- ``POST /v1/control-orders/{order_id}/transfer-requests/{request_id}/answer`` (the first court,
  its order) takes :class:`TransferAnswerCreate` and answers :class:`TransferRequestView`;
- ``GET /v1/control-orders/{order_id}/transfer-requests`` (either court, its order) answers
  :class:`OrderTransfersView`.

Times in views are RFC 3339 text by the hub's clock.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .models import OfficerId, Visible, _Strict
from .termination import Reason
from .views import Timestamp

__all__ = [
    "DisposalCreate",
    "DisposalView",
    "FirstSeizureView",
    "OrderTransfersView",
    "TransferAnswerCreate",
    "TransferAnswerView",
    "TransferParty",
    "TransferRequestCreate",
    "TransferRequestView",
]

Judge = Visible


class TransferRequestCreate(_Strict):
    """``officer``: an officer of the asking court (``HUB_COURT_OFFICERS``); ``approved_by``: a judge
    of the asking court (``HUB_COURT_JUDGES``); ``note``: optional free text for the first court (at
    most 2,000 characters, line breaks allowed), e.g. the mortgage's secured amount."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"officer": "officer-1", "approved_by": "judge-1", "note": "抵押担保 50 万元"}]
        }
    )

    officer: OfficerId
    approved_by: Judge = Field(min_length=1, max_length=100, description="a judge of the asking court")
    note: Reason | None = Field(default=None, description="for the first court (free text)")


class TransferAnswerCreate(_Strict):
    """``decision``: ``accept`` (the first court transfers the disposal to the priority court) or
    ``refuse``; ``reason``: why (free text, at most 2,000 characters, required either way);
    ``officer`` and ``approved_by``: an officer and a judge of the first court."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "decision": "accept",
                    "reason": "the mortgage ranks first; disposal has not started",
                    "officer": "officer-1",
                    "approved_by": "judge-1",
                }
            ]
        }
    )
    decision: Literal["accept", "refuse"]
    reason: Reason = Field(description="why the first court accepts or refuses")
    officer: OfficerId
    approved_by: Judge = Field(min_length=1, max_length=100, description="a judge of the first court")


class DisposalCreate(_Strict):
    """``method``: ``auction`` (拍卖), ``sale`` (变卖) or ``other``; ``reference``: optional, e.g. the
    auction announcement's number or listing (one line, at most 300 characters); ``officer`` and
    ``approved_by``: an officer and a judge of the first court."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "method": "auction",
                    "reference": "(2026)鄂0111执恢12号拍卖公告",
                    "officer": "officer-1",
                    "approved_by": "judge-1",
                }
            ]
        }
    )
    method: Literal["auction", "sale", "other"]
    reference: Visible | None = Field(
        default=None, min_length=1, max_length=300, description="e.g. the auction announcement's number"
    )
    officer: OfficerId
    approved_by: Judge = Field(min_length=1, max_length=100, description="a judge of the first court")


_DISPOSAL: dict[str, Any] = {
    "order_id": "ord_first0000000000000",
    "asset_id": "real_estate/real_estate/鄂(2018)武汉市不动产权第0800001号",
    "method": "auction",
    "reference": "(2026)鄂0111执恢12号拍卖公告",
    "started_at": "2026-12-01T08:00:00+00:00",
}
_REQUEST: dict[str, Any] = {
    "request_id": "trq_0a1b2c3d4e5f6a7b8c9d",
    "status": "open",
    "asset_id": "real_estate/real_estate/鄂(2018)武汉市不动产权第0800001号",
    "ref": "鄂(2018)武汉市不动产权第0800001号",
    "first": {"court_id": "court-a", "order_id": "ord_first0000000000000"},
    "priority": {"court_id": "court-b", "order_id": "ord_waiting00000000000"},
    "priority_claim": {"kind": "mortgage", "reference": "鄂(2019)武汉市不动产证明第0012345号"},
    "note": None,
    "requested_at": "2026-12-01T08:00:00+00:00",
    "answer_due_at": "2026-12-16T08:00:00+00:00",
    "overdue_at": None,
    "answer": None,
}


class TransferParty(BaseModel):
    """One side of a transfer: the court and its control order on the asset."""

    court_id: str
    order_id: str


class TransferAnswerView(BaseModel):
    decision: Literal["accept", "refuse"]
    reason: str
    answered_at: Timestamp
    on_time: bool = Field(description="answered by answer_due_at")


class TransferRequestView(BaseModel):
    """A transfer request as both courts see it (and as lifecycle events carry it).

    ``status``: ``open`` until answered, then ``accepted`` or ``refused``; ``first``: the
    first-seizing court and its order; ``priority``: the asking court and its waiting order, with
    its ``priority_claim``; ``answer_due_at``: ``requested_at`` plus ``HUB_TRANSFER_ANSWER_DAYS``;
    ``overdue_at``: when the hub reported the request unanswered past ``answer_due_at`` (null
    until then); ``answer``: null until answered."""

    model_config = ConfigDict(json_schema_extra={"examples": [_REQUEST]})

    request_id: str
    status: Literal["open", "accepted", "refused"]
    asset_id: str
    ref: str | None = Field(description="the registry's own reference of the asset")
    first: TransferParty
    priority: TransferParty
    priority_claim: dict[str, Any]
    note: str | None
    requested_at: Timestamp
    answer_due_at: Timestamp
    overdue_at: Timestamp | None
    answer: TransferAnswerView | None


class DisposalView(BaseModel):
    """The start of disposal the first court recorded for its order (``started_at``: hub clock)."""

    model_config = ConfigDict(json_schema_extra={"examples": [_DISPOSAL]})

    order_id: str
    asset_id: str
    method: Literal["auction", "sale", "other"]
    reference: str | None
    started_at: Timestamp


class FirstSeizureView(BaseModel):
    """The first seizure of the asset the hub knows of: ``effective_at`` (when the agency registered
    it), ``disposal_due_at`` (``effective_at`` plus ``HUB_TRANSFER_DISPOSAL_DAYS``: from then a
    priority court may ask for transfer unless disposal started) and ``disposal`` (null until the
    first court records it)."""

    court_id: str
    order_id: str
    effective_at: Timestamp
    disposal_due_at: Timestamp
    disposal: DisposalView | None


class OrderTransfersView(BaseModel):
    """``role``: ``first`` (the order is the asset's first seizure), ``priority`` (a waiting order
    stating ``priority_claim``) or ``none``; ``first_seizure``: as :class:`FirstSeizureView` (null
    when no order of the hub is in effect on the asset); ``items``: the transfer requests the order
    made or received, oldest first."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "order_id": "ord_first0000000000000",
                    "role": "first",
                    "priority_claim": None,
                    "first_seizure": {
                        "court_id": "court-a",
                        "order_id": "ord_first0000000000000",
                        "effective_at": "2026-11-30T08:00:00+00:00",
                        "disposal_due_at": "2027-02-28T08:00:00+00:00",
                        "disposal": None,
                    },
                    "items": [_REQUEST],
                }
            ]
        }
    )

    order_id: str
    role: Literal["first", "priority", "none"]
    priority_claim: dict[str, Any] | None
    first_seizure: FirstSeizureView | None
    items: list[TransferRequestView]
