"""The feed, the case index and cursor paging on a real SQLite database migrated to head (no broker):
events in order once each, the debtor index by keyed digest, case numbers unique per court, pages
that neither skip nor repeat."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from gateway.db import Database, webhook_deliveries
from gateway.feed import read_events, record_case_event, record_inquiry_settled, result_summary
from gateway.findback import (
    CursorError,
    decode_cursor,
    encode_cursor,
    index_case,
    list_cases,
    lookup_digests,
    prepare_index,
)

RESIDENT = "110101198001010010"  # its legacy 15-digit form: 110101800101001


PG_URL = os.environ.get("HUB_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=[pytest.mark.postgres, pytest.mark.integration])]
)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A database migrated to head: SQLite here; PostgreSQL (a fresh database) in the integration tier."""
    name = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'hub.db'}"
    else:
        import psycopg

        name = f"hub_fb_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = PG_URL.rsplit("/", 1)[0] + f"/{name}"
    database = Database(url)
    try:
        asyncio.run(database.create_schema())
        yield database
    finally:
        asyncio.run(database.close())
        if name is not None:
            with psycopg.connect(PG_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def case(n: int, court: str = "court-a", id_number: str = RESIDENT) -> dict[str, Any]:
    return {
        "case_id": f"case_{n:03d}",
        "court_id": court,
        "case_number": f"(2026)鄂0111执{n}号",
        "debtors": [{"name": "甲", "id_type": "resident_id", "id_number": id_number}],
        "created_at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC).isoformat(),
    }


async def register(db: Database, key: bytes, body: dict[str, Any], at: dt.datetime) -> None:
    async with db.engine.begin() as conn:
        await db.insert_case(conn, body=body, idempotency_key=None, request_hash="x")
        await conn.execute(
            sa.text("UPDATE cases SET created_at = :at WHERE case_id = :id"),
            {"at": at, "id": body["case_id"]},
        )
        await index_case(conn, key, body)


def test_a_case_number_is_unique_per_court_and_debtors_are_found_by_any_form(db: Database) -> None:
    async def run() -> None:
        key = await prepare_index(db)
        assert await prepare_index(db) == key  # generated once, then kept
        t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        await register(db, key, case(1), t0)
        await register(db, key, case(2, id_number="440305200002290029"), t0)
        await register(
            db, key, {**case(1, court="court-b"), "case_id": "case_b01"}, t0
        )  # another court: fine
        with pytest.raises(IntegrityError):
            await register(db, key, {**case(1), "case_id": "case_dup"}, t0)
        for form in (RESIDENT, "110101800101001", " 110101198001010010 "):
            rows, _ = await list_cases(
                db,
                "court-a",
                case_number=None,
                status=None,
                digests=lookup_digests(key, form),
                cursor=None,
                limit=10,
            )
            assert [r.case_id for r in rows] == ["case_001"], form
        rows, _ = await list_cases(
            db,
            "court-a",
            case_number=None,
            status=None,
            digests=lookup_digests(key, "1" * 18),
            cursor=None,
            limit=10,
        )
        assert rows == []
        async with db.engine.connect() as conn:
            stored = (await conn.execute(sa.text("SELECT digest FROM case_debtor_ids"))).scalars().all()
        assert stored and not any(RESIDENT in d or "110101" in d for d in stored)

    asyncio.run(run())


def test_pages_of_cases_neither_skip_nor_repeat(db: Database) -> None:
    async def run() -> None:
        key = await prepare_index(db)
        t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        for n in range(1, 12):  # three share a creation instant: the id breaks the tie
            await register(db, key, case(n), t0 + dt.timedelta(seconds=n if n > 3 else 0))
        seen: list[str] = []
        cursor = None
        while True:
            rows, cursor = await list_cases(
                db, "court-a", case_number=None, status=None, digests=None, cursor=cursor, limit=4
            )
            seen += [r.case_id for r in rows]
            if cursor is None:
                break
        assert seen == [f"case_{n:03d}" for n in range(1, 12)]
        rows, _ = await list_cases(
            db,
            "court-a",
            case_number="(2026)鄂0111执7号",
            status="active",
            digests=None,
            cursor=None,
            limit=5,
        )
        assert [r.case_id for r in rows] == ["case_007"]
        rows, _ = await list_cases(
            db, "court-a", case_number=None, status="terminated", digests=None, cursor=None, limit=5
        )
        assert rows == []

    asyncio.run(run())


def test_cursors_round_trip_and_foreign_ones_are_refused() -> None:
    at = dt.datetime(2026, 1, 1, 12, 0, 0, 123456, tzinfo=dt.UTC)
    assert decode_cursor(encode_cursor(at, "case_1")) == (at, "case_1")
    for bad in ("", "not-a-cursor", "W10", encode_cursor(at, "x")[:-3]):
        with pytest.raises(CursorError):
            decode_cursor(bad)


def test_feed_events_come_in_order_once_each_and_a_pushed_one_is_queued_for_the_webhook(db: Database) -> None:
    result = {
        "inquiry_id": "inq_1",
        "case_id": "case_001",
        "court_id": "court-a",
        "status": "partial",
        "version": 3,
        "agencies": {"police": {"status": "answered"}, "bank:icbc": {"status": "unavailable"}},
        "assets": [
            {"kind": "deposit", "value": "100.50"},
            {"kind": "deposit", "value": "0.50"},
            {"kind": "vehicle", "value": "80000"},
        ],
    }

    async def run() -> list[Any]:
        async with db.engine.begin() as conn:
            first = await record_inquiry_settled(conn, result, "http://court/hook")
            again = await record_inquiry_settled(conn, result, "http://court/hook")  # redelivered
            pending = await record_inquiry_settled(conn, {**result, "status": "pending", "version": 4}, None)
            upgraded = await record_inquiry_settled(
                conn, {**result, "status": "complete", "version": 5}, None
            )
            other = await record_case_event(conn, "case_002", "court-b", "requery_result", {"n": 1})
            life = await record_case_event(conn, "case_001", "court-a", "requery_result", {"n": 1}, key="k1")
            assert (
                await record_case_event(conn, "case_001", "court-a", "requery_result", {}, key="k1") is None
            )
        assert first is not None and again is None and pending is None
        assert upgraded is not None and other is not None and life is not None
        assert first < upgraded < other < life
        async with db.engine.connect() as conn:
            everything = list(await read_events(conn, "court-a", after=0, limit=10))
            after_first = list(await read_events(conn, "court-a", after=first, limit=10))
            of_case = list(await read_events(conn, "court-a", after=0, limit=10, case_id="case_001"))
            hooks = (await conn.execute(sa.select(webhook_deliveries))).all()
        assert [e.seq for e in everything] == [first, upgraded, life]
        assert [e.seq for e in after_first] == [upgraded, life]
        assert [e.seq for e in of_case] == [first, upgraded, life]
        assert everything[0].payload["status"] == "partial" and everything[1].payload["status"] == "complete"
        assert len(hooks) == 1 and hooks[0].event_id == everything[0].event_id
        return everything

    events = asyncio.run(run())
    assert events[0].payload["assets_by_kind"] == {
        "deposit": {"count": 2, "value": "101.00"},
        "vehicle": {"count": 1, "value": "80000.00"},
    }
    assert events[0].payload["total_value"] == "80101.00"
    assert events[0].payload["agencies"] == {"police": "answered", "bank:icbc": "unavailable"}
    assert result_summary(None) == {"assets": 0, "assets_by_kind": {}, "total_value": "0.00"}


def test_the_upgrade_keeps_numbers_registered_twice_and_opens_the_feed_with_the_order_events(
    tmp_path: Path,
) -> None:
    from alembic import command

    from gateway.migrations import BASELINE, alembic_config

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = sa.create_engine(url)
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), BASELINE)
        for case_id, court, number, minutes in (
            ("case_b", "court-a", "(2026)鄂0111执1号", 5),
            ("case_a", "court-a", "(2026)鄂0111执1号", 1),  # the older one keeps the number
            ("case_c", "court-b", "(2026)鄂0111执1号", 9),
        ):
            conn.execute(
                sa.text(
                    "INSERT INTO cases (case_id, court_id, case_number, body, created_at) "
                    "VALUES (:id, :court, :n, :body, :at)"
                ),
                {
                    "id": case_id,
                    "court": court,
                    "n": number,
                    "body": "{}",
                    "at": t0 + dt.timedelta(minutes=minutes),
                },
            )
        for event_id, minutes in (("ev_2", 2), ("ev_1", 1)):
            conn.execute(
                sa.text(
                    "INSERT INTO court_events "
                    "(event_id, order_id, court_id, case_id, kind, body, seq, received_at) VALUES"
                    " (:id, 'ord_1', 'court-a', 'case_a', 'effective', :body, 0, :at)"
                ),
                {
                    "id": event_id,
                    "body": json.dumps({"event_id": event_id}),
                    "at": t0 + dt.timedelta(minutes=minutes),
                },
            )
    engine.dispose()

    async def run() -> tuple[list[Any], list[Any], list[Any]]:
        db = Database(url)
        try:
            await db.create_schema()
            async with db.engine.connect() as conn:
                numbers = (
                    await conn.execute(sa.text("SELECT court_id, case_id FROM case_numbers ORDER BY 1"))
                ).all()
                statuses = (await conn.execute(sa.text("SELECT DISTINCT status FROM cases"))).all()
                events = list(await read_events(conn, "court-a", after=0, limit=10))
            return list(numbers), list(statuses), events
        finally:
            await db.close()

    numbers, statuses, events = asyncio.run(run())
    assert [tuple(r) for r in numbers] == [("court-a", "case_a"), ("court-b", "case_c")]
    assert [tuple(r) for r in statuses] == [("active",)]
    assert [(e.event_id, e.type, e.payload) for e in events] == [
        ("ev_1", "order_event", {"event_id": "ev_1"}),
        ("ev_2", "order_event", {"event_id": "ev_2"}),
    ]


