"""The gateway's two links to Kafka.

- ``OutboxRelay`` publishes what the API wrote into the outbox table, in order, and marks it
  published only after the broker acknowledged it: a request accepted with 202 is never lost,
  even if Kafka was down at that moment (it is published when Kafka is back).
- ``ReadModel`` consumes inquiry results and dead letters into the database the API reads.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
from typing import Any, cast

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaError
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from hub.kafka import make_consumer, make_producer
from hub.settings import HubSettings
from schemas.codec import CodecError, decode
from schemas.topics import COURT_OUTCOMES, DEAD_LETTERS, INQUIRY_RESULTS

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


class ReadModel:
    def __init__(self, db: Database, settings: HubSettings) -> None:
        self.db = db
        self.consumer: AIOKafkaConsumer = make_consumer(
            settings, INQUIRY_RESULTS, DEAD_LETTERS, COURT_OUTCOMES, group_id="hub-gateway-readmodel"
        )
        self.webhooks = settings.webhooks_by_court
        self.events_stored = asyncio.Event()
        self.assigned = False
        self.results = 0
        self._waiters: dict[str, list[asyncio.Event]] = {}

    async def start(self) -> None:
        await self.consumer.start()

    async def stop(self) -> None:
        await self.consumer.stop()

    async def run(self) -> None:
        while True:
            batch = await self.consumer.getmany(timeout_ms=200, max_records=500)
            if self.consumer.assignment():
                self.assigned = True
            results: list[dict[str, Any]] = []
            events: list[dict[str, Any]] = []
            for tp, messages in batch.items():
                for msg in messages:
                    decoded = await self._decode(tp.topic, msg.value)
                    if decoded is not None:
                        (events if tp.topic == COURT_OUTCOMES else results).append(decoded)
            if events and await self.db.store_events(events, self.webhooks):
                self.events_stored.set()
            if results:
                # one transaction per fetched batch: a commit per result capped the hub's throughput
                changed = await self.db.store_results(results)
                self.results += len(results)
                for inquiry_id in changed:
                    self._notify(inquiry_id)
            if batch:
                await self.consumer.commit()

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

    async def _decode(self, topic: str, value: bytes | None) -> dict[str, Any] | None:
        if topic == DEAD_LETTERS:
            try:
                letter = decode(topic, value)
                await self.db.add_dead_letter(letter.model_dump(mode="json"))
            except CodecError as e:
                log.error("unreadable dead letter skipped: %s", e)
            return None
        try:
            result = decode(topic, value)
        except CodecError as e:
            # results are produced by the hub itself; an unreadable one is recorded as a dead letter
            await self.db.add_dead_letter(
                {
                    "source_topic": topic,
                    "stage": "gateway.readmodel.decode",
                    "error_class": "CodecError",
                    "reason": str(e),
                    "value": (value or b"").decode(errors="replace")[:4000],
                }
            )
            return None
        return cast(dict[str, Any], json.loads(result.model_dump_json()))


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
