"""A broker that counts records it never stored: the embedded broker's store keeps a partition's
high watermark and its record batches in separate writes, and a broker killed between them comes
back counting a batch that is not there. Table recovery reads each changelog to its end, so the end
it is given must be where the served records end (``streams.highwaters.readable_ends``), or a
restarted stream worker would wait for ever for offsets that will never come."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from hub.kafka import wait_for_broker
from hub.supervisor import Hub
from streams.highwaters import fetched_highwaters, readable_ends

from .conftest import _port_block

pytestmark = pytest.mark.integration

TOPIC = "gap-test-changelog"


class Broker:
    """The embedded broker and its store alone, stopped and started over the same directory."""

    def __init__(self, state: Path) -> None:
        base = _port_block()
        self.overrides = {
            "HUB_STATE_DIR": str(state),
            "HUB_EMBEDDED_KAFKA_PORT": str(base),
            "HUB_EMBEDDED_STORE_PORT": str(base + 18),
        }
        self.hub: Hub | None = None
        self.bootstrap = f"127.0.0.1:{base}"

    def start(self) -> None:
        self.hub = Hub(self.overrides)
        self.hub._start_embedded_broker(lambda message: None)
        asyncio.run(wait_for_broker(self.bootstrap, timeout=30))

    def stop(self) -> None:
        if self.hub is not None:
            self.hub.stop()


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    saved = dict(os.environ)  # a Hub writes its settings into the environment: put it back after
    for var in ("HUB_KAFKA_BOOTSTRAP", "HUB_DATABASE_URL"):
        os.environ.pop(var, None)
    b = Broker(tmp_path)
    b.start()
    try:
        yield b
    finally:
        b.stop()
        os.environ.clear()
        os.environ.update(saved)


async def _produce(bootstrap: str, partition: int, n: int) -> list[int]:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks=-1)
    await producer.start()
    try:  # one record batch per send
        return [
            (await producer.send_and_wait(TOPIC, b"v", key=f"k{i}".encode(), partition=partition)).offset
            for i in range(n)
        ]
    finally:
        await producer.stop()


async def _create_topic(bootstrap: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(TOPIC, num_partitions=2, replication_factor=1)])
    finally:
        await admin.close()


async def _offsets(bootstrap: str, tp: TopicPartition) -> list[int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign([tp])
        consumer.seek(tp, 0)
        seen: list[int] = []
        for _ in range(20):
            batch = await consumer.getmany(tp, timeout_ms=200)
            seen += [r.offset for r in batch.get(tp, [])]
        return seen
    finally:
        await consumer.stop()


def test_a_changelog_whose_last_batch_the_broker_lost_is_read_to_its_last_served_record(
    broker: Broker,
) -> None:
    asyncio.run(_create_topic(broker.bootstrap))
    assert asyncio.run(_produce(broker.bootstrap, 0, 3)) == [0, 1, 2]
    assert asyncio.run(_produce(broker.bootstrap, 1, 2)) == [0, 1]
    broker.stop()
    # the crash: the high watermark counts the batch at offset 2 of partition 0, the batch is gone
    records = Path(broker.overrides["HUB_STATE_DIR"]) / "broker-store" / "tansu" / "clusters"
    lost = list(records.glob(f"*/topics/{TOPIC}/partitions/0000000000/records/00000000000000000002.batch*"))
    assert lost, "the store keeps one object per record batch"
    for path in lost:
        path.unlink()
    broker.start()
    gap, whole = TopicPartition(TOPIC, 0), TopicPartition(TOPIC, 1)

    reported = asyncio.run(fetched_highwaters(broker.bootstrap, [gap, whole], {gap: 0, whole: 0}))
    assert reported == {gap: 3, whole: 2}, "the broker still counts the lost batch"

    ends = asyncio.run(readable_ends(broker.bootstrap, reported))

    assert ends == {gap: 2, whole: 2}
    # the next write goes after the gap, and readers step over it
    assert asyncio.run(_produce(broker.bootstrap, 0, 1)) == [3]
    assert asyncio.run(readable_ends(broker.bootstrap, {gap: 4})) == {gap: 4}
    assert asyncio.run(_offsets(broker.bootstrap, gap)) == [0, 1, 3]
