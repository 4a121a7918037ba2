"""``/v1/control-orders``: freeze, seize, deduct, renew, release an asset found by an inquiry.

The gateway checks what it can answer at once (the case is the court's, the judge is one of the
court's, the asset was found for this case and its linkage is a ``match`` or a confirmed
``possible``, the action fits the asset, ``amount`` and ``period_days`` fit its kind); the
case-level cap and everything the agency decides come back asynchronously as the order's status and
history. An order on an indivisible asset carries the deposits found for the case
(``found_deposits``), so the ledger can refuse a seizure beyond the remainder when those would do.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, status
from sqlalchemy.exc import IntegrityError

from hub.i18n import Message
from schemas.agencies import CONTROL_ACTIONS_BY_KIND, DIVISIBLE_KINDS, MAX_PERIOD_DAYS, AssetKind
from schemas.codec import encode
from schemas.models import AssetRef, ControlOrderCreate, ControlOrderRequested, new_id
from schemas.topics import COURT_COMMANDS
from schemas.views import OrderAccepted, OrderView

from .. import audit, transfers
from ..db import Database
from ..db import control_orders as orders_table
from ..deps import CourtId, Db, Relay, Settings
from ..idempotency import IdempotencyKey, first_created, request_hash
from ..responses import AUTH_READ, errors
from .cases import not_found
from .inquiries import check_officer, unprocessable

router = APIRouter(prefix="/v1/control-orders", tags=["control orders"])


async def case_assets(db: Database, case_id: str, court_id: str) -> dict[str, dict[str, Any]]:
    """Every asset the case's inquiries found, by asset id, as the newest inquiry reported it."""
    found: dict[str, dict[str, Any]] = {}
    for row in await db.inquiries_of_case(case_id, court_id):
        for asset in (row.result or {}).get("assets", []):
            found[asset["asset_id"]] = asset
    return found


async def find_asset(db: Database, case_id: str, court_id: str, asset_id: str) -> dict[str, Any] | None:
    """The asset as the case's newest inquiry that found it reported it."""
    return (await case_assets(db, case_id, court_id)).get(asset_id)


def asset_ref(asset: dict[str, Any]) -> AssetRef:
    """An inquiry's asset as the streams need it (a deposit's ``available`` from its details)."""
    return AssetRef(
        asset_id=asset["asset_id"],
        agency=asset["agency"],
        kind=AssetKind(asset["kind"]),
        ref=asset["ref"],
        value=asset["value"],
        owner_id_number=asset["owner"].get("id_number"),
        available=(asset.get("details") or {}).get("available"),
        capital=(asset.get("details") or {}).get("subscribed_capital"),
    )


async def found_deposits(db: Database, case_id: str, court_id: str) -> list[AssetRef]:
    """The deposits found for the case that may be controlled as they are (linked ``match``, or a
    ``possible`` a judge confirmed): what the ledger weighs before an indivisible seizure."""
    out = []
    for asset in (await case_assets(db, case_id, court_id)).values():
        if asset["kind"] != AssetKind.deposit:
            continue
        if asset["linkage"]["decision"] != "match" and (
            await db.confirmation(case_id, asset["asset_id"]) is None
        ):
            continue
        out.append(asset_ref(asset))
    return out


def check_amount_and_period(body: ControlOrderCreate, kind: AssetKind, asset: dict[str, Any]) -> None:
    """The amount and period rules that depend on the asset (422 naming the field): an equity freeze
    freezes at most the stake's subscribed capital; no period beyond the legal maximum of the kind."""
    capital = asset_ref(asset).capital
    equity = body.action == "freeze" and kind == AssetKind.equity
    if equity and capital is not None and body.amount is not None and body.amount > capital:
        raise unprocessable(
            ["body", "amount"],
            f"an equity freeze freezes subscribed capital of the stake: {body.amount:.2f} exceeds the "
            f"stake's subscribed capital {capital:.2f}",
            "amount_above_capital",
        )
    legal = MAX_PERIOD_DAYS[kind]
    if body.period_days is not None and body.period_days > legal:
        raise unprocessable(
            ["body", "period_days"],
            f"{body.period_days} days exceeds the legal maximum of {legal} days for {kind}",
            "period_too_long",
        )


