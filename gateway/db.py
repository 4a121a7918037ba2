"""The gateway's data layer: SQLAlchemy Core over SQLite (default) or PostgreSQL.

It holds what must survive: cases, inquiries with their latest result (the read model), the
transactional outbox of messages still to publish, control orders and their events, and the dead
letters seen. The core tables are in ``gateway/tables.py`` (re-exported here); ``Database`` keeps
the engine, cases, inquiries and the outbox here, and takes control orders and webhook deliveries
from ``gateway/order_records.py`` and confirmations and dead letters from ``gateway/desk_records.py``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from . import sqlite_driver
from .tables import (
    asset_confirmations,
    cases,
    control_orders,
    court_events,
    dead_letters,
    inquiries,
    metadata,
    outbox,
    webhook_deliveries,
)

__all__ = [
    "Database",
    "asset_confirmations",
    "async_url",
    "cases",
    "control_orders",
    "court_events",
    "dead_letters",
    "inquiries",
    "metadata",
    "outbox",
    "webhook_deliveries",
]

# the parts of ``Database`` in modules of their own (they import ``.tables``, not this module)
from .desk_records import DeskRecords
from .order_records import OrderRecords


def async_url(url: str) -> str:
    """Pick the async driver for a plain database URL."""
    if url.startswith("sqlite:"):
        return "sqlite+aiosqlite:" + url.removeprefix("sqlite:")
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def _answers_entry(result: dict[str, Any]) -> tuple[str, str, str, dict[str, Any]]:
    """The audit entry (case, court, actor, details) for a stored version of an inquiry's result:
    each agency's status and a digest of what it answered (its assets), never the content."""
    by_agency: dict[str, list[Any]] = {}
    for asset in result.get("assets", []):
        by_agency.setdefault(asset.get("agency", ""), []).append(asset)
    agencies = {
        name: {
            "status": a.get("status"),
            "digest": _audit.digest(by_agency.get(name, [])),
            # the registry's electronic seals of its replies: key id, signed digest, signature
            **({"seals": a["seals"]} if a.get("seals") else {}),
        }
        for name, a in (result.get("agencies") or {}).items()
    }
    details = {
        "inquiry_id": result["inquiry_id"],
        "version": result.get("version"),
        "status": result.get("status"),
        "agencies": agencies,
    }
    return result["case_id"], result["court_id"], "hub", details


