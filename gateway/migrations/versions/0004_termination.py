"""终本: ``terminations`` (one row per termination; ``active_case_id`` unique while in force, with the
re-query schedule) and ``requeries`` (one row per debtor and period), see gateway/termination.py.

Revision ID: 0004_termination
Revises: 0002_find_back
Create Date: 2026-11-30 13:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_termination"
down_revision: str | None = "0002_find_back"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "terminations",
        sa.Column("termination_id", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("court_id", sa.String(length=64), nullable=False),
        sa.Column("active_case_id", sa.String(length=64), nullable=True),
        sa.Column("approved_by", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("terminated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("check_result", sa.JSON(), nullable=False),
        sa.Column("requery_fields", sa.JSON(), nullable=False),
        sa.Column("requery_ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_period", sa.Integer(), nullable=False),
        sa.Column("next_requery_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resumed_by", sa.String(length=100), nullable=True),
        sa.Column("resume_reason", sa.Text(), nullable=True),
        sa.Column("resumed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("termination_id"),
        sa.UniqueConstraint("active_case_id", name="uq_terminations_active_case"),
    )
    op.create_index("ix_terminations_case_id", "terminations", ["case_id"], unique=False)
    op.create_index("ix_terminations_next_requery_at", "terminations", ["next_requery_at"], unique=False)
    op.create_table(
        "requeries",
        sa.Column("termination_id", sa.String(length=64), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("debtor_key", sa.String(length=32), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("court_id", sa.String(length=64), nullable=False),
        sa.Column("debtor_index", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("inquiry_id", sa.String(length=64), nullable=True),
        sa.Column("refused", sa.Text(), nullable=True),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("event_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("termination_id", "period", "debtor_key"),
    )
    op.create_index("ix_requeries_case_id", "requeries", ["case_id"], unique=False)
    op.create_index("ix_requeries_reported_at", "requeries", ["reported_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_requeries_reported_at", table_name="requeries")
    op.drop_index("ix_requeries_case_id", table_name="requeries")
    op.drop_table("requeries")
    op.drop_index("ix_terminations_next_requery_at", table_name="terminations")
    op.drop_index("ix_terminations_case_id", table_name="terminations")
    op.drop_table("terminations")
