"""The gateway's schema through Alembic migrations, on SQLite and on PostgreSQL (a fresh database per
test): a new database is migrated to head and matches ``gateway.db.metadata`` exactly; a database made
by ``create_all`` before migrations is stamped and keeps its rows; downgrade and upgrade round-trip."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from gateway.db import Database, metadata
from gateway.migrations import BASELINE, alembic_config

pytestmark = pytest.mark.integration


def sync_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def head() -> str:
    rev = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert rev is not None
    return rev


def create_schema(url: str) -> None:
    async def run() -> None:
        db = Database(url)
        try:
            await db.create_schema()
        finally:
            await db.close()

    asyncio.run(run())


def inspect(url: str, fn: Any) -> Any:
    engine = sa.create_engine(sync_url(url))
    try:
        with engine.begin() as conn:
            return fn(conn)
    finally:
        engine.dispose()


def version(conn: sa.Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def differences(conn: sa.Connection) -> list[Any]:
    ctx = MigrationContext.configure(conn, opts={"compare_type": True})
    return list(compare_metadata(ctx, metadata))


def test_new_database_is_migrated_to_head_and_matches_the_tables_of_db_py(db_url: str) -> None:
    create_schema(db_url)
    assert inspect(db_url, version) == head()
    assert inspect(db_url, differences) == [], "gateway/db.py changed: add a migration (see README)"
    create_schema(db_url)  # a second start-up is a no-op
    assert inspect(db_url, version) == head()


def test_database_made_before_migrations_is_stamped_and_keeps_its_rows(db_url: str) -> None:
    now = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)

    def legacy(conn: sa.Connection) -> None:
        # the schema create_schema's create_all made before migrations: the baseline's tables
        command.upgrade(alembic_config(conn), BASELINE)
        conn.execute(sa.text("DROP TABLE alembic_version"))
        conn.execute(
            metadata.tables["cases"]
            .insert()
            .values(case_id="case_old", court_id="court-a", case_number="(2025)1号", body={}, created_at=now)
        )

    inspect(db_url, legacy)
    assert inspect(db_url, version) is None
    create_schema(db_url)
    assert inspect(db_url, version) == head()
    rows = inspect(db_url, lambda c: c.execute(sa.text("SELECT case_id FROM cases")).scalars().all())
    assert rows == ["case_old"]


def test_downgrade_to_base_and_upgrade_again(db_url: str) -> None:
    create_schema(db_url)

    def down_then_up(conn: sa.Connection) -> tuple[set[str], str | None]:
        cfg = alembic_config(conn)
        command.downgrade(cfg, "base")
        left = set(sa.inspect(conn).get_table_names()) - {"alembic_version"}
        command.upgrade(cfg, "head")
        return left, version(conn)

    left, rev = inspect(db_url, down_then_up)
    assert left == set()
    assert rev == head()
    assert BASELINE in {s.revision for s in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
