"""Finding things back: case numbers unique per court, debtors found by identifier, cursor paging.

Tables:

- ``case_numbers``: (court_id, case_number) -> case_id, the unique index that makes a case number
  unique per court. Written in the registration's transaction; a second registration with the same
  number fails on it (``IntegrityError``) and the route answers 409 with the first case's id. Cases
  registered twice before this table existed keep their rows; the oldest holds the claim.
- ``case_debtor_ids``: (case_id, digest): one keyed digest (HMAC-SHA256) per debtor identifier of a
  case, so ``GET /v1/cases?id_number=`` is an index lookup and the identifier itself is neither
  scanned for in JSON nor written anywhere new. The digest covers the canonical identifier (as
  ``schemas.identifiers`` stores it: a legacy 15-digit resident id is found by its 18-character form).
- ``id_index_meta``: the digest key, generated at the first start (``secrets.token_bytes(32)``)
  and kept beside the cases it indexes; every gateway on the database uses the same one.

Cursors are opaque to the court: URL-safe base64 of the last row's ``created_at`` and id. Rows are
listed oldest first by (created_at, id), which never changes for a row, so paging is stable while
new rows arrive (they appear on later pages).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import secrets
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from schemas.identifiers import IdType, canonical_identifier

from .db import Database, cases, metadata
from .tables import utc as _utc

__all__ = [
    "CursorError",
    "case_debtor_ids",
    "case_numbers",
    "claim_of",
    "decode_cursor",
    "encode_cursor",
    "id_digest",
    "index_case",
    "list_cases",
    "list_rows",
    "lookup_digests",
    "prepare_index",
]

case_numbers = sa.Table(
    "case_numbers",
    metadata,
    sa.Column("court_id", sa.String(64), primary_key=True),
    sa.Column("case_number", sa.String(80), primary_key=True),
    sa.Column("case_id", sa.String(64), nullable=False),
)

case_debtor_ids = sa.Table(
    "case_debtor_ids",
    metadata,
    sa.Column("case_id", sa.String(64), primary_key=True),
    sa.Column("digest", sa.String(64), primary_key=True),
    sa.Column("court_id", sa.String(64), nullable=False),
    sa.Index("ix_case_debtor_ids_court_digest", "court_id", "digest"),
)

id_index_meta = sa.Table(
    "id_index_meta",
    metadata,
    sa.Column("name", sa.String(40), primary_key=True),
    sa.Column("value", sa.String(200), nullable=False),
)


class CursorError(ValueError):
    """A cursor this gateway did not write (or one for another listing)."""


def id_digest(key: bytes, id_number: str) -> str:
    """Hex HMAC-SHA256 of a canonical identifier under the index key."""
    return hmac.new(key, id_number.encode(), hashlib.sha256).hexdigest()


def lookup_digests(key: bytes, raw: str) -> set[str]:
    """Digests of every canonical form ``raw`` can take (any identifier type; a number that fits
    none is looked up as given, upper-cased), so a court need not say which type it searches."""
    forms = {raw.strip().upper()}
    for id_type in IdType:
        try:
            forms.add(canonical_identifier(id_type, raw, check=False))
        except ValueError:
            continue
    return {id_digest(key, f) for f in forms}


async def prepare_index(db: Database) -> bytes:
    """The index key; at the first start (no key yet) generate it and index every case there is.
    Safe when several gateways start at once (the first key written wins)."""
    async with db.engine.begin() as conn:
        row = (
            await conn.execute(sa.select(id_index_meta.c.value).where(id_index_meta.c.name == "key"))
        ).first()
    if row is not None:
        return bytes.fromhex(row.value)
    key = secrets.token_bytes(32)
    try:
        async with db.engine.begin() as conn:
            await conn.execute(id_index_meta.insert().values(name="key", value=key.hex()))
            await conn.execute(case_debtor_ids.delete())
            offset, chunk = 0, 500
            while True:
                rows = (
                    await conn.execute(
                        sa.select(cases.c.case_id, cases.c.court_id, cases.c.body)
                        .order_by(cases.c.case_id)
                        .offset(offset)
                        .limit(chunk)
                    )
                ).all()
                for r in rows:
                    await _index_debtors(conn, key, r.case_id, r.court_id, r.body)
                if len(rows) < chunk:
                    break
                offset += chunk
    except IntegrityError:  # another gateway wrote its key first: use that one
        return await prepare_index(db)
    return key


async def _index_debtors(conn: AsyncConnection, key: bytes, case_id: str, court_id: str, body: Any) -> None:
    digests = {id_digest(key, d["id_number"]) for d in (body or {}).get("debtors", []) if d.get("id_number")}
    if digests:
        await conn.execute(
            case_debtor_ids.insert(),
            [{"case_id": case_id, "digest": d, "court_id": court_id} for d in sorted(digests)],
        )


async def index_case(conn: AsyncConnection, key: bytes, case: dict[str, Any]) -> None:
    """Claim the case's number and index its debtors, in the registration's transaction.
    Raises ``IntegrityError`` when the court already has a case with this number."""
    await conn.execute(
        case_numbers.insert().values(
            court_id=case["court_id"], case_number=case["case_number"], case_id=case["case_id"]
        )
    )
    await _index_debtors(conn, key, case["case_id"], case["court_id"], case)


async def claim_of(db: Database, court_id: str, case_number: str) -> str | None:
    """The id of the court's case registered under ``case_number``, if any."""
    async with db.engine.connect() as conn:
        row = (
            await conn.execute(
                sa.select(case_numbers.c.case_id).where(
                    case_numbers.c.court_id == court_id, case_numbers.c.case_number == case_number
                )
            )
        ).first()
    return row.case_id if row else None


