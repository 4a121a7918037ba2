"""The audit trail's hash chain on a real SQLite file: appends in order (concurrent ones too), and
verification naming the first entry that was altered, removed or inserted."""

from __future__ import annotations

import asyncio
import itertools
import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from gateway import audit
from gateway.db import Database


def _db(tmp_path: Path) -> tuple[Database, str]:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    return Database(url), url


async def _append(db: Database, n: int, case_id: str = "case_1") -> list[int]:
    await db.create_schema()
    seqs = []
    for i in range(n):
        async with db.engine.begin() as conn:
            seqs.append(
                await audit.record(
                    conn, "inquiry_accepted", case_id, "court-a", "officer-1", {"inquiry_id": f"inq_{i}"}
                )
            )
    return seqs


def _verify(url: str) -> tuple[int, audit.Problem | None]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return audit.verify(conn)
    finally:
        engine.dispose()


def _sql(url: str, statement: str, **params: Any) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(statement), params)
    finally:
        engine.dispose()


def _run(db: Database, coro: Any) -> Any:
    async def go() -> Any:
        try:
            return await coro
        finally:
            await db.close()

    return asyncio.run(go())


def test_entries_chain_from_the_genesis_and_verify(tmp_path: Path) -> None:
    db, url = _db(tmp_path)
    assert _run(db, _append(db, 5)) == [1, 2, 3, 4, 5]
    assert _verify(url) == (5, None)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(audit.audit_log).order_by(audit.audit_log.c.seq)).all()
    engine.dispose()
    assert rows[0].prev_hash == audit.GENESIS
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(rows))
    first = rows[0]
    assert json.loads(first.details) == {"inquiry_id": "inq_0"}
    assert first.at.endswith("+00:00") and "T" in first.at  # RFC 3339, UTC
    assert first.hash == audit.entry_hash(
        seq=1,
        at=first.at,
        kind="inquiry_accepted",
        court_id="court-a",
        case_id="case_1",
        actor="officer-1",
        details=first.details,
        prev_hash=audit.GENESIS,
    )


def test_an_edited_entry_is_named(tmp_path: Path) -> None:
    db, url = _db(tmp_path)
    _run(db, _append(db, 5))
    _sql(url, "UPDATE audit_log SET actor = 'officer-2' WHERE seq = 3")
    _checked, problem = _verify(url)
    assert problem is not None and (problem.seq, problem.what) == (3, "altered")
    assert "entry 3 altered" in problem.message


def test_an_edit_with_its_hash_rewritten_breaks_the_next_link(tmp_path: Path) -> None:
    db, url = _db(tmp_path)
    _run(db, _append(db, 4))
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        row = conn.execute(sa.select(audit.audit_log).where(audit.audit_log.c.seq == 2)).one()
        fields = {
            k: getattr(row, k) for k in ("seq", "at", "kind", "court_id", "case_id", "details", "prev_hash")
        }
        forged = audit.entry_hash(**{**fields, "actor": "someone-else"})
        conn.execute(
            audit.audit_log.update()
            .where(audit.audit_log.c.seq == 2)
            .values(actor="someone-else", hash=forged)
        )
    engine.dispose()
    _, problem = _verify(url)
    assert problem is not None and problem.seq == 3 and "entry 2 was altered" in problem.message


def test_a_removed_entry_is_named_in_the_middle_and_at_the_end(tmp_path: Path) -> None:
    db, url = _db(tmp_path)
    _run(db, _append(db, 5))
    _sql(url, "DELETE FROM audit_log WHERE seq = 2")
    _, problem = _verify(url)
    assert problem is not None and (problem.seq, problem.what) == (2, "removed")
    assert "entry 2 removed" in problem.message

    (tmp_path / "b").mkdir()
    db2, url2 = _db(tmp_path / "b")
    _run(db2, _append(db2, 3))
    _sql(url2, "DELETE FROM audit_log WHERE seq = 3")
    _, problem = _verify(url2)
    assert problem is not None and (problem.seq, problem.what) == (3, "removed")


def test_an_inserted_entry_is_named(tmp_path: Path) -> None:
    db, url = _db(tmp_path)
    _run(db, _append(db, 3))
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        last = conn.execute(sa.select(audit.audit_log).where(audit.audit_log.c.seq == 3)).one()
        row = {
            "seq": 4,
            "at": last.at,
            "kind": "assets_read",
            "court_id": "court-a",
            "case_id": "case_1",
            "actor": "token:0000",
            "details": "{}",
            "prev_hash": last.hash,
        }
        conn.execute(audit.audit_log.insert().values(**row, hash=audit.entry_hash(**row)))
    engine.dispose()
    _, problem = _verify(url)
    assert problem is not None and (problem.seq, problem.what) == (4, "inserted")


def test_concurrent_appends_never_fork_the_chain(tmp_path: Path) -> None:
    db, url = _db(tmp_path)

    async def many() -> list[int]:
        await db.create_schema()

        async def one(i: int) -> int:
            async with db.engine.begin() as conn:
                return await audit.record(conn, "assets_read", f"case_{i % 3}", "court-a", "t", {"i": i})

        return list(await asyncio.gather(*(one(i) for i in range(40))))

    seqs = _run(db, many())
    assert sorted(seqs) == list(range(1, 41))
    assert _verify(url) == (40, None)


def test_a_case_reads_its_own_entries_page_by_page(tmp_path: Path) -> None:
    db, _ = _db(tmp_path)

    async def pages() -> list[list[int]]:
        await _append(db, 3, "case_1")
        await _append(db, 2, "case_2")
        await _append(db, 2, "case_1")
        out, after = [], 0
        async with db.engine.connect() as conn:
            while True:
                entries, cursor = await audit.page(conn, "case_1", "court-a", after, 2)
                out.append([e["seq"] for e in entries])
                if cursor is None:
                    break
                after = audit.decode_cursor(cursor)
            other, _ = await audit.page(conn, "case_1", "court-b", 0, 10)
            assert other == []
        return out

    assert _run(db, pages()) == [[1, 2], [3, 6], [7]]


@pytest.mark.parametrize("cursor", ["", "xyz", "YTEyYQ", "%%%", "YS0x"])
def test_a_foreign_cursor_is_a_value_error(cursor: str) -> None:
    with pytest.raises(ValueError, match="not a cursor"):
        audit.decode_cursor(cursor)


def test_digests_and_token_fingerprints_hide_content() -> None:
    d = audit.digest({"id_number": "110101198001010010"})
    assert d.startswith("sha256:") and "110101" not in d
    assert audit.digest({"b": 1, "a": 2}) == audit.digest({"a": 2, "b": 1})
    fp = audit.actor_of_token("Bearer secret-token")
    assert (
        fp.startswith("token:") and "secret" not in fp and fp == audit.actor_of_token("Bearer secret-token")
    )
