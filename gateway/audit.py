"""The audit trail: an append-only, hash-chained record of every step a court's case takes.

Each entry is one row of ``audit_log``::

    seq        int, 1, 2, 3, … without gaps (primary key)
    at         RFC 3339 UTC text, e.g. "2026-11-30T13:05:13.123456+00:00"
    kind       what happened: inquiry_accepted, assets_read, control_order, asset_confirmed,
               agency_answers, webhook_delivery, termination, … (free, short)
    court_id   the court concerned
    case_id    the case concerned (null for an entry about no single case)
    actor      who: an officer or judge id, or ``token:<fingerprint>`` for a read, or ``hub``
    details    canonical JSON text: ids, statuses and digests only, never names or id numbers
    prev_hash  the previous entry's ``hash`` (the genesis value for seq 1)
    hash       sha256 hex over the canonical JSON of every field above

The single row of ``audit_head`` holds the newest ``seq`` and ``hash``. An append first updates
that row, which takes the database's write lock on SQLite and the row's lock on PostgreSQL, so
concurrent appends queue one behind the other in their transactions and the chain never forks; the
head also lets :func:`verify` notice entries removed from the end.

Appends happen inside the transaction that makes the change they record (one insert and one
update each), so an entry exists exactly when its change was committed. Call :func:`record` after
the transaction's other writes (a transaction that only read before it could, on SQLite, find its
snapshot stale).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from .db import metadata

__all__ = [
    "GENESIS",
    "Problem",
    "actor_of_token",
    "audit_head",
    "audit_log",
    "canonical",
    "digest",
    "entry_hash",
    "page",
    "record",
    "record_many",
    "verify",
    "verify_rows",
]

GENESIS = "0" * 64
_HEAD_ID = 1
_BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("seq", _BIG, primary_key=True, autoincrement=False),
    sa.Column("at", sa.String(40), nullable=False),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("court_id", sa.String(64), nullable=False),
    sa.Column("case_id", sa.String(64)),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("details", sa.Text, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Index("ix_audit_log_case_seq", "case_id", "seq"),
)

audit_head = sa.Table(
    "audit_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", _BIG, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)


def canonical(value: Any) -> str:
    """Canonical JSON text: sorted keys, no spaces, Unicode kept as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def digest(value: Any) -> str:
    """``sha256:<hex>`` of a value's canonical JSON: how an entry names content it must not copy."""
    return "sha256:" + hashlib.sha256(canonical(value).encode()).hexdigest()


def actor_of_token(authorization: str | None) -> str:
    """``token:<16 hex>``: a fingerprint of the bearer token that made a request (never the token)."""
    token = (authorization or "").removeprefix("Bearer ").strip()
    return "token:" + hashlib.sha256(token.encode()).hexdigest()[:16]


