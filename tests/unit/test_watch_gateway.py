"""The watch at the gateway (gateway/watch.py) on a real SQLite database: who watches a case and
what reaches the streams; hits become one ``new_asset`` event each (webhook queued), namesakes are
counted once and never pushed, and nothing is recorded for a case no longer watched."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiokafka import ConsumerRecord, TopicPartition

from gateway.db import Database, cases, webhook_deliveries
from gateway.feed import case_events
from gateway.tables import utc as _utc
from gateway.watch import WatchHits, WatchRepublisher, case_watches, set_watch, watch_summary
from hub.settings import HubSettings
from schemas.codec import decode, encode
from schemas.identifiers import resident_id_check
from schemas.topics import WATCH_DEBTORS, WATCH_HITS
from schemas.watch import WatchHit

NOW = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)
ID = "42010619850101003" + resident_id_check("42010619850101003")
CASE = {
    "case_id": "case_w1",
    "court_id": "court-a",
    "case_number": "(2026)鄂0111执1号",
    "debtors": [{"name": "沃奇甲", "id_type": "resident_id", "id_number": ID}],
}


def hit(*decisions: str, ref: str = "62220001", case_id: str = "case_w1") -> WatchHit:
    """A change compared with debtor 0 of ``case_id`` and, for each further decision, of another case."""
    return WatchHit.model_validate(
        {
            "asset_id": f"bank:icbc/deposit/{ref}",
            "matched_at": NOW,
            "candidates": [
                {
                    "case_id": case_id if i == 0 else f"case_other_{i}",
                    "court_id": "court-a",
                    "debtor_index": 0,
                    "decision": d,
                    "linkage": {"decision": d, "score": 10.0} if d != "non_match" else None,
                }
                for i, d in enumerate(decisions)
            ],
            "change": {
                "change_id": f"bank:icbc:{ref}",
                "agency": "bank:icbc",
                "sequence": ref,
                "change_type": "account_opened",
                "occurred_at": NOW,
                "observed_at": NOW,
                "asset": {
                    "kind": "deposit",
                    "agency": "bank:icbc",
                    "ref": ref,
                    "value": "8000.00",
                    "owner": {"name": "沃奇甲", "id_type": "resident_id", "id_number": ID},
                },
            },
        }
    )


async def _db(tmp_path: Path) -> Database:
    db = Database(f"sqlite:///{tmp_path / 'hub.db'}")
    await db.create_schema()
    db.webhooks = {"court-a": "http://127.0.0.1:9/hook"}
    return db


async def _states(db: Database) -> list[Any]:
    return [decode(WATCH_DEBTORS, r.value) for r in await db.unpublished() if r.topic == WATCH_DEBTORS]


async def _events(db: Database) -> list[Any]:
    async with db.engine.connect() as conn:
        return list((await conn.execute(sa.select(case_events).order_by(case_events.c.seq))).all())


def test_the_court_and_the_termination_each_hold_the_watch(tmp_path: Path) -> None:
    async def go() -> None:
        db = await _db(tmp_path)
        async with db.engine.begin() as conn:
            assert await set_watch(db, conn, CASE, NOW, court=False, termination=False) is None
            await set_watch(db, conn, CASE, NOW, court=True)
            await set_watch(db, conn, CASE, NOW, court=True)  # unchanged: nothing published
            await set_watch(db, conn, CASE, NOW, termination=True)
            await set_watch(db, conn, CASE, NOW, court=False)  # still watched by the termination
            row = await set_watch(db, conn, CASE, NOW, termination=False)
        assert row is not None and not row.by_court and not row.by_termination
        states = await _states(db)
        assert [(s.active, s.sources) for s in states] == [
            (True, ["court"]),
            (True, ["court", "termination"]),
            (True, ["termination"]),
            (False, []),
        ]
        assert states[0].debtors[0].id_number == ID and states[0].court_id == "court-a"
        events = await _events(db)
        assert [(e.type, e.payload["sources"]) for e in events] == [
            ("watch_started", ["court"]),
            ("watch_stopped", ["termination"]),
        ]
        await db.close()

    asyncio.run(go())


def test_hits_become_new_asset_events_once_and_namesakes_are_only_counted(tmp_path: Path) -> None:
    async def go() -> None:
        db = await _db(tmp_path)
        async with db.engine.begin() as conn:
            await set_watch(db, conn, CASE, NOW, court=True)
        hits = WatchHits(db, HubSettings())
        # a namesake's change also compared with an unwatched case: only the watched case counts it
        await hits.store(
            [hit("match"), hit("non_match", "non_match", ref="62220002"), hit("possible", ref="62220003")]
        )
        await hits.store([hit("match"), hit("non_match", ref="62220002")])  # redelivered: nothing new
        await hits.store([hit("match", case_id="case_unwatched")])
        news = [e for e in await _events(db) if e.type == "new_asset"]
        assert [(e.payload["ref"], e.payload["linkage"]["decision"]) for e in news] == [
            ("62220001", "match"),
            ("62220003", "possible"),
        ]
        payload = news[0].payload
        assert payload["asset_id"] == "bank:icbc/deposit/62220001" and payload["value"] == "8000.00"
        assert payload["change_type"] == "account_opened" and ID not in str(payload)  # no identity number
        async with db.engine.connect() as conn:
            assert await watch_summary(conn, "case_w1") == {
                "watched": 1,
                "new_assets": 2,
                "namesakes_excluded": 1,
            }
            queued = (await conn.execute(sa.select(webhook_deliveries.c.event_id))).scalars().all()
        assert {e.event_id for e in news} <= set(queued)

        async with db.engine.begin() as conn:
            await set_watch(db, conn, CASE, NOW, court=False)
        await hits.store([hit("match", ref="62220004"), hit("non_match", ref="62220005")])  # watch ended
        async with db.engine.connect() as conn:
            assert await watch_summary(conn, "case_w1") == {
                "watched": 0,
                "new_assets": 2,
                "namesakes_excluded": 1,
            }
        await hits.stop()
        await db.close()

    asyncio.run(go())


def test_active_watches_are_published_again_before_the_topic_could_forget_them(tmp_path: Path) -> None:
    async def go() -> None:
        db = await _db(tmp_path)
        async with db.engine.begin() as conn:
            await conn.execute(
                cases.insert().values(
                    case_id=CASE["case_id"],
                    court_id="court-a",
                    case_number=CASE["case_number"],
                    body=CASE,
                    created_at=NOW,
                )
            )
            long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
            await set_watch(db, conn, CASE, NOW, court=True)
            await conn.execute(case_watches.update().values(published_at=long_ago))  # as if 30 days ago
        await db.mark_published([r.id for r in await db.unpublished()])
        wake = asyncio.Event()
        settings = HubSettings(control_topic_retention_seconds=86400)
        republisher = WatchRepublisher(db, settings, wake, interval=0.01)
        task = asyncio.create_task(republisher.run())
        while republisher.republished < 1:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        assert republisher.republished == 1 and wake.is_set()  # once: its publication is fresh again
        [state] = await _states(db)
        assert state.active and state.sources == ["court"] and state.case_id == "case_w1"
        async with db.engine.connect() as conn:
            row = (await conn.execute(sa.select(case_watches))).one()
        assert _utc(row.published_at) > long_ago
        await db.close()

    asyncio.run(go())


class _Done(Exception):
    pass


class _Consumer:
    def __init__(self, batches: list[dict[Any, list[Any]]]) -> None:
        self.batches = batches
        self.commits = 0

    async def getmany(self, timeout_ms: int, max_records: int) -> dict[Any, list[Any]]:
        if not self.batches:
            raise _Done
        return self.batches.pop(0)

    async def commit(self) -> None:
        self.commits += 1

    async def stop(self) -> None:
        pass


def test_a_hit_that_cannot_be_read_is_dead_lettered_and_the_rest_stored(tmp_path: Path) -> None:
    async def go() -> None:
        db = await _db(tmp_path)
        async with db.engine.begin() as conn:
            await set_watch(db, conn, CASE, NOW, court=True)
        tp = TopicPartition(WATCH_HITS, 0)
        good = encode(hit("match"))
        messages = [
            ConsumerRecord(WATCH_HITS, 0, 0, 0, 0, b"k", b"{not json", None, 1, 9, ()),
            ConsumerRecord(WATCH_HITS, 0, 1, 0, 0, b"k", good, None, 1, len(good), ()),
        ]
        hits = WatchHits(db, HubSettings())
        await hits.consumer.stop()  # the real client (never started) gives way to the fake
        consumer = _Consumer([{tp: messages}])
        hits.consumer = consumer  # type: ignore[assignment]
        with pytest.raises(_Done):
            await hits.run()
        assert consumer.commits == 1 and hits.dead_lettered == 1
        assert [e.type for e in await _events(db)] == ["watch_started", "new_asset"]
        [letter] = await db.dead_letter_counts()
        assert letter["source_topic"] == WATCH_HITS and letter["stage"] == "gateway.watch_hits"
        await db.close()

    asyncio.run(go())
