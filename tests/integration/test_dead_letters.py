"""Malformed messages put straight onto each input topic land in the dead-letter topic with their
reason, and the pipeline keeps serving the next good message."""

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
from hub.signing import STREAMS_SIGNER, Signer, message_headers, signer_dir
from schemas.codec import encode
from schemas.models import DebtorRef, InquiryRequested, InquiryResult
from schemas.topics import (
    AGENCY_RESPONSES,
    COURT_COMMANDS,
    COURT_OUTCOMES,
    DEAD_LETTERS,
    INQUIRY_DEADLINES,
    INQUIRY_OPENED,
    INQUIRY_RESULTS,
    agency_requests_topic,
)

from .conftest import HubClient, read_topic
from .planted import RICH, STRANGER

pytestmark = pytest.mark.integration


def _letter(message: Any) -> dict[str, Any] | None:
    """A dead letter as JSON; None for what is not (a test puts malformed messages on that topic too)."""
    try:
        letter = json.loads(message.value)
    except (TypeError, ValueError):
        return None
    return letter if isinstance(letter, dict) and "source_topic" in letter else None


async def _produce(
    bootstrap: str, items: list[tuple[str, bytes, bytes]], signer: Signer | None = None
) -> None:
    """Send ``items``; with ``signer``, messages to the agencies' topics carry the stream worker's
    seal, as a malformed message the hub itself sent would (an unsealed one is refused as forged
    before it is decoded: test_forged_messages.py)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for topic, key, value in items:
            sealed = signer is not None and topic.startswith("hub.agency.")
            headers = message_headers(signer, topic, key, value) if sealed and signer else None
            await producer.send_and_wait(topic, value, key=key, headers=headers)
    finally:
        await producer.stop()


def test_malformed_messages_are_dead_lettered_and_the_pipeline_keeps_serving(hub: HubClient) -> None:
    marker = uuid.uuid4().hex
    bad_json = f'{{"oops": "{marker}"'.encode()
    wrong_shape = json.dumps({"type": "inquiry_requested", "inquiry_id": marker}).encode()
    inputs = {
        COURT_COMMANDS: wrong_shape,
        INQUIRY_OPENED: bad_json,
        INQUIRY_DEADLINES: bad_json,
        AGENCY_RESPONSES: json.dumps({"inquiry_id": marker, "status": "answered"}).encode(),
        **{agency_requests_topic(a): bad_json for a in hub.settings.agencies},
    }
    assert hub.settings.signing_keys_dir is not None
    signer = Signer(signer_dir(hub.settings.signing_keys_dir, STREAMS_SIGNER))
    items = [(t, marker.encode(), v) for t, v in inputs.items()]
    asyncio.run(_produce(hub.settings.bootstrap, items, signer))

    kept = read_topic(
        hub.settings.bootstrap,
        DEAD_LETTERS,
        select=lambda m: x if (x := _letter(m)) and marker in x["value"] else None,
        done=lambda kept: {k["source_topic"] for k in kept} >= set(inputs),
        timeout=30,
    )
    letters = {k["source_topic"]: k for k in kept}
    assert set(letters) == set(inputs)
    for topic, letter in letters.items():
        assert letter["reason"], topic
        assert letter["stage"], topic
        assert letter["error_class"] == "CodecError", topic
    assert "case_id: Field required" in letters[COURT_COMMANDS]["reason"]

    # the next good message is still served
    case_id = hub.create_case([RICH])
    result = hub.wait_result(hub.inquire(case_id, RICH, agencies=["police"]))
    assert result["status"] == "complete"


def test_streams_refuse_an_inquiry_about_a_non_debtor_arriving_by_topic(hub: HubClient) -> None:
    """A court system may publish to the commands topic itself; the streams check the case too."""
    case_id = hub.create_case([RICH])
    # the case's registration leaves the gateway through its outbox; once an inquiry has been answered,
    # the streams know the case, and a command published now cannot overtake the registration
    hub.wait_result(hub.inquire(case_id, RICH, agencies=["police"]))
    inquiry_id = f"inq_topic_{uuid.uuid4().hex[:12]}"
    command = InquiryRequested(
        inquiry_id=inquiry_id,
        case_id=case_id,
        court_id="court-a",
        debtor=DebtorRef(id_type="resident_id", id_number=STRANGER["id_number"]),
        agencies=["police"],
        requested_at=dt.datetime.now(dt.UTC),
        idempotency_key=inquiry_id,
    )
    asyncio.run(_produce(hub.settings.bootstrap, [(COURT_COMMANDS, case_id.encode(), encode(command))]))
    deadline = time.monotonic() + 30
    while hub.court_a.get(f"/v1/inquiries/{inquiry_id}").status_code == 404:  # the gateway never saw it
        assert time.monotonic() < deadline, "no result reached the read model"
        time.sleep(0.2)
    result = hub.wait_result(inquiry_id)
    assert result["status"] == "rejected"
    assert "not a debtor" in result["detail"]


async def _produce_at(bootstrap: str, items: list[tuple[str, bytes, bytes]]) -> list[tuple[str, int, int]]:
    """Produce in order; (topic, partition, offset) of each message."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, max_request_size=2 << 20)
    await producer.start()
    try:
        placed = []
        for topic, key, value in items:
            meta = await producer.send_and_wait(topic, value, key=key)
            placed.append((topic, meta.partition, meta.offset))
        return placed
    finally:
        await producer.stop()


