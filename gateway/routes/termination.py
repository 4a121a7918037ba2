"""终本 (终结本次执行程序): ``GET /v1/cases/{case_id}/termination-check``, ``POST
/v1/cases/{case_id}/termination`` and ``POST /v1/cases/{case_id}/resumption``.

The rules and the shapes are in ``gateway/termination.py``; the re-queries that follow a
termination in ``gateway/requery.py``. Every time here is the hub's clock (``hub/clock.py``).
Another court's case: 404, as if it did not exist.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Request, Response, status
from sqlalchemy.exc import IntegrityError

from hub.clock import Clock, clock_from_settings
from hub.settings import HubSettings
from schemas.models import new_id
from schemas.termination import TerminationCreate
from schemas.views import TerminationView
from schemas.views_records import TerminationCheck

from .. import audit
from ..db import Database
from ..db import cases as cases_table
from ..deps import CourtId, Db, Settings
from ..requery import Requery
from ..responses import AUTH_READ, errors
from ..tables import utc as _utc
from ..termination import (
    due_at,
    requeries,
    requery_ends_at,
    termination_check,
    termination_view,
    terminations,
)
from ..watch import set_watch
from .cases import not_found
from .control_orders import check_judge
from .inquiries import create_inquiry

__all__ = ["case_lifecycle", "requery_loop", "router"]

router = APIRouter(prefix="/v1/cases", tags=["termination (终本)"])


def requery_loop(app: Any) -> Requery:
    """The re-query loop of a started gateway (``app.state``: db, relay, settings, clock, read
    model): its inquiries go through ``create_inquiry``, exactly as ``POST /v1/inquiries``."""
    state = app.state

    async def submit(*, body: Any, court_id: str, idempotency_key: str) -> dict[str, str]:
        return await create_inquiry(
            body=body,
            court_id=court_id,
            db=state.db,
            relay=state.relay,
            settings=state.settings,
            idempotency_key=idempotency_key,
        )

    return Requery(state.db, state.settings, state.clock, submit, wake=state.read_model.events_stored)


def hub_clock(request: Request) -> Clock:
    """The gateway's clock (``app.state.clock``; the hub's clock from the settings if unset)."""
    clock: Clock | None = getattr(request.app.state, "clock", None)
    if clock is None:
        clock = request.app.state.clock = clock_from_settings(request.app.state.settings)
    return clock


async def _check(
    db: Database, settings: HubSettings, case: dict[str, Any], court_id: str, now: dt.datetime
) -> Any:
    rows = await db.inquiries_of_case(case["case_id"], court_id)
    return termination_check(
        case,
        rows,
        settings.agencies,
        now,
        min_case_age_days=settings.termination_min_case_age_days,
        inquiry_max_age_days=settings.termination_inquiry_max_age_days,
    )


async def _find(db: Database, case_id: str, court_id: str) -> dict[str, Any]:
    case = await db.find_case(case_id, court_id)
    if case is None:
        raise not_found("case", case_id)
    return case


async def _termination_rows(db: Database, case_id: str) -> list[Any]:
    async with db.engine.connect() as conn:
        return list(
            (
                await conn.execute(
                    sa.select(terminations)
                    .where(terminations.c.case_id == case_id)
                    .order_by(terminations.c.terminated_at, terminations.c.termination_id)
                )
            ).all()
        )


def _requery_fields(rows: list[Any]) -> dict[str, Any]:
    """What the re-queries carry from the case's last inquiry that named them: its officer and legal
    basis (the purpose is the re-query's own)."""
    for row in reversed(rows):
        request = row.request or {}
        if request.get("officer"):
            return {k: request[k] for k in ("officer", "legal_basis") if request.get(k)}
    return {}


def _refusal(check: dict[str, Any]) -> HTTPException:
    """422 listing every unmet condition: ``loc`` ``["termination_check", "case_age"]`` or
    ``["termination_check", "debtors", i, "agencies", agency]``, ``type`` the reason."""
    errors = []
    for item in check["missing"]:
        if item["what"] == "case_age":
            loc: list[Any] = ["termination_check", "case_age"]
        else:
            loc = ["termination_check", "debtors", item["debtor_index"], "agencies", item["agency"]]
        msg = (
            item["detail"]
            if item["what"] == "case_age"
            else f"debtor {item['debtor_index']}: {item['detail']}"
        )
        errors.append({"loc": loc, "msg": msg, "type": item["reason"]})
    return HTTPException(422, errors)


@router.get(
    "/{case_id}/termination-check",
    summary="Whether the case may be terminated for now (终本), and what is missing",
    response_model=TerminationCheck,
    responses=errors(*AUTH_READ),
)
async def get_termination_check(
    case_id: str, court_id: CourtId, db: Db, settings: Settings, request: Request
) -> dict[str, Any]:
    """``{"case_id", "eligible", "checked_at", "rules", "case_age", "debtors", "missing"}``: see
    ``gateway.termination.termination_check``. 404 for another court's case."""
    case = await _find(db, case_id, court_id)
    check: dict[str, Any] = await _check(db, settings, case, court_id, hub_clock(request).now())
    return check


@router.post(
    "/{case_id}/termination",
    status_code=status.HTTP_201_CREATED,
    summary="Terminate the case for now (终本); refused with 422 listing what is missing",
    response_model=TerminationView,
    responses={
        200: {"model": TerminationView, "description": "The termination already in force (nothing recorded)"},
        **errors(401, 404, 413, 422),
    },
)
async def terminate(
    case_id: str,
    body: TerminationCreate,
    court_id: CourtId,
    db: Db,
    settings: Settings,
    request: Request,
    response: Response,
) -> dict[str, Any]:
    """201 with the termination (``gateway.termination.termination_view``); 200 with the termination
    already in force, if any (a repeat records nothing). 422: ``approved_by`` is not a judge of the
    court, or the termination check fails (one error per unmet condition). 404: not this court's case."""
    case = await _find(db, case_id, court_id)
    check_judge(settings, court_id, body.approved_by, "approved_by")
    in_force = [r for r in await _termination_rows(db, case_id) if r.active_case_id is not None]
    if in_force:
        response.status_code = status.HTTP_200_OK
        return termination_view(in_force[0])
    now = hub_clock(request).now()
    check = await _check(db, settings, case, court_id, now)
    if not check["eligible"]:
        raise _refusal(check)
    ends = requery_ends_at(now, settings.requery_years)
    first = due_at(now, 1, settings.requery_interval_days)
    termination_id = new_id("term")
    carried = _requery_fields(list(await db.inquiries_of_case(case_id, court_id)))
    try:
        async with db.engine.begin() as conn:
            await conn.execute(
                terminations.insert().values(
                    termination_id=termination_id,
                    case_id=case_id,
                    court_id=court_id,
                    active_case_id=case_id,
                    approved_by=body.approved_by,
                    reason=body.reason,
                    terminated_at=now,
                    check_result=check,
                    requery_fields=carried,
                    requery_ends_at=ends,
                    next_period=1,
                    next_requery_at=first if first <= ends else None,
                )
            )
            await conn.execute(
                cases_table.update().where(cases_table.c.case_id == case_id).values(status="terminated")
            )
            await set_watch(db, conn, case, now, termination=True)  # its debtors watched for new assets
            details = {"termination_id": termination_id, "reason": audit.digest(body.reason)}
            await audit.record(conn, "termination", case_id, court_id, body.approved_by, details)
    except IntegrityError:  # a concurrent termination of the same case won: answer with it
        in_force = [r for r in await _termination_rows(db, case_id) if r.active_case_id is not None]
        if not in_force:
            raise
        response.status_code = status.HTTP_200_OK
        return termination_view(in_force[0])
    rows = await _termination_rows(db, case_id)
    return termination_view(next(r for r in rows if r.termination_id == termination_id))


@router.post(
    "/{case_id}/resumption",
    summary="Resume a case terminated for now (恢复执行)",
    response_model=TerminationView,
    responses=errors(401, 404, 409, 413, 422),
)
async def resume(
    case_id: str,
    body: TerminationCreate,
    court_id: CourtId,
    db: Db,
    settings: Settings,
    request: Request,
) -> dict[str, Any]:
    """200 with the termination, now ``resumed`` (re-queries stop); a repeat answers the same record.
    409: the case was never terminated. 422: ``approved_by`` is not a judge of the court. 404: not
    this court's case."""
    case = await _find(db, case_id, court_id)
    check_judge(settings, court_id, body.approved_by, "approved_by")
    rows = await _termination_rows(db, case_id)
    in_force = [r for r in rows if r.active_case_id is not None]
    if not in_force:
        if rows:  # resumed already: the latest record
            return termination_view(rows[-1])
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            [
                {
                    "loc": ["path", "case_id"],
                    "msg": f"case {case_id} is not terminated",
                    "type": "not_terminated",
                }
            ],
        )
    now = hub_clock(request).now()
    termination_id = in_force[0].termination_id
    async with db.engine.begin() as conn:
        resumed = await conn.execute(
            terminations.update()
            .where(
                terminations.c.termination_id == termination_id, terminations.c.active_case_id.is_not(None)
            )
            .values(
                active_case_id=None, resumed_by=body.approved_by, resume_reason=body.reason, resumed_at=now
            )
        )
        if resumed.rowcount:  # not resumed by a concurrent request meanwhile
            await conn.execute(
                cases_table.update().where(cases_table.c.case_id == case_id).values(status="active")
            )
            await set_watch(db, conn, case, now, termination=False)  # the automatic watch ends
            details = {"termination_id": termination_id, "reason": audit.digest(body.reason)}
            await audit.record(conn, "resumption", case_id, court_id, body.approved_by, details)
    rows = await _termination_rows(db, case_id)
    return termination_view(next(r for r in rows if r.termination_id == termination_id))


