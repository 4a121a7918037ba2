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

The high watermark itself can count records the broker does not have: the durable store records a
partition's new high watermark and its record batch in two writes, and a broker killed between
them (a power cut) comes back counting the batch it never stored, whose producer was never acked.
Recovery would wait for ever for those offsets (nothing but the worker itself writes its
changelog). So the end is checked by fetching the record before it; when the broker serves none,
the end is where the records it does serve end (found by stepping back from the end), and the gap
is logged. A later write fills nothing in: the broker serves the next batch after the gap.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from hub.kafka import client_security

__all__ = ["fetched_highwaters", "install", "readable_ends"]

log = logging.getLogger(__name__)


@asynccontextmanager
async def _probe(bootstrap: str) -> AsyncIterator[AIOKafkaConsumer]:
    """A started consumer of no group for short probes (one batch per partition per fetch)."""
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
        yield consumer
    finally:
        await consumer.stop()


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
    async with _probe(bootstrap) as consumer:
        return await _fetched_highwaters(consumer, partitions, start, timeout)


async def readable_ends(bootstrap: str, ends: Mapping[TopicPartition, int]) -> dict[TopicPartition, int]:
    """Each partition's end (the offset after its last record) as far as the broker serves records.

    ``ends`` are the ends the broker reports. Where the record before a reported end is served, the
    end stands (one fetch). Where it is not, the end is one past the last record served, searched
    by stepping back 1, 8, 64... offsets; a broker that answers no fetch keeps its reported end.
    """
    if not any(end > 0 for end in ends.values()):
        return dict(ends)
    async with _probe(bootstrap) as consumer:
        return await _readable_ends(consumer, ends)


async def _fetched_highwaters(
    consumer: AIOKafkaConsumer,
    partitions: list[TopicPartition],
    start: Mapping[TopicPartition, int],
    timeout: float,
) -> dict[TopicPartition, int]:
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


_NO_ANSWER = -2


async def _last_offset_from(
    consumer: AIOKafkaConsumer, tp: TopicPartition, offset: int, end: int
) -> int | None:
    """The last offset the broker serves reading ``tp`` from ``offset`` on (stopping at ``end``);
    None when it serves no record there; ``_NO_ANSWER`` when no fetch was answered at all."""
    consumer.seek(tp, offset)
    loop = asyncio.get_running_loop()
    last: int | None = None
    quiet_since = loop.time()
    deadline = quiet_since + 10.0
    while loop.time() < deadline:
        batch = await consumer.getmany(tp, timeout_ms=100)
        records = batch.get(tp, [])
        if records:
            last = records[-1].offset
            quiet_since = loop.time()
            if last >= end - 1:
                return last
        elif consumer.highwater(tp) is not None and loop.time() - quiet_since > 1.0:
            return last  # answered fetches and nothing more for a second: this is where it ends
    return last if consumer.highwater(tp) is not None else _NO_ANSWER


async def _readable_ends(
    consumer: AIOKafkaConsumer, ends: Mapping[TopicPartition, int]
) -> dict[TopicPartition, int]:
    out = dict(ends)
    for tp, end in ends.items():
        if end <= 0:
            continue
        consumer.assign([tp])  # one at a time: an assigned partition not yet sought is read whole
        step = 1
        while True:
            probe = max(0, end - step)
            last = await _last_offset_from(consumer, tp, probe, end)
            if last == _NO_ANSWER:
                break
            if last is not None or probe == 0:
                found = last + 1 if last is not None else 0
                if found < end:
                    log.warning(
                        "%s[%s]: the broker counts records up to offset %s but serves none after %s "
                        "(a write a crash cut short, never acknowledged): reading to %s",
                        tp.topic,
                        tp.partition,
                        end - 1,
                        found - 1,
                        found,
                    )
                    out[tp] = found
                break
            step *= 8
    return out


def install(bootstrap: str) -> None:
    """Make faust's recovery take each changelog's end as the larger of ListOffsets' answer and the
    fetched high watermark, checked against the records the broker serves (:func:`readable_ends`)."""
    from faust.transport.drivers import aiokafka as driver

    thread_class: Any = driver.AIOKafkaConsumerThread
    original = thread_class._highwaters

    async def _highwaters(self: Any, partitions: list[Any]) -> Mapping[Any, int]:
        listed = dict(await original(self, partitions))
        if self.consumer.in_transaction:
            return listed
        tps = {tp: TopicPartition(tp.topic, tp.partition) for tp in partitions}
        reported: dict[TopicPartition, int] = {}
        async with _probe(bootstrap) as consumer:  # one consumer for both probes
            start = {tps[t]: o for t, o in listed.items() if o is not None}
            fetched = await _fetched_highwaters(consumer, list(tps.values()), start, 10.0)
            for tp, ours in tps.items():
                known = [e for e in (listed.get(tp), fetched.get(ours)) if e is not None]
                reported[ours] = max(known) if known else 0
                if len(known) == 2 and known[1] > known[0]:
                    log.info(
                        "%s[%s]: end offset %s (ListOffsets said %s)",
                        tp.topic,
                        tp.partition,
                        known[1],
                        known[0],
                    )
            served = await _readable_ends(consumer, reported)
        return {tp: served[ours] for tp, ours in tps.items()}

    thread_class._highwaters = _highwaters