def _json_text(value: Any) -> str:
    """A JSON column's text (orjson: compact, Unicode kept); what orjson refuses (an integer past
    64 bits, a key that is not a string) goes through the standard library as before."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


# The statements of the per-inquiry path, built once: building a statement per call (and
# SQLAlchemy's cache key for it) cost about 70 µs, as much as running it on SQLite.
_GET_INQUIRY = sa.select(inquiries).where(
    inquiries.c.inquiry_id == sa.bindparam("inquiry_id"), inquiries.c.court_id == sa.bindparam("court_id")
)
_FIND_CASE = sa.select(cases.c.body).where(
    cases.c.case_id == sa.bindparam("case_id"), cases.c.court_id == sa.bindparam("court_id")
)
_INSERT_INQUIRY = inquiries.insert()
_STORE_VERSION = (
    inquiries.update()
    .where(
        inquiries.c.inquiry_id == sa.bindparam("key_id"),
        inquiries.c.version < sa.bindparam("new_version"),
    )
    .values(
        result=sa.bindparam("new_result", type_=inquiries.c.result.type),
        status=sa.bindparam("new_status"),
        version=sa.bindparam("new_version"),
        updated_at=sa.bindparam("new_at"),
    )
)
_VERSION_OF = sa.select(inquiries.c.version).where(inquiries.c.inquiry_id == sa.bindparam("inquiry_id"))
_ADD_OUTBOX = outbox.insert()
_UNPUBLISHED = (
    sa.select(outbox)
    .where(outbox.c.published_at.is_(None))
    .order_by(outbox.c.id)
    .limit(sa.bindparam("n", type_=sa.Integer))
)
_MARK_PUBLISHED = (
    outbox.update()
    .where(outbox.c.id.in_(sa.bindparam("ids", expanding=True)))
    .values(published_at=sa.bindparam("at"))
)


class Database(OrderRecords, DeskRecords):
    """The gateway's database: the engine (SQLite by default, PostgreSQL by URL), the schema's
    migrations, cases, inquiries and their result versions, the outbox; control orders and webhook
    deliveries (:class:`~gateway.order_records.OrderRecords`); confirmations and dead letters
    (:class:`~gateway.desk_records.DeskRecords`)."""

    def __init__(self, url: str) -> None:
        self.url = async_url(url)
        kwargs: dict[str, Any] = {}
        if self.url.startswith("sqlite"):
            path = sa.make_url(self.url).database
            if path and path != ":memory:" and not path.startswith("file:"):
                # calls on the event loop's thread unless they must wait for a lock (see
                # gateway/sqlite_driver.py): the thread hand-offs were most of the gateway's CPU
                kwargs["async_creator"] = sqlite_driver.async_creator(path, busy_timeout_s=30)
            else:
                kwargs["connect_args"] = {"timeout": 30}
            # connections kept for the concurrency the gateway has (long polls, its loops): beyond
            # the default 5 each checkout opened a new connection (and its aiosqlite thread) and
            # closed it again, a sixth of the gateway's CPU under load
            kwargs.update(pool_size=15, max_overflow=10)
            # WAL with synchronous=NORMAL: durable across a crash of the process, one fsync per
            # checkpoint instead of per commit (PostgreSQL is the choice for production).
        else:
            kwargs.update(pool_size=10, max_overflow=10, pool_pre_ping=True)
        # court_id -> webhook URL: events recorded in the feed (gateway/feed.py) are pushed there too
        self.webhooks: dict[str, str] = {}
        # hide_parameters: a failed statement's error (and its traceback in the log) would otherwise
        # carry the row it wrote: names and identity numbers of debtors
        # JSON columns (results, requests, events) through orjson: a result is written per version
        # and read per long-poll answer
        kwargs.update(json_serializer=_json_text, json_deserializer=orjson.loads)
        self.engine: AsyncEngine = create_async_engine(self.url, hide_parameters=True, **kwargs)
        if self.url.startswith("sqlite"):
            sa.event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        from .audit_batch import AuditAppender  # it imports this module's metadata

        # audit entries of concurrent requests (reads of assets) appended in one transaction
        self.audit_appender = AuditAppender(self.engine)

    async def append_audit(
        self, kind: str, case_id: str | None, court_id: str, actor: str, details: dict[str, Any]
    ) -> None:
        """Append one audit entry in a transaction of its own, shared with the entries of other
        requests waiting at the same moment; returns once it is committed."""
        await self.audit_appender.append(kind, case_id, court_id, actor, details)

    async def create_schema(self) -> None:
        """Migrate the database to the newest Alembic revision (``gateway/migrations``): new tables or
        columns of this module arrive through a migration, never through ``create_all``."""
        from .migrations import upgrade_to_head

        async with self.engine.begin() as conn:
            await conn.run_sync(upgrade_to_head)

    async def close(self) -> None:
        await self.engine.dispose()

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))

    async def write_probe(self) -> None:
        """Commit a write that changes nothing: it takes the database's write lock as storing a
        result would, so a locked database shows here (``/healthz``), not only as results piling up."""
        async with self.engine.begin() as conn:
            await conn.execute(outbox.update().where(outbox.c.id == -1).values(published_at=None))

    # ------------------------------------------------------------ cases
    async def find_case(self, case_id: str, court_id: str) -> dict[str, Any] | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(_FIND_CASE, {"case_id": case_id, "court_id": court_id})).first()
        return row.body if row else None

    async def find_by_idempotency(self, table: sa.Table, court_id: str, key: str) -> sa.Row[Any] | None:
        async with self.engine.connect() as conn:
            return (
                await conn.execute(
                    sa.select(table).where(table.c.court_id == court_id, table.c.idempotency_key == key)
                )
            ).first()

    async def insert_case(
        self, conn: AsyncConnection, *, body: dict[str, Any], idempotency_key: str | None, request_hash: str
    ) -> None:
        await conn.execute(
            cases.insert().values(
                case_id=body["case_id"],
                court_id=body["court_id"],
                case_number=body["case_number"],
                body=body,
                idempotency_key=idempotency_key,
                request_hash=request_hash,
                created_at=dt.datetime.now(dt.UTC),
            )
        )

    # ------------------------------------------------------------ inquiries
    async def insert_inquiry(
        self,
        conn: AsyncConnection,
        *,
        inquiry_id: str,
        court_id: str,
        case_id: str,
        request: dict[str, Any],
        idempotency_key: str | None,
        request_hash: str,
    ) -> None:
        now = dt.datetime.now(dt.UTC)
        await conn.execute(
            _INSERT_INQUIRY,
            {
                "inquiry_id": inquiry_id,
                "court_id": court_id,
                "case_id": case_id,
                "request": request,
                "status": "pending",
                "idempotency_key": idempotency_key,
                "request_hash": request_hash,
                "version": 0,
                "created_at": now,
                "updated_at": now,
            },
        )

    async def get_inquiry(self, inquiry_id: str, court_id: str) -> sa.Row[Any] | None:
        async with self.engine.connect() as conn:
            params = {"inquiry_id": inquiry_id, "court_id": court_id}
            return (await conn.execute(_GET_INQUIRY, params)).first()

    async def unsettled_inquiries(
        self, created_before: dt.datetime, limit: int = 200
    ) -> Sequence[sa.Row[Any]]:
        """Inquiries still ``pending`` that were accepted before ``created_before`` (oldest first)."""
        async with self.engine.connect() as conn:
            return (
                await conn.execute(
                    sa.select(inquiries)
                    .where(inquiries.c.status == "pending", inquiries.c.created_at < created_before)
                    .order_by(inquiries.c.created_at)
                    .limit(limit)
                )
            ).all()

    async def timed_out_partials(
        self, created_after: dt.datetime, created_before: dt.datetime, limit: int = 200
    ) -> Sequence[sa.Row[Any]]:
        """Inquiries settled ``partial`` accepted between ``created_after`` and ``created_before``
        (oldest first): those the reconciler may ask again of the agencies that never answered."""
        async with self.engine.connect() as conn:
            return (
                await conn.execute(
                    sa.select(inquiries)
                    .where(
                        inquiries.c.status == "partial",
                        inquiries.c.created_at > created_after,
                        inquiries.c.created_at < created_before,
                    )
                    .order_by(inquiries.c.created_at)
                    .limit(limit)
                )
            ).all()

    async def unanswered_orders(self, created_before: dt.datetime, limit: int = 200) -> Sequence[sa.Row[Any]]:
        """Control orders still ``pending`` (no outcome heard of) accepted before ``created_before``."""
        async with self.engine.connect() as conn:
            return (
                await conn.execute(
                    sa.select(control_orders)
                    .where(control_orders.c.status == "pending", control_orders.c.created_at < created_before)
                    .order_by(control_orders.c.created_at)
                    .limit(limit)
                )
            ).all()

    async def settle_unanswered(self, inquiry_id: str, version: int, result: dict[str, Any]) -> bool:
        """Store a result the gateway itself settled (``partial``: the hub did not answer in time)
        for an inquiry still pending at ``version``. The version is kept, so any later result the
        streams publish replaces it. Returns whether it was stored."""
        async with self.engine.begin() as conn:
            await feed.lock_feed(conn)
            updated = await conn.execute(
                inquiries.update()
                .where(
                    inquiries.c.inquiry_id == inquiry_id,
                    inquiries.c.status == "pending",
                    inquiries.c.version == version,
                )
                .values(result=result, status=result["status"], updated_at=dt.datetime.now(dt.UTC))
            )
            if updated.rowcount:  # the court hears of it as of any settled result (feed, webhook)
                await feed.record_inquiry_settled(conn, result, self.webhooks.get(result["court_id"]))
        return bool(updated.rowcount)

    async def inquiries_of_case(self, case_id: str, court_id: str) -> Sequence[sa.Row[Any]]:
        async with self.engine.connect() as conn:
            return (
                await conn.execute(
                    sa.select(inquiries)
                    .where(inquiries.c.case_id == case_id, inquiries.c.court_id == court_id)
                    .order_by(inquiries.c.created_at)
                )
            ).all()

    async def store_result(self, result: dict[str, Any]) -> bool:
        return bool(await self.store_results([result]))

    async def store_results(self, results: list[dict[str, Any]]) -> list[str]:
        """Keep the newest version of each inquiry's result, in one transaction for the batch.

        Older or repeated versions change nothing. A stored version in a settled state is recorded
        in the court's feed as ``inquiry_settled`` (and pushed to its webhook), in the same
        transaction. Returns the inquiry ids whose result changed.
        """
        newest: dict[str, dict[str, Any]] = {}
        for r in results:
            if r["inquiry_id"] not in newest or newest[r["inquiry_id"]]["version"] < r["version"]:
                newest[r["inquiry_id"]] = r
        changed: list[str] = []
        now = dt.datetime.now(dt.UTC)
        async with self.engine.begin() as conn:
            await feed.lock_feed(conn)  # before any row lock: see gateway/feed.py
            for inquiry_id, result in newest.items():
                updated = await conn.execute(
                    _STORE_VERSION,
                    {
                        "key_id": inquiry_id,
                        "new_version": result["version"],
                        "new_result": result,
                        "new_status": result["status"],
                        "new_at": now,
                    },
                )
                if updated.rowcount:
                    changed.append(inquiry_id)
                    await feed.record_inquiry_settled(conn, result, self.webhooks.get(result["court_id"]))
                    continue
                exists = (await conn.execute(_VERSION_OF, {"inquiry_id": inquiry_id})).first()
                if exists:
                    continue
                # an inquiry that reached the streams without the gateway (a court's own outbox topic)
                await conn.execute(
                    inquiries.insert().values(
                        inquiry_id=inquiry_id,
                        court_id=result["court_id"],
                        case_id=result["case_id"],
                        request={},
                        status=result["status"],
                        result=result,
                        version=result["version"],
                        created_at=now,
                        updated_at=now,
                    )
                )
                changed.append(inquiry_id)
                await feed.record_inquiry_settled(conn, result, self.webhooks.get(result["court_id"]))
            # audited last (the chain's lock is the last one taken), one append for the batch
            entries = [("agency_answers", *_answers_entry(newest[i])) for i in changed]
            await _audit.record_many(conn, entries)
        return changed

    # ------------------------------------------------------------ outbox
    async def add_outbox(self, conn: AsyncConnection, topic: str, key: str, value: bytes) -> None:
        await conn.execute(
            _ADD_OUTBOX, {"topic": topic, "key": key, "value": value, "created_at": dt.datetime.now(dt.UTC)}
        )

    async def unpublished(self, limit: int = 500) -> Sequence[sa.Row[Any]]:
        async with self.engine.connect() as conn:
            return (await conn.execute(_UNPUBLISHED, {"n": limit})).all()

    async def mark_published(self, ids: list[int]) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(_MARK_PUBLISHED, {"ids": ids, "at": dt.datetime.now(dt.UTC)})

    async def outbox_backlog(self) -> int:
        async with self.engine.connect() as conn:
            return int(
                (
                    await conn.execute(sa.select(sa.func.count()).where(outbox.c.published_at.is_(None)))
                ).scalar_one()
            )


# the audit trail's tables live in their own module on the same metadata (migrations compare it)
from . import audit as _audit  # noqa: E402

# the feed's, find-back's and batches' tables join ``metadata`` (migrations compare all of it)
from . import batches, feed, findback  # noqa: E402, F401

# leads and the fund ledger (payouts, payout reminders) join ``metadata`` (gateway/leads.py, funds.py)
from . import funds as _funds  # noqa: E402,F401
from . import leads as _leads  # noqa: E402,F401

# 终本: the terminations and re-query schedule tables join ``metadata`` (gateway/termination.py)
from . import termination as _termination  # noqa: E402,F401

# first seizure and priority creditors: priority claims, transfer requests, disposals (gateway/transfers.py)
from . import transfers as _transfers  # noqa: E402,F401

# the live new-asset watch: watched cases and namesakes excluded (gateway/watch.py)
from . import watch as _watch  # noqa: E402,F401