def entry_hash(
    *,
    seq: int,
    at: str,
    kind: str,
    court_id: str,
    case_id: str | None,
    actor: str,
    details: str,
    prev_hash: str,
) -> str:
    """sha256 hex over the canonical JSON of an entry's fields and the previous entry's hash."""
    body = {
        "seq": seq,
        "at": at,
        "kind": kind,
        "court_id": court_id,
        "case_id": case_id,
        "actor": actor,
        "details": details,
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(canonical(body).encode()).hexdigest()


async def record(
    conn: AsyncConnection,
    kind: str,
    case_id: str | None,
    court_id: str,
    actor: str,
    details: Mapping[str, Any] | None = None,
) -> int:
    """Append one entry in ``conn``'s transaction; returns its ``seq``.

    ``details``: JSON-serialisable ids, statuses, counts and digests (see :func:`digest`) — never a
    name or an identity number. Waits for (never forks beside) a concurrent append; raises
    SQLAlchemy errors as they come, which roll the caller's change back with its entry.
    """
    locked = await conn.execute(_LOCK_HEAD)
    if not locked.rowcount:  # a database made without the migration's head row
        await conn.execute(audit_head.insert().values(id=_HEAD_ID, seq=0, hash=GENESIS))
    head = (await conn.execute(sa.select(audit_head.c.seq, audit_head.c.hash))).one()
    seq = int(head.seq) + 1
    row = {
        "seq": seq,
        "at": dt.datetime.now(dt.UTC).isoformat(),
        "kind": kind,
        "court_id": court_id,
        "case_id": case_id,
        "actor": actor,
        "details": canonical(dict(details or {})),
        "prev_hash": head.hash,
    }
    row["hash"] = entry_hash(**row)
    await conn.execute(audit_log.insert().values(**row))
    await conn.execute(
        audit_head.update().where(audit_head.c.id == _HEAD_ID).values(seq=seq, hash=row["hash"])
    )
    return seq


Entry = tuple[str, "str | None", str, str, "Mapping[str, Any] | None"]


# The statements of every append, built once: building one per call (and SQLAlchemy's cache key
# for it) cost about 70 µs each, and an append makes four.
_LOCK_HEAD = audit_head.update().where(audit_head.c.id == _HEAD_ID).values(seq=audit_head.c.seq)
_READ_HEAD = sa.select(audit_head.c.seq, audit_head.c.hash)
_APPEND = audit_log.insert()
_MOVE_HEAD = (
    audit_head.update()
    .where(audit_head.c.id == _HEAD_ID)
    .values(seq=sa.bindparam("new_seq"), hash=sa.bindparam("new_hash"))
)


async def record_many(conn: AsyncConnection, entries: Sequence[Entry]) -> list[int]:
    """Append ``entries`` (each ``(kind, case_id, court_id, actor, details)`` as :func:`record`
    takes them) in order, in ``conn``'s transaction, with four statements whatever their number:
    the same chain as one :func:`record` call each. Returns their ``seq``s."""
    if not entries:
        return []
    locked = await conn.execute(_LOCK_HEAD)
    if not locked.rowcount:  # a database made without the migration's head row
        await conn.execute(audit_head.insert().values(id=_HEAD_ID, seq=0, hash=GENESIS))
    head = (await conn.execute(_READ_HEAD)).one()
    seq, prev = int(head.seq), str(head.hash)
    at = dt.datetime.now(dt.UTC).isoformat()
    rows: list[dict[str, Any]] = []
    for kind, case_id, court_id, actor, details in entries:
        seq += 1
        text = canonical(dict(details or {}))
        digest_ = entry_hash(
            seq=seq, at=at, kind=kind, court_id=court_id, case_id=case_id, actor=actor, details=text,
            prev_hash=prev,
        )  # fmt: skip
        row = {"seq": seq, "at": at, "kind": kind, "court_id": court_id, "case_id": case_id}
        rows.append({**row, "actor": actor, "details": text, "prev_hash": prev, "hash": digest_})
        prev = digest_
    await conn.execute(_APPEND, rows)
    await conn.execute(_MOVE_HEAD, {"new_seq": seq, "new_hash": prev})
    return [r["seq"] for r in rows]


def _public(row: Any) -> dict[str, Any]:
    return {
        "seq": row.seq,
        "at": row.at,
        "kind": row.kind,
        "court_id": row.court_id,
        "case_id": row.case_id,
        "actor": row.actor,
        "details": json.loads(row.details),
        "prev_hash": row.prev_hash,
        "hash": row.hash,
    }


def encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"a{seq}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The seq a cursor continues after; ``ValueError`` for a cursor this module did not make."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        raise ValueError("not a cursor of this list") from None
    if not text.startswith("a") or not text[1:].isdigit() or len(text) > 20:
        raise ValueError("not a cursor of this list")
    return int(text[1:])


async def page(
    conn: AsyncConnection, case_id: str, court_id: str, after: int, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """The case's entries after ``after`` (a seq), oldest first, at most ``limit``; with the cursor
    of the next page (``None`` on the last one)."""
    rows = (
        await conn.execute(
            sa.select(audit_log)
            .where(audit_log.c.case_id == case_id, audit_log.c.court_id == court_id, audit_log.c.seq > after)
            .order_by(audit_log.c.seq)
            .limit(limit + 1)
        )
    ).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return [_public(r) for r in rows], encode_cursor(rows[-1].seq) if more and rows else None


# ---------------------------------------------------------------- verification


@dataclass(frozen=True)
class Problem:
    """The first place the chain breaks: ``seq`` of the entry (or where one is missing), ``what``
    (``altered``, ``removed``, ``inserted``) and a sentence."""

    seq: int
    what: str
    message: str


def verify_rows(rows: Iterable[Any], head: tuple[int, str] | None) -> tuple[int, Problem | None]:
    """Walk entries in ``seq`` order; returns how many were checked and the first problem, if any.

    ``head``: the ``audit_head`` row's ``(seq, hash)`` (``None`` when it is missing). An entry whose
    own hash does not recompute was altered; a gap in ``seq`` means entries were removed; an entry
    whose hash recomputes but does not follow its predecessor's was inserted (or moved).
    """
    expected_seq, prev = 1, GENESIS
    checked = 0
    for row in rows:
        checked += 1
        if row.seq > expected_seq:
            missing = f"{expected_seq}" if row.seq == expected_seq + 1 else f"{expected_seq}-{row.seq - 1}"
            jump = f"the chain jumps from {expected_seq - 1} to {row.seq}"
            return checked, Problem(expected_seq, "removed", f"entry {missing} removed: {jump}")
        recomputed = entry_hash(
            seq=row.seq,
            at=row.at,
            kind=row.kind,
            court_id=row.court_id,
            case_id=row.case_id,
            actor=row.actor,
            details=row.details,
            prev_hash=row.prev_hash,
        )
        if recomputed != row.hash:
            reason = "its content no longer matches its hash"
            return checked, Problem(row.seq, "altered", f"entry {row.seq} altered: {reason}")
        if row.seq < expected_seq or row.prev_hash != prev:
            return checked, Problem(
                row.seq,
                "inserted",
                f"entry {row.seq} inserted: it does not follow entry {row.seq - 1}'s hash (or entry "
                f"{row.seq - 1} was altered and its hash rewritten)",
            )
        expected_seq, prev = row.seq + 1, row.hash
    last = expected_seq - 1
    if head is None:
        if last:
            return checked, Problem(last, "altered", "the chain's head record is missing")
        return checked, None
    head_seq, head_hash = head
    if head_seq > last:
        missing = f"{last + 1}" if head_seq == last + 1 else f"{last + 1}-{head_seq}"
        ends = f"the chain ends at {last}, its head at {head_seq}"
        return checked, Problem(last + 1, "removed", f"entry {missing} removed: {ends}")
    if head_seq < last or head_hash != prev:
        return checked, Problem(
            head_seq + 1 if head_seq < last else last,
            "inserted" if head_seq < last else "altered",
            f"entry {head_seq + 1 if head_seq < last else last} does not match the chain's head "
            f"(head at {head_seq})",
        )
    return checked, None


def verify(connection: sa.Connection, batch: int = 5000) -> tuple[int, Problem | None]:
    """:func:`verify_rows` over the database behind ``connection`` (synchronous), read in batches."""

    def rows() -> Iterable[Any]:
        after = 0
        while True:
            chunk = connection.execute(
                sa.select(audit_log).where(audit_log.c.seq > after).order_by(audit_log.c.seq).limit(batch)
            ).all()
            yield from chunk
            if len(chunk) < batch:
                return
            after = chunk[-1].seq

    head = connection.execute(sa.select(audit_head.c.seq, audit_head.c.hash)).first()
    return verify_rows(rows(), (int(head.seq), head.hash) if head else None)
