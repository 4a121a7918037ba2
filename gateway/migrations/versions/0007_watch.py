"""The live new-asset watch (gateway/watch.py): ``case_watches`` (who watches each case and when
its state was last published) and ``watch_exclusions`` (namesakes' changes, counted once each).

Revision ID: 0007_watch
Revises: 0006_transfers
Create Date: 2026-11-30 16:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_watch"
down_revision: str | None = "0006_transfers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_watches",
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("court_id", sa.String(length=64), nullable=False),
        sa.Column("by_court", sa.Boolean(), nullable=False),
        sa.Column("by_termination", sa.Boolean(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("case_id"),
    )
    op.create_index("ix_case_watches_published", "case_watches", ["published_at"], unique=False)
    op.create_table(
        "watch_exclusions",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("court_id", sa.String(length=64), nullable=False),
        sa.Column("agency", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("ix_watch_exclusions_case", "watch_exclusions", ["case_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_watch_exclusions_case", table_name="watch_exclusions")
    op.drop_table("watch_exclusions")
    op.drop_index("ix_case_watches_published", table_name="case_watches")
    op.drop_table("case_watches")
