"""No message over the size budget: dead letters cut with their size, answers split into parts, and a
publish that can never succeed is not retried. Kafka is a recording producer; HTTP a MockTransport."""

from __future__ import annotations

import asyncio
import base64
import json

import httpx
import pytest
from aiokafka.errors import MessageSizeTooLargeError

from connectors.runtime import split_response
from schemas.codec import (
    DEAD_LETTER_VALUE_BYTES,
    MESSAGE_BUDGET_BYTES,
    TooLargeError,
    dead_letter,
    encode,
    split_by_size,
)
from schemas.models import AgencyResponse
from schemas.topics import AGENCY_RESPONSES, DEAD_LETTERS

from .test_connector_runtime import NOW, RecordingProducer, request, runner


def test_split_by_size_keeps_order_and_the_budget() -> None:
    items = list(range(10))
    chunks = split_by_size(items, [30] * 10, 100, overhead=10)
    assert [x for c in chunks for x in c] == items
    assert all(sum(31 for _ in c) <= 90 for c in chunks)
    assert [len(c) for c in chunks] == [2, 2, 2, 2, 2]
    assert split_by_size([], [], 100) == [[]]
    with pytest.raises(TooLargeError, match="at most 89"):
        split_by_size(["big"], [95], 100, overhead=10)


def test_an_oversized_message_is_dead_lettered_cut_with_its_size() -> None:
    value = ("坏" * 300_000).encode()  # 900,000 bytes, the cut falls inside a character
    letter = dead_letter(
        topic="hub.agency.responses", value=value, stage="s", error=ValueError("x"), partition=2, offset=9
    )
    assert letter.truncated and letter.value_size == 900_000
    assert letter.value_encoding == "utf-8" and set(letter.value) == {"坏"}
    assert DEAD_LETTER_VALUE_BYTES - 3 <= len(letter.value.encode()) <= DEAD_LETTER_VALUE_BYTES
    assert len(encode(letter)) < MESSAGE_BUDGET_BYTES
    assert (letter.partition, letter.offset) == (2, 9)

    binary = bytes(range(256)) * 1000
    letter = dead_letter(topic="t", value=binary, stage="s", error=ValueError("x"))
    assert letter.value_encoding == "base64" and letter.truncated and letter.value_size == 256_000
    assert base64.b64decode(letter.value) == binary[:DEAD_LETTER_VALUE_BYTES]

    small = dead_letter(topic="t", value=b'{"a": 1}', stage="s", error=ValueError("x"))
    assert not small.truncated and small.value == '{"a": 1}' and small.value_size == 8


def _accounts(n: int) -> list[dict[str, str]]:
    return [
        {"no": f"6222{i:015d}", "balance": "100.50", "name": "赵德明", "id": "110101198001010010"}
        for i in range(n)
    ]


def test_a_ten_thousand_account_answer_is_published_in_parts_under_the_budget() -> None:
    r, producer = runner(lambda req: httpx.Response(200, json={"accounts": _accounts(10_000)}))
    resp = asyncio.run(r.handle(encode(request())))
    assert resp is not None and resp.status == "answered" and len(resp.records) == 10_000
    parts = [body for topic, body in producer.sent if topic == AGENCY_RESPONSES]
    assert len(parts) > 1 and all(t == AGENCY_RESPONSES for t, _ in producer.sent)
    assert [p["part"] for p in parts] == list(range(len(parts)))
    assert {p["parts"] for p in parts} == {len(parts)}
    sizes = [len(json.dumps(p, ensure_ascii=False, separators=(",", ":")).encode()) for p in parts]
    assert max(sizes) <= MESSAGE_BUDGET_BYTES
    refs = [rec["ref"] for p in parts for rec in p["records"]]
    assert refs == [f"6222{i:015d}" for i in range(10_000)]


def test_split_response_puts_party_records_in_part_zero_only() -> None:
    response = AgencyResponse.model_validate(
        {
            "request_id": "inq_1/police",
            "inquiry_id": "inq_1",
            "case_id": "case_1",
            "agency": "police",
            "status": "answered",
            "records": [
                {
                    "kind": "vehicle",
                    "agency": "police",
                    "ref": f"鄂A{i:05d}",
                    "value": "1.00",
                    "owner": {"name": "x"},
                }
                for i in range(40)
            ],
            "party_records": [{"kind": "household", "owner": {"name": "x"}}],
            "responded_at": NOW.isoformat(),
            "idempotency_key": "k",
        }
    )
    parts = split_response(response, budget=2_000)
    assert len(parts) > 2
    assert [len(p.party_records) for p in parts] == [1] + [0] * (len(parts) - 1)
    assert all(len(encode(p)) <= 2_000 for p in parts)
    assert [rec.ref for p in parts for rec in p.records] == [rec.ref for rec in response.records]
    assert split_response(response) == [response], "one message when it fits"


class SmallLimitProducer(RecordingProducer):
    """A broker that refuses any message over ``limit`` bytes (Kafka's ``message.max.bytes``)."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self.refused = 0

    async def send_and_wait(self, topic: str, value: bytes, key: bytes | None = None) -> None:
        if len(value) > self.limit:
            self.refused += 1
            raise MessageSizeTooLargeError(f"{len(value)} bytes")
        await super().send_and_wait(topic, value, key)


def test_a_publish_that_can_never_succeed_is_not_retried_and_the_agency_is_reported_failed() -> None:
    r, _ = runner(lambda req: httpx.Response(200, json={"accounts": _accounts(20)}))
    producer = SmallLimitProducer(limit=3_000)
    r.producer = producer
    resp = asyncio.run(r.handle(encode(request()), partition=1, offset=4))
    assert producer.refused == 1, "refused once, never retried"
    assert resp is not None and resp.status == "failed" and resp.records == []
    assert "could not be published" in (resp.detail or "")
    [(t1, letter), (t2, answer)] = producer.sent
    assert (t1, t2) == (DEAD_LETTERS, AGENCY_RESPONSES)
    assert letter["stage"] == "connector.publish" and letter["error_class"] == "MessageSizeTooLargeError"
    assert (letter["partition"], letter["offset"]) == (1, 4) and letter["context"]["records"] == "20"
    assert answer["status"] == "failed" and answer["parts"] == 1
