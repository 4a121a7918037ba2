"""The gateway's two links to Kafka.

- ``OutboxRelay`` publishes what the API wrote into the outbox table, in order, and marks it
  published only after the broker acknowledged it: a request accepted with 202 is never lost,
  even if Kafka was down at that moment (it is published when Kafka is back).
- ``ReadModel`` consumes inquiry results and dead letters into the database the API reads.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any, cast

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaError

from hub.kafka import make_consumer, make_producer
from hub.settings import HubSettings
from schemas.codec import CodecError, decode
from schemas.topics import DEAD_LETTERS, INQUIRY_RESULTS

from .db import Database

__all__ = ["OutboxRelay", "ReadModel"]

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
            settings, INQUIRY_RESULTS, DEAD_LETTERS, group_id="hub-gateway-readmodel"
        )
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
            for tp, messages in batch.items():
                for msg in messages:
                    result = await self._decode(tp.topic, msg.value)
                    if result is not None:
                        results.append(result)
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
