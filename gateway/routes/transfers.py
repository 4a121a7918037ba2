"""First seizure and priority creditors (DOMAIN rule 7): ``POST /v1/control-orders/{order_id}/disposal``,
``POST|GET /v1/control-orders/{order_id}/transfer-requests`` and ``POST
/v1/control-orders/{order_id}/transfer-requests/{request_id}/answer``.

Who may call what (each court through its own order; another court's order is 404):

- the first court (its order is the asset's first seizure) records the start of disposal and
  answers transfer requests: a waiting order doing either is 403;
- the waiting court whose order states ``priority_claim`` asks for transfer: an order without it,
  or the first seizure itself, is 403.

A transfer request is refused with 409 naming why: the order does not wait (status), no order of
the hub holds the first seizure, the first seizure is the asking court's own, the first court
recorded the start of disposal, ``HUB_TRANSFER_DISPOSAL_DAYS`` have not passed since the first
seizure took effect (hub clock; the detail says from when), or an earlier request of the order is
still open (one at a time; the detail names it). Bodies and views: ``schemas/transfers.py``; the
records and events: ``gateway/transfers.py``; the deadline loop: ``gateway/transfer_deadlines.py``.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Request, status
from sqlalchemy.exc import IntegrityError

from schemas.models import new_id
from schemas.transfers import (
    DisposalCreate,
    DisposalView,
    OrderTransfersView,
    TransferAnswerCreate,
    TransferRequestCreate,
    TransferRequestView,
)

from .. import audit, feed
from ..db import Database
from ..deps import CourtId, Db, Settings
from ..idempotency import IdempotencyKey, first_created, request_hash
from ..problems import Problem
from ..responses import AUTH_READ, errors
from ..transfer_deadlines import TransferDeadlines
from ..transfers import (
    DAY,
    announce_disposal,
    audit_both,
    disposal_due_at,
    disposal_view,
    disposals,
    first_seizure,
    is_first,
    notify_both,
    order_ref,
    order_transfers,
    priority_claims,
    request_view,
    transfer_requests,
)
from .cases import not_found
from .control_orders import check_judge
from .inquiries import check_officer
from .termination import hub_clock

__all__ = ["router", "transfer_loop"]

router = APIRouter(prefix="/v1/control-orders", tags=["first seizure and transfers"])


_WRITE_ERRORS = errors(401, 403, 404, 409, 413, 422)


def transfer_loop(app: Any) -> TransferDeadlines:
    """The transfer-deadline loop of a started gateway (``app.state``: db, settings, clock, read
    model, whose ``events_stored`` wakes the webhook dispatcher)."""
    state = app.state
    return TransferDeadlines(state.db, state.settings, state.clock, wake=state.read_model.events_stored)


def _forbidden(msg: str) -> HTTPException:
    return HTTPException(status.HTTP_403_FORBIDDEN, msg)


def _conflict(msg: str) -> HTTPException:
    return HTTPException(status.HTTP_409_CONFLICT, msg)


def _wake(request: Request) -> None:
    read_model = getattr(request.app.state, "read_model", None)
    if read_model is not None:  # the webhook dispatcher delivers the new events at once
        read_model.events_stored.set()


async def _own_order(db: Database, order_id: str, court_id: str) -> Any:
    row = await db.get_order(order_id, court_id)
    if row is None:
        raise not_found("control order", order_id)
    return row


async def _claim(db: Database, order_id: str) -> Any | None:
    async with db.engine.connect() as conn:
        query = sa.select(priority_claims).where(priority_claims.c.order_id == order_id)
        return (await conn.execute(query)).first()


def _not_first(order: Any) -> HTTPException:
    """403 for a waiting order (the first court records disposal); 409 for an order not in effect."""
    if order.status == "waiting":
        position = (order.state or {}).get("position")
        return _forbidden(
            f"only the first-seizing court records disposal: order {order.order_id} waits at "
            f"position {position}"
        )
    return _conflict(
        f"order {order.order_id} is {order.status}: disposal is recorded on a first seizure in effect"
    )


@router.post(
    "/{order_id}/disposal",
    status_code=status.HTTP_201_CREATED,
    response_model=DisposalView,
    responses=_WRITE_ERRORS,
    summary="The first court records that disposal (auction, sale) of the seized asset started",
)
async def record_disposal(
    order_id: str, body: DisposalCreate, court_id: CourtId, db: Db, settings: Settings, request: Request
) -> dict[str, Any]:
    """201 with the disposal (``started_at``: now by the hub's clock). A repeat with the same body
    answers the same record; another body is 409. 403: the order waits behind another (only the
    first court records disposal); 409: the order is not in effect. The waiting courts whose orders
    state ``priority_claim`` are told (``disposal_started``), as is the first court."""
    order = await _own_order(db, order_id, court_id)
    check_officer(settings, court_id, body.officer)
    check_judge(settings, court_id, body.approved_by, "approved_by")
    if not is_first(order):
        raise _not_first(order)
    digest = request_hash(body.model_dump(mode="json"))
    now = hub_clock(request).now()
    try:
        async with db.engine.begin() as conn:
            await feed.lock_feed(conn)
            await conn.execute(
                disposals.insert().values(
                    order_id=order_id,
                    court_id=court_id,
                    case_id=order.case_id,
                    asset_id=order.asset_id,
                    method=body.method,
                    reference=body.reference,
                    officer=body.officer,
                    approved_by=body.approved_by,
                    started_at=now,
                    request_hash=digest,
                )
            )
            row = (await conn.execute(sa.select(disposals).where(disposals.c.order_id == order_id))).one()
            view = disposal_view(row)
            cases = await announce_disposal(conn, settings, order, view)
            details = {"order_id": order_id, "method": body.method, "reference": audit.digest(body.reference)}
            await audit_both(conn, "disposal", cases, body.officer, details)
    except IntegrityError:  # recorded before (or at the same moment)
        async with db.engine.connect() as conn:
            row = (await conn.execute(sa.select(disposals).where(disposals.c.order_id == order_id))).one()
        if row.request_hash != digest:
            started = disposal_view(row)["started_at"]
            raise _conflict(
                f"disposal of order {order_id} was recorded at {started} ({row.method})"
            ) from None
        return disposal_view(row)
    _wake(request)
    return view


@router.post(
    "/{order_id}/transfer-requests",
    status_code=status.HTTP_201_CREATED,
    response_model=TransferRequestView,
    responses=_WRITE_ERRORS,
    summary="A priority court asks the first-seizing court to transfer the disposal",
)
async def create_transfer_request(
    order_id: str,
    body: TransferRequestCreate,
    court_id: CourtId,
    db: Db,
    settings: Settings,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """201 with the request (``status`` ``open``, ``answer_due_at`` now plus
    ``HUB_TRANSFER_ANSWER_DAYS``); both courts are told (``transfer_requested``). ``order_id`` is
    the asking court's waiting order stating ``priority_claim``. 403, 409: see the module's
    docstring. 422: ``officer`` or ``approved_by`` not of the court, or a field invalid. A repeat
    of an ``Idempotency-Key`` answers the first request; the same key with another body is 409."""
    digest = request_hash({"order_id": order_id, **body.model_dump(mode="json")})
    if (
        first_made := await first_created(db, transfer_requests, court_id, idempotency_key, digest)
    ) is not None:
        return request_view(first_made)
    order = await _own_order(db, order_id, court_id)
    check_officer(settings, court_id, body.officer)
    check_judge(settings, court_id, body.approved_by, "approved_by")
    if is_first(order):
        raise _forbidden(f"order {order_id} is the first seizure: the first court answers transfer requests")
    claim = await _claim(db, order_id)
    if claim is None:
        raise _forbidden(
            f"order {order_id} states no priority_claim: only a court enforcing a priority claim "
            "(a mortgage, say) may ask for transfer"
        )
    if order.status != "waiting":
        raise _conflict(f"order {order_id} is {order.status}: only a waiting order asks for transfer")
    now = hub_clock(request).now()
    async with db.engine.connect() as conn:
        first = await first_seizure(conn, order.asset_id)
        started = (
            None
            if first is None
            else (
                await conn.execute(sa.select(disposals).where(disposals.c.order_id == first.order_id))
            ).first()
        )
        open_one = (
            await conn.execute(sa.select(transfer_requests).where(transfer_requests.c.open_key == order_id))
        ).first()
    if first is None:
        raise _conflict(
            f"no order of the hub holds the first seizure of asset {order.asset_id}: ask the court "
            "ahead directly"
        )
    if first.court_id == court_id:
        raise _conflict(
            f"the first seizure of asset {order.asset_id} is this court's own order {first.order_id}"
        )
    if started is not None:
        raise _conflict(
            f"the first court recorded the start of disposal ({started.method}) of asset {order.asset_id} "
            f"at {disposal_view(started)['started_at']}: no transfer"
        )
    due = disposal_due_at(first, settings)
    assert due is not None  # first_seizure() returns orders in effect only
    if now < due:
        days = settings.transfer_disposal_days
        raise _conflict(
            f"the first seizure (order {first.order_id} of {first.court_id}) took effect at "
            f"{(due - days * DAY).isoformat()}; a transfer may be asked only after {days:g} days without "
            f"disposal, from {due.isoformat()}"
        )
    if open_one is not None:
        raise _open_conflict(open_one)
    request_id = new_id("trq")
    try:
        async with db.engine.begin() as conn:
            await feed.lock_feed(conn)
            await conn.execute(
                transfer_requests.insert().values(
                    request_id=request_id,
                    court_id=court_id,
                    case_id=order.case_id,
                    order_id=order_id,
                    first_court_id=first.court_id,
                    first_case_id=first.case_id,
                    first_order_id=first.order_id,
                    asset_id=order.asset_id,
                    asset_ref=order_ref(order) or order_ref(first),
                    priority_claim=claim.claim,
                    officer=body.officer,
                    approved_by=body.approved_by,
                    note=body.note,
                    status="open",
                    requested_at=now,
                    answer_due_at=now + settings.transfer_answer_days * DAY,
                    open_key=order_id,
                    idempotency_key=idempotency_key,
                    request_hash=digest,
                )
            )
            row = (
                await conn.execute(
                    sa.select(transfer_requests).where(transfer_requests.c.request_id == request_id)
                )
            ).one()
            view = request_view(row)
            firsts, priority = (
                (first.court_id, first.case_id, first.order_id),
                (court_id, order.case_id, order_id),
            )
            await notify_both(
                conn,
                settings,
                "transfer_requested",
                f"transfer_requested:{request_id}",
                firsts,
                priority,
                view,
            )
            details = {"request_id": request_id, "order_id": order_id, "first_order_id": first.order_id}
            details |= {"approved_by": body.approved_by, "note": audit.digest(body.note)}
            sides = ((first.court_id, first.case_id), (court_id, order.case_id))
            await audit_both(conn, "transfer_request", sides, body.officer, details)
    except IntegrityError:  # the same key, or another open request, raced in concurrently
        if idempotency_key and (
            again := await first_created(db, transfer_requests, court_id, idempotency_key, digest, raced=True)
        ):
            return request_view(again)
        async with db.engine.connect() as conn:
            query = sa.select(transfer_requests).where(transfer_requests.c.open_key == order_id)
            open_one = (await conn.execute(query)).first()
        if open_one is None:
            raise
        raise _open_conflict(open_one) from None
    _wake(request)
    return view


def _open_conflict(row: Any) -> Problem:
    """409 naming the open request (``request_id`` also as a member of the problem details)."""
    due = request_view(row)["answer_due_at"]
    detail = (
        f"transfer request {row.request_id} of order {row.order_id} is still open (answer due {due}): "
        "one open request at a time"
    )
    return Problem(status.HTTP_409_CONFLICT, detail, request_id=row.request_id)


@router.post(
    "/{order_id}/transfer-requests/{request_id}/answer",
    response_model=TransferRequestView,
    responses=_WRITE_ERRORS,
    summary="The first-seizing court answers a transfer request (accept or refuse, with the reason)",
)
async def answer_transfer_request(
    order_id: str,
    request_id: str,
    body: TransferAnswerCreate,
    court_id: CourtId,
    db: Db,
    settings: Settings,
    request: Request,
) -> dict[str, Any]:
    """200 with the answered request; both courts are told (``transfer_answered``). An answer after
    ``answer_due_at`` is recorded too (``answer.on_time`` false). The same answer again answers the
    same record; another answer to an answered request is 409. 404: not this court's order, or no
    such request made to it; 403: the order asked for transfer (only the first court answers)."""
    order = await _own_order(db, order_id, court_id)
    async with db.engine.connect() as conn:
        row = (
            await conn.execute(
                sa.select(transfer_requests).where(
                    transfer_requests.c.request_id == request_id,
                    sa.or_(
                        transfer_requests.c.first_order_id == order_id,
                        transfer_requests.c.order_id == order_id,
                    ),
                )
            )
        ).first()
    if row is None:
        raise not_found("transfer request", request_id)
    if row.first_order_id != order.order_id:
        raise _forbidden(
            f"only the first-seizing court ({row.first_court_id}, order {row.first_order_id}) answers; "
            f"order {order_id} asked for transfer"
        )
    check_officer(settings, court_id, body.officer)
    check_judge(settings, court_id, body.approved_by, "approved_by")
    decided = {"accept": "accepted", "refuse": "refused"}[body.decision]
    now = hub_clock(request).now()
    async with db.engine.begin() as conn:
        await feed.lock_feed(conn)
        updated = await conn.execute(
            transfer_requests.update()
            .where(transfer_requests.c.request_id == request_id, transfer_requests.c.status == "open")
            .values(
                status=decided,
                decision=body.decision,
                reason=body.reason,
                answered_at=now,
                answer_officer=body.officer,
                answer_approved_by=body.approved_by,
                open_key=None,
            )
        )
        fresh = (
            await conn.execute(
                sa.select(transfer_requests).where(transfer_requests.c.request_id == request_id)
            )
        ).one()
        if updated.rowcount:
            view = request_view(fresh)
            first, priority = (
                (court_id, order.case_id, order_id),
                (fresh.court_id, fresh.case_id, fresh.order_id),
            )
            await notify_both(
                conn, settings, "transfer_answered", f"transfer_answered:{request_id}", first, priority, view
            )
            details = {
                "request_id": request_id,
                "decision": body.decision,
                "reason": audit.digest(body.reason),
            }
            details |= {"approved_by": body.approved_by, "on_time": view["answer"]["on_time"]}
            sides = ((court_id, order.case_id), (fresh.court_id, fresh.case_id))
            await audit_both(conn, "transfer_answer", sides, body.officer, details)
    if not updated.rowcount:
        if (fresh.decision, fresh.reason) != (body.decision, body.reason):
            answered = request_view(fresh)["answer"]["answered_at"]
            raise _conflict(f"transfer request {request_id} was answered at {answered}: {fresh.decision}")
        return request_view(fresh)
    _wake(request)
    return view


@router.get(
    "/{order_id}/transfer-requests",
    response_model=OrderTransfersView,
    responses=errors(*AUTH_READ),
    summary="An order's role in first-seizure transfers, the first seizure ahead, and its requests",
)
async def list_transfer_requests(
    order_id: str, court_id: CourtId, db: Db, settings: Settings
) -> dict[str, Any]:
    """``schemas.transfers.OrderTransfersView``. 404: not this court's order."""
    order = await _own_order(db, order_id, court_id)
    claim = await _claim(db, order_id)
    async with db.engine.connect() as conn:
        return await order_transfers(conn, order, claim, settings)
