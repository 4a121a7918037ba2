"""The live new-asset watch in the stream worker: the watched debtors, and matching every change.

- ``hub.watch.debtors`` (one :class:`~schemas.watch.WatchState` per case, written by the gateway)
  is read whole by every worker — outside the consumer group, every partition from the start — into
  one :class:`~streams.watch.WatchIndex`, so a change on any partition can be matched against every
  watched debtor. The loop that reads it is supervised: it restarts with backoff after an error and
  then reloads the index from the start (matching waits until the index has caught up with the
  topic's end, so no change is compared with a half-loaded table).
- ``hub.watch.changes`` (keyed ``<agency>/<ref>``) is consumed by the group at concurrency 1; each
  change's hit (``WatchIndex.match``: the change with every watched debtor it concerns) goes to
  ``hub.watch.hits`` keyed like the change before the change's offset is committed. An
  undecodable message is dead-lettered with its reason (``streams.delivery``).
- A watch that begins (or gains debtors) is also matched against the changes this worker saw in
  the last ``HUB_WATCH_REPLAY_SECONDS`` registered since the watch began (``RecentChanges``): a
  change can overtake the watch on its way through the gateway's outbox and the broker.
- ``GET /watch`` on the worker's web port: ``{"loaded", "cases", "debtors", "changes", "hits",
  "namesakes", "replayed", "restarts", "last_error"}`` (counts only; no identity leaves the worker).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from hub.kafka import client_security
from hub.masking import mask_text
from schemas.codec import CodecError, dead_letter, decode, encode
from schemas.topics import WATCH_CHANGES, WATCH_DEBTORS, WATCH_HITS
from schemas.watch import AssetChange, WatchState

from .app import _each, _send_acked, _topic, app, clock, dead_letters, settings
from .watch import RecentChanges, WatchIndex

__all__ = ["index", "on_asset_change", "status"]

log = logging.getLogger(__name__)

watch_changes = _topic(WATCH_CHANGES)
watch_hits = _topic(WATCH_HITS)
index = WatchIndex()
loaded = asyncio.Event()
recent = RecentChanges(settings.watch_replay_seconds)
status: dict[str, Any] = {
    "changes": 0,
    "hits": 0,
    "namesakes": 0,
    "replayed": 0,
    "restarts": 0,
    "last_error": None,
}


async def _partitions(consumer: AIOKafkaConsumer) -> list[TopicPartition]:
    while True:
        parts = consumer.partitions_for_topic(WATCH_DEBTORS)
        if parts:
            return [TopicPartition(WATCH_DEBTORS, p) for p in sorted(parts)]
        await consumer._client.force_metadata_update()
        await asyncio.sleep(0.5)


async def _follow_watches() -> None:
    """Read ``hub.watch.debtors`` from the start into a fresh index, then follow it."""
    loaded.clear()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=settings.fetch_max_wait_ms,
        **client_security(settings),
    )
    await consumer.start()
    try:
        tps = await _partitions(consumer)
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        fresh = WatchIndex()
        while True:
            batch = await consumer.getmany(timeout_ms=200, max_records=2000)
            for tp, messages in batch.items():
                for msg in messages:
                    try:
                        state = decode(WATCH_DEBTORS, msg.value)
                    except CodecError as e:
                        letter = dead_letter(
                            topic=WATCH_DEBTORS,
                            value=msg.value,
                            stage="streams.watch_debtors",
                            error=e,
                            partition=tp.partition,
                            offset=msg.offset,
                            key=msg.key,
                        )
                        await _send_acked(dead_letters, msg.key, encode(letter))
                        continue
                    if not loaded.is_set():
                        fresh.apply(state)
                    elif index.apply(state):  # a watch began or widened: what overtook it counts
                        await _replay(state)
            if not loaded.is_set():
                positions = [await consumer.position(tp) for tp in tps]
                if all(p >= ends[tp] for p, tp in zip(positions, tps, strict=True)):
                    index.take(fresh)
                    loaded.set()
                    log.info("watch: %d cases watched", len(index.states))
    finally:
        await consumer.stop()


@app.task
async def follow_watches() -> None:
    """Supervises :func:`_follow_watches`: an error is logged and counted, and the loop restarts."""
    failures = 0
    while True:
        try:
            await _follow_watches()
        except asyncio.CancelledError:
            raise
        except Exception as e:
            failures += 1
            status["restarts"] += 1
            status["last_error"] = mask_text(f"{type(e).__name__}: {e}")[:300]
            log.error("watch: reading %s failed (%s); restarting", WATCH_DEBTORS, status["last_error"])
            await asyncio.sleep(min(30.0, 0.5 * 2 ** min(failures, 6)))


async def _replay(state: WatchState) -> None:
    """Match a watch that just began against the changes this worker saw since it began."""
    solo = WatchIndex()
    solo.apply(state)
    for change in recent.concerning(state):
        hit = solo.match(change, clock.now())
        if hit is not None:
            status["replayed"] += 1
            await _send_acked(watch_hits, f"{change.agency}/{change.asset.ref}".encode(), encode(hit))


async def _on_change(change: AssetChange) -> None:
    await loaded.wait()
    hit = index.match(change, clock.now())
    recent.add(change)  # before any await: a watch applied from here on replays it
    if hit is not None:
        key = f"{change.agency}/{change.asset.ref}".encode()
        await _send_acked(watch_hits, key, encode(hit))
        status["hits"] += sum(1 for c in hit.candidates if c.decision != "non_match")
        status["namesakes"] += sum(1 for c in hit.candidates if c.decision == "non_match")
    status["changes"] += 1


@app.agent(watch_changes, concurrency=1)
async def on_asset_change(stream: Any) -> Any:
    async for _ in _each(stream, "streams.watch_changes", _on_change):
        yield None


@app.page("/watch")
async def watch_page(web: Any, request: Any) -> Any:
    return web.json({"loaded": loaded.is_set(), "cases": len(index.states), "debtors": len(index), **status})
