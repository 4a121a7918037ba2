"""Batches of inquiries (多案集中查询): the batch and its items; progress and summary queries.

A batch is ``inquiry_batches`` (who asked, how many items, its ``Idempotency-Key``) plus one
``inquiry_batch_items`` row per item (position -> inquiry id). Each item is an ordinary inquiry in
``inquiries``: it is stored, published, answered, reconciled and fed to the court exactly as one
submitted alone; the batch only groups them. Its status is computed from its inquiries: ``running``
while any is ``pending``, else ``done``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from . import feed
from .db import Database, inquiries, metadata
from .tables import utc as _utc

__all__ = ["batch_items", "batch_view", "find_batch", "inquiry_batches", "insert_batch"]

inquiry_batches = sa.Table(
    "inquiry_batches",
    metadata,
    sa.Column("batch_id", sa.String(64), primary_key=True),
    sa.Column("court_id", sa.String(64), nullable=False, index=True),
    sa.Column("idempotency_key", sa.String(200)),
    sa.Column("request_hash", sa.String(64)),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("officer", sa.String(100)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("court_id", "idempotency_key", name="uq_inquiry_batches_idempotency"),
)

batch_items = sa.Table(
    "inquiry_batch_items",
    metadata,
    sa.Column("batch_id", sa.String(64), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("inquiry_id", sa.String(64), nullable=False),
    sa.Column("case_id", sa.String(64), nullable=False),
)


async def insert_batch(
    conn: AsyncConnection,
    *,
    batch_id: str,
    court_id: str,
    idempotency_key: str | None,
    request_hash: str,
    officer: str | None,
    items: list[tuple[str, str]],
) -> None:
    """The batch row and its items (``(inquiry_id, case_id)`` in order), in the caller's transaction
    (the one that inserts the inquiries and their outbox messages)."""
    await conn.execute(
        inquiry_batches.insert().values(
            batch_id=batch_id,
            court_id=court_id,
            idempotency_key=idempotency_key,
            request_hash=request_hash,
            size=len(items),
            officer=officer,
            created_at=dt.datetime.now(dt.UTC),
        )
    )
    await conn.execute(
        batch_items.insert(),
        [
            {"batch_id": batch_id, "position": i, "inquiry_id": inquiry_id, "case_id": case_id}
            for i, (inquiry_id, case_id) in enumerate(items)
        ],
    )


async def find_batch(
    db: Database, court_id: str, *, batch_id: str | None = None, key: str | None = None
) -> Any:
    """The court's batch by id or by idempotency key (None if none)."""
    query = sa.select(inquiry_batches).where(inquiry_batches.c.court_id == court_id)
    if batch_id is not None:
        query = query.where(inquiry_batches.c.batch_id == batch_id)
    else:
        query = query.where(inquiry_batches.c.idempotency_key == key)
    async with db.engine.connect() as conn:
        return (await conn.execute(query)).first()


async def batch_view(db: Database, batch: Any) -> dict[str, Any]:
    """``{"batch_id", "status": "running"|"done", "created_at", "total", "progress": {status: count},
    "inquiry_ids", "summary"}``; ``summary`` (when done, else null): per item in order
    ``{"inquiry_id", "case_id", "status", "assets", "assets_by_kind", "total_value"}`` (values in yuan
    as decimal strings), and the batch's ``totals`` over all items."""
    joined = batch_items.join(inquiries, inquiries.c.inquiry_id == batch_items.c.inquiry_id)
    async with db.engine.connect() as conn:
        rows = (
            await conn.execute(
                sa.select(batch_items.c.inquiry_id, batch_items.c.case_id, inquiries.c.status)
                .select_from(joined)
                .where(batch_items.c.batch_id == batch.batch_id)
                .order_by(batch_items.c.position)
            )
        ).all()
        progress: dict[str, int] = {}
        for r in rows:
            progress[r.status] = progress.get(r.status, 0) + 1
        done = not progress.get("pending") and len(rows) == batch.size
        view: dict[str, Any] = {
            "batch_id": batch.batch_id,
            "status": "done" if done else "running",
            "created_at": _utc(batch.created_at).isoformat(),
            "total": batch.size,
            "progress": progress,
            "inquiry_ids": [r.inquiry_id for r in rows],
            "summary": None,
            "totals": None,
        }
        if not done:
            return view
        summary: list[dict[str, Any]] = []
        found: dict[str, Any] = {"assets": 0, "total_value": "0.00"}
        results = await conn.stream(
            sa.select(batch_items.c.inquiry_id, batch_items.c.case_id, inquiries.c.status, inquiries.c.result)
            .select_from(joined)
            .where(batch_items.c.batch_id == batch.batch_id)
            .order_by(batch_items.c.position)
        )
        async for part in results:
            item = {"inquiry_id": part.inquiry_id, "case_id": part.case_id, "status": part.status}
            item.update(feed.result_summary(part.result))
            summary.append(item)
    view["summary"] = summary
    found["assets"] = sum(s["assets"] for s in summary)
    found["total_value"] = f"{sum(Decimal(s['total_value']) for s in summary):.2f}"
    view["totals"] = found
    return view
