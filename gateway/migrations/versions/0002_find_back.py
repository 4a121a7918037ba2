"""Find back: case numbers unique per court, debtors indexed by keyed digest, case status and paging
indexes, the court's event feed (``case_events``, with the order events already received), and
inquiry batches.

Cases a court registered twice under one number before this revision keep their rows; the oldest
holds the number (``case_numbers``). The debtor index is filled by the gateway at its next start
(``gateway.findback.prepare_index``), which generates its key.

Revision ID: 0002_find_back
Revises: 0003_audit
Create Date: 2026-11-30 13:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_find_back"
down_revision: str | None = "0003_audit"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("status", sa.String(length=16), server_default="active", nullable=False))
        batch.create_index("ix_cases_court_created", ["court_id", "created_at", "case_id"], unique=False)
        batch.create_index("ix_cases_court_number", ["court_id", "case_number"], unique=False)

    op.create_table(
        "case_numbers",
        sa.Column("court_id", sa.String(length=64), nullable=False),
        sa.Column("case_number", sa.String(length=80), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("court_id", "case_number"),
    )
    # the oldest case of each (court, number) holds the number
    op.execute(
        "INSERT INTO case_numbers (court_id, case_number, case_id) "
        "SELECT c.court_id, c.case_number, MIN(c.case_id) FROM cases c "
        "WHERE c.created_at = (SELECT MIN(o.created_at) FROM cases o "
        "WHERE o.court_id = c.court_id AND o.case_number = c.case_number) "
        "GROUP BY c.court_id, c.case_number"
    )
    op.create_table(
        "case_debtor_ids",
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("court_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("case_id", "digest"),
    )
    op.create_index(
        "ix_case_debtor_ids_court_digest", "case_debtor_ids", ["court_id", "digest"], unique=False
    )
    op.create_table(
        "id_index_meta",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )

    op.create_table(
        "case_events",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("court_id", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("event_id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_case_events_court_seq", "case_events", ["court_id", "seq"], unique=False)
    op.create_index("ix_case_events_case_seq", "case_events", ["case_id", "seq"], unique=False)
    # the order events received so far open the feed, in the order they arrived
    op.execute(
        "INSERT INTO case_events (event_id, court_id, case_id, type, payload, at) "
        "SELECT event_id, court_id, case_id, 'order_event', body, received_at FROM court_events "
        "ORDER BY received_at, order_id, seq"
    )

    op.create_table(
        "inquiry_batches",
        sa.Column("batch_id", sa.String(length=64), nullable=False),
        sa.Column("court_id", sa.String(length=64), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("officer", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("batch_id"),
        sa.UniqueConstraint("court_id", "idempotency_key", name="uq_inquiry_batches_idempotency"),
    )
    op.create_index("ix_inquiry_batches_court_id", "inquiry_batches", ["court_id"], unique=False)
    op.create_table(
        "inquiry_batch_items",
        sa.Column("batch_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("inquiry_id", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("batch_id", "position"),
    )


def downgrade() -> None:
    op.drop_table("inquiry_batch_items")
    op.drop_index("ix_inquiry_batches_court_id", table_name="inquiry_batches")
    op.drop_table("inquiry_batches")
    op.drop_index("ix_case_events_case_seq", table_name="case_events")
    op.drop_index("ix_case_events_court_seq", table_name="case_events")
    op.drop_table("case_events")
    op.drop_table("id_index_meta")
    op.drop_index("ix_case_debtor_ids_court_digest", table_name="case_debtor_ids")
    op.drop_table("case_debtor_ids")
    op.drop_table("case_numbers")
    with op.batch_alter_table("cases") as batch:
        batch.drop_index("ix_cases_court_number")
        batch.drop_index("ix_cases_court_created")
        batch.drop_column("status")