def check_judge(settings: Any, court_id: str, judge: str, field: str) -> None:
    if judge not in settings.judges_by_court.get(court_id, set()):
        raise unprocessable(
            ["body", field],
            Message(
                "{judge} is not a judge of court {court_id} who may approve control orders",
                judge=repr(judge),
                court_id=court_id,
            ),
            "not_a_judge",
        )


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Issue a control order",
    response_model=OrderAccepted,
    responses=errors(401, 404, 409, 413, 422),
)
async def create_order(
    body: ControlOrderCreate,
    court_id: CourtId,
    db: Db,
    relay: Relay,
    settings: Settings,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, str]:
    digest = request_hash(body.model_dump(mode="json"))
    if (first := await first_created(db, orders_table, court_id, idempotency_key, digest)) is not None:
        return {"order_id": first.order_id, "status": first.status}
    if await db.find_case(body.case_id, court_id) is None:
        raise not_found("case", body.case_id)
    check_judge(settings, court_id, body.approved_by, "approved_by")
    check_officer(settings, court_id, body.officer)
    asset = await find_asset(db, body.case_id, court_id, body.asset_id)
    if asset is None:
        raise unprocessable(
            ["body", "asset_id"],
            Message("no inquiry of case {case_id} found this asset", case_id=body.case_id),
            "unknown_asset",
        )
    kind = AssetKind(asset["kind"])
    if body.action not in CONTROL_ACTIONS_BY_KIND[kind]:
        allowed = ", ".join(CONTROL_ACTIONS_BY_KIND[kind])
        raise unprocessable(
            ["body", "action"],
            f"{body.action} does not apply to {kind} (allowed: {allowed})",
            "action_not_allowed",
        )
    check_amount_and_period(body, kind, asset)
    decision = asset["linkage"]["decision"]
    if decision != "match" and await db.confirmation(body.case_id, body.asset_id) is None:
        raise unprocessable(
            ["body", "asset_id"],
            f"the asset's link to the debtor is only '{decision}' (score {asset['linkage']['score']}): "
            "a judge must "
            f"confirm it first (POST /v1/cases/{body.case_id}/asset-confirmations)",
            "linkage_not_confirmed",
        )
    order_id = new_id("ord")
    command = ControlOrderRequested(
        order_id=order_id,
        case_id=body.case_id,
        court_id=court_id,
        asset=asset_ref(asset),
        action=body.action,
        amount=body.amount,
        period_days=body.period_days,
        approved_by=body.approved_by,
        requested_at=dt.datetime.now(dt.UTC),
        idempotency_key=idempotency_key or order_id,
        officer=body.officer,
        purpose=body.purpose,
        legal_basis=body.legal_basis,
        found_deposits=await found_deposits(db, body.case_id, court_id)
        if body.action == "seize" or (body.action == "freeze" and kind not in DIVISIBLE_KINDS)
        else [],
    )
    try:
        async with db.engine.begin() as conn:
            await db.insert_order(
                conn,
                order_id=order_id,
                court_id=court_id,
                case_id=body.case_id,
                asset_id=body.asset_id,
                # the command as sent, kept so the reconciler can send it again if it is lost
                request={**body.model_dump(mode="json"), "command": command.model_dump(mode="json")},
                idempotency_key=idempotency_key,
                request_hash=digest,
            )
            await db.add_outbox(conn, COURT_COMMANDS, body.case_id, encode(command))
            if body.priority_claim is not None:  # a priority creditor may later ask for transfer
                await transfers.register_claim(
                    conn,
                    order_id=order_id,
                    court_id=court_id,
                    case_id=body.case_id,
                    asset_id=body.asset_id,
                    claim=body.priority_claim.model_dump(mode="json"),
                )
            await audit.record(
                conn,
                "control_order",
                body.case_id,
                court_id,
                body.officer,
                {
                    "order_id": order_id,
                    "asset": audit.digest(body.asset_id),
                    "action": body.action,
                    "amount": None if body.amount is None else f"{body.amount:.2f}",
                    "approved_by": body.approved_by,
                    "purpose": audit.digest(body.purpose),
                    "legal_basis": audit.digest(body.legal_basis),
                    **({"priority_claim": body.priority_claim.kind} if body.priority_claim else {}),
                },
            )
    except IntegrityError:  # the same key raced in concurrently: answer with the winner
        first = await first_created(db, orders_table, court_id, idempotency_key, digest, raced=True)
        assert first is not None
        return {"order_id": first.order_id, "status": first.status}
    relay.wake.set()
    return {"order_id": order_id, "status": "pending"}


def _history_entry(event: dict[str, Any]) -> dict[str, Any]:
    order = event["order"]
    return {
        "event_id": event["event_id"],
        "event": event["kind"],
        "status": order["status"],
        "at": event["at"],
        "detail": event.get("detail"),
        "position": order.get("position"),
        "amount_controlled": order.get("amount_controlled"),
    }


@router.get(
    "/{order_id}",
    summary="A control order's state and history",
    response_model=OrderView,
    responses=errors(*AUTH_READ),
)
async def get_order(order_id: str, court_id: CourtId, db: Db) -> dict[str, Any]:
    row = await db.get_order(order_id, court_id)
    if row is None:
        raise not_found("control order", order_id)
    state = row.state or {}
    history = [
        {
            "event": "submitted",
            "status": "pending",
            "at": row.created_at.isoformat()
            if row.created_at.tzinfo
            else row.created_at.replace(tzinfo=dt.UTC).isoformat(),
            "detail": None,
        }
    ]
    history += [_history_entry(e) for e in await db.events_of_order(order_id)]
    return {
        "order_id": row.order_id,
        "case_id": row.case_id,
        "asset_id": row.asset_id,
        "action": state.get("action", row.request.get("action")),
        "amount": state.get("amount", row.request.get("amount")),
        "approved_by": state.get("approved_by", row.request.get("approved_by")),
        "priority_claim": row.request.get("priority_claim"),  # as the order stated it (or null)
        "status": row.status,
        "position": state.get("position"),
        "amount_controlled": state.get("amount_controlled"),
        "amount_deducted": state.get("amount_deducted"),
        "control_id": state.get("control_id"),
        "effective_at": state.get("effective_at"),
        "expires_at": state.get("expires_at"),
        "reason": state.get("reason"),
        "history": history,
    }
