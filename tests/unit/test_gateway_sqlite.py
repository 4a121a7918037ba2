"""The gateway's SQLite path on a real database file: calls on the event loop's thread that fall back
to the connection's thread when they must wait for another writer (never blocking the loop), audit
entries appended in batches that make the same chain as one at a time, and the group commit of
concurrent requests' entries."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa

from gateway import audit
from gateway.audit_batch import AuditAppender
from gateway.db import Database, outbox
from gateway.sqlite_driver import InlineConnection


def _verify(url: str) -> tuple[int, audit.Problem | None]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return audit.verify(conn)
    finally:
        engine.dispose()


def test_file_databases_use_the_inline_connection(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'hub.db'}")

    async def kind() -> type:
        await db.create_schema()
        async with db.engine.connect() as conn:
            raw = await conn.get_raw_connection()
            return type(raw.driver_connection)

    try:
        assert asyncio.run(kind()) is InlineConnection
    finally:
        asyncio.run(db.close())


def test_a_write_that_meets_another_writers_lock_waits_off_the_loop_and_then_succeeds(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'hub.db'}")
    row = {"topic": "t", "key": "k", "value": b"v"}

    async def scenario() -> tuple[bool, int]:
        await db.create_schema()
        now = sa.func.current_timestamp()
        async with db.engine.begin() as holder:  # holds SQLite's write lock until the block ends
            await holder.execute(outbox.insert().values(**row, created_at=now))

            async def second_writer() -> None:
                async with db.engine.begin() as conn:
                    await conn.execute(outbox.insert().values(**row, created_at=now))

            async def third_writer() -> None:  # executemany: always on the connection's thread
                async with db.engine.begin() as conn:
                    await conn.execute(outbox.insert(), [{**row, "created_at": dt.datetime.now(dt.UTC)}] * 2)

            waiting = [asyncio.create_task(second_writer()), asyncio.create_task(third_writer())]
            for _ in range(20):  # the loop keeps running while the other writers wait for the lock
                await asyncio.sleep(0.01)
            still_waiting = not any(w.done() for w in waiting)
        await asyncio.gather(*waiting)  # the lock is free: the waiting writes go through
        async with db.engine.connect() as conn:
            count = (await conn.execute(sa.select(sa.func.count()).select_from(outbox))).scalar_one()
        return still_waiting, count

    try:
        still_waiting, count = asyncio.run(scenario())
    finally:
        asyncio.run(db.close())
    assert still_waiting
    assert count == 4


def test_record_many_makes_the_same_chain_as_one_entry_at_a_time(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    db = Database(url)

    async def append() -> list[int]:
        await db.create_schema()
        async with db.engine.begin() as conn:
            first = await audit.record(conn, "inquiry_accepted", "case_1", "court-a", "officer-1", {"i": 0})
        async with db.engine.begin() as conn:
            more = await audit.record_many(
                conn,
                [
                    ("agency_answers", "case_1", "court-a", "hub", {"i": 1}),
                    ("agency_answers", "case_2", "court-a", "hub", {"i": 2}),
                    ("assets_read", "case_1", "court-a", "token:ab", None),
                ],
            )
            assert await audit.record_many(conn, []) == []
        async with db.engine.begin() as conn:
            last = await audit.record(conn, "assets_read", "case_2", "court-a", "token:ab", {})
        await db.close()
        return [first, *more, last]

    assert asyncio.run(append()) == [1, 2, 3, 4, 5]
    assert _verify(url) == (5, None)


def test_concurrent_requests_entries_are_committed_in_few_transactions_and_chain(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    db = Database(url)

    async def many() -> tuple[int, int]:
        await db.create_schema()
        appender = AuditAppender(db.engine)
        await asyncio.gather(
            *(
                appender.append("assets_read", f"case_{i % 3}", "court-a", "token:ab", {"i": i})
                for i in range(60)
            )
        )
        await db.close()
        return appender.batches, appender.entries

    batches, entries = asyncio.run(many())
    assert entries == 60
    assert batches < 60  # entries waiting together share a transaction
    assert _verify(url) == (60, None)


def test_an_entry_that_cannot_be_stored_fails_only_its_own_request(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    db = Database(url)

    async def scenario() -> list[BaseException | None]:
        await db.create_schema()
        appender = AuditAppender(db.engine)
        calls = [
            appender.append("assets_read", "case_1", "court-a", "token:ab", {"i": 1}),
            appender.append("assets_read", "case_1", "court-a", "token:ab", {"bad": object()}),
            appender.append("assets_read", "case_1", "court-a", "token:ab", {"i": 3}),
        ]
        results = await asyncio.gather(*calls, return_exceptions=True)
        await db.close()
        return [r if isinstance(r, BaseException) else None for r in results]

    outcome = asyncio.run(scenario())
    assert outcome[0] is None and outcome[2] is None
    with pytest.raises(TypeError):
        raise outcome[1]  # type: ignore[misc]
    assert _verify(url) == (2, None)