def test_a_reader_following_the_feed_misses_nothing_while_writers_commit_out_of_order(db: Database) -> None:
    """Writers take their numbers and commit in another order (each holds its transaction a while);
    a reader that keeps reading after the last cursor it saw still gets every event once."""

    async def writer(i: int) -> None:
        async with db.engine.begin() as conn:
            await record_case_event(conn, "case_001", "court-a", "requery_result", {"i": i}, key=f"w{i}")
            await asyncio.sleep(0.05 * ((7 * i) % 5))

    async def run() -> list[int]:
        seen: list[int] = []
        writers = asyncio.gather(*(writer(i) for i in range(12)))
        while True:
            finished = writers.done()
            async with db.engine.connect() as conn:
                rows = await read_events(conn, "court-a", after=seen[-1] if seen else 0, limit=100)
            seen += [r.seq for r in rows]
            if finished and not rows:
                break
            await asyncio.sleep(0.01)
        await writers
        return [r["i"] for r in await _payloads(db, seen)]

    got = asyncio.run(run())
    assert sorted(got) == list(range(12)) and len(got) == 12


async def _payloads(db: Database, seqs: list[int]) -> list[Any]:
    async with db.engine.connect() as conn:
        rows = await read_events(conn, "court-a", after=0, limit=100)
    by_seq = {r.seq: r.payload for r in rows}
    return [by_seq[s] for s in seqs]


