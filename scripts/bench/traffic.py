"""Messages per inquiry on each hub topic during the benchmark's run.

Counts the messages on every topic before and after the run; the difference divided by the
inquiries driven is what one inquiry put on that topic: the fan-out's 8 requests and 8 answers, and
what the hub adds (result versions, changelogs, deadlines).
"""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer, TopicPartition

from hub.kafka import client_security
from hub.settings import HubSettings


def end_offsets(settings: HubSettings) -> dict[str, int]:
    """``{topic: messages on it}`` for every topic on the broker (the hub's and faust's own changelog
    and repartition topics), counted by reading each from its start until nothing more comes for a
    second: the embedded broker's ListOffsets answers trail (it reported 3 for 70 messages on 3
    partitions), so its end offsets cannot be used. Empty when the broker cannot be read."""
    try:
        return asyncio.run(_count(settings))
    except Exception as e:  # printed, not raised: the run's other figures stand
        print(f"(messages per topic not read: {type(e).__name__}: {e})")
        return {}


async def _count(settings: HubSettings) -> dict[str, int]:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap,
        enable_auto_commit=False,
        fetch_max_wait_ms=100,
        max_partition_fetch_bytes=8 * 1024 * 1024,
        **client_security(settings),
    )
    await consumer.start()
    try:
        topics = sorted(await consumer.topics())
        parts = [TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or ()]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        out = dict.fromkeys(topics, 0)
        quiet = 0
        give_up = asyncio.get_running_loop().time() + 120
        while quiet < 10:
            if asyncio.get_running_loop().time() > give_up:  # a topic that keeps growing
                print("(messages per topic: still reading after 120 s; the counts are a lower bound)")
                break
            batch = await consumer.getmany(timeout_ms=100, max_records=10_000)
            quiet = 0 if batch else quiet + 1
            for tp, messages in batch.items():
                out[tp.topic] += len(messages)
        return out
    finally:
        await consumer.stop()


def per_inquiry(before: dict[str, int], after: dict[str, int], n: int) -> list[tuple[str, float]]:
    """``[(topic, messages per inquiry)]`` of the topics that grew, most first."""
    grown = {t: after[t] - before.get(t, 0) for t in after if after[t] > before.get(t, 0)}
    return sorted(((t, k / max(n, 1)) for t, k in grown.items()), key=lambda x: (-x[1], x[0]))


def lines(rows: list[tuple[str, float]]) -> list[str]:
    """The printed table: one line per topic and the total."""
    if not rows:
        return []
    out = ["", "messages per inquiry on each topic during the run (counted before and after)"]
    out += [f"  {k:7.2f}  {t}" for t, k in rows]
    out.append(f"  {sum(k for _, k in rows):7.2f}  in all")
    return out
