"""``/v1/events`` and ``/v1/cases/{case_id}/events``: the court's event feed, to resynchronise.

Every inquiry result that settled (``inquiry_settled``: complete, partial or rejected, and each later
version, such as a partial result completed by a late answer), every control-order outcome
(``order_event``, the event its webhook carried, under the same ``event_id``) and every case
lifecycle event, in the order the gateway recorded them (see ``gateway/feed.py``). Each event
appears once, with a ``cursor``; reading ``after`` a cursor gives exactly the events recorded since.
"""

from __future__ import annotations

from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Query

from schemas.views_records import EventPage

from ..db import cases as cases_table
from ..deps import CourtId, Db
from ..feed import event_view, read_events
from ..responses import AUTH_READ, errors
from .cases import not_found

router = APIRouter(tags=["events"])

After = Annotated[
    str | None,
    Query(
        pattern=r"^[0-9]{1,18}$",
        description="a cursor from an earlier event (opaque): only events recorded after it; "
        "absent: from the first event",
    ),
]
Limit = Annotated[int, Query(ge=1, le=500, description="at most this many events (default 100)")]


def _page(rows: Any, after: str | None) -> dict[str, Any]:
    items = [event_view(r) for r in rows]
    return {"items": items, "next_cursor": items[-1]["cursor"] if items else after}


@router.get(
    "/v1/events",
    summary="The court's events after a cursor, oldest first",
    response_model=EventPage,
    responses=errors(401, 422),
)
async def court_events(court_id: CourtId, db: Db, after: After = None, limit: Limit = 100) -> dict[str, Any]:
    """``{"items": [{"cursor", "event_id", "type", "case_id", "at", "data"}], "next_cursor"}``.

    ``next_cursor`` is the cursor to read from next time: the last item's, or ``after`` itself when
    nothing new was recorded (null only when the court has no event yet and gave no cursor). A
    page shorter than ``limit`` means the court is up to date. 422 on a malformed cursor or limit.
    """
    async with db.engine.connect() as conn:
        rows = await read_events(conn, court_id, after=int(after or 0), limit=limit)
    return _page(rows, after)


@router.get(
    "/v1/cases/{case_id}/events",
    summary="One case's events after a cursor, oldest first",
    response_model=EventPage,
    responses=errors(*AUTH_READ),
)
async def case_events(
    case_id: str, court_id: CourtId, db: Db, after: After = None, limit: Limit = 100
) -> dict[str, Any]:
    """The same events as ``/v1/events`` (same cursors), of one case only. 404: no such case of
    this court."""
    async with db.engine.connect() as conn:
        known = (
            await conn.execute(
                sa.select(cases_table.c.case_id).where(
                    cases_table.c.case_id == case_id, cases_table.c.court_id == court_id
                )
            )
        ).first()
        if known is None:
            raise not_found("case", case_id)
        rows = await read_events(conn, court_id, after=int(after or 0), limit=limit, case_id=case_id)
    return _page(rows, after)
