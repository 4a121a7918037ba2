"""``/v1/cases``: register an enforcement case; read it with what has been found so far."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, HTTPException, status
from sqlalchemy.exc import IntegrityError

from schemas.codec import encode
from schemas.models import AssetConfirmationCreate, Case, CaseCreate, CaseRegistered, new_id
from schemas.topics import COURT_COMMANDS

from ..db import cases as cases_table
from ..deps import CourtId, Db, Relay, Settings
from ..idempotency import IdempotencyKey, first_created, request_hash

router = APIRouter(prefix="/v1/cases", tags=["cases"])


def not_found(what: str, ident: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"{what} {ident} not found")


@router.post("", status_code=status.HTTP_201_CREATED, summary="Register an enforcement case")
async def create_case(
    body: CaseCreate, court_id: CourtId, db: Db, relay: Relay, idempotency_key: IdempotencyKey = None
) -> dict[str, str]:
    digest = request_hash(body.model_dump(mode="json"))
    if (first := await first_created(db, cases_table, court_id, idempotency_key, digest)) is not None:
        return {"case_id": first.case_id}
    case = Case(
        **body.model_dump(), case_id=new_id("case"), court_id=court_id, created_at=dt.datetime.now(dt.UTC)
    )
    command = CaseRegistered(case=case, idempotency_key=idempotency_key or case.case_id)
    try:
        async with db.engine.begin() as conn:
            await db.insert_case(
                conn, body=case.model_dump(mode="json"), idempotency_key=idempotency_key, request_hash=digest
            )
            await db.add_outbox(conn, COURT_COMMANDS, case.case_id, encode(command))
    except IntegrityError:  # the same key raced in concurrently: answer with the winner
        first = await first_created(db, cases_table, court_id, idempotency_key, digest, raced=True)
        assert first is not None
        return {"case_id": first.case_id}
    relay.wake.set()
    return {"case_id": case.case_id}


@router.post(
    "/{case_id}/asset-confirmations",
    status_code=status.HTTP_201_CREATED,
    summary="A judge confirms that a 'possible' asset is the debtor's",
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
            ["body", "asset_id"], f"no inquiry of case {case_id} found this asset", "unknown_asset"
        )
    return await db.confirm_asset(
        case_id=case_id,
        asset_id=body.asset_id,
        court_id=court_id,
        confirmed_by=body.confirmed_by,
        note=body.note,
    )


@router.get("/{case_id}", summary="A case, with its inquiries, the assets found and the controls so far")
async def get_case(case_id: str, court_id: CourtId, db: Db) -> dict[str, Any]:
    body = await db.find_case(case_id, court_id)
    if body is None:
        raise not_found("case", case_id)
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
    return {
        **body,
        "ledger": ledger,
        "controls": controls,
        "inquiries": [
            {"inquiry_id": r.inquiry_id, "status": r.status, "debtor": r.request.get("debtor")} for r in rows
        ],
        "assets": list(assets.values()),
    }
