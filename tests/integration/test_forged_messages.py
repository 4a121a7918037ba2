"""Forged messages put straight onto the hub's topics of a running hub are refused: the court's data
stays as it was and each forgery is dead-lettered with ``error_class`` ``ForgedMessage`` and the reason
(gateway/producer_checks.py for the read model, streams/producer_checks.py for the stream agents)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
import uuid
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from gateway.db import Database
from hub.signing import (
    MESSAGE_KEY_HEADER,
    MESSAGE_SIGNATURE_HEADER,
    STREAMS_SIGNER,
    Signer,
    message_headers,
    signer_dir,
)
from schemas.agencies import AssetKind
from schemas.codec import encode
from schemas.models import (
    AgencyRequest,
    AgencyResponse,
    Applicant,
    Case,
    CaseRegistered,
    ControlCommand,
    ControlOrderState,
    ControlOutcome,
    CourtEvent,
    DeadlineReached,
    InquiryResult,
    Party,
)
from schemas.topics import (
    AGENCY_RESPONSES,
    CONTROL_RESULTS,
    COURT_COMMANDS,
    COURT_OUTCOMES,
    INQUIRY_DEADLINES,
    INQUIRY_RESULTS,
    agency_controls_topic,
    agency_requests_topic,
)

from .conftest import HubClient, unique_case_number
from .planted import RICH

pytestmark = pytest.mark.integration

NOW = dt.datetime.now(dt.UTC)


def _produce(hub: HubClient, items: list[tuple[str, str, bytes]]) -> None:
    async def run() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=hub.settings.bootstrap)
        await producer.start()
        try:
            for topic, key, value in items:
                await producer.send_and_wait(topic, value, key=key.encode())
        finally:
            await producer.stop()

    asyncio.run(run())


def _forged_letters(hub: HubClient, marker: str, count: int, timeout: float = 45.0) -> list[dict[str, Any]]:
    """The dead letters the gateway recorded whose original message carries ``marker`` (at least
    ``count`` of them, waiting up to ``timeout`` s)."""

    async def read() -> list[dict[str, Any]]:
        db = Database(hub.settings.resolved_database_url)
        try:
            return await db.recent_dead_letters(limit=2000)
        finally:
            await db.close()

    deadline = time.monotonic() + timeout
    while True:
        mine = [x for x in asyncio.run(read()) if marker in x["value"] or marker in (x.get("key") or "")]
        if len(mine) >= count:
            return mine
        assert time.monotonic() < deadline, f"{len(mine)} of {count} dead letters: {mine}"
        time.sleep(0.5)


@pytest.fixture(scope="module")
def settled(hub: HubClient) -> dict[str, Any]:
    """A case of court-a and its settled inquiry about the planted debtor, with assets."""
    case_id = hub.create_case([RICH])
    inquiry_id = hub.inquire(case_id, RICH)
    result = hub.wait_result(inquiry_id, timeout=60)
    assert result["assets"], result
    return {"case_id": case_id, "inquiry_id": inquiry_id, "result": result}


def _unchanged(hub: HubClient, settled: dict[str, Any]) -> None:
    now = hub.court_a.get(f"/v1/inquiries/{settled['inquiry_id']}").json()
    before = settled["result"]
    assert now["status"] == before["status"]
    assert {a["asset_id"] for a in now["assets"]} == {a["asset_id"] for a in before["assets"]}
    assert {k: v["status"] for k, v in now["agencies"].items()} == {
        k: v["status"] for k, v in before["agencies"].items()
    }


def test_a_forged_result_does_not_wipe_the_courts_result(hub: HubClient, settled: dict[str, Any]) -> None:
    marker = f"forged-result-{uuid.uuid4().hex[:8]}"
    inquiry_id = settled["inquiry_id"]
    wiped = InquiryResult(
        inquiry_id=inquiry_id,
        case_id=settled["case_id"],
        court_id="court-b",  # another court's system writing onto the results topic
        status="complete",
        detail=marker,
        updated_at=NOW,
        completed_at=NOW,
        version=10_000,
    )
    other_case = wiped.model_copy(update={"court_id": "court-a", "case_id": f"case_{marker}"})
    unknown = wiped.model_copy(update={"inquiry_id": f"inq_{marker}"})  # court-b claims court-a's case
    _produce(hub, [(INQUIRY_RESULTS, m.inquiry_id, encode(m)) for m in (wiped, other_case, unknown)])

    letters = _forged_letters(hub, marker, 3)
    assert {x["stage"] for x in letters} == {"gateway.readmodel.producer_check"}
    assert {x["error_class"] for x in letters} == {"ForgedMessage"}
    reasons = sorted(x["reason"] for x in letters)
    assert any(r.startswith("court_id: 'court-b' is not the court_id of inquiry") for r in reasons), reasons
    assert any(r.startswith("case_id: 'case_forged-result") for r in reasons), reasons
    assert any("is unknown and case" in r for r in reasons), reasons
    _unchanged(hub, settled)
    assert hub.court_a.get(f"/v1/inquiries/{inquiry_id}").json()["assets"] == settled["result"]["assets"]
    assert hub.court_b.get(f"/v1/inquiries/{unknown.inquiry_id}").status_code == 404


def test_a_forged_court_event_makes_no_order_visible_to_another_court(
    hub: HubClient, settled: dict[str, Any]
) -> None:
    marker = f"forged-event-{uuid.uuid4().hex[:8]}"
    order_id = f"ord_{marker}"
    state = ControlOrderState(
        order_id=order_id,
        case_id=settled["case_id"],  # court-a's case
        court_id="court-b",
        asset_id=settled["result"]["assets"][0]["asset_id"],
        agency=settled["result"]["assets"][0]["agency"],
        action="freeze",
        amount="1.00",
        status="effective",
        approved_by="judge-b",
        requested_at=NOW,
    )
    event = CourtEvent(
        event_id=f"evt_{marker}",
        kind="effective",
        case_id=settled["case_id"],
        court_id="court-b",
        order_id=order_id,
        order=state,
        at=NOW,
    )
    _produce(hub, [(COURT_OUTCOMES, settled["case_id"], encode(event))])

    [letter] = _forged_letters(hub, marker, 1)
    assert letter["stage"] == "gateway.readmodel.producer_check"
    assert letter["error_class"] == "ForgedMessage"
    assert letter["reason"].startswith(f"case_id: order {order_id} is unknown and case")
    assert hub.court_b.get(f"/v1/control-orders/{order_id}").status_code == 404
    assert hub.court_a.get(f"/v1/control-orders/{order_id}").status_code == 404


def test_forged_messages_to_the_streams_are_dead_lettered_and_change_nothing(
    hub: HubClient, settled: dict[str, Any]
) -> None:
    marker = f"forged-streams-{uuid.uuid4().hex[:8]}"
    inquiry_id, case_id = settled["inquiry_id"], settled["case_id"]
    # an answer from an agency that was asked, for a request the hub never sent
    wrong_request = AgencyResponse(
        request_id=f"{marker}/police",
        inquiry_id=inquiry_id,
        case_id=case_id,
        agency="police",
        status="no_record",
        detail=marker,
        responded_at=NOW,
        idempotency_key=marker,
    )
    # an answer naming another case
    wrong_case = wrong_request.model_copy(update={"request_id": f"{inquiry_id}/police", "case_id": marker})
    # an outcome of an order the case never placed
    outcome = ControlOutcome(
        order_id=f"ord_{marker}",
        case_id=case_id,
        court_id="court-a",
        agency="bank:icbc",
        asset_ref="6222020200700000001",
        action="freeze",
        outcome="released",
        decided_at=NOW,
        idempotency_key=marker,
    )
    # court-b re-registers court-a's case as its own
    hijack = CaseRegistered(
        case=Case(
            case_id=case_id,
            court_id="court-b",
            created_at=NOW,
            case_number=unique_case_number(),
            applicant=Applicant(name=f"申请人{marker}"),
            debtors=[Party(**RICH)],
            amount_owed="1.00",
            costs="0.00",
        ),
        idempotency_key=marker,
    )
    # a deadline tick from the future for the inquiry
    early = DeadlineReached(inquiry_id=inquiry_id, at=NOW + dt.timedelta(days=400))
    _produce(
        hub,
        [
            (AGENCY_RESPONSES, inquiry_id, encode(wrong_request)),
            (AGENCY_RESPONSES, inquiry_id, encode(wrong_case)),
            (CONTROL_RESULTS, case_id, encode(outcome)),
            (COURT_COMMANDS, case_id, encode(hijack)),
            (INQUIRY_DEADLINES, marker, encode(early)),
        ],
    )
    # every dead letter carries the marker in its original message or, for the tick, in its key
    letters = _forged_letters(hub, marker, 5)
    by_stage: dict[str, list[str]] = {}
    for x in letters:
        assert x["error_class"] == "ForgedMessage", x
        by_stage.setdefault(x["stage"], []).append(x["reason"])
    responses = sorted(by_stage["streams.agency_responses"])
    assert any(r.startswith("request_id: ") for r in responses), responses
    assert any(r.startswith(f"case_id: {marker} is not the case of inquiry") for r in responses), responses
    assert by_stage["streams.control_results"] == [f"order_id: case {case_id} has no order ord_{marker}"]
    assert by_stage["streams.court_commands"][0].startswith(f"case.court_id: case {case_id} is registered")
    assert by_stage["streams.inquiry_deadlines"][0].startswith("at: ")
    _unchanged(hub, settled)

    # the case is still court-a's in the streams: a new inquiry of court-a is answered, not rejected
    again = hub.wait_result(hub.inquire(case_id, RICH, agencies=["police"]), timeout=60)
    assert again["status"] == "complete", again


def _produce_with_headers(
    hub: HubClient, items: list[tuple[str, bytes, bytes, list[tuple[str, bytes]]]]
) -> None:
    async def run() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=hub.settings.bootstrap)
        await producer.start()
        try:
            for topic, key, value, headers in items:
                await producer.send_and_wait(topic, value, key=key, headers=headers)
        finally:
            await producer.stop()

    asyncio.run(run())


def test_messages_forged_onto_agency_topics_never_reach_the_registry(hub: HubClient) -> None:
    """Anyone who can write to the broker but holds no key cannot make the connectors freeze an
    asset or query a registry: unsealed, badly sealed and replayed-to-another-topic messages on an
    agency's control and request topics are dead-lettered (``connector.seal``, ``ForgedMessage``)."""
    marker = f"forged-agency-{uuid.uuid4().hex[:8]}"
    assert hub.settings.signing_keys_dir is not None
    signer = Signer(signer_dir(hub.settings.signing_keys_dir, STREAMS_SIGNER))
    freeze = ControlCommand(
        order_id=f"ord_{marker}",
        case_id=f"case_{marker}",
        court_id="court-a",
        case_number="(2026)鄂0111执1号",
        agency="bank:icbc",
        asset_kind=AssetKind.deposit,
        asset_ref="6222020200700000001",
        action="freeze",
        amount="1000.00",
        period_days=365,
        approved_by="judge-a",
        requested_at=NOW,
        idempotency_key=marker,
        officer="officer-court-a-1",
        purpose="a forged freeze",
        legal_basis="none",
    )
    query = AgencyRequest(
        request_id=f"inq_{marker}/police",
        inquiry_id=f"inq_{marker}",
        case_id=f"case_{marker}",
        court_id="court-a",
        agency="police",
        subject=Party(name=RICH["name"], id_type=RICH["id_type"], id_number=RICH["id_number"]),
        identifiers=[],
        deadline=NOW + dt.timedelta(minutes=5),
        idempotency_key=marker,
        officer="officer-court-a-1",
        purpose="a forged query",
        legal_basis="none",
    )
    controls, requests = agency_controls_topic("bank:icbc"), agency_requests_topic("police")
    key = f"inq_{marker}".encode()
    bad_sig = [(MESSAGE_KEY_HEADER, signer.key_id.encode()), (MESSAGE_SIGNATURE_HEADER, b"A" * 86)]
    # sealed for the police's request topic, then copied onto the bank's control topic
    replayed_freeze = encode(freeze)
    moved = message_headers(signer, requests, key, replayed_freeze)
    _produce_with_headers(
        hub,
        [
            (controls, key, encode(freeze), []),
            (controls, key, replayed_freeze, moved),
            (requests, key, encode(query), bad_sig),
        ],
    )
    letters = _forged_letters(hub, marker, 3)
    assert {x["stage"] for x in letters} == {"connector.seal"}
    assert {x["error_class"] for x in letters} == {"ForgedMessage"}
    reasons = sorted(x["reason"] for x in letters)
    assert any(r.startswith("seal: signature missing") for r in reasons), reasons
    assert sum("does not verify" in r for r in reasons) == 2, reasons
    assert all("only the hub's stream worker may send" in r for r in reasons), reasons
    for agency in ("bank:icbc", "police"):  # nothing forged was asked of a registry
        assert marker not in json.dumps(hub.registry_requesters(agency), ensure_ascii=False)
    # the same kind of message, sealed by the stream worker, is served: a real inquiry still completes
    case_id = hub.create_case([RICH])
    assert hub.wait_result(hub.inquire(case_id, RICH), timeout=60)["status"] == "complete"
