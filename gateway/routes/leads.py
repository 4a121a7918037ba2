"""Leads and payouts of a case: ``POST|GET /v1/cases/{case_id}/leads``, ``POST
/v1/cases/{case_id}/payouts`` and ``GET /v1/cases/{case_id}/funds``.

The rules and the shapes are in ``gateway/leads.py`` and ``gateway/funds.py``; the loop that
settles leads, reports overdue ones and reminds of held money is ``gateway.leads.FollowUps``
(:func:`follow_up_loop`). Every time here is the hub's clock. Another court's case: 404, as if it
did not exist. Both creating routes take an ``Idempotency-Key``: a repeat answers the first record
(201) and creates nothing; the same key with another body is 409.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Request, status
from sqlalchemy.exc import IntegrityError

from schemas.agencies import expand_agencies
from schemas.leads import LeadCreate, PayoutCreate
from schemas.models import InquiryCreate, new_id
from schemas.views_records import FundsView, LeadList, LeadView, PayoutView

from .. import audit
from ..db import Database
from ..db import cases as cases_table
from ..deps import CourtId, Db, Relay, Settings
from ..funds import balance, case_deductions, case_payouts, held_by_deduction, payout_reminders, payout_view
from ..funds import payouts as payouts_table
from ..idempotency import IdempotencyKey, first_created, request_hash
from ..leads import FollowUps, lead_due_at, lead_view, leads
from ..responses import AUTH_READ, errors
from ..tables import utc as _utc
from ..termination import debtor_key
from .cases import not_found
from .control_orders import check_judge
from .inquiries import check_officer, create_inquiry, unprocessable
from .termination import hub_clock

__all__ = ["follow_up_loop", "router"]

router = APIRouter(prefix="/v1/cases", tags=["leads and payouts"])


def follow_up_loop(app: Any) -> FollowUps:
    """The leads-and-payouts loop of a started gateway (``app.state``: db, settings, clock, read
    model, whose ``events_stored`` wakes the webhook dispatcher)."""
    state = app.state
    return FollowUps(state.db, state.settings, state.clock, wake=state.read_model.events_stored)


async def _find(db: Database, case_id: str, court_id: str) -> dict[str, Any]:
    case = await db.find_case(case_id, court_id)
    if case is None:
        raise not_found("case", case_id)
    return case


async def _lead(db: Database, lead_id: str) -> dict[str, Any]:
    async with db.engine.connect() as conn:
        row = (await conn.execute(sa.select(leads).where(leads.c.lead_id == lead_id))).one()
    return lead_view(row)


@router.post(
    "/{case_id}/leads",
    status_code=status.HTTP_201_CREATED,
    summary="Record a lead (财产线索) and check it with a targeted inquiry",
    response_model=LeadView,
    responses=errors(401, 404, 409, 413, 422),
)
async def create_lead(
    case_id: str,
    body: LeadCreate,
    court_id: CourtId,
    db: Db,
    relay: Relay,
    settings: Settings,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """201 with the lead (``gateway.leads.lead_view``): ``status`` ``open``, ``due_at`` now plus
    ``HUB_LEAD_DAYS`` (``HUB_LEAD_URGENT_DAYS`` if urgent), ``inquiry_ids`` the targeted inquiries
    (one per debtor of the case, that agency only, as ``POST /v1/inquiries`` makes them). 422:
    ``officer`` not an officer of the court, ``agency`` not an agency of this hub, or a field
    invalid. 404: not this court's case. 409: ``Idempotency-Key`` reused with another body."""
    digest = request_hash({"case_id": case_id, **body.model_dump(mode="json")})
    if (first := await first_created(db, leads, court_id, idempotency_key, digest)) is not None:
        return lead_view(first)
    case = await _find(db, case_id, court_id)
    check_officer(settings, court_id, body.officer)
    try:
        agencies = expand_agencies([body.agency], settings.bank_codes)
    except ValueError as e:
        raise unprocessable(["body", "agency"], str(e), "unknown_agency") from None
    lead_id = new_id("lead")
    now = hub_clock(request).now()
    # the inquiries' keys: from the court's key when it gave one, so a retry after a failure here
    # makes no second inquiry
    base = f"key:{hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]}" if idempotency_key else lead_id
    inquiry_ids = []
    for debtor in case["debtors"]:
        inquiry = InquiryCreate(
            case_id=case_id,
            debtor={"id_type": debtor["id_type"], "id_number": debtor["id_number"]},
            officer=body.officer,
            purpose=body.purpose,
            legal_basis=body.legal_basis,
            agencies=agencies,
        )
        key = f"lead:{base}:{debtor_key(debtor['id_type'], debtor['id_number'])}"
        answer = await create_inquiry(
            body=inquiry, court_id=court_id, db=db, relay=relay, settings=settings, idempotency_key=key
        )
        inquiry_ids.append(answer["inquiry_id"])
    try:
        async with db.engine.begin() as conn:
            await conn.execute(
                leads.insert().values(
                    lead_id=lead_id,
                    case_id=case_id,
                    court_id=court_id,
                    agency=body.agency,
                    description=body.description,
                    asset_ref=body.asset_ref,
                    urgent=body.urgent,
                    officer=body.officer,
                    status="open",
                    created_at=now,
                    due_at=lead_due_at(now, body.urgent, settings),
                    inquiry_ids=inquiry_ids,
                    idempotency_key=idempotency_key,
                    request_hash=digest,
                )
            )
            details = {
                "lead_id": lead_id,
                "agency": body.agency,
                "urgent": body.urgent,
                "inquiry_ids": inquiry_ids,
                "description": audit.digest(body.description),
            }
            await audit.record(conn, "lead", case_id, court_id, body.officer, details)
    except IntegrityError:  # the same key raced in concurrently: answer with the winner
        first = await first_created(db, leads, court_id, idempotency_key, digest, raced=True)
        assert first is not None
        return lead_view(first)
    return await _lead(db, lead_id)