async def case_lifecycle(db: Database, case_id: str) -> dict[str, Any]:
    """What the case read shows of 终本: ``{"status": "terminated" | "active", "termination": the
    termination in force or the latest one (``termination_view``) or null, "requeries":
    [{"termination_id", "period", "debtor_index", "due_at", "submitted_at", "inquiry_id", "refused",
    "reported_at", "event_id"}]}`` (oldest first)."""
    rows = await _termination_rows(db, case_id)
    async with db.engine.connect() as conn:
        done = (
            await conn.execute(
                sa.select(requeries)
                .where(requeries.c.case_id == case_id)
                .order_by(requeries.c.submitted_at, requeries.c.period, requeries.c.debtor_index)
            )
        ).all()

    def iso(value: dt.datetime | None) -> str | None:
        return _utc(value).isoformat() if value is not None else None

    in_force = [r for r in rows if r.active_case_id is not None]
    latest = in_force[0] if in_force else (rows[-1] if rows else None)
    return {
        "status": "terminated" if in_force else "active",
        "termination": termination_view(latest) if latest is not None else None,
        "requeries": [
            {
                "termination_id": r.termination_id,
                "period": r.period,
                "debtor_index": r.debtor_index,
                "due_at": iso(r.due_at),
                "submitted_at": iso(r.submitted_at),
                "inquiry_id": r.inquiry_id,
                "refused": r.refused,
                "reported_at": iso(r.reported_at),
                "event_id": r.event_id,
            }
            for r in done
        ],
    }