def encode_cursor(at: dt.datetime, ident: str) -> str:
    raw = json.dumps([_utc(at).isoformat(), ident], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.datetime, str]:
    """(created_at, id) of a cursor; raises CursorError on anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, ident = json.loads(raw)
        when = dt.datetime.fromisoformat(at)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise CursorError("not a cursor this API returned") from None
    if not isinstance(ident, str) or when.tzinfo is None:
        raise CursorError("not a cursor this API returned")
    return when, ident


def _page(query: sa.Select[Any], created: Any, ident: Any, cursor: str | None, limit: int) -> sa.Select[Any]:
    if cursor is not None:
        at, last = decode_cursor(cursor)
        # SQLite stores naive UTC: compare in UTC without zone there (PostgreSQL converts either way)
        at = at.astimezone(dt.UTC)
        query = query.where(sa.or_(created > at, sa.and_(created == at, ident > last)))
    return query.order_by(created, ident).limit(limit + 1)


def _next(rows: Sequence[Any], limit: int, created: str, ident: str) -> tuple[Sequence[Any], str | None]:
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode_cursor(getattr(rows[-1], created), getattr(rows[-1], ident))


async def list_cases(
    db: Database,
    court_id: str,
    *,
    case_number: str | None,
    status: str | None,
    digests: set[str] | None,
    cursor: str | None,
    limit: int,
) -> tuple[Sequence[Any], str | None]:
    """One page of the court's cases matching every filter given: (rows, next cursor or None).
    Raises CursorError on a cursor this API did not write."""
    query = sa.select(cases).where(cases.c.court_id == court_id)
    if case_number is not None:
        query = query.where(cases.c.case_number == case_number)
    if status is not None:
        query = query.where(cases.c.status == status)
    if digests is not None:
        matching = sa.select(case_debtor_ids.c.case_id).where(
            case_debtor_ids.c.court_id == court_id, case_debtor_ids.c.digest.in_(sorted(digests))
        )
        query = query.where(cases.c.case_id.in_(matching))
    query = _page(query, cases.c.created_at, cases.c.case_id, cursor, limit)
    async with db.engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return _next(rows, limit, "created_at", "case_id")


async def list_rows(
    db: Database, table: sa.Table, id_column: str, court_id: str, case_id: str, cursor: str | None, limit: int
) -> tuple[Sequence[Any], str | None]:
    """One page of a case's rows of ``table`` (inquiries, control orders), oldest first."""
    query = sa.select(table).where(table.c.case_id == case_id, table.c.court_id == court_id)
    query = _page(query, table.c.created_at, table.c[id_column], cursor, limit)
    async with db.engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return _next(rows, limit, "created_at", id_column)
