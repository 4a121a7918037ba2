"""First seizure and priority creditors (gateway/transfers.py): ``priority_claims`` (the
priority claim a control order states), ``transfer_requests`` (a priority court's request and
the first court's answer), ``disposals`` (the first court's start of disposal), and an index of
control orders by asset (the first seizure of an asset is looked up by it).

Revision ID: 0006_transfers
Revises: 0005_leads_payouts
Create Date: 2026-11-30 16:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_transfers"
down_revision: str | None = "0005_leads_payouts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_control_orders_asset_id", "control_orders", ["asset_id"], unique=False)
    op.create_table(
        "priority_claims",
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("court_id", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("asset_id", sa.String(length=300), nullable=False),
        sa.Column("claim", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_order_id", sa.String(length=64), nullable=True),
        sa.Column("window_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("order_id"),
    )
    op.create_index("ix_priority_claims_asset_id", "priority_claims", ["asset_id"], unique=False)
    op.create_table(
        "transfer_requests",
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("court_id", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("first_court_id", sa.String(length=64), nullable=False),
        sa.Column("first_case_id", sa.String(length=64), nullable=False),
        sa.Column("first_order_id", sa.String(length=64), nullable=False),
        sa.Column("asset_id", sa.String(length=300), nullable=False),
        sa.Column("asset_ref", sa.String(length=300), nullable=True),
        sa.Column("priority_claim", sa.JSON(), nullable=False),
        sa.Column("officer", sa.String(length=100), nullable=False),
        sa.Column("approved_by", sa.String(length=100), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answer_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("open_key", sa.String(length=64), nullable=True),
        sa.Column("decision", sa.String(length=16), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answer_officer", sa.String(length=100), nullable=True),
        sa.Column("answer_approved_by", sa.String(length=100), nullable=True),
        sa.Column("overdue_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("request_id"),
        sa.UniqueConstraint("open_key", name="uq_transfer_requests_open"),
        sa.UniqueConstraint("court_id", "idempotency_key", name="uq_transfer_requests_idempotency"),
    )
    for column in ("case_id", "order_id", "first_case_id", "first_order_id", "status"):
        op.create_index(f"ix_transfer_requests_{column}", "transfer_requests", [column], unique=False)
    op.create_table(
        "disposals",
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("court_id", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("asset_id", sa.String(length=300), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("reference", sa.String(length=300), nullable=True),
        sa.Column("officer", sa.String(length=100), nullable=False),
        sa.Column("approved_by", sa.String(length=100), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("order_id"),
    )


def downgrade() -> None:
    op.drop_table("disposals")
    for column in ("status", "first_order_id", "first_case_id", "order_id", "case_id"):
        op.drop_index(f"ix_transfer_requests_{column}", table_name="transfer_requests")
    op.drop_table("transfer_requests")
    op.drop_index("ix_priority_claims_asset_id", table_name="priority_claims")
    op.drop_table("priority_claims")
    op.drop_index("ix_control_orders_asset_id", table_name="control_orders")
