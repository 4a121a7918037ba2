"""``Idempotency-Key`` handling shared by the create routes.

A repeat of a key returns the first resource and creates nothing; the same key with a different
body is refused (409), since silently returning the first resource would hide a client bug.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import Header, HTTPException, status

from .db import Database

__all__ = ["IdempotencyKey", "conflict", "first_created", "request_hash"]

IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", min_length=1, max_length=200, description="repeat-safe submission key"),
]


def request_hash(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def conflict() -> HTTPException:
    return HTTPException(
        status.HTTP_409_CONFLICT,
        [
            {
                "loc": ["header", "Idempotency-Key"],
                "msg": "already used with a different request body",
                "type": "idempotency_conflict",
            }
        ],
    )


async def first_created(
    db: Database, table: sa.Table, court_id: str, key: str | None, digest: str, *, raced: bool = False
) -> sa.Row[Any] | None:
    """The resource this court first created with ``key`` (None if none); 409 if the body differs.

    ``raced``: called after our insert lost to a concurrent one with the same key, so the winner
    must exist.
    """
    if not key:
        if raced:
            raise conflict()
        return None
    first = await db.find_by_idempotency(table, court_id, key)
    if (first is None and raced) or (first is not None and first.request_hash != digest):
        raise conflict()
    return first
