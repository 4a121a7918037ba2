"""The gateway's two links to Kafka.

- ``OutboxRelay`` publishes what the API wrote into the outbox table, in order, and marks it
  published only after the broker acknowledged it: a request accepted with 202 is never lost,
  even if Kafka was down at that moment (it is published when Kafka is back).
- ``ReadModel`` consumes inquiry results, court outcomes and dead letters into the database the API
  reads. A result split into parts is stored once all its parts arrived (the offsets of a result
  still being assembled are not committed). A message it cannot read or store goes to the
  dead-letter topic with its partition and offset (an unreadable dead letter is recorded in the
  database, with its partition and offset, instead), and the next message is served.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import httpx
import orjson
import sqlalchemy.exc as sa_exc
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from hub.kafka import make_consumer, make_producer
from hub.masking import mask_text
from hub.settings import HubSettings
from schemas.codec import CodecError, dead_letter, decode, encode
from schemas.models import InquiryResult
from schemas.topics import COURT_OUTCOMES, DEAD_LETTERS, INQUIRY_RESULTS

from . import producer_checks
from .db import Database

__all__ = ["OutboxRelay", "ReadModel", "WebhookDispatcher"]

log = logging.getLogger(__name__)


class OutboxRelay:
    def __init__(self, db: Database, settings: HubSettings) -> None:
        self.db = db
        self.settings = settings
        self.producer: AIOKafkaProducer = make_producer(settings)
        self.wake = asyncio.Event()
        self.started = False
        self.published = 0

    async def start(self) -> None:
        await self.producer.start()
        self.started = True

    async def stop(self) -> None:
        await self.producer.stop()

    async def run(self) -> None:
        while True:
            try:
                rows = await self.db.unpublished()
                if rows:
                    futures = [await self.producer.send(r.topic, r.value, key=r.key.encode()) for r in rows]
                    await asyncio.gather(*futures)
                    await self.db.mark_published([r.id for r in rows])
                    self.published += len(rows)
                    continue
            except KafkaError as e:
                log.warning("outbox: broker not accepting messages (%s); retrying", type(e).__name__)
                await asyncio.sleep(1.0)
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=1.0)


# Database errors that say the database is away (not that this message is bad): raised, not dead-lettered.
_DB_AWAY = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError, sa_exc.TimeoutError)
Message: TypeAlias = "ConsumerRecord[bytes, bytes]"


@dataclass
class _Assembly:
    """The parts of one result version seen so far."""

    version: int
    parts: int
    tp: TopicPartition
    first_offset: int
    started: float
    got: dict[int, dict[str, Any]] = field(default_factory=dict)


class ReadModel:
    """Consumes ``hub.inquiry.results``, ``hub.court.outcomes`` and ``hub.deadletters``.

    ``run()`` is the loop (one fetched batch at a time, one database transaction per kind of batch);
    nothing it reads stops it: an unreadable or unstorable message is dead-lettered (by
    ``_dead_letter``) and the next is served. Only an unreachable database or broker raises.
    """

    # a result version whose parts have not all arrived after this many seconds is dead-lettered
    ASSEMBLY_TIMEOUT_SECONDS = 300.0
    # at most one fetched batch per this many seconds while results keep coming (see ``run``)
    BATCH_WINDOW_SECONDS = 0.1

    def __init__(self, db: Database, settings: HubSettings) -> None:
        self.db = db
        self.consumer: AIOKafkaConsumer = make_consumer(
            settings, INQUIRY_RESULTS, DEAD_LETTERS, COURT_OUTCOMES, group_id="hub-gateway-readmodel"
        )
        self.producer: AIOKafkaProducer = make_producer(settings)
        self.webhooks = settings.webhooks_by_court
        self.events_stored = asyncio.Event()
        self.assigned = False
        self.results = 0
        self.dead_lettered = 0
        self._waiters: dict[str, list[asyncio.Event]] = {}
        self._assembling: dict[str, _Assembly] = {}

    async def start(self) -> None:
        await self.producer.start()
        await self.consumer.start()

    async def stop(self) -> None:
        await self.consumer.stop()
        await self.producer.stop()

    async def rewind(self) -> None:
        """Before the supervisor restarts ``run()``: go back to the committed offsets, so what was
        fetched but not stored when the loop failed is read again (storing is idempotent)."""
        await self.consumer.seek_to_committed()

    async def run(self) -> None:
        last_batch = 0.0
        while True:
            # Under a steady flow, one batch per window at most: the versions of one inquiry that
            # arrive within it (a result is republished as each agency answers) are stored once and
            # wake its long polls once. After a quiet spell the next message is served at once.
            if (pause := last_batch + self.BATCH_WINDOW_SECONDS - time.monotonic()) > 0:
                await asyncio.sleep(pause)
            batch = await self.consumer.getmany(timeout_ms=200, max_records=500)
            if batch:
                last_batch = time.monotonic()
            if self.consumer.assignment():
                self.assigned = True
            results: list[tuple[Message, dict[str, Any]]] = []
            events: list[tuple[Message, dict[str, Any]]] = []
            for tp, messages in batch.items():
                for msg in messages:
                    decoded = await self._decode(tp, msg)
                    if decoded is not None:
                        (events if tp.topic == COURT_OUTCOMES else results).append((msg, decoded))
            if results or events:  # refuse what its producer may not send (gateway/producer_checks.py)
                results, events, forged = await producer_checks.screen(self.db, results, events)
                for msg, error in forged:
                    await self._dead_letter(msg, producer_checks.STAGE, error)
            if events and await self._store(events, self._store_events):
                self.events_stored.set()
            if results:
                # one transaction per fetched batch: a commit per result capped the hub's throughput
                changed = await self._store(results, self.db.store_results)
                self.results += len(results)
                if changed:  # a settled result may have queued an inquiry_settled webhook
                    self.events_stored.set()
                for inquiry_id in changed:
                    self._notify(inquiry_id)
            await self._expire_assemblies()
            if batch:
                await self._commit(batch)

    async def _store_events(self, events: list[dict[str, Any]]) -> list[str]:
        return await self.db.store_events(events, self.webhooks)

    async def _store(self, items: list[tuple[Message, dict[str, Any]]], store: Any) -> list[str]:
        """``store`` the batch in one transaction; if the batch fails on its data, store one by one
        and dead-letter each message that cannot be stored. Returns what ``store`` returned."""
        try:
            return list(await store([d for _, d in items]))
        except _DB_AWAY:
            raise
        except Exception:
            log.warning("read model: a batch of %d failed to store; storing one by one", len(items))
        done: list[str] = []
        for msg, decoded in items:
            try:
                done += await store([decoded])
            except _DB_AWAY:
                raise
            except Exception as e:
                await self._dead_letter(msg, "gateway.readmodel.store", e)
        return done

    async def _commit(self, batch: dict[TopicPartition, list[Message]]) -> None:
        """Commit past every message read, except from the first part of a result still assembling."""
        offsets = {tp: messages[-1].offset + 1 for tp, messages in batch.items() if messages}
        for a in self._assembling.values():
            if a.tp in offsets:
                offsets[a.tp] = min(offsets[a.tp], a.first_offset)
        await self.consumer.commit(offsets)

    def _notify(self, inquiry_id: str) -> None:
        for event in self._waiters.pop(inquiry_id, []):
            event.set()

    async def wait_for_change(self, inquiry_id: str, timeout: float) -> None:
        """Return when this replica stores a change of the inquiry's result, or after ``timeout`` s."""
        event = asyncio.Event()
        self._waiters.setdefault(inquiry_id, []).append(event)
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            waiters = self._waiters.get(inquiry_id, [])
            if event in waiters:
                waiters.remove(event)
            if not waiters:
                self._waiters.pop(inquiry_id, None)

    async def _decode(self, tp: TopicPartition, msg: Message) -> dict[str, Any] | None:
        """The message as a JSON-able dict to store, or None (a dead letter recorded, a message
        dead-lettered, or a result part waiting for the rest of its version)."""
        try:
            decoded = decode(tp.topic, msg.value)
        except CodecError as e:
            if tp.topic == DEAD_LETTERS:  # never back onto its own topic: record it here, with its place
                await self._record(msg, "gateway.readmodel.decode", e)
            else:
                await self._dead_letter(msg, "gateway.readmodel.decode", e)
            return None
        if tp.topic == DEAD_LETTERS:
            await self.db.add_dead_letter(decoded.model_dump(mode="json"))
            return None
        if isinstance(decoded, InquiryResult):
            # validated: keep the producer's JSON rather than dump a result of many MB again
            raw: dict[str, Any] = orjson.loads(msg.value or b"")
            raw.pop("part", None)
            raw.pop("parts", None)
            return self._assemble(tp, msg, decoded, raw)
        body: dict[str, Any] = orjson.loads(decoded.model_dump_json())
        return body

    def _assemble(
        self, tp: TopicPartition, msg: Message, part: InquiryResult, body: dict[str, Any]
    ) -> dict[str, Any] | None:
        """The whole result once every part of its version arrived (parts share the header and
        split ``assets`` in order); None until then. An older version's parts are superseded."""
        current = self._assembling.get(part.inquiry_id)
        if current is not None and current.version > part.version:
            return None  # a part of a version already superseded
        if part.parts == 1:
            if current is not None and current.version < part.version:
                del self._assembling[part.inquiry_id]  # superseded before all its parts arrived
            return body
        if current is None or current.version < part.version or current.parts != part.parts:
            current = _Assembly(part.version, part.parts, tp, msg.offset, time.monotonic())
            self._assembling[part.inquiry_id] = current
        current.got[part.part] = body
        if len(current.got) < current.parts:
            return None
        del self._assembling[part.inquiry_id]
        whole = current.got[0]
        whole["assets"] = [asset for i in range(current.parts) for asset in current.got[i]["assets"]]
        return whole

    async def _expire_assemblies(self) -> None:
        now = time.monotonic()
        for inquiry_id, a in list(self._assembling.items()):
            if now - a.started < self.ASSEMBLY_TIMEOUT_SECONDS:
                continue
            del self._assembling[inquiry_id]
            header = {**next(iter(a.got.values())), "assets": []}
            letter = dead_letter(
                topic=INQUIRY_RESULTS,
                value=json.dumps(header, ensure_ascii=False).encode(),
                stage="gateway.readmodel.assemble",
                error=CodecError(
                    f"parts: {len(a.got)} of {a.parts} parts of version {a.version} arrived "
                    f"within {self.ASSEMBLY_TIMEOUT_SECONDS:.0f} s"
                ),
                partition=a.tp.partition,
                offset=a.first_offset,
                key=inquiry_id.encode(),
            )
            await self._send_letter(letter.model_dump(mode="json"), encode(letter), inquiry_id.encode())

    def _letter(self, msg: Message, stage: str, error: BaseException) -> Any:
        letter = dead_letter(
            topic=msg.topic,
            value=msg.value,
            stage=stage,
            error=error,
            partition=msg.partition,
            offset=msg.offset,
            key=msg.key,
        )
        letter.reason = mask_text(letter.reason)
        log.warning(
            "read model: dead-lettering %s[%s]@%s (%s bytes) at %s: %s",
            msg.topic,
            msg.partition,
            msg.offset,
            letter.value_size,
            stage,
            letter.reason,
        )
        return letter

    async def _record(self, msg: Message, stage: str, error: BaseException) -> None:
        """Record an unreadable message of the dead-letter topic itself in the database."""
        self.dead_lettered += 1
        await self.db.add_dead_letter(self._letter(msg, stage, error).model_dump(mode="json"))

    async def _dead_letter(self, msg: Message, stage: str, error: BaseException) -> None:
        """Send the message to the dead-letter topic (the read model records it from there)."""
        self.dead_lettered += 1
        letter = self._letter(msg, stage, error)
        await self._send_letter(letter.model_dump(mode="json"), encode(letter), msg.key)

    async def _send_letter(self, body: dict[str, Any], value: bytes, key: bytes | None) -> None:
        try:
            await self.producer.send_and_wait(DEAD_LETTERS, value, key=key)
        except KafkaError as e:  # the broker refuses it: keep it in the database rather than lose it
            log.warning("read model: dead letter not accepted by the broker (%s); recorded here", e)
            await self.db.add_dead_letter(body)


