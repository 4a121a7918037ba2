"""The gateway's data layer, the same tests on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError

from gateway.db import Database, async_url
from gateway.db import inquiries as inquiries_table

pytestmark = pytest.mark.integration


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def _with_db(url: str, body: Any) -> Any:
    db = Database(url)
    await db.create_schema()
    try:
        return await body(db)
    finally:
        await db.close()


def test_async_driver_is_chosen_from_a_plain_url() -> None:
    assert async_url("sqlite:///x.db") == "sqlite+aiosqlite:///x.db"
    assert async_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"


def test_case_inquiry_and_outbox_are_written_together(db_url: str) -> None:
    async def body(db: Database) -> None:
        case = {"case_id": "case_1", "court_id": "court-a", "case_number": "(2026)鄂0111执1号", "debtors": []}
        async with db.engine.begin() as conn:
            await db.insert_case(conn, body=case, idempotency_key="k1", request_hash="h")
            await db.add_outbox(conn, "t", "case_1", b"one")
        with pytest.raises(RuntimeError):
            async with db.engine.begin() as conn:
                await db.insert_inquiry(
                    conn,
                    inquiry_id="inq_1",
                    court_id="court-a",
                    case_id="case_1",
                    request={"agencies": ["police"]},
                    idempotency_key=None,
                    request_hash="h",
                )
                await db.add_outbox(conn, "t", "case_1", b"two")
                raise RuntimeError("crash before commit")
        assert await db.get_inquiry("inq_1", "court-a") is None, "nothing half-written"
        assert [r.value for r in await db.unpublished()] == [b"one"]
        assert await db.find_case("case_1", "court-a") == case
        assert await db.find_case("case_1", "court-b") is None

    run(_with_db(db_url, body))


def test_idempotency_key_is_unique_per_court(db_url: str) -> None:
    async def body(db: Database) -> None:
        async def insert(court: str, inquiry_id: str) -> None:
            async with db.engine.begin() as conn:
                await db.insert_inquiry(
                    conn,
                    inquiry_id=inquiry_id,
                    court_id=court,
                    case_id="c",
                    request={},
                    idempotency_key="same",
                    request_hash="h",
                )

        await insert("court-a", "inq_1")
        await insert("court-b", "inq_2")  # another court may use the same key
        with pytest.raises(IntegrityError):
            await insert("court-a", "inq_3")
        row = await db.find_by_idempotency(inquiries_table, "court-a", "same")
        assert row is not None and row.inquiry_id == "inq_1"

    run(_with_db(db_url, body))


def test_read_model_keeps_the_newest_result_version(db_url: str) -> None:
    async def body(db: Database) -> None:
        async with db.engine.begin() as conn:
            await db.insert_inquiry(
                conn,
                inquiry_id="inq_1",
                court_id="court-a",
                case_id="c",
                request={},
                idempotency_key=None,
                request_hash="h",
            )
        result = {
            "inquiry_id": "inq_1",
            "court_id": "court-a",
            "case_id": "c",
            "status": "pending",
            "version": 2,
        }
        assert await db.store_result(result)
        assert not await db.store_result({**result, "status": "pending", "version": 1})  # stale
        assert not await db.store_result(result)  # duplicate
        assert await db.store_result({**result, "status": "complete", "version": 3})
        row = await db.get_inquiry("inq_1", "court-a")
        assert row is not None and row.status == "complete" and row.result["version"] == 3
        # a result for an inquiry the gateway never saw (published by a court system directly)
        assert await db.store_result({**result, "inquiry_id": "inq_x", "version": 1})
        assert (await db.get_inquiry("inq_x", "court-a")) is not None

    run(_with_db(db_url, body))


def test_outbox_publishes_in_order_and_once(db_url: str) -> None:
    async def body(db: Database) -> None:
        async with db.engine.begin() as conn:
            for i in range(5):
                await db.add_outbox(conn, "t", "k", f"m{i}".encode())
        rows = await db.unpublished(limit=3)
        assert [r.value for r in rows] == [b"m0", b"m1", b"m2"]
        await db.mark_published([r.id for r in rows])
        assert [r.value for r in await db.unpublished()] == [b"m3", b"m4"]
        assert await db.outbox_backlog() == 2

    run(_with_db(db_url, body))


def test_dead_letters_are_counted_by_topic_and_stage(db_url: str) -> None:
    async def body(db: Database) -> None:
        for stage in ("a", "a", "b"):
            await db.add_dead_letter(
                {
                    "source_topic": "t",
                    "stage": stage,
                    "error_class": "CodecError",
                    "reason": "x: Field required",
                    "value": "{}",
                }
            )
        counts = {(c["source_topic"], c["stage"]): c["count"] for c in await db.dead_letter_counts()}
        assert counts == {("t", "a"): 2, ("t", "b"): 1}
        assert len(await db.recent_dead_letters(limit=2)) == 2

    run(_with_db(db_url, body))
