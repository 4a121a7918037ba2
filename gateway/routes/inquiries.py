"""``/v1/inquiries``: ask the agencies what a debtor of the case holds; read the linked result."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, HTTPException, Query, Request, Response, status
from sqlalchemy.exc import IntegrityError

from hub.i18n import Message
from schemas.agencies import expand_agencies
from schemas.codec import encode
from schemas.identifiers import IdentifierError, canonical_identifier
from schemas.models import Case, InquiryCreate, InquiryRequested, new_id
from schemas.topics import COURT_COMMANDS
from schemas.views import InquiryAccepted, InquiryView

from .. import audit
from ..db import inquiries as inquiries_table
from ..deps import CourtId, Db, Relay, Settings
from ..idempotency import IdempotencyKey, first_created, request_hash
from ..responses import AUTH_READ, errors
from .cases import not_found

router = APIRouter(prefix="/v1/inquiries", tags=["inquiries"])


def unprocessable(loc: list[str], msg: str, kind: str) -> HTTPException:
    """422 with one field error (``msg`` a reason, best a :class:`hub.i18n.Message`)."""
    return HTTPException(422, [{"loc": loc, "msg": msg, "type": kind}])


def check_officer(settings: Any, court_id: str, officer: str, field: str = "officer") -> None:
    """422 naming ``field`` unless ``officer`` is one of the court's officers (HUB_COURT_OFFICERS)."""
    if officer not in settings.officers_by_court.get(court_id, set()):
        raise unprocessable(
            ["body", field],
            Message(
                "{officer} is not an officer of court {court_id} (HUB_COURT_OFFICERS)",
                officer=repr(officer),
                court_id=court_id,
            ),
            "not_an_officer",
        )


def not_a_debtor(case_id: str) -> Message:
    return Message(
        "not a debtor of case {case_id}: a court may only inquire about a party subject to enforcement "
        "in that case",
        case_id=case_id,
    )


async def record_read(db: Any, court_id: str, case_id: str, authorization: str | None, **ids: str) -> None:
    """Audit one read of a debtor's assets through the API: who (the court and its token's
    fingerprint), when, which case (and inquiry)."""
    # committed before the answer, in one transaction with the other requests' reads of the moment
    await db.append_audit("assets_read", case_id, court_id, audit.actor_of_token(authorization), ids)


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Submit an asset inquiry",
    response_model=InquiryAccepted,
    responses=errors(401, 404, 409, 413, 422),
)
async def create_inquiry(
    body: InquiryCreate,
    court_id: CourtId,
    db: Db,
    relay: Relay,
    settings: Settings,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, str]:
    digest = request_hash(body.model_dump(mode="json"))
    if (first := await first_created(db, inquiries_table, court_id, idempotency_key, digest)) is not None:
        return {"inquiry_id": first.inquiry_id, "status": first.status}
    case_body = await db.find_case(body.case_id, court_id)
    if case_body is None:
        raise not_found("case", body.case_id)
    check_officer(settings, court_id, body.officer)
    case = Case.model_validate(case_body)
    if case.debtor(body.debtor.id_type, body.debtor.id_number) is None:
        try:  # a number failing its check names a debtor only when the case registered an override
            canonical_identifier(body.debtor.id_type, body.debtor.id_number)
        except IdentifierError as e:
            raise unprocessable(["body", "debtor", "id_number"], str(e), "value_error") from None
        raise unprocessable(["body", "debtor"], not_a_debtor(body.case_id), "not_a_debtor")
    try:
        agencies = expand_agencies(body.agencies, settings.bank_codes)
    except ValueError as e:
        raise unprocessable(["body", "agencies"], str(e), "unknown_agency") from None
    inquiry_id = new_id("inq")
    command = InquiryRequested(
        inquiry_id=inquiry_id,
        case_id=body.case_id,
        court_id=court_id,
        debtor=body.debtor,
        agencies=agencies,
        requested_at=dt.datetime.now(dt.UTC),
        idempotency_key=idempotency_key or inquiry_id,
        officer=body.officer,
        purpose=body.purpose,
        legal_basis=body.legal_basis,
    )
    try:
        async with db.engine.begin() as conn:
            await db.insert_inquiry(
                conn,
                inquiry_id=inquiry_id,
                court_id=court_id,
                case_id=body.case_id,
                request={**body.model_dump(mode="json"), "agencies": agencies},
                idempotency_key=idempotency_key,
                request_hash=digest,
            )
            await db.add_outbox(conn, COURT_COMMANDS, body.case_id, encode(command))
            await audit.record(
                conn,
                "inquiry_accepted",
                body.case_id,
                court_id,
                body.officer,
                {
                    "inquiry_id": inquiry_id,
                    "agencies": agencies,
                    "debtor": audit.digest(body.debtor.model_dump(mode="json")),
                    "purpose": audit.digest(body.purpose),
                    "legal_basis": audit.digest(body.legal_basis),
                },
            )
    except IntegrityError:  # the same key raced in concurrently: answer with the winner
        first = await first_created(db, inquiries_table, court_id, idempotency_key, digest, raced=True)
        assert first is not None
        return {"inquiry_id": first.inquiry_id, "status": first.status}
    relay.wake.set()
    return {"inquiry_id": inquiry_id, "status": "pending"}


