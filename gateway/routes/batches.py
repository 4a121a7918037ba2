"""``/v1/inquiry-batches`` (多案集中查询): many inquiries submitted at once, followed as one batch.

Each item is an ordinary inquiry with its own id, checked as ``POST /v1/inquiries`` checks one (its
case must be the court's, its debtor a debtor of that case, its agencies known; the batch's officer
an officer of the court) and carrying the batch's ``officer``, ``purpose`` and ``legal_basis``. Every
item is checked before anything is written; a refused batch gets 422 listing each refused item's
field (``["body", "items", i, "debtor"]``) and creates nothing. An accepted batch's inquiries and
their messages are written in one transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, status
from sqlalchemy.exc import IntegrityError

from hub.i18n import Message
from schemas.agencies import expand_agencies
from schemas.batches import InquiryBatchCreate
from schemas.codec import encode
from schemas.identifiers import IdentifierError, canonical_identifier
from schemas.models import Case, InquiryRequested, new_id
from schemas.topics import COURT_COMMANDS
from schemas.views import BatchAccepted, BatchView

from .. import audit
from ..batches import batch_view, find_batch, inquiry_batches, insert_batch
from ..db import cases
from ..deps import CourtId, Db, Relay, Settings
from ..idempotency import IdempotencyKey, conflict, request_hash
from ..responses import AUTH_READ
from ..responses import errors as declared
from .cases import not_found
from .inquiries import check_officer, not_a_debtor

router = APIRouter(prefix="/v1/inquiry-batches", tags=["inquiries"])


def _error(i: int, loc: list[str], msg: str, kind: str) -> dict[str, Any]:
    return {"loc": ["body", "items", i, *loc], "msg": msg, "type": kind}


async def _cases(db: Db, court_id: str, case_ids: set[str]) -> dict[str, Case]:
    found: dict[str, Case] = {}
    ids = sorted(case_ids)
    async with db.engine.connect() as conn:
        for start in range(0, len(ids), 500):
            rows = await conn.execute(
                sa.select(cases.c.case_id, cases.c.body).where(
                    cases.c.court_id == court_id, cases.c.case_id.in_(ids[start : start + 500])
                )
            )
            found.update({r.case_id: Case.model_validate(r.body) for r in rows})
    return found


async def _existing(db: Db, court_id: str, key: str | None, digest: str) -> dict[str, Any] | None:
    """The answer to a repeat of ``key`` (None: first use); 409 if the key came with another body."""
    if not key:
        return None
    first = await find_batch(db, court_id, key=key)
    if first is None:
        return None
    if first.request_hash != digest:
        raise conflict()
    view = await batch_view(db, first)
    return {"batch_id": first.batch_id, "inquiry_ids": view["inquiry_ids"]}


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Submit up to 1,000 inquiries as one batch",
    response_model=BatchAccepted,
    responses=declared(401, 409, 413, 422),
)
async def create_batch(
    body: InquiryBatchCreate,
    court_id: CourtId,
    db: Db,
    relay: Relay,
    settings: Settings,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """202 ``{"batch_id", "inquiry_ids": [...]}`` (in item order). 422: a field of the batch or of
    an item (each refused item listed). ``Idempotency-Key``: a repeat answers the first batch and
    creates nothing; the same key with another body gets 409."""
    digest = request_hash(body.model_dump(mode="json"))
    if (first := await _existing(db, court_id, idempotency_key, digest)) is not None:
        return first
    check_officer(settings, court_id, body.officer)
    known = await _cases(db, court_id, {item.case_id for item in body.items})
    errors: list[dict[str, Any]] = []
    accepted: list[tuple[str, InquiryRequested, dict[str, Any]]] = []
    now = dt.datetime.now(dt.UTC)
    for i, item in enumerate(body.items):
        case = known.get(item.case_id)
        if case is None:
            missing = Message("case {case_id} not found", case_id=item.case_id)
            errors.append(_error(i, ["case_id"], missing, "unknown_case"))
            continue
        if case.debtor(item.debtor.id_type, item.debtor.id_number) is None:
            try:  # as the single inquiry: a failing check names a debtor only with the case's override
                canonical_identifier(item.debtor.id_type, item.debtor.id_number)
            except IdentifierError as e:
                errors.append(_error(i, ["debtor", "id_number"], str(e), "value_error"))
                continue
            errors.append(_error(i, ["debtor"], not_a_debtor(item.case_id), "not_a_debtor"))
            continue
        try:
            agencies = expand_agencies(item.agencies, settings.bank_codes)
        except ValueError as e:
            errors.append(_error(i, ["agencies"], str(e), "unknown_agency"))
            continue
        inquiry = body.inquiry(i)
        inquiry_id = new_id("inq")
        command = InquiryRequested(
            inquiry_id=inquiry_id,
            case_id=inquiry.case_id,
            court_id=court_id,
            debtor=inquiry.debtor,
            agencies=agencies,
            requested_at=now,
            idempotency_key=inquiry_id,
            officer=inquiry.officer,
            purpose=inquiry.purpose,
            legal_basis=inquiry.legal_basis,
        )
        accepted.append((inquiry_id, command, {**inquiry.model_dump(mode="json"), "agencies": agencies}))
    if errors:
        raise HTTPException(422, errors)
    batch_id = new_id("bat")
    try:
        async with db.engine.begin() as conn:
            for inquiry_id, command, request in accepted:
                await db.insert_inquiry(
                    conn,
                    inquiry_id=inquiry_id,
                    court_id=court_id,
                    case_id=command.case_id,
                    request=request,
                    idempotency_key=None,
                    request_hash=request_hash(request),
                )
                await db.add_outbox(conn, COURT_COMMANDS, command.case_id, encode(command))
                await audit.record(  # as the single inquiry records its acceptance, with the batch
                    conn,
                    "inquiry_accepted",
                    command.case_id,
                    court_id,
                    body.officer,
                    {
                        "inquiry_id": inquiry_id,
                        "batch_id": batch_id,
                        "agencies": command.agencies,
                        "debtor": audit.digest(command.debtor.model_dump(mode="json")),
                        "purpose": audit.digest(body.purpose),
                        "legal_basis": audit.digest(body.legal_basis),
                    },
                )
            await insert_batch(
                conn,
                batch_id=batch_id,
                court_id=court_id,
                idempotency_key=idempotency_key,
                request_hash=digest,
                officer=body.officer,
                items=[(inquiry_id, command.case_id) for inquiry_id, command, _ in accepted],
            )
    except IntegrityError:  # the same key raced in concurrently: answer with the winner
        if (first := await _existing(db, court_id, idempotency_key, digest)) is None:
            raise conflict() from None
        return first
    relay.wake.set()
    return {"batch_id": batch_id, "inquiry_ids": [inquiry_id for inquiry_id, _, _ in accepted]}


@router.get(
    "/{batch_id}",
    summary="A batch's progress and, once done, its summary",
    response_model=BatchView,
    responses=declared(*AUTH_READ),
)
async def get_batch(batch_id: str, court_id: CourtId, db: Db) -> dict[str, Any]:
    """``{"batch_id", "status": "running"|"done", "created_at", "total", "progress": {inquiry
    status: count}, "inquiry_ids", "summary", "totals"}``. ``summary`` (null while running): per
    item, in order, ``{"inquiry_id", "case_id", "status", "assets", "assets_by_kind": {kind:
    {"count", "value"}}, "total_value"}``; ``totals``: ``{"assets", "total_value"}`` (yuan, decimal
    strings). 404: no such batch of this court."""
    batch = await find_batch(db, court_id, batch_id=batch_id)
    if batch is None:
        raise not_found("batch", batch_id)
    return await batch_view(db, batch)


__all__ = ["inquiry_batches", "router"]
