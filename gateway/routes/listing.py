"""``GET /v1/cases``, ``/v1/cases/{case_id}/inquiries`` and ``/v1/cases/{case_id}/control-orders``:
find a court's cases, inquiries and orders back, a page at a time.

Every list answers ``{"items": [...], "next_cursor": str | null}``, oldest first; ``next_cursor``
(opaque) gives the next page with ``?cursor=``, null on the last page. ``limit``: 1-500, default 50.
A court sees only its own rows; another court's case is 404, as one that does not exist.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request

from schemas.views import CasePage
from schemas.views_records import InquiryPage, OrderPage

from ..db import control_orders, inquiries
from ..deps import CourtId, Db
from ..feed import result_summary
from ..findback import CursorError, list_cases, list_rows, lookup_digests
from ..responses import AUTH_READ, errors
from ..tables import utc as _utc
from .cases import not_found

router = APIRouter(prefix="/v1/cases", tags=["cases"])

Cursor = Annotated[
    str | None, Query(min_length=1, max_length=400, description="next_cursor of the previous page (opaque)")
]
Limit = Annotated[int, Query(ge=1, le=500, description="items per page (default 50)")]


def _bad_cursor(e: CursorError) -> HTTPException:
    return HTTPException(422, [{"loc": ["query", "cursor"], "msg": str(e), "type": "invalid_cursor"}])


def _iso(value: Any) -> str | None:
    return _utc(value).isoformat() if value is not None else None


@router.get(
    "",
    summary="The court's cases, filtered, a page at a time",
    response_model=CasePage,
    responses=errors(401, 422),
)
async def cases_list(
    court_id: CourtId,
    db: Db,
    request: Request,
    case_number: Annotated[str | None, Query(min_length=1, max_length=80, description="exactly")] = None,
    status: Annotated[
        str | None, Query(pattern=r"^[a-z_]{1,16}$", description="the case's status, e.g. active")
    ] = None,
    id_number: Annotated[
        str | None,
        Query(min_length=1, max_length=40, description="a debtor's identifier (any type, any accepted form)"),
    ] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> dict[str, Any]:
    """Items: ``{"case_id", "case_number", "status", "applicant", "debtors", "amount_owed", "costs",
    "created_at"}``. ``id_number`` finds the cases where that identifier is a debtor's, in any
    form the registration accepted (a legacy 15-digit resident id finds its 18-character form);
    it is looked up by its keyed digest and never logged. 422: a malformed filter or cursor."""
    digests = lookup_digests(request.app.state.id_index_key, id_number) if id_number is not None else None
    try:
        rows, next_cursor = await list_cases(
            db, court_id, case_number=case_number, status=status, digests=digests, cursor=cursor, limit=limit
        )
    except CursorError as e:
        raise _bad_cursor(e) from None
    items = [
        {
            "case_id": r.case_id,
            "case_number": r.case_number,
            "status": r.status,
            "applicant": r.body.get("applicant"),
            "debtors": r.body.get("debtors", []),
            "amount_owed": r.body.get("amount_owed"),
            "costs": r.body.get("costs"),
            "created_at": _iso(r.created_at),
        }
        for r in rows
    ]
    return {"items": items, "next_cursor": next_cursor}


async def _known_case(db: Db, case_id: str, court_id: str) -> None:
    if await db.find_case(case_id, court_id) is None:
        raise not_found("case", case_id)


@router.get(
    "/{case_id}/inquiries",
    summary="A case's inquiries, a page at a time",
    response_model=InquiryPage,
    responses=errors(*AUTH_READ),
)
async def case_inquiries(
    case_id: str, court_id: CourtId, db: Db, cursor: Cursor = None, limit: Limit = 50
) -> dict[str, Any]:
    """Items: ``{"inquiry_id", "status", "version", "debtor", "agencies", "created_at",
    "updated_at", "assets", "assets_by_kind", "total_value"}`` (what was found, counted; the assets
    themselves at ``GET /v1/inquiries/{inquiry_id}``). 404: no such case of this court."""
    await _known_case(db, case_id, court_id)
    try:
        rows, next_cursor = await list_rows(db, inquiries, "inquiry_id", court_id, case_id, cursor, limit)
    except CursorError as e:
        raise _bad_cursor(e) from None
    items = [
        {
            "inquiry_id": r.inquiry_id,
            "status": r.status,
            "version": r.version,
            "debtor": r.request.get("debtor"),
            "agencies": r.request.get("agencies"),
            "created_at": _iso(r.created_at),
            "updated_at": _iso(r.updated_at),
            **result_summary(r.result),
        }
        for r in rows
    ]
    return {"items": items, "next_cursor": next_cursor}


@router.get(
    "/{case_id}/control-orders",
    summary="A case's control orders, a page at a time",
    response_model=OrderPage,
    responses=errors(*AUTH_READ),
)
async def case_orders(
    case_id: str, court_id: CourtId, db: Db, cursor: Cursor = None, limit: Limit = 50
) -> dict[str, Any]:
    """Items: ``{"order_id", "asset_id", "action", "status", "amount", "amount_controlled",
    "effective_at", "expires_at", "created_at", "updated_at"}`` (the order's whole history at
    ``GET /v1/control-orders/{order_id}``). 404: no such case of this court."""
    await _known_case(db, case_id, court_id)
    try:
        rows, next_cursor = await list_rows(db, control_orders, "order_id", court_id, case_id, cursor, limit)
    except CursorError as e:
        raise _bad_cursor(e) from None
    items = []
    for r in rows:
        state = r.state or {}
        items.append(
            {
                "order_id": r.order_id,
                "asset_id": r.asset_id,
                "action": state.get("action") or r.request.get("action"),
                "status": r.status,
                "amount": state.get("amount") or r.request.get("amount"),
                "amount_controlled": state.get("amount_controlled"),
                "effective_at": state.get("effective_at"),
                "expires_at": state.get("expires_at"),
                "created_at": _iso(r.created_at),
                "updated_at": _iso(r.updated_at),
            }
        )
    return {"items": items, "next_cursor": next_cursor}
