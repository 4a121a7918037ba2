"""End offsets that table recovery can trust, whatever the broker's ListOffsets answers.

faust recovers a table by reading its changelog up to the partition's end offset, which it asks
for with ListOffsets. The embedded broker (tansu 0.6) answers ListOffsets LATEST with the base
offset of the most recently modified record batch plus one: a batch of several records (faust
batches its changelog writes) ends several offsets later, and with the durable store batches
written within the same instant tie. A worker recovering a table after a restart or a rebalance
would stop short and lose the last changes of the ledger or of an inquiry.

A Fetch answer carries the partition's high watermark from the broker's own record of it (the
one producers advance), which is exact. So the end offset used for recovery is the larger of the
ListOffsets answer and the high watermark a fetch reports. On Apache Kafka the two agree and this
costs one small fetch per partition at each rebalance.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from hub.kafka import client_security

__all__ = ["fetched_highwaters", "install"]

log = logging.getLogger(__name__)


async def fetched_highwaters(
    bootstrap: str,
    partitions: list[TopicPartition],
    start: Mapping[TopicPartition, int],
    timeout: float = 10.0,
) -> dict[TopicPartition, int]:
    """The high watermark of each partition as a Fetch answer reports it.

    ``start`` is where to fetch from (the ListOffsets answer is fine: any offset the broker still
    has). Partitions that gave no answer within ``timeout`` seconds are left out.
    """
    if not partitions:
        return {}
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=10,
        max_partition_fetch_bytes=1024,
        **client_security(),
    )
    await consumer.start()
    try:
        consumer.assign(partitions)
        for tp in partitions:
            consumer.seek(tp, max(0, start.get(tp, 0)))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        found: dict[TopicPartition, int] = {}
        while len(found) < len(partitions) and loop.time() < deadline:
            await consumer.getmany(timeout_ms=100, max_records=1)
            for tp in partitions:
                high = consumer.highwater(tp)
                if high is not None:
                    found[tp] = high
        return found
    finally:
        await consumer.stop()


def install(bootstrap: str) -> None:
    """Make faust's recovery ask for end offsets through :func:`fetched_highwaters` as well."""
    from faust.transport.drivers import aiokafka as driver

    thread_class: Any = driver.AIOKafkaConsumerThread
    original = thread_class._highwaters

    async def _highwaters(self: Any, partitions: list[Any]) -> Mapping[Any, int]:
        listed = dict(await original(self, partitions))
        if self.consumer.in_transaction:
            return listed
        tps = [TopicPartition(tp.topic, tp.partition) for tp in partitions]
        fetched = await fetched_highwaters(
            bootstrap, tps, {TopicPartition(t.topic, t.partition): o for t, o in listed.items()}
        )
        out: dict[Any, int] = {}
        for tp in partitions:
            ends = [listed.get(tp), fetched.get(TopicPartition(tp.topic, tp.partition))]
            known = [e for e in ends if e is not None]
            out[tp] = max(known) if known else 0
            if len(known) == 2 and known[1] > known[0]:
                log.info(
                    "%s[%s]: end offset %s (ListOffsets said %s)", tp.topic, tp.partition, known[1], known[0]
                )
        return out

    thread_class._highwaters = _highwaters
