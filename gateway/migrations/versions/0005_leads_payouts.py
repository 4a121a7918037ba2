"""Leads and the case's fund ledger: ``leads`` (one row per lead, its targeted inquiries and what
settled it, gateway/leads.py), ``payouts`` and ``payout_reminders`` (gateway/funds.py).

Revision ID: 0005_leads_payouts
Revises: 0004_termination
Create Date: 2026-11-30 14:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_leads_payouts"
down_revision: str | None = "0004_termination"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "leads",
        sa.Column("lead_id", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("court_id", sa.String(length=64), nullable=False),
        sa.Column("agency", sa.String(length=40), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("asset_ref", sa.String(length=300), nullable=True),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("officer", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("inquiry_ids", sa.JSON(), nullable=False),
        sa.Column("found", sa.JSON(), nullable=True),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("event_id", sa.String(length=64), nullable=True),
        sa.Column("overdue_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("overdue_event_id", sa.String(length=64), nullable=True),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("lead_id"),
        sa.UniqueConstraint("court_id", "idempotency_key", name="uq_leads_idempotency"),
    )
    op.create_index("ix_leads_case_id", "leads", ["case_id"], unique=False)
    op.create_index("ix_leads_status", "leads", ["status"], unique=False)
    op.create_table(
        "payouts",
        sa.Column("payout_id", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("court_id", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.String(length=24), nullable=False),
        sa.Column("payee", sa.String(length=200), nullable=False),
        sa.Column("approved_by", sa.String(length=100), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("payout_id"),
        sa.UniqueConstraint("court_id", "idempotency_key", name="uq_payouts_idempotency"),
    )
    op.create_index("ix_payouts_case_id", "payouts", ["case_id"], unique=False)
    op.create_table(
        "payout_reminders",
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("court_id", sa.String(length=64), nullable=False),
        sa.Column("held", sa.String(length=24), nullable=False),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("order_id"),
    )
    op.create_index("ix_payout_reminders_case_id", "payout_reminders", ["case_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_payout_reminders_case_id", table_name="payout_reminders")
    op.drop_table("payout_reminders")
    op.drop_index("ix_payouts_case_id", table_name="payouts")
    op.drop_table("payouts")
    op.drop_index("ix_leads_status", table_name="leads")
    op.drop_index("ix_leads_case_id", table_name="leads")
    op.drop_table("leads")
