"""``/v1/cases``: register an enforcement case; read it with what has been found so far."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Request, status
from sqlalchemy.exc import IntegrityError

from hub.i18n import Message
from schemas.codec import encode
from schemas.models import AssetConfirmationCreate, Case, CaseCreate, CaseRegistered, new_id
from schemas.topics import COURT_COMMANDS
from schemas.views import AssetConfirmationView, CaseCreated, CaseView

from ..db import cases as cases_table
from ..deps import CourtId, Db, Relay, Settings
from ..findback import claim_of, index_case
from ..idempotency import IdempotencyKey, first_created, request_hash
from ..problems import Problem
from ..responses import AUTH_READ, CaseNumberConflict, errors

router = APIRouter(prefix="/v1/cases", tags=["cases"])


def not_found(what: str, ident: str) -> HTTPException:
    """404 ``{what} {ident} not found`` (``what``: case, inquiry, control order, batch, ...)."""
    message = Message("{what} {ident} not found", what=Message(what), ident=ident)
    return HTTPException(status.HTTP_404_NOT_FOUND, message)


def duplicate_number(case_number: str, case_id: str) -> Problem:
    """409: the court already registered ``case_number``; the problem names that case (``case_id``)."""
    msg = Message(
        "case number {case_number} is already registered by this court as case {case_id}",
        case_number=case_number,
        case_id=case_id,
    )
    return Problem(
        status.HTTP_409_CONFLICT,
        msg,
        errors=[{"loc": ["body", "case_number"], "msg": msg, "type": "duplicate"}],
        case_id=case_id,
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Register an enforcement case",
    response_model=CaseCreated,
    responses=errors(401, 409, 413, 422, models={409: CaseNumberConflict}),
)
async def create_case(
    body: CaseCreate,
    court_id: CourtId,
    db: Db,
    relay: Relay,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """201 ``{"case_id"}``. A case number is unique per court: a second registration of it (without
    the first one's ``Idempotency-Key``) gets 409, a problem whose ``case_id`` is the existing case.
    The same ``Idempotency-Key`` with the same body answers the first case; with another body, 409."""
    digest = request_hash(body.model_dump(mode="json"))
    if (first := await first_created(db, cases_table, court_id, idempotency_key, digest)) is not None:
        return {"case_id": first.case_id}
    if (existing := await claim_of(db, court_id, body.case_number)) is not None:
        raise duplicate_number(body.case_number, existing)
    case = Case(
        **body.model_dump(),
        case_id=new_id("case"),
        court_id=court_id,
        created_at=request.app.state.clock.now(),  # the hub's clock: 终本 counts the case's age by it
    )
    command = CaseRegistered(case=case, idempotency_key=idempotency_key or case.case_id)
    try:
        async with db.engine.begin() as conn:
            await db.insert_case(
                conn, body=case.model_dump(mode="json"), idempotency_key=idempotency_key, request_hash=digest
            )
            await index_case(conn, request.app.state.id_index_key, case.model_dump(mode="json"))
            await db.add_outbox(conn, COURT_COMMANDS, case.case_id, encode(command))
    except IntegrityError:  # a concurrent registration won: with the same key, or the same number
        if (first := await first_created(db, cases_table, court_id, idempotency_key, digest)) is not None:
            return {"case_id": first.case_id}
        if (existing := await claim_of(db, court_id, body.case_number)) is not None:
            raise duplicate_number(body.case_number, existing) from None
        raise
    relay.wake.set()
    return {"case_id": case.case_id}


@router.post(
    "/{case_id}/asset-confirmations",
    status_code=status.HTTP_201_CREATED,
    summary="A judge confirms that a 'possible' asset is the debtor's",
    response_model=AssetConfirmationView,
    responses=errors(401, 404, 413, 422),
)
async def confirm_asset(
    case_id: str, body: AssetConfirmationCreate, court_id: CourtId, db: Db, settings: Settings
) -> dict[str, Any]:
    from .control_orders import check_judge, find_asset
    from .inquiries import unprocessable

    if await db.find_case(case_id, court_id) is None:
        raise not_found("case", case_id)
    check_judge(settings, court_id, body.confirmed_by, "confirmed_by")
    asset = await find_asset(db, case_id, court_id, body.asset_id)
    if asset is None:
        raise unprocessable(
            ["body", "asset_id"],
            Message("no inquiry of case {case_id} found this asset", case_id=case_id),
            "unknown_asset",
        )
    return await db.confirm_asset(
        case_id=case_id,
        asset_id=body.asset_id,
        court_id=court_id,
        confirmed_by=body.confirmed_by,
        note=body.note,
    )  # audited there, in the confirmation's own transaction


@router.get(
    "/{case_id}",
    summary="A case, with its inquiries, the assets found and the controls so far",
    response_model=CaseView,
    responses=errors(*AUTH_READ),
)
async def get_case(
    case_id: str,
    court_id: CourtId,
    db: Db,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> dict[str, Any]:
    from .inquiries import record_read

    body = await db.find_case(case_id, court_id)
    if body is None:
        raise not_found("case", case_id)
    await record_read(db, court_id, case_id, authorization)
    rows = await db.inquiries_of_case(case_id, court_id)
    assets: dict[str, Any] = {}
    for row in rows:
        for asset in (row.result or {}).get("assets", []):
            assets[asset["asset_id"]] = asset  # later inquiries supersede earlier views of an asset
    orders = await db.orders_of_case(case_id, court_id)
    controls = [
        {
            "order_id": o.order_id,
            "asset_id": o.asset_id,
            "action": (o.state or o.request).get("action"),
            "status": o.status,
            "amount_controlled": (o.state or {}).get("amount_controlled"),
            "expires_at": (o.state or {}).get("expires_at"),
        }
        for o in orders
    ]
    latest = [o.state for o in orders if o.state]
    ledger: dict[str, Any] = {"cap": f"{Decimal(body['amount_owed']) + Decimal(body['costs']):.2f}"}
    if latest:
        newest_event = await db.latest_case_event(case_id)
        if newest_event:
            ledger.update(secured=newest_event.get("secured"), deducted=newest_event.get("deducted_total"))
    from .termination import case_lifecycle

    lifecycle = await case_lifecycle(db, case_id)  # 终本: "status", "termination", "requeries"
    return {
        **body,
        "ledger": ledger,
        "controls": controls,
        "inquiries": [
            {"inquiry_id": r.inquiry_id, "status": r.status, "debtor": r.request.get("debtor")} for r in rows
        ],
        "assets": list(assets.values()),
        **lifecycle,
    }