@router.get(
    "/{inquiry_id}",
    summary="An inquiry's status per agency and the linked assets",
    response_model=InquiryView,
    responses=errors(*AUTH_READ),
)
async def get_inquiry(
    inquiry_id: str,
    court_id: CourtId,
    db: Db,
    request: Request,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
    wait: Annotated[
        float,
        Query(ge=0, le=60, description="long poll: while pending, wait up to this many seconds for a change"),
    ] = 0,
    version: Annotated[int | None, Query(ge=0, description="with wait: the version already seen")] = None,
    assets_offset: Annotated[int, Query(ge=0, description="paging: the first asset to list (0-based)")] = 0,
    assets_limit: Annotated[
        int | None,
        Query(ge=1, le=10_000, description="paging: at most this many assets; absent: every asset"),
    ] = None,
) -> Any:
    """The result with every asset listed (10,000 accounts make a response of several MB), or, with
    ``assets_limit``, the assets from ``assets_offset`` on: the body then also carries
    ``assets_total`` and ``assets_next_offset`` (null on the last page). Agencies and counts are
    always whole."""
    row = await db.get_inquiry(inquiry_id, court_id)
    if row is None:
        raise not_found("inquiry", inquiry_id)
    await record_read(db, court_id, row.case_id, authorization, inquiry_id=inquiry_id)
    seen = row.version if version is None else version
    deadline = time.monotonic() + wait
    read_model = request.app.state.read_model
    while row.status == "pending" and row.version <= seen and (left := deadline - time.monotonic()) > 0:
        # woken by this replica's read model, or re-read each second (another replica may store it)
        await read_model.wait_for_change(inquiry_id, min(left, 1.0))
        row = await db.get_inquiry(inquiry_id, court_id) or row
    if row.result:
        result = {**row.result, "requested": row.request}
        if assets_limit is not None:
            assets = result["assets"]
            end = assets_offset + assets_limit
            result["assets"] = assets[assets_offset:end]
            result["assets_total"] = len(assets)
            result["assets_next_offset"] = end if end < len(assets) else None
        # serialised once here: FastAPI's encoder walks every value and took seconds on 12,000 assets;
        # orjson (UTF-8, compact) as the database's JSON columns, the standard library for what it refuses
        try:
            body: bytes | str = orjson.dumps(result)
        except TypeError:
            body = json.dumps(result, ensure_ascii=False, separators=(",", ":"))
        return Response(content=body, media_type="application/json")
    return {
        "inquiry_id": row.inquiry_id,
        "case_id": row.case_id,
        "status": row.status,
        "agencies": {a: {"status": "pending", "detail": None} for a in row.request.get("agencies", [])},
        "assets": [],
        "requested": row.request,
    }
