"""The connector runtime's pieces without a broker: offsets, retries, request handling.

HTTP is faked at the transport (``httpx.MockTransport``); Kafka by a recording producer.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
from typing import Any

import httpx
import pytest
from aiokafka import TopicPartition
from aiokafka.errors import KafkaTimeoutError

from connectors.adapter import AgencyAdapter, InquiryAnswer
from connectors.retry import RetryPolicy
from connectors.runtime import ConnectorRunner, OffsetTracker
from hub.errors import PermanentRegistryError, RegistryUnavailable
from hub.settings import HubSettings
from schemas.codec import encode
from schemas.models import AgencyRequest, DepositAsset, IdentifierForm, Party, RegistryOwner
from schemas.topics import AGENCY_RESPONSES, DEAD_LETTERS, agency_requests_topic

NOW = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


class FakeClock:
    def __init__(self) -> None:
        self.t = NOW

    def now(self) -> dt.datetime:
        return self.t


class RecordingProducer:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    async def send_and_wait(self, topic: str, value: bytes, key: bytes | None = None) -> None:
        self.sent.append((topic, json.loads(value)))


class EchoBank(AgencyAdapter):
    agency = "bank:icbc"

    def auth_headers(self) -> dict[str, str]:
        return {"X-Client-Secret": self._credential}

    async def inquire(self, client: httpx.AsyncClient, request: AgencyRequest) -> InquiryAnswer:
        r = await client.post(
            self.url("/accounts"), json={"id": request.subject.id_number}, headers=self.auth_headers()
        )
        self.classify_response(r)
        try:
            rows = r.json()["accounts"]
        except (ValueError, KeyError) as e:
            raise PermanentRegistryError(self.agency, f"unparseable reply: {e}") from None
        return InquiryAnswer(
            records=[
                DepositAsset(
                    agency=self.agency,
                    ref=row["no"],
                    value=row["balance"],
                    owner=RegistryOwner(name=row["name"], id_type="resident_id", id_number=row["id"]),
                )
                for row in rows
            ]
        )


def request(deadline_s: float = 30) -> AgencyRequest:
    subject = Party(name="赵德明", id_type="resident_id", id_number="110101198001010010")
    return AgencyRequest(
        request_id="inq_1/bank:icbc",
        inquiry_id="inq_1",
        case_id="case_1",
        court_id="court-a",
        agency="bank:icbc",
        subject=subject,
        identifiers=[IdentifierForm(id_type="resident_id", id_number=subject.id_number)],
        deadline=NOW + dt.timedelta(seconds=deadline_s),
        idempotency_key="k1",
    )


def runner(handler: Any, sleeps: list[float] | None = None) -> tuple[ConnectorRunner, RecordingProducer]:
    producer = RecordingProducer()
    recorded = sleeps if sleeps is not None else []

    async def sleep(s: float) -> None:
        recorded.append(s)

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    r = ConnectorRunner(
        EchoBank("http://bank.test", "s3cret"),
        HubSettings(),
        producer=producer,  # type: ignore[arg-type]
        client=client,
        clock=FakeClock(),
        retry=RetryPolicy(max_attempts=4, initial=0.1, maximum=1.0, sleep=sleep),
    )
    return r, producer


def test_offset_tracker_commits_only_the_contiguous_prefix() -> None:
    t = OffsetTracker()
    tp = TopicPartition("t", 0)
    for off in (10, 11, 12):
        t.started(tp, off)
    t.finished(tp, 11)
    assert t.committable() == {}
    t.finished(tp, 10)
    assert t.committable() == {tp: 12}
    assert t.in_flight == 1
    t.finished(tp, 12)
    assert t.committable() == {tp: 13}


def test_answer_is_published_as_response() -> None:
    def handler(req: httpx.Request) -> httpx.Response:
        assert req.headers["X-Client-Secret"] == "s3cret"
        return httpx.Response(
            200,
            json={
                "accounts": [
                    {"no": "622201", "balance": "100.50", "name": "赵德明", "id": "110101198001010010"}
                ]
            },
        )

    r, producer = runner(handler)
    resp = asyncio.run(r.handle(encode(request())))
    assert resp is not None and resp.status == "answered"
    topic, body = producer.sent[0]
    assert topic == AGENCY_RESPONSES
    assert body["records"][0]["value"] == "100.50"


def test_transient_errors_are_retried_honouring_retry_after() -> None:
    calls = iter(
        [
            httpx.Response(503, text="busy", headers={"Retry-After": "2"}),
            httpx.Response(429, text="slow down"),
            httpx.Response(200, json={"accounts": []}),
        ]
    )
    sleeps: list[float] = []
    r, _producer = runner(lambda req: next(calls), sleeps)
    resp = asyncio.run(r.handle(encode(request())))
    assert resp is not None and resp.status == "no_record" and resp.attempts == 3
    assert sleeps[0] >= 2.0, "Retry-After is a floor for the wait"
    assert r.stats.retried == 2


def test_outage_exhausts_retries_then_reports_unavailable_and_dead_letters() -> None:
    sleeps: list[float] = []
    r, producer = runner(lambda req: httpx.Response(503, text="down"), sleeps)
    resp = asyncio.run(r.handle(encode(request())))
    assert resp is not None and resp.status == "unavailable"
    assert "after 4 attempts" in (resp.detail or "")
    topics = [t for t, _ in producer.sent]
    assert topics == [DEAD_LETTERS, AGENCY_RESPONSES]
    letter = producer.sent[0][1]
    assert letter["error_class"] == RegistryUnavailable.__name__
    assert letter["source_topic"] == agency_requests_topic("bank:icbc")
    assert json.loads(letter["value"])["request_id"] == "inq_1/bank:icbc"


def test_client_errors_are_not_retried() -> None:
    sleeps: list[float] = []
    r, _producer = runner(lambda req: httpx.Response(400, text="bad field"), sleeps)
    resp = asyncio.run(r.handle(encode(request())))
    assert resp is not None and resp.status == "failed" and resp.attempts == 1
    assert sleeps == []


def test_unparseable_reply_fails_without_retry() -> None:
    r, _ = runner(lambda req: httpx.Response(200, text="<html>"))
    resp = asyncio.run(r.handle(encode(request())))
    assert resp is not None and resp.status == "failed" and "unparseable" in (resp.detail or "")


def test_retries_stop_at_the_request_deadline() -> None:
    sleeps: list[float] = []
    r, _ = runner(lambda req: httpx.Response(503, headers={"Retry-After": "5"}), sleeps)
    resp = asyncio.run(r.handle(encode(request(deadline_s=3))))
    assert resp is not None and resp.status == "unavailable"
    assert sleeps == [], "a wait past the deadline is not taken"


def test_timeouts_are_transient() -> None:
    def handler(req: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=req)

    r, _ = runner(handler)
    resp = asyncio.run(r.handle(encode(request())))
    assert resp is not None and resp.status == "unavailable" and "timed out" in (resp.detail or "")


@pytest.mark.parametrize("value", [b"{", b'{"request_id": 1}', None])
def test_malformed_request_goes_to_dead_letters(value: bytes | None) -> None:
    r, producer = runner(lambda req: httpx.Response(200, json={"accounts": []}))
    assert asyncio.run(r.handle(value, partition=0, offset=7)) is None
    [(topic, letter)] = producer.sent
    assert topic == DEAD_LETTERS and letter["offset"] == 7 and letter["stage"] == "connector.decode"


class FlakyProducer(RecordingProducer):
    """Refuses the first sends as a busy broker does (aiokafka's accumulator times out)."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    async def send_and_wait(self, topic: str, value: bytes, key: bytes | None = None) -> None:
        if self.failures:
            self.failures -= 1
            raise KafkaTimeoutError()
        await super().send_and_wait(topic, value, key)


def test_an_answer_in_hand_survives_a_broker_that_refuses_the_first_publishes() -> None:
    r, _ = runner(lambda req: httpx.Response(200, json={"accounts": []}))
    flaky = FlakyProducer(failures=2)
    r.producer = flaky  # type: ignore[assignment]
    resp = asyncio.run(r.handle(encode(request())))
    assert resp is not None and resp.status == "no_record"
    assert [t for t, _ in flaky.sent] == [AGENCY_RESPONSES]


class ScriptedConsumer:
    """A consumer whose fetches hand out one message per call, a clock step apart; it records commits."""

    def __init__(self, clock: list[float], messages: int, step: float) -> None:
        self.clock, self.left, self.step = clock, messages, step
        self.offset = 0
        self.commits: list[tuple[float, dict[TopicPartition, int]]] = []

    def subscribe(self, topics: list[str], listener: Any = None) -> None:
        self.topics = topics

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def getmany(self, timeout_ms: int, max_records: int) -> dict[TopicPartition, list[Any]]:
        await asyncio.sleep(0.01)  # the message of the previous call finishes meanwhile
        self.clock[0] += self.step
        if self.left == 0:
            raise asyncio.CancelledError  # the service stops
        self.left -= 1
        self.offset += 1
        msg = type("Msg", (), {"offset": self.offset - 1, "partition": 0, "key": b"k", "value": b"{}"})
        return {TopicPartition("t", 0): [msg]}

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.commits.append((self.clock[0], dict(offsets)))


def test_offsets_are_committed_at_most_once_a_second_while_running_and_at_once_when_stopping(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import connectors.runtime as runtime

    clock = [0.0]
    consumer = ScriptedConsumer(clock, messages=10, step=0.3)
    monkeypatch.setattr(runtime, "make_consumer", lambda *a, **k: consumer)
    r, _ = runner(lambda req: httpx.Response(500))
    r.monotonic = lambda: clock[0]

    async def handled(value: bytes | None, **_: Any) -> None:
        return None

    monkeypatch.setattr(r, "handle", handled)
    with pytest.raises(asyncio.CancelledError):
        asyncio.run(r.run())

    tp = TopicPartition("t", 0)
    # 10 fetches over 3 s used to make 10 commits (one per fetch); now one a second and the last at the stop
    times = [at for at, _ in consumer.commits]
    assert 3 <= len(times) <= 4, consumer.commits
    assert all(b - a >= 0.9 for a, b in itertools.pairwise(times[:-1])), times
    assert consumer.commits[-1][1] == {tp: 10}, "the stop commits every message that finished"
