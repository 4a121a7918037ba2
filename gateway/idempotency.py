"""``Idempotency-Key`` handling shared by the create routes.

A repeat of a key returns the first resource and creates nothing; the same key with a different
body is refused (409), since silently returning the first resource would hide a client bug.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any

from fastapi import Header, HTTPException, status

__all__ = ["IdempotencyKey", "conflict", "request_hash"]

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
