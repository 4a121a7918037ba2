"""The audit chain on SQLite and on PostgreSQL: two gateways (two engines, two connection pools)
appending at once never fork it, an append rolls back with the change it records, and ``hub audit
verify`` reads either database from its URL."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from gateway import audit
from gateway.db import Database

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def _verify_cli(url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hub.cli", "audit", "verify", "--database", url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _sync(url: str) -> sa.Engine:
    return sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))


def test_two_gateways_appending_at_once_keep_one_chain(db_url: str) -> None:
    async def run() -> list[int]:
        first, second = Database(db_url), Database(db_url)
        await first.create_schema()
        try:

            async def one(db: Database, i: int) -> int:
                async with db.engine.begin() as conn:
                    return await audit.record(conn, "assets_read", f"case_{i % 4}", "court-a", "t", {"i": i})

            return list(await asyncio.gather(*(one(first if i % 2 else second, i) for i in range(60))))
        finally:
            await first.close()
            await second.close()

    seqs = asyncio.run(run())
    assert sorted(seqs) == list(range(1, 61))
    engine = _sync(db_url)
    try:
        with engine.connect() as conn:
            assert audit.verify(conn) == (60, None)
    finally:
        engine.dispose()
    ok = _verify_cli(db_url)
    assert ok.returncode == 0 and "60 entries verified" in ok.stdout, ok.stdout + ok.stderr


def test_an_entry_rolls_back_with_its_change_and_an_edit_is_named(db_url: str) -> None:
    async def run() -> None:
        db = Database(db_url)
        await db.create_schema()
        try:
            async with db.engine.begin() as conn:
                await audit.record(conn, "inquiry_accepted", "case_1", "court-a", "officer-1", {"n": 1})
            with pytest.raises(RuntimeError):
                async with db.engine.begin() as conn:
                    await audit.record(conn, "inquiry_accepted", "case_1", "court-a", "officer-1", {"n": 2})
                    raise RuntimeError("the change failed")
            async with db.engine.begin() as conn:
                assert await audit.record(conn, "assets_read", "case_1", "court-a", "t", {}) == 2
        finally:
            await db.close()

    asyncio.run(run())
    engine = _sync(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE audit_log SET details = :d WHERE seq = 1"), {"d": '{"n":9}'})
    finally:
        engine.dispose()
    broken = _verify_cli(db_url)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "entry 1 altered" in broken.stdout
