"""Malformed messages put straight onto each input topic land in the dead-letter topic with their
reason, and the pipeline keeps serving the next good message."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
import uuid

import pytest
from aiokafka import AIOKafkaProducer

from schemas.codec import encode
from schemas.models import DebtorRef, InquiryRequested
from schemas.topics import (
    AGENCY_RESPONSES,
    COURT_COMMANDS,
    DEAD_LETTERS,
    INQUIRY_DEADLINES,
    INQUIRY_OPENED,
    agency_requests_topic,
)

from .conftest import HubClient, read_topic
from .planted import RICH, STRANGER

pytestmark = pytest.mark.integration


async def _produce(bootstrap: str, items: list[tuple[str, bytes, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for topic, key, value in items:
            await producer.send_and_wait(topic, value, key=key)
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
    asyncio.run(_produce(hub.settings.bootstrap, [(t, marker.encode(), v) for t, v in inputs.items()]))

    kept = read_topic(
        hub.settings.bootstrap,
        DEAD_LETTERS,
        select=lambda m: letter if marker in (letter := json.loads(m.value))["value"] else None,
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
