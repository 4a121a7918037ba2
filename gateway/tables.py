"""The gateway's core tables (SQLAlchemy Core) on the one ``metadata`` that the Alembic migrations
compare: cases, inquiries with their latest result (the read model), the transactional outbox, dead
letters, control orders and their events, webhook deliveries, linkage confirmations. The feed's,
audit trail's and later features' tables join ``metadata`` from their own modules (imported at the
end of ``gateway/db.py``). ``gateway.db`` re-exports every name here.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

__all__ = [
    "asset_confirmations",
    "cases",
    "control_orders",
    "court_events",
    "dead_letters",
    "inquiries",
    "metadata",
    "outbox",
    "utc",
    "webhook_deliveries",
]

metadata = sa.MetaData()

cases = sa.Table(
    "cases",
    metadata,
    sa.Column("case_id", sa.String(64), primary_key=True),
    sa.Column("court_id", sa.String(64), nullable=False, index=True),
    sa.Column("case_number", sa.String(80), nullable=False),
    sa.Column("body", sa.JSON, nullable=False),
    sa.Column("idempotency_key", sa.String(200)),
    sa.Column("request_hash", sa.String(64)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    # find back (GET /v1/cases): the case's state ("active"; lifecycle changes set others), paging order
    sa.Column("status", sa.String(16), nullable=False, server_default="active"),
    sa.UniqueConstraint("court_id", "idempotency_key", name="uq_cases_idempotency"),
    sa.Index("ix_cases_court_created", "court_id", "created_at", "case_id"),
    sa.Index("ix_cases_court_number", "court_id", "case_number"),
)

inquiries = sa.Table(
    "inquiries",
    metadata,
    sa.Column("inquiry_id", sa.String(64), primary_key=True),
    sa.Column("court_id", sa.String(64), nullable=False, index=True),
    sa.Column("case_id", sa.String(64), nullable=False, index=True),
    sa.Column("idempotency_key", sa.String(200)),
    sa.Column("request_hash", sa.String(64)),
    sa.Column("request", sa.JSON, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("result", sa.JSON),
    sa.Column("version", sa.Integer, nullable=False, default=0),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("court_id", "idempotency_key", name="uq_inquiries_idempotency"),
)

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("topic", sa.String(200), nullable=False),
    sa.Column("key", sa.String(200), nullable=False),
    sa.Column("value", sa.LargeBinary, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("published_at", sa.DateTime(timezone=True), index=True),
)

dead_letters = sa.Table(
    "dead_letters",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("source_topic", sa.String(200), nullable=False, index=True),
    sa.Column("stage", sa.String(100), nullable=False),
    sa.Column("error_class", sa.String(100), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("body", sa.JSON, nullable=False),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
)


control_orders = sa.Table(
    "control_orders",
    metadata,
    sa.Column("order_id", sa.String(64), primary_key=True),
    sa.Column("court_id", sa.String(64), nullable=False, index=True),
    sa.Column("case_id", sa.String(64), nullable=False, index=True),
    sa.Column("asset_id", sa.String(300), nullable=False),
    sa.Column("idempotency_key", sa.String(200)),
    sa.Column("request_hash", sa.String(64)),
    sa.Column("request", sa.JSON, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("state", sa.JSON),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("court_id", "idempotency_key", name="uq_control_orders_idempotency"),
)

court_events = sa.Table(
    "court_events",
    metadata,
    sa.Column("event_id", sa.String(64), primary_key=True),
    sa.Column("order_id", sa.String(64), nullable=False, index=True),
    sa.Column("court_id", sa.String(64), nullable=False),
    sa.Column("case_id", sa.String(64), nullable=False, index=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("body", sa.JSON, nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
)

webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("event_id", sa.String(64), primary_key=True),
    sa.Column("court_id", sa.String(64), nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("delivered_at", sa.DateTime(timezone=True)),
)

asset_confirmations = sa.Table(
    "asset_confirmations",
    metadata,
    sa.Column("case_id", sa.String(64), primary_key=True),
    sa.Column("asset_id", sa.String(300), primary_key=True),
    sa.Column("court_id", sa.String(64), nullable=False),
    sa.Column("confirmed_by", sa.String(100), nullable=False),
    sa.Column("note", sa.Text),
    sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=False),
)


def utc(value: dt.datetime) -> dt.datetime:
    """``value`` as an aware UTC datetime (SQLite keeps no zone; the hub only ever stores UTC)."""
    if value.tzinfo is None:  # SQLite keeps no zone; we only ever store UTC
        return value.replace(tzinfo=dt.UTC)
    return value
