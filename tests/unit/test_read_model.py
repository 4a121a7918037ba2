"""The gateway's read model loop without a broker: results in parts, poison on every topic it reads,
unstorable results. Kafka and the database are fakes; ``ReadModel.run`` is the real loop."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from types import SimpleNamespace
from typing import Any

import pytest
from aiokafka import TopicPartition
from aiokafka.structs import ConsumerRecord

from gateway.pipeline import ReadModel
from hub.settings import HubSettings
from schemas.codec import encode
from schemas.models import InquiryResult
from schemas.topics import DEAD_LETTERS, INQUIRY_RESULTS
from streams.inquiry_state import result_messages

NOW = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
RESULTS = TopicPartition(INQUIRY_RESULTS, 2)
LETTERS = TopicPartition(DEAD_LETTERS, 1)


class Done(Exception):
    """Raised by the fake consumer when every batch was served (ends ``run``)."""


class FakeConsumer:
    def __init__(self, batches: list[dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]]) -> None:
        self.batches = batches
        self.commits: list[dict[TopicPartition, int]] = []

    async def getmany(self, timeout_ms: int, max_records: int) -> dict[Any, Any]:
        if not self.batches:
            raise Done
        return self.batches.pop(0)

    def assignment(self) -> set[TopicPartition]:
        return {RESULTS}

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.commits.append(dict(offsets))


class FakeProducer:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    async def send_and_wait(self, topic: str, value: bytes, key: bytes | None = None) -> None:
        self.sent.append((topic, json.loads(value)))


class FakeDb:
    def __init__(self, refuse: str | None = None) -> None:
        self.results: dict[str, dict[str, Any]] = {}
        self.letters: list[dict[str, Any]] = []
        self.refuse = refuse

    async def store_results(self, results: list[dict[str, Any]]) -> list[str]:
        if any(r["inquiry_id"] == self.refuse for r in results):
            raise ValueError("integer out of range")
        for r in results:
            self.results[r["inquiry_id"]] = r
        return [r["inquiry_id"] for r in results]

    async def add_dead_letter(self, letter: dict[str, Any]) -> None:
        self.letters.append(letter)

    async def owners(self, kind: str, ids: list[str]) -> dict[str, Any]:
        """Producer checks (gateway/producer_checks.py): no inquiry stored, every case court-a's."""
        return {i: SimpleNamespace(court_id="court-a") for i in ids} if kind == "case" else {}


def record(tp: TopicPartition, offset: int, value: bytes) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(tp.topic, tp.partition, offset, 0, 0, b"k", value, None, 1, len(value), ())


def result(inquiry_id: str, version: int, assets: int) -> InquiryResult:
    return InquiryResult.model_validate(
        {
            "inquiry_id": inquiry_id,
            "case_id": "case_1",
            "court_id": "court-a",
            "status": "complete",
            "version": version,
            "updated_at": NOW.isoformat(),
            "assets": [
                {
                    "asset_id": f"bank:icbc/deposit/{i}",
                    "agency": "bank:icbc",
                    "kind": "deposit",
                    "ref": str(i),
                    "owner": {"name": "赵德明"},
                    "value": "1.00",
                    "linkage": {"decision": "match", "score": 1.0},
                }
                for i in range(assets)
            ],
        }
    )


def run(batches: list[Any], db: FakeDb) -> tuple[FakeConsumer, FakeProducer]:
    async def go() -> tuple[FakeConsumer, FakeProducer]:
        model = ReadModel(db, HubSettings())  # type: ignore[arg-type]
        await model.stop()  # the real clients it made (never started) give way to the fakes
        consumer, producer = FakeConsumer(batches), FakeProducer()
        model.consumer, model.producer = consumer, producer  # type: ignore[assignment]
        with pytest.raises(Done):
            await model.run()
        return consumer, producer

    return asyncio.run(go())


def test_a_result_in_parts_is_stored_whole_and_its_offsets_held_until_then() -> None:
    whole = result("inq_1", 3, 400)
    parts = result_messages(whole, budget=20_000)
    assert len(parts) >= 3
    stale = result_messages(result("inq_1", 2, 400), budget=20_000)[0]
    first = {
        RESULTS: [record(RESULTS, 10, parts[0]), record(RESULTS, 11, stale), record(RESULTS, 12, parts[1])]
    }
    rest = {RESULTS: [record(RESULTS, 13 + i, p) for i, p in enumerate(parts[2:])]}
    db = FakeDb()
    consumer, _ = run([first, rest], db)
    assert consumer.commits[0] == {RESULTS: 10}, "nothing past the first part of an unfinished result"
    assert consumer.commits[1] == {RESULTS: 13 + len(parts) - 2}
    stored = db.results["inq_1"]
    assert stored["version"] == 3 and "part" not in stored and "parts" not in stored
    assert [a["ref"] for a in stored["assets"]] == [str(i) for i in range(400)]


def test_a_newer_version_supersedes_one_whose_parts_never_all_arrived() -> None:
    older = result_messages(result("inq_1", 4, 400), budget=20_000)
    newer = encode(result("inq_1", 5, 3))
    db = FakeDb()
    consumer, _ = run([{RESULTS: [record(RESULTS, 0, older[0]), record(RESULTS, 1, newer)]}], db)
    assert db.results["inq_1"]["version"] == 5 and len(db.results["inq_1"]["assets"]) == 3
    assert consumer.commits == [{RESULTS: 2}]


def test_poison_on_every_topic_is_dead_lettered_with_its_place_and_the_next_is_served() -> None:
    oversized = b'{"inquiry_id": "' + b"x" * 900_000
    batch = {
        RESULTS: [
            record(RESULTS, 5, b"{"),
            record(RESULTS, 6, oversized),
            record(RESULTS, 7, encode(result("inq_ok", 1, 1))),
        ],
        LETTERS: [record(LETTERS, 8, b"not json"), record(LETTERS, 9, oversized)],
    }
    db = FakeDb()
    consumer, producer = run([batch], db)
    assert db.results["inq_ok"]["version"] == 1
    letters = [letter for topic, letter in producer.sent if topic == DEAD_LETTERS]
    assert [(x["source_topic"], x["partition"], x["offset"]) for x in letters] == [
        (INQUIRY_RESULTS, 2, 5),
        (INQUIRY_RESULTS, 2, 6),
    ]
    assert letters[1]["truncated"] and letters[1]["value_size"] == len(oversized)
    # the dead-letter topic's own poison is recorded in the database, never sent back onto it
    assert [(x["source_topic"], x["partition"], x["offset"]) for x in db.letters] == [
        (DEAD_LETTERS, 1, 8),
        (DEAD_LETTERS, 1, 9),
    ]
    assert db.letters[1]["truncated"] and db.letters[1]["stage"] == "gateway.readmodel.decode"
    assert consumer.commits == [{RESULTS: 8, LETTERS: 10}]


def test_a_result_the_database_refuses_is_dead_lettered_and_the_rest_of_the_batch_stored() -> None:
    batch = {RESULTS: [record(RESULTS, i, encode(result(f"inq_{i}", 1, 1))) for i in range(3)]}
    db = FakeDb(refuse="inq_1")
    _, producer = run([batch], db)
    assert set(db.results) == {"inq_0", "inq_2"}
    [(topic, letter)] = producer.sent
    assert topic == DEAD_LETTERS and letter["stage"] == "gateway.readmodel.store"
    assert (letter["offset"], letter["error_class"]) == (1, "ValueError")