def _oversized(marker: str) -> bytes:
    """A malformed message of 900 kB (unterminated JSON): its dead letter must still fit."""
    return ('{"inquiry_id": "' + marker + '", "pad": "' + "x" * 900_000 + '"').encode()


def test_an_oversized_malformed_message_is_dead_lettered_cut_and_the_agent_serves_the_next(
    hub: HubClient,
) -> None:
    marker = uuid.uuid4().hex
    value = _oversized(marker)
    [(topic, partition, offset)] = asyncio.run(
        _produce_at(hub.settings.bootstrap, [(AGENCY_RESPONSES, marker.encode(), value)])
    )
    [letter] = read_topic(
        hub.settings.bootstrap,
        DEAD_LETTERS,
        select=lambda m: (
            x
            if (x := _letter(m))
            and x["source_topic"] == topic
            and x["offset"] == offset
            and x["partition"] == partition
            else None
        ),
        done=lambda kept: bool(kept),
        timeout=30,
    )
    assert letter["truncated"] and letter["value_size"] == len(value)
    assert letter["value"].startswith('{"inquiry_id": "' + marker) and len(letter["value"]) < len(value)
    assert letter["stage"] == "streams.agency_responses.decode" and letter["error_class"] == "CodecError"
    case_id = hub.create_case([RICH])
    assert hub.wait_result(hub.inquire(case_id, RICH, agencies=["police"]))["status"] == "complete"


def _recorded_dead_letters(hub: HubClient) -> list[dict[str, Any]]:
    async def run() -> list[dict[str, Any]]:
        db = Database(hub.settings.resolved_database_url)
        try:
            return await db.recent_dead_letters(limit=1000)
        finally:
            await db.close()

    return asyncio.run(run())


def test_a_poisoned_results_topic_does_not_stop_the_read_model(hub: HubClient) -> None:
    """Malformed and oversized messages on every topic the gateway reads: each is dead-lettered with
    its partition and offset (those of the dead-letter topic itself are recorded in the database),
    and the result that follows them is stored and served."""
    marker = uuid.uuid4().hex
    key = f"inq_poison_{marker[:12]}".encode()
    unterminated = f'{{"inquiry_id": "{marker}"'.encode()
    wrong_shape = json.dumps({"inquiry_id": marker, "status": "complete", "version": "one"}).encode()
    poison = [
        (INQUIRY_RESULTS, key, unterminated),
        (INQUIRY_RESULTS, key, wrong_shape),
        (INQUIRY_RESULTS, key, _oversized(marker)),
        (COURT_OUTCOMES, key, unterminated),
        (COURT_OUTCOMES, key, _oversized(marker)),
        (DEAD_LETTERS, key, unterminated),
        (DEAD_LETTERS, key, _oversized(marker)),
    ]
    now = dt.datetime.now(dt.UTC)
    # a result of an inquiry the gateway never saw is stored only for a case of the same court
    # (gateway/producer_checks.py)
    good = InquiryResult(
        inquiry_id=key.decode(),
        case_id=hub.create_case([RICH]),
        court_id="court-a",
        status="complete",
        updated_at=now,
        completed_at=now,
        version=1,
    )
    placed = asyncio.run(_produce_at(hub.settings.bootstrap, [*poison, (INQUIRY_RESULTS, key, encode(good))]))

    # the result published after the poison on the same partition is stored and served
    deadline = time.monotonic() + 30
    while (r := hub.court_a.get(f"/v1/inquiries/{key.decode()}")).status_code == 404:
        assert time.monotonic() < deadline, "the read model did not serve the result after the poison"
        time.sleep(0.2)
    assert r.json()["status"] == "complete"

    expected = {p for p in placed[:5]}
    letters = read_topic(
        hub.settings.bootstrap,
        DEAD_LETTERS,
        select=lambda m: (
            x if (x := _letter(m)) and (x["source_topic"], x["partition"], x["offset"]) in expected else None
        ),
        done=lambda kept: len(kept) >= len(expected),
        timeout=30,
    )
    by_place = {(x["source_topic"], x["partition"], x["offset"]): x for x in letters}
    assert set(by_place) == expected
    for (topic, _, value), place in zip(poison[:5], placed[:5], strict=True):
        letter = by_place[place]
        assert letter["stage"] == "gateway.readmodel.decode" and letter["error_class"] == "CodecError", topic
        assert letter["value_size"] == len(value) and letter["truncated"] == (len(value) > 100_000)
    assert "version" in by_place[placed[1]]["reason"]

    # the dead-letter topic's own malformed messages are recorded where the gateway keeps dead letters
    mine = {(DEAD_LETTERS, p, o) for _, p, o in placed[5:7]}
    deadline = time.monotonic() + 30
    while not mine <= {(x["source_topic"], x["partition"], x["offset"]) for x in _recorded_dead_letters(hub)}:
        assert time.monotonic() < deadline, "malformed dead letters were not recorded"
        time.sleep(0.5)
    recorded = {(x["source_topic"], x["partition"], x["offset"]): x for x in _recorded_dead_letters(hub)}
    oversized = recorded[(DEAD_LETTERS, placed[6][1], placed[6][2])]
    assert oversized["truncated"] and oversized["value_size"] == len(poison[6][2])
    assert oversized["stage"] == "gateway.readmodel.decode"
