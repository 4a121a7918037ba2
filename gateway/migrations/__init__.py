"""Alembic migrations of the gateway's database (``gateway.db.metadata``), on SQLite and PostgreSQL.

``Database.create_schema()`` runs ``upgrade_to_head``; the command line uses ``alembic.ini`` at the
repository root (``alembic -c alembic.ini upgrade head``, ``... revision --autogenerate -m "..."``),
with the database of ``HUB_DATABASE_URL``. A change to a table in ``gateway/db.py`` needs a new
revision under ``versions/``: ``tests/integration/test_migrations.py`` fails while the migrated
schema and ``gateway.db.metadata`` differ.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

__all__ = ["BASELINE", "alembic_config", "upgrade_to_head"]

HERE = Path(__file__).resolve().parent
# The first revision: the schema as ``metadata.create_all`` made it before migrations existed.
BASELINE = "0001"
# Any constant: PostgreSQL advisory lock that serialises gateways migrating at the same time.
_PG_LOCK_KEY = 0x68756267  # "hubg"


def alembic_config(connection: sa.Connection | None = None, url: str | None = None) -> Config:
    """An Alembic config for these migrations, bound to ``connection`` (or, from the CLI, ``url``)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url)
    cfg.attributes["connection"] = connection
    return cfg


def upgrade_to_head(connection: sa.Connection) -> None:
    """Migrate the database behind ``connection`` (in its transaction) to the newest revision.

    A database made by ``create_all`` before migrations existed (tables, no ``alembic_version``)
    is stamped at ``BASELINE`` first. On PostgreSQL an advisory lock makes concurrent start-ups
    migrate one after the other. Raises SQLAlchemy errors as they come (nothing is half-applied
    on PostgreSQL: the migration runs in the caller's transaction).
    """
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
    tables = set(sa.inspect(connection).get_table_names())
    cfg = alembic_config(connection)
    if "alembic_version" not in tables and "cases" in tables:
        command.stamp(cfg, BASELINE)
    command.upgrade(cfg, "head")