@router.get(
    "/{case_id}/leads",
    summary="The leads of a case, oldest first",
    response_model=LeadList,
    responses=errors(*AUTH_READ),
)
async def list_leads(case_id: str, court_id: CourtId, db: Db) -> dict[str, Any]:
    """``{"case_id", "items": [lead]}`` (``gateway.leads.lead_view``), oldest first. 404: not this
    court's case."""
    await _find(db, case_id, court_id)
    async with db.engine.connect() as conn:
        rows = (
            await conn.execute(
                sa.select(leads)
                .where(leads.c.case_id == case_id, leads.c.court_id == court_id)
                .order_by(leads.c.created_at, leads.c.lead_id)
            )
        ).all()
    return {"case_id": case_id, "items": [lead_view(r) for r in rows]}


def _over_balance(amount: str, held: str) -> HTTPException:
    return unprocessable(
        ["body", "amount"],
        f"{amount} exceeds what the case holds: {held} yuan (deducted less already paid)",
        "exceeds_held",
    )


@router.post(
    "/{case_id}/payouts",
    status_code=status.HTTP_201_CREATED,
    summary="Pay deducted money out of the case's fund ledger",
    response_model=PayoutView,
    responses=errors(401, 404, 409, 413, 422),
)
async def create_payout(
    case_id: str,
    body: PayoutCreate,
    court_id: CourtId,
    db: Db,
    settings: Settings,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """201 with the payout (``gateway.funds.payout_view``). 422 on ``amount`` when it exceeds what
    the case holds (deducted less already paid) or is not a positive amount; 422 on
    ``approved_by`` when not a judge of the court. 404: not this court's case. 409:
    ``Idempotency-Key`` reused with another body."""
    digest = request_hash({"case_id": case_id, **body.model_dump(mode="json")})
    if (first := await first_created(db, payouts_table, court_id, idempotency_key, digest)) is not None:
        return payout_view(first)
    await _find(db, case_id, court_id)
    check_judge(settings, court_id, body.approved_by, "approved_by")
    payout_id = new_id("pay")
    amount = f"{body.amount:.2f}"
    try:
        async with db.engine.begin() as conn:
            # the case's row locked first (an update that changes nothing): concurrent payouts of
            # the case are checked and inserted one after the other
            await conn.execute(
                cases_table.update()
                .where(cases_table.c.case_id == case_id)
                .values(case_id=cases_table.c.case_id)
            )
            deducted = (await case_deductions(conn, [case_id]))[case_id]
            paid = [Decimal(r.amount) for r in await case_payouts(conn, case_id)]
            held = balance(deducted, paid)["held"]
            if body.amount > Decimal(held):
                raise _over_balance(amount, held)
            await conn.execute(
                payouts_table.insert().values(
                    payout_id=payout_id,
                    case_id=case_id,
                    court_id=court_id,
                    amount=amount,
                    payee=body.payee,
                    approved_by=body.approved_by,
                    paid_at=hub_clock(request).now(),
                    idempotency_key=idempotency_key,
                    request_hash=digest,
                )
            )
            details = {"payout_id": payout_id, "amount": amount, "payee": audit.digest(body.payee)}
            await audit.record(conn, "payout", case_id, court_id, body.approved_by, details)
    except IntegrityError:  # the same key raced in concurrently: answer with the winner
        first = await first_created(db, payouts_table, court_id, idempotency_key, digest, raced=True)
        assert first is not None
        return payout_view(first)
    async with db.engine.connect() as conn:
        query = sa.select(payouts_table).where(payouts_table.c.payout_id == payout_id)
        row = (await conn.execute(query)).one()
    return payout_view(row)


@router.get(
    "/{case_id}/funds",
    summary="The case's fund ledger: deducted, paid, held",
    response_model=FundsView,
    responses=errors(*AUTH_READ),
)
async def get_funds(case_id: str, court_id: CourtId, db: Db) -> dict[str, Any]:
    """``{"case_id", "deducted", "paid", "held"`` (decimal strings, yuan), ``"deductions": [{"order_id",
    "asset_id", "amount", "deducted_at", "held", "reminded_at"}]`` (oldest first; ``held``: what of it
    is unpaid, payouts paying the oldest first; ``reminded_at``: when ``payout_reminder`` was
    recorded), ``"payouts": [payout]}`` (oldest first). 404: not this court's case."""
    await _find(db, case_id, court_id)
    async with db.engine.connect() as conn:
        deducted = (await case_deductions(conn, [case_id]))[case_id]
        paid_rows = await case_payouts(conn, case_id)
        reminded = {
            r.order_id: r
            for r in await conn.execute(
                sa.select(payout_reminders).where(
                    payout_reminders.c.case_id == case_id, payout_reminders.c.event_id.is_not(None)
                )
            )
        }
    paid = [Decimal(r.amount) for r in paid_rows]
    return {
        "case_id": case_id,
        **balance(deducted, paid),
        "deductions": [
            {
                "order_id": d["order_id"],
                "asset_id": d["asset_id"],
                "amount": f"{d['amount']:.2f}",
                "deducted_at": d["deducted_at"].isoformat(),
                "held": f"{held:.2f}",
                "reminded_at": _utc(reminded[d["order_id"]].reminded_at).isoformat()
                if d["order_id"] in reminded
                else None,
            }
            for d, held in held_by_deduction(deducted, sum(paid, Decimal("0.00")))
        ],
        "payouts": [payout_view(r) for r in paid_rows],
    }
