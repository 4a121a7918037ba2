"""The gateway's SQLite path on a real database file: calls on the event loop's thread that fall back
to the connection's thread when they must wait for another writer (never blocking the loop), audit
entries appended in batches that make the same chain as one at a time, and the group commit of
concurrent requests' entries."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

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


def _thread_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the calls that went to a connection's thread (spied on ``_on_thread``)."""
    calls: list[str] = []
    original = InlineConnection._on_thread

    async def spy(self: InlineConnection, fn: Any, *args: Any, waits: bool, **kwargs: Any) -> Any:
        calls.append(getattr(fn, "__name__", "?"))
        return await original(self, fn, *args, waits=waits, **kwargs)

    monkeypatch.setattr(InlineConnection, "_on_thread", spy)
    return calls


def test_the_gateways_own_concurrent_writers_take_turns_on_the_loop_without_a_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = Database(f"sqlite:///{tmp_path / 'hub.db'}")
    row = {"topic": "t", "key": "k", "value": b"v", "created_at": dt.datetime(2026, 11, 30, tzinfo=dt.UTC)}

    async def scenario() -> int:
        await db.create_schema()
        thread_calls.clear()  # the migration's own calls

        async def writer(i: int) -> None:
            async with db.engine.begin() as conn:
                await conn.execute(outbox.insert().values(**row))
                await asyncio.sleep(0.001)  # others run meanwhile, with this transaction open
                await conn.execute(outbox.update().where(outbox.c.key == "k").values(topic=f"t{i}"))

        await asyncio.gather(*(writer(i) for i in range(40)))
        async with db.engine.connect() as conn:
            return (await conn.execute(sa.select(sa.func.count()).select_from(outbox))).scalar_one()

    thread_calls = _thread_calls(monkeypatch)
    try:
        assert asyncio.run(scenario()) == 40
    finally:
        asyncio.run(db.close())
    # no SQLITE_BUSY met: no statement parked on a thread (closing a connection always goes there)
    assert [c for c in thread_calls if c != "close"] == []


def test_a_failed_transaction_gives_up_its_turn(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'hub.db'}")
    row = {"topic": "t", "key": "k", "value": b"v", "created_at": dt.datetime(2026, 11, 30, tzinfo=dt.UTC)}

    async def scenario() -> int:
        await db.create_schema()
        with pytest.raises(RuntimeError):
            async with db.engine.begin() as conn:
                await conn.execute(outbox.insert().values(**row))
                raise RuntimeError("the request failed mid-transaction")
        async with asyncio.timeout(5):  # the next writer gets the turn at once
            async with db.engine.begin() as conn:
                await conn.execute(outbox.insert().values(**row))
        async with db.engine.connect() as conn:
            return (await conn.execute(sa.select(sa.func.count()).select_from(outbox))).scalar_one()

    try:
        assert asyncio.run(scenario()) == 1  # the failed one rolled back
    finally:
        asyncio.run(db.close())


def test_another_process_writer_still_sends_the_write_to_the_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "hub.db"
    db = Database(f"sqlite:///{path}")
    row = {"topic": "t", "key": "k", "value": b"v", "created_at": dt.datetime(2026, 11, 30, tzinfo=dt.UTC)}

    async def scenario() -> tuple[bool, int]:
        await db.create_schema()
        other = sqlite3.connect(path, isolation_level=None)  # outside the gateway's turns
        other.execute("BEGIN IMMEDIATE")
        thread_calls.clear()

        async def write() -> None:
            async with db.engine.begin() as conn:
                await conn.execute(outbox.insert().values(**row))

        task = asyncio.create_task(write())
        for _ in range(20):
            await asyncio.sleep(0.01)
        waited = not task.done()
        other.execute("COMMIT")
        other.close()
        await task
        async with db.engine.connect() as conn:
            return waited, (await conn.execute(sa.select(sa.func.count()).select_from(outbox))).scalar_one()

    thread_calls = _thread_calls(monkeypatch)
    try:
        waited, count = asyncio.run(scenario())
    finally:
        asyncio.run(db.close())
    assert waited and count == 1
    assert "execute" in thread_calls  # SQLITE_BUSY: waited on the connection's thread, not the loop


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
