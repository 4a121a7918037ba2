"""First-seizure transfers without a database: the bodies' validation (``priority_claim`` on a
control order, the request, the answer, the disposal), which order is a first seizure, the
disposal deadline, the request's view, and the routes' declared answers."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import ValidationError

from gateway.main import create_app
from gateway.transfers import disposal_due_at, is_first, order_ref, request_view
from hub.settings import HubSettings
from schemas.models import ControlOrderCreate
from schemas.transfers import DisposalCreate, TransferAnswerCreate, TransferRequestCreate

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
ASKING = {"officer": "officer-1", "approved_by": "judge-1"}
ORDER = {
    "case_id": "case_1",
    "asset_id": "real_estate/flat",
    "approved_by": "judge-1",
    "officer": "officer-1",
    "purpose": "查明被执行人财产",
    "legal_basis": "(2026)鄂0111执1号",
}
MORTGAGE = {"kind": "mortgage", "reference": "鄂(2019)武汉市不动产证明第0090001号"}


def locs(e: ValidationError) -> list[tuple[Any, ...]]:
    return [tuple(x["loc"]) for x in e.errors()]


def test_a_priority_claim_is_stated_on_a_seizure_or_a_freeze_only() -> None:
    seize = ControlOrderCreate(**ORDER, action="seize", priority_claim=MORTGAGE)
    assert seize.priority_claim is not None and seize.priority_claim.model_dump() == MORTGAGE
    assert ControlOrderCreate(**ORDER, action="seize").priority_claim is None
    with pytest.raises(ValidationError) as e:
        ControlOrderCreate(**ORDER, action="release", priority_claim=MORTGAGE)
    assert locs(e.value) == [("priority_claim",)] and "seize and freeze" in str(e.value)
    for claim, where in (
        ({"kind": "hypothec", "reference": "x"}, ("priority_claim", "kind")),
        ({"kind": "mortgage"}, ("priority_claim", "reference")),
        ({"kind": "mortgage", "reference": " \u200b "}, ("priority_claim", "reference")),
        ({**MORTGAGE, "amount": "1.00"}, ("priority_claim", "amount")),
        ("mortgage", ("priority_claim",)),
    ):
        with pytest.raises(ValidationError) as e:
            ControlOrderCreate(**ORDER, action="seize", priority_claim=claim)
        assert locs(e.value) == [where], claim


def test_request_answer_and_disposal_bodies_name_the_field_at_fault() -> None:
    assert TransferRequestCreate(**ASKING).note is None
    cases: list[tuple[type[Any], dict[str, Any], tuple[Any, ...]]] = [
        (TransferRequestCreate, {"approved_by": "judge-1"}, ("officer",)),
        (TransferRequestCreate, {**ASKING, "note": "x" * 2001}, ("note",)),
        (TransferAnswerCreate, {**ASKING, "decision": "maybe", "reason": "r"}, ("decision",)),
        (TransferAnswerCreate, {**ASKING, "decision": "refuse"}, ("reason",)),
        (TransferAnswerCreate, {**ASKING, "decision": "refuse", "reason": "\n "}, ("reason",)),
        (DisposalCreate, {**ASKING, "method": "lottery"}, ("method",)),
        (DisposalCreate, {**ASKING, "method": "auction", "reference": ""}, ("reference",)),
        (DisposalCreate, {**ASKING, "method": "auction", "started_at": "2026-01-01"}, ("started_at",)),
    ]
    for model, body, where in cases:
        with pytest.raises(ValidationError) as e:
            model(**body)
        assert locs(e.value) == [where], (model.__name__, body)
    answer = TransferAnswerCreate(**ASKING, decision="accept", reason="同意移送\n(transfer agreed)")
    assert answer.decision == "accept"


def row(status: str = "effective", position: int | None = 0, action: str = "seize", **state: Any) -> Any:
    full = {"position": position, "action": action, "effective_at": T0.isoformat(), **state}
    request = {"action": action, "command": {"asset": {"ref": "鄂(2019)第1号"}}}
    return SimpleNamespace(order_id="ord_1", status=status, state=full, request=request)


def test_a_first_seizure_is_a_seizure_or_freeze_in_effect_at_the_head_of_the_queue() -> None:
    assert is_first(row()) and is_first(row("partial", action="freeze"))
    assert not is_first(row("waiting", 1))
    assert not is_first(row("released", None))
    assert not is_first(row(action="deduct"))
    assert order_ref(row()) == "鄂(2019)第1号"
    assert order_ref(SimpleNamespace(request={})) is None


def test_the_disposal_deadline_runs_from_when_the_first_seizure_took_effect() -> None:
    settings = HubSettings(court_tokens="court-a:t", transfer_disposal_days=60)
    assert disposal_due_at(row(), settings) == T0 + dt.timedelta(days=60)
    assert disposal_due_at(row(effective_at=None), settings) is None
    shorter = HubSettings(court_tokens="court-a:t", transfer_disposal_days=0.5)
    assert disposal_due_at(row(), shorter) == T0 + dt.timedelta(hours=12)


def test_a_request_view_says_whether_the_answer_came_in_time() -> None:
    base = {
        "request_id": "trq_1",
        "status": "refused",
        "asset_id": "real_estate/flat",
        "asset_ref": "鄂(2019)第1号",
        "first_court_id": "court-a",
        "first_order_id": "ord_a",
        "court_id": "court-b",
        "order_id": "ord_b",
        "priority_claim": MORTGAGE,
        "note": None,
        "requested_at": T0,
        "answer_due_at": T0 + dt.timedelta(days=15),
        "overdue_at": None,
        "decision": "refuse",
        "reason": "r",
    }
    on_time = request_view(SimpleNamespace(**base, answered_at=T0 + dt.timedelta(days=15)))
    assert on_time["answer"] == {
        "decision": "refuse",
        "reason": "r",
        "answered_at": (T0 + dt.timedelta(days=15)).isoformat(),
        "on_time": True,
    }
    assert (on_time["first"], on_time["priority"]) == (
        {"court_id": "court-a", "order_id": "ord_a"},
        {"court_id": "court-b", "order_id": "ord_b"},
    )
    late = request_view(SimpleNamespace(**base, answered_at=T0 + dt.timedelta(days=15, seconds=1)))
    assert late["answer"]["on_time"] is False
    unanswered = request_view(
        SimpleNamespace(**{**base, "decision": None, "status": "open"}, answered_at=None)
    )
    assert unanswered["answer"] is None and unanswered["status"] == "open"


def test_every_transfer_route_declares_its_answer_and_its_errors() -> None:
    app = create_app(HubSettings(court_tokens="court-a:t"))
    paths = app.openapi()["paths"]
    expected = {
        ("/v1/control-orders/{order_id}/disposal", "post"): ("201", {"401", "403", "404", "409", "422"}),
        ("/v1/control-orders/{order_id}/transfer-requests", "post"): (
            "201",
            {"401", "403", "404", "409", "422"},
        ),
        ("/v1/control-orders/{order_id}/transfer-requests", "get"): ("200", {"401", "404", "422"}),
        ("/v1/control-orders/{order_id}/transfer-requests/{request_id}/answer", "post"): (
            "200",
            {"401", "403", "404", "409", "422"},
        ),
    }
    for (path, method), (ok, errors) in expected.items():
        responses = paths[path][method]["responses"]
        assert "$ref" in str(responses[ok]["content"]["application/json"]["schema"]), (path, method)
        assert errors <= set(responses), (path, method, sorted(responses))
