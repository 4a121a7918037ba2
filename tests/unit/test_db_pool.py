"""The gateway's SQLite engine keeps its connections for the gateway's concurrency: a second round
of as many concurrent users as the first opens no new connection (each new one is a sqlite
connection and an aiosqlite thread; the default pool of 5 reopened them on every burst)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from gateway.db import Database


def test_a_burst_of_concurrent_users_reuses_the_pooled_connections(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'hub.db'}")
    opened: list[int] = []

    def on_connect(_dbapi: Any, _record: Any) -> None:
        opened.append(1)

    sa.event.listen(db.engine.sync_engine, "connect", on_connect)

    async def user() -> int:
        async with db.engine.connect() as conn:
            value = (await conn.execute(sa.text("SELECT 1"))).scalar_one()
            await asyncio.sleep(0.05)  # every user holds its connection at the same time
            return int(value)

    async def main() -> tuple[int, int]:
        try:
            assert await asyncio.gather(*(user() for _ in range(12))) == [1] * 12
            first = len(opened)
            assert await asyncio.gather(*(user() for _ in range(12))) == [1] * 12
            return first, len(opened)
        finally:
            await db.engine.dispose()

    first, second = asyncio.run(main())
    assert first == 12
    assert second == first, f"{second - first} connections opened again for the second burst"
