"""The live new-asset watch: ``POST|GET|DELETE /v1/cases/{case_id}/watch`` and ``GET /v1/ops/watch``.

``POST`` (body optional: ``{"note"}``) starts watching every debtor of the case: a change any
registry publishes for one of them reaches the court as a ``new_asset`` event within seconds
(``gateway/watch.py``). ``DELETE`` stops it, whoever started it (the court or a termination).
Starting and stopping are lifecycle events of the case too (``watch_started``, ``watch_stopped``:
the feed and the signed webhook). Another court's case: 404, as if it did not exist.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import sqlalchemy as sa
from fastapi import APIRouter, Request, Response, status
from sqlalchemy.exc import IntegrityError

from schemas.watch import WatchCreate, WatchTotals, WatchView

from .. import audit
from ..db import Database
from ..deps import CourtId, Db, OpsRole, Relay, Settings
from ..responses import AUTH_READ, errors
from ..watch import case_watches, set_watch, watch_summary, watch_view
from .cases import not_found
from .termination import hub_clock

__all__ = ["router"]

router = APIRouter(tags=["watch (new assets)"])


async def _view(db: Database, case_id: str) -> WatchView:
    async with db.engine.connect() as conn:
        row = (await conn.execute(sa.select(case_watches).where(case_watches.c.case_id == case_id))).first()
        counts = await watch_summary(conn, case_id)
    return WatchView(**watch_view(case_id, row, counts["namesakes_excluded"], counts["new_assets"]))


async def _switch(
    db: Database, court_id: str, case_id: str, on: bool, request: Request, note: str | None = None
) -> bool:
    """Turn the court's watch of the case on (or every watch off); True when the watch started."""
    case = await db.find_case(case_id, court_id)
    if case is None:
        raise not_found("case", case_id)
    now = hub_clock(request).now()
    for attempt in (1, 2):  # two first watches of one case at once: one inserts, the other retries
        try:
            async with db.engine.begin() as conn:
                query = sa.select(case_watches).where(case_watches.c.case_id == case_id)
                before = (await conn.execute(query)).first()
                after = await (
                    set_watch(db, conn, case, now, court=True)
                    if on
                    else set_watch(db, conn, case, now, court=False, termination=False)
                )
                if _flags(before) != _flags(after):
                    details = {"note": audit.digest(note)} if note else {}
                    kind = "watch_on" if on else "watch_off"
                    await audit.record(conn, kind, case_id, court_id, court_id, details)
            return not any(_flags(before)) and any(_flags(after))
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _flags(row: Any) -> tuple[bool, bool]:
    return (bool(row.by_court), bool(row.by_termination)) if row is not None else (False, False)


@router.post(
    "/v1/cases/{case_id}/watch",
    response_model=WatchView,
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"model": WatchView, "description": "The case was watched already (nothing changed)"},
        **errors(401, 404, 413, 422),
    },
    summary="Watch the case's debtors for new assets (new_asset events)",
)
async def start_watch(
    case_id: str,
    court_id: CourtId,
    db: Db,
    relay: Relay,
    request: Request,
    response: Response,
    body: WatchCreate | None = None,
) -> WatchView:
    """201 with the watch when it starts; 200 when the case was already watched (nothing changes)."""
    started = await _switch(db, court_id, case_id, True, request, body.note if body else None)
    relay.wake.set()
    if not started:
        response.status_code = status.HTTP_200_OK
    return await _view(db, case_id)


@router.delete(
    "/v1/cases/{case_id}/watch",
    response_model=WatchView,
    responses=errors(*AUTH_READ),
    summary="Stop watching the case's debtors (the court's and the termination's watch)",
)
async def stop_watch(case_id: str, court_id: CourtId, db: Db, relay: Relay, request: Request) -> WatchView:
    """200 with the watch, now inactive (also when it was not watched)."""
    await _switch(db, court_id, case_id, False, request)
    relay.wake.set()
    return await _view(db, case_id)


@router.get(
    "/v1/cases/{case_id}/watch",
    response_model=WatchView,
    responses=errors(*AUTH_READ),
    summary="Whether the case is watched, why, and what the watch found and excluded",
)
async def get_watch(case_id: str, court_id: CourtId, db: Db) -> WatchView:
    if await db.find_case(case_id, court_id) is None:
        raise not_found("case", case_id)
    return await _view(db, case_id)


@router.get(
    "/v1/ops/watch",
    response_model=WatchTotals,
    responses=errors(401),
    summary="The watch over every court: cases watched, new assets pushed, namesakes excluded",
)
async def ops_watch(_: OpsRole, db: Db, settings: Settings) -> WatchTotals:
    async with db.engine.connect() as conn:
        totals = await watch_summary(conn)
    feeds, *streams = await asyncio.gather(
        _status(f"{settings.resolved_connectors_url}/watch"),
        *(_status(f"{url}/watch") for url in settings.streams_urls),
    )
    return WatchTotals(**totals, feeds=feeds, streams=streams)


async def _status(url: str) -> dict[str, Any]:
    """A process's watch status (JSON), or ``{"unreachable": reason}``."""
    try:
        async with httpx.AsyncClient(timeout=2.0) as client:
            r = await client.get(url)
        r.raise_for_status()
        body: dict[str, Any] = r.json()
        return body
    except (httpx.HTTPError, ValueError) as e:
        return {"unreachable": type(e).__name__}
