"""The court's event feed: every inquiry result, order outcome and case lifecycle event, in one order.

One table, ``case_events``, holds the events a court reads back with ``GET /v1/events?after=<cursor>``
(all its cases) and ``GET /v1/cases/{case_id}/events`` (one case). Each row has a ``seq`` given by
the database (autoincrement); the cursor is that number as a string, and an event's ``seq`` never
changes, so a court that stored the cursor of the last event it handled resumes exactly after it.

Writing an event: one function call inside the transaction that makes the change it reports, so
the event exists if and only if the change does::

    from gateway.feed import record_case_event

    async with db.engine.begin() as conn:
        ...  # the change itself
        await record_case_event(
            conn, case_id, court_id, "requery_result", {"inquiry_id": ..., ...},
            key=f"requery_result:{case_id}:{round_no}",      # optional: makes the call idempotent
            webhook_url=db.webhooks.get(court_id),           # optional: also push it to the court
        )

``type`` names the event (``inquiry_settled``, ``order_event``, ``requery_result``, ...); ``payload``
is a JSON-able dict (never a debtor's identity number: the court has it, logs and webhooks need not).
``key`` (at most 200 characters): a second call with the same key records nothing and returns None,
so redelivered messages add no duplicate. With ``webhook_url`` the event is also queued for the
signed webhook (``X-Hub-Signature-256``, at-least-once, ``X-Hub-Event-Id`` = ``event_id``), exactly as
order events are.

Order: on SQLite one writer at a time makes ``seq`` order the commit order. On PostgreSQL a
sequence value is taken at insert time, so two transactions could commit in the other order and a
reader could pass a number that commits later; every writer of this table therefore takes one
transaction-scoped advisory lock first (``lock_feed``; ``record_case_event`` takes it itself). A
transaction that also updates rows other feed writers update takes it before those updates
(``lock_feed(conn)`` at its start), so the lock is always taken first and cannot deadlock.

The event as served (and as a webhook body)::

    {"cursor": "42", "event_id": "evt_...", "type": "inquiry_settled", "case_id": "case_...",
     "at": "2026-11-30T13:05:00+00:00", "data": {...}}
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from .db import metadata, webhook_deliveries
from .tables import utc as _utc

__all__ = [
    "SETTLED",
    "case_events",
    "event_view",
    "lock_feed",
    "read_events",
    "record_case_event",
    "record_inquiry_settled",
    "result_summary",
]

case_events = sa.Table(
    "case_events",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.String(64), nullable=False, unique=True),
    sa.Column("court_id", sa.String(64), nullable=False),
    sa.Column("case_id", sa.String(64), nullable=False),
    sa.Column("type", sa.String(40), nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_case_events_court_seq", "court_id", "seq"),
    sa.Index("ix_case_events_case_seq", "case_id", "seq"),
    sqlite_autoincrement=True,  # never reuse a number, even of a deleted last row
)

# Any constant: the advisory lock that serialises writers of case_events on PostgreSQL.
_FEED_LOCK_KEY = 0x68756266  # "hubf"

# An inquiry result in one of these states is settled: the court hears of it (and of each newer version).
SETTLED = frozenset({"complete", "partial", "rejected"})


def event_id_for(key: str) -> str:
    """The stable event id of an idempotency ``key``."""
    return "evt_" + hashlib.sha256(key.encode()).hexdigest()[:32]


async def lock_feed(conn: AsyncConnection) -> None:
    """Take the feed's write lock until ``conn``'s transaction ends (PostgreSQL; SQLite needs none)."""
    if conn.dialect.name == "postgresql":
        await conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _FEED_LOCK_KEY})


def event_view(row: Any) -> dict[str, Any]:
    """A ``case_events`` row as the API and webhooks show it."""
    return {
        "cursor": str(row.seq),
        "event_id": row.event_id,
        "type": row.type,
        "case_id": row.case_id,
        "at": _utc(row.at).isoformat(),
        "data": row.payload,
    }


async def record_case_event(
    conn: AsyncConnection,
    case_id: str,
    court_id: str,
    type: str,
    payload: dict[str, Any],
    *,
    key: str | None = None,
    event_id: str | None = None,
    webhook_url: str | None = None,
    at: dt.datetime | None = None,
) -> int | None:
    """Append one event to the feed in ``conn``'s transaction; return its ``seq`` (None: ``key`` or
    ``event_id`` was recorded before, nothing was written). ``event_id`` defaults to one derived from
    ``key``, else a fresh one. Raises ValueError on a ``type`` longer than 40 characters."""
    if len(type) > 40:
        raise ValueError(f"event type {type!r} is longer than 40 characters")
    if event_id is None:
        event_id = event_id_for(key) if key else "evt_" + uuid.uuid4().hex
    await lock_feed(conn)
    seen = (await conn.execute(_SEEN, {"event_id": event_id})).first()
    if seen is not None:
        return None
    when = at or dt.datetime.now(dt.UTC)
    row = {"event_id": event_id, "court_id": court_id, "case_id": case_id, "type": type}
    seq = (await conn.execute(_APPEND, {**row, "payload": payload, "at": when})).scalar_one()
    if webhook_url:
        view: dict[str, Any] = {"cursor": str(seq), "event_id": event_id, "type": type, "case_id": case_id}
        view |= {"at": when.isoformat(), "data": payload}
        delivery = {"event_id": event_id, "court_id": court_id, "url": webhook_url, "created_at": when}
        body = json.dumps(view, ensure_ascii=False, sort_keys=True).encode()
        await conn.execute(_DELIVER, {**delivery, "body": body, "status": "pending", "attempts": 0})
    return int(seq)


# built once (a statement built per call cost about 70 µs, as much as running it on SQLite)
_SEEN = sa.select(case_events.c.seq).where(case_events.c.event_id == sa.bindparam("event_id"))
_APPEND = case_events.insert().returning(case_events.c.seq)
_DELIVER = webhook_deliveries.insert()


def result_summary(result: dict[str, Any] | None) -> dict[str, Any]:
    """What an inquiry result found, without the assets themselves: ``assets`` (count),
    ``assets_by_kind`` (``{kind: {"count": int, "value": "decimal string, yuan"}}``, linked assets
    only: ``match`` or ``possible``) and ``total_value`` (decimal string, yuan)."""
    by_kind: dict[str, list[Any]] = {}
    for asset in (result or {}).get("assets", []):
        slot = by_kind.setdefault(asset.get("kind", "unknown"), [0, Decimal(0)])
        slot[0] += 1
        with contextlib.suppress(ArithmeticError):  # a value the streams could not state counts as nothing
            slot[1] += Decimal(str(asset.get("value") or 0))
    total = sum((v for _, v in by_kind.values()), Decimal(0))
    return {
        "assets": sum(c for c, _ in by_kind.values()),
        "assets_by_kind": {k: {"count": c, "value": f"{v:.2f}"} for k, (c, v) in sorted(by_kind.items())},
        "total_value": f"{total:.2f}",
    }


async def record_inquiry_settled(
    conn: AsyncConnection, result: dict[str, Any], webhook_url: str | None
) -> int | None:
    """Record ``inquiry_settled`` for a result in a settled state, once per (inquiry, version).

    ``data``: ``inquiry_id``, ``case_id``, ``status``, ``version``, ``detail``, ``agencies``
    (``{name: status}``), ``completed_at`` and the ``result_summary``; the court reads the assets with
    ``GET /v1/inquiries/{inquiry_id}``. Returns the event's seq, or None (not settled, or recorded
    before)."""
    if result.get("status") not in SETTLED:
        return None
    inquiry_id, version = result["inquiry_id"], int(result.get("version", 0))
    payload = {
        "inquiry_id": inquiry_id,
        "case_id": result["case_id"],
        "status": result["status"],
        "version": version,
        "detail": result.get("detail"),
        "agencies": {name: a.get("status") for name, a in (result.get("agencies") or {}).items()},
        "completed_at": result.get("completed_at"),
        **result_summary(result),
    }
    return await record_case_event(
        conn,
        result["case_id"],
        result["court_id"],
        "inquiry_settled",
        payload,
        key=f"inquiry_settled:{inquiry_id}:{version}",
        webhook_url=webhook_url,
    )


async def read_events(
    conn: AsyncConnection, court_id: str, *, after: int, limit: int, case_id: str | None = None
) -> Sequence[Any]:
    """The court's events with ``seq > after`` (of one case if given), oldest first, at most ``limit``."""
    query = sa.select(case_events).where(case_events.c.court_id == court_id, case_events.c.seq > after)
    if case_id is not None:
        query = query.where(case_events.c.case_id == case_id)
    return (await conn.execute(query.order_by(case_events.c.seq).limit(limit))).all()