@pytest.mark.parametrize(
    "module",
    [
        "gateway.feed",
        "gateway.findback",
        "gateway.batches",
        "gateway.routes.events",
        "gateway.tables",
        "gateway.order_records",
        "gateway.desk_records",
    ],
)
def test_each_module_imports_first_in_a_fresh_interpreter(module: str) -> None:
    """The feed's, find-back's and batches' tables join ``gateway.db``'s metadata from db.py's end:
    whichever module a process imports first, the cycle resolves."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", f"import {module}"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-2000:]


def test_the_read_model_and_the_reconciler_feed_each_settled_version_once(db: Database) -> None:
    """``store_results`` (the streams' results), ``settle_unanswered`` (the reconciler's partial) and
    ``store_events`` (order outcomes) write the feed in the transaction that stores the change."""
    db.webhooks = {"court-a": "http://court-a/hook"}
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC).isoformat()

    def result(version: int, status: str) -> dict[str, Any]:
        return {
            "inquiry_id": "inq_1",
            "case_id": "case_001",
            "court_id": "court-a",
            "status": status,
            "version": version,
            "agencies": {"police": {"status": "answered" if status == "complete" else "pending"}},
            "assets": [],
            "updated_at": now,
        }

    async def run() -> tuple[list[Any], int]:
        async with db.engine.begin() as conn:
            await db.insert_inquiry(
                conn,
                inquiry_id="inq_1",
                court_id="court-a",
                case_id="case_001",
                request={},
                idempotency_key=None,
                request_hash="h",
            )
        assert await db.store_results([result(1, "pending")]) == ["inq_1"]  # not settled: no event
        assert await db.settle_unanswered("inq_1", 1, {**result(1, "partial"), "detail": "no answer in time"})
        assert await db.store_results([result(2, "complete")]) == ["inq_1"]
        assert await db.store_results([result(2, "complete")]) == []  # a repeat changes nothing
        order_event = {
            "event_id": "ev_ord_1",
            "kind": "effective",
            "case_id": "case_001",
            "court_id": "court-a",
            "order_id": "ord_1",
            "order": {"status": "effective", "asset_id": "a1"},
            "at": now,
        }
        assert await db.store_events([order_event], {}) == ["ev_ord_1"]
        assert await db.store_events([order_event], {}) == []
        async with db.engine.connect() as conn:
            events = list(await read_events(conn, "court-a", after=0, limit=10))
            hooks = (
                await conn.execute(sa.select(sa.func.count()).select_from(webhook_deliveries))
            ).scalar_one()
        return events, hooks

    events, hooks = asyncio.run(run())
    assert [(e.type, e.payload.get("status"), e.payload.get("version")) for e in events] == [
        ("inquiry_settled", "partial", 1),
        ("inquiry_settled", "complete", 2),
        ("order_event", None, None),
    ]
    assert events[2].event_id == "ev_ord_1" and events[2].payload["kind"] == "effective"
    assert hooks == 2, "each inquiry_settled pushed once; the order event's webhook is store_events' own"