class WebhookDispatcher:
    """Deliver court events to the court's webhook, at least once, signed, deduplicable by event id.

    Each delivery is a POST of the event JSON with ``X-Hub-Event-Id`` (the same id on every retry
    and every duplicate) and ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body with the
    court's secret>``. A non-2xx answer or a network error is retried by tenacity with exponential
    backoff and jitter, up to ``HUB_WEBHOOK_MAX_ATTEMPTS``; then the delivery is marked failed
    (the event stays readable through the API).
    """

    def __init__(self, db: Database, settings: HubSettings, wake: asyncio.Event) -> None:
        self.db = db
        self.settings = settings
        self.wake = wake
        self.secrets = settings.webhook_secret_by_court
        self._running: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.delivered = 0

    async def run(self) -> None:
        async with httpx.AsyncClient(timeout=10.0) as client:
            while True:
                for row in await self.db.pending_deliveries():
                    if row.event_id in self._running:
                        continue
                    self._running.add(row.event_id)
                    task = asyncio.create_task(self._deliver(client, row))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
                self.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), timeout=2.0)

    @staticmethod
    def signature(secret: str, body: bytes) -> str:
        return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()

    async def _deliver(self, client: httpx.AsyncClient, row: Any) -> None:
        attempts = 0
        error: str | None = None
        try:
            headers = {
                "Content-Type": "application/json",
                "X-Hub-Event-Id": row.event_id,
                "X-Hub-Signature-256": self.signature(self.secrets.get(row.court_id, ""), row.body),
            }
            retrying = AsyncRetrying(
                stop=stop_after_attempt(self.settings.webhook_max_attempts),
                wait=wait_exponential_jitter(
                    multiplier=self.settings.webhook_backoff_initial,
                    max=self.settings.webhook_backoff_max,
                    jitter=self.settings.webhook_backoff_initial,
                ),
                retry=retry_if_exception_type(httpx.HTTPError),
                reraise=True,
            )
            async for attempt in retrying:
                with attempt:
                    attempts = attempt.retry_state.attempt_number
                    response = await client.post(row.url, content=row.body, headers=headers)
                    response.raise_for_status()
            self.delivered += 1
        except Exception as e:  # recorded on the delivery, never lost in a dead task
            error = f"{type(e).__name__}: {e}"[:500]
            log.warning(
                "webhook %s to court %s failed after %d attempts: %s",
                row.event_id,
                row.court_id,
                attempts,
                error,
            )
        finally:
            await self.db.finish_delivery(
                row.event_id, delivered=error is None, attempts=attempts, error=error
            )
            self._running.discard(row.event_id)
