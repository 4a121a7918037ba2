"""Publishing retries a retriable broker error and only that, in the connectors
(``ConnectorRunner.publish``) and the stream worker (``streams.delivery.send_acked``): the first try
runs without a retrying loop and a failure continues in the loop as its first attempt."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from aiokafka.errors import KafkaTimeoutError, MessageSizeTooLargeError
from faust.exceptions import ProducerSendError

from schemas.codec import encode
from schemas.topics import AGENCY_RESPONSES
from streams.delivery import send_acked

from .test_connector_runtime import RecordingProducer, request, runner


class FlakyProducer(RecordingProducer):
    """Raises each of ``errors`` on successive sends, then records."""

    def __init__(self, *errors: BaseException) -> None:
        super().__init__()
        self.errors = list(errors)
        self.calls = 0

    async def send_and_wait(self, topic: str, value: bytes, key: bytes | None = None) -> None:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        await super().send_and_wait(topic, value, key)


def test_connector_publish_retries_a_broker_timeout_then_sends_once(monkeypatch: Any) -> None:
    async def no_sleep(_: float) -> None:
        return None

    monkeypatch.setattr(asyncio, "sleep", no_sleep)  # tenacity's waits
    r, _ = runner(lambda req: httpx.Response(200, json={"accounts": []}))
    producer = FlakyProducer(KafkaTimeoutError(), KafkaTimeoutError())
    r.producer = producer
    resp = asyncio.run(r.handle(encode(request()), partition=0, offset=1))
    assert resp is not None and resp.status == "no_record"
    assert producer.calls == 3
    assert [t for t, _ in producer.sent] == [AGENCY_RESPONSES]


def test_connector_publish_does_not_retry_what_can_never_succeed() -> None:
    r, _ = runner(lambda req: httpx.Response(200, json={"accounts": []}))
    producer = FlakyProducer(MessageSizeTooLargeError())
    r.producer = producer
    with pytest.raises(MessageSizeTooLargeError):
        asyncio.run(r.publish(AGENCY_RESPONSES, b"{}", key=b"k"))
    assert producer.calls == 1 and producer.sent == []


class FlakyTopic:
    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.sent: list[tuple[bytes | None, bytes]] = []
        self.calls = 0

    async def send(
        self, *, key: bytes | None, value: bytes, headers: list[tuple[str, bytes]] | None = None
    ) -> None:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        self.sent.append((key, value))


def test_stream_send_retries_a_wrapped_broker_timeout(monkeypatch: Any) -> None:
    async def no_sleep(_: float) -> None:
        return None

    monkeypatch.setattr(asyncio, "sleep", no_sleep)
    wrapped = ProducerSendError("send failed")
    wrapped.__cause__ = KafkaTimeoutError()
    topic = FlakyTopic(wrapped)
    asyncio.run(send_acked(topic, b"k", b"v"))  # type: ignore[arg-type]
    assert topic.calls == 2 and topic.sent == [(b"k", b"v")]


def test_stream_send_raises_what_can_never_succeed_at_once() -> None:
    topic = FlakyTopic(MessageSizeTooLargeError())
    with pytest.raises(MessageSizeTooLargeError):
        asyncio.run(send_acked(topic, b"k", b"v"))  # type: ignore[arg-type]
    assert topic.calls == 1 and topic.sent == []
