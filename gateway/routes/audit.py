"""``GET /v1/cases/{case_id}/audit``: the audit trail of one of the court's own cases.

Entries oldest first, cursor-paged: ``{"case_id", "entries": [{"seq", "at", "kind", "court_id",
"case_id", "actor", "details", "prev_hash", "hash"}], "next_cursor": str | null}``. Another court's
case, or an unknown one: 404. A cursor this list did not make: 422 naming ``cursor``. Each entry's
``hash`` chains it to the whole trail (``hub audit verify`` recomputes the chain).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from schemas.views_records import AuditPage

from .. import audit
from ..deps import CourtId, Db
from ..responses import AUTH_READ, errors
from .cases import not_found
from .inquiries import unprocessable

router = APIRouter(prefix="/v1/cases", tags=["audit"])


@router.get(
    "/{case_id}/audit",
    summary="The case's audit trail (who did and read what, when)",
    response_model=AuditPage,
    responses=errors(*AUTH_READ),
)
async def case_audit(
    case_id: str,
    court_id: CourtId,
    db: Db,
    cursor: Annotated[
        str | None, Query(max_length=40, description="next_cursor of the previous page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="entries per page")] = 100,
) -> dict[str, Any]:
    if await db.find_case(case_id, court_id) is None:
        raise not_found("case", case_id)
    after = 0
    if cursor is not None:
        try:
            after = audit.decode_cursor(cursor)
        except ValueError as e:
            raise unprocessable(["query", "cursor"], str(e), "invalid_cursor") from None
    async with db.engine.connect() as conn:
        entries, next_cursor = await audit.page(conn, case_id, court_id, after, limit)
    return {"case_id": case_id, "entries": entries, "next_cursor": next_cursor}
