"""A court's order against the case's ledger: refused at once, or reserved and sent to the agency."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from schemas.agencies import CONTROL_ACTIONS_BY_KIND, DIVISIBLE_KINDS, AssetKind
from schemas.models import AssetRef, ControlCommand, ControlOrderRequested, CourtEvent

from .state import (
    IN_FORCE,
    MAX_PERIOD_DAYS,
    Ledger,
    d,
    money,
    reject,
    remaining,
    secured,
)

__all__ = ["accept_order", "idle_deposits", "refuse", "target"]


def target(ledger: Ledger, asset_id: str, statuses: set[str]) -> dict[str, Any] | None:
    """The case's latest freeze or seizure on the asset whose status is one of ``statuses``."""
    candidates = [
        o
        for o in ledger["orders"].values()
        if o["asset_id"] == asset_id and o["action"] in ("freeze", "seize") and o["status"] in statuses
    ]
    return max(candidates, key=lambda o: o["requested_at"]) if candidates else None


def idle_deposits(ledger: Ledger, found: list[AssetRef]) -> list[tuple[AssetRef, Decimal]]:
    """Deposits found for the case that no order of the case controls (or is asking to), each with
    what could be frozen there (``available`` when the bank said, else the balance)."""
    controlled = {
        o["asset_id"]
        for o in ledger["orders"].values()
        if o["action"] in ("freeze", "seize") and o["status"] in IN_FORCE
    }
    out = []
    for dep in found:
        if dep.kind != AssetKind.deposit or dep.asset_id in controlled:
            continue
        usable = dep.available if dep.available is not None else dep.value
        if usable > 0:
            out.append((dep, usable))
    return out


def secures(req: ControlOrderRequested) -> Decimal:
    """What a seizure or an equity freeze secures (yuan): the asset's stated value; for part of a
    stake's subscribed capital, that share of the stake's value."""
    asset = req.asset
    if asset.kind == AssetKind.equity and req.amount is not None and asset.capital:
        share = min(req.amount / asset.capital, Decimal(1))
        return (asset.value * share).quantize(Decimal("0.01"))
    return asset.value


def _indivisible(
    ledger: Ledger, order: dict[str, Any], req: ControlOrderRequested, now: dt.datetime
) -> CourtEvent | None:
    """Reserve an indivisible asset's stated value; beyond the remainder only when nothing divisible
    found for the case would cover it (DOMAIN.md rule 4, 查扣冻规定 art. 21). A refusal, or None."""
    value, left = secures(req), remaining(ledger)
    if left <= 0:
        return reject(ledger, order, f"the case is fully secured (cap {ledger['cap']})", now)
    if value > left:
        idle = idle_deposits(ledger, req.found_deposits)
        cover = sum((usable for _, usable in idle), Decimal("0.00"))
        if idle and cover >= left:
            named = ", ".join(f"{dep.asset_id} (available {money(usable)})" for dep, usable in idle)
            reason = (
                f"over-seizure: {req.asset.asset_id} is worth {money(value)} but only {money(left)} of the "
                f"cap remains, and deposits found for the case and not yet controlled would cover it: "
                f"{named}; freeze those instead"
            )
            return reject(ledger, order, reason, now)
        why = (
            f"the deposits found for the case and not yet controlled hold only {money(cover)}"
            if idle
            else "no deposit found for the case is left to freeze"
        )
        done = "seized" if req.action == "seize" else "frozen"
        order["hub_reason"] = order["reason"] = (
            f"indivisible asset worth {money(value)} {done} whole although only {money(left)} of the "
            f"cap remained: {why}, so nothing divisible would do"
        )
    order["reserved"] = money(value)
    return None


def accept_order(
    ledger: Ledger, req: ControlOrderRequested, now: dt.datetime
) -> tuple[ControlCommand | None, list[CourtEvent]]:
    """Check an order against the ledger; reserve what it secures; return the agency command.

    Freezes of deposits reserve the amount asked; seizures the asset's stated value; equity freezes
    the share of the stake's stated value that the capital asked is of its subscribed capital
    (yuan). Refusals come back as a ``rejected`` event naming the figures; a redelivered order
    (same ``order_id``) returns its command again while the agency has not answered, else ``(None, [])``.
    """
    if (seen := ledger["orders"].get(req.order_id)) is not None:
        # a redelivered order: if the agency has not answered yet, its command may have been lost
        # with the crash that caused the redelivery, so it goes again (the agency is idempotent
        # by order id); otherwise it was handled
        if seen["status"] == "pending" and seen.get("command"):
            return ControlCommand.model_validate(seen["command"]), []
        return None, []
    asset = req.asset
    order: dict[str, Any] = {
        "order_id": req.order_id,
        "case_id": req.case_id,
        "court_id": req.court_id,
        "asset_id": asset.asset_id,
        "agency": asset.agency,
        "kind": str(asset.kind),
        "ref": asset.ref,
        "value": money(asset.value),
        "owner_id_number": asset.owner_id_number,
        "action": req.action,
        "amount": money(req.amount) if req.amount is not None else None,
        "status": "pending",
        "reserved": "0.00",
        "approved_by": req.approved_by,
        "requested_at": req.requested_at.isoformat(),
        # who asked and why: sent to the agency with this order and with the hub's own notices on
        # its control (expiry, status checks); None on an order sent before officers existed
        "officer": req.officer,
        "purpose": req.purpose,
        "legal_basis": req.legal_basis,
        "reminded": False,
        "expiry_sent": False,
    }
    ledger["orders"][req.order_id] = order
    if req.action not in CONTROL_ACTIONS_BY_KIND[asset.kind]:
        return None, [reject(ledger, order, f"{req.action} does not apply to {asset.kind}", now)]
    period = min(req.period_days or MAX_PERIOD_DAYS[asset.kind], MAX_PERIOD_DAYS[asset.kind])
    control_id = None
    amount = req.amount
    if req.action in ("freeze", "seize"):
        in_force = [
            o
            for o in ledger["orders"].values()
            if o is not order
            and o["asset_id"] == asset.asset_id
            and o["action"] in ("freeze", "seize")
            and o["status"] in IN_FORCE
        ]
        if in_force:
            reason = (
                f"this case already has a control in force on the asset (order {in_force[0]['order_id']})"
            )
            return None, [reject(ledger, order, reason, now)]
        if asset.kind in DIVISIBLE_KINDS:  # a freeze of a stated amount (deposits, securities)
            left = remaining(ledger)
            if amount is None or amount > left:
                reason = (
                    f"over the case's cap: freezing {money(d(amount))} would secure more than owed "
                    "plus costs "
                    f"(cap {ledger['cap']}, deducted {ledger['deducted']}, secured {money(secured(ledger))}, "
                    f"remaining {money(left)})"
                )
                return None, [reject(ledger, order, reason, now)]
            order["reserved"] = money(amount)
        else:
            if (refused := _indivisible(ledger, order, req, now)) is not None:
                return None, [refused]
            # a seizure takes the whole asset; an equity freeze carries the capital to freeze
            amount = amount if asset.kind == AssetKind.equity else None
    else:
        wanted = {
            "release": IN_FORCE - {"pending"},
            "renew": {"effective", "partial"},
            "deduct": {"effective", "partial"},
        }[req.action]
        found = target(ledger, asset.asset_id, wanted)
        if found is None or not found.get("control_id"):
            return None, [
                reject(ledger, order, f"no control of this case on the asset that can {req.action}", now)
            ]
        order["target_order"] = found["order_id"]
        control_id = found["control_id"]
        if req.action == "deduct":
            assert amount is not None
            frozen = d(found.get("amount_controlled"))
            owed = d(ledger["cap"]) - d(ledger["deducted"])
            if amount > frozen:
                reason = f"deduction {money(amount)} exceeds the frozen {money(frozen)}"
                return None, [reject(ledger, order, reason, now)]
            if amount > owed:
                reason = f"deduction {money(amount)} exceeds what is owed {money(owed)}"
                return None, [reject(ledger, order, reason, now)]
    command = ControlCommand(
        order_id=req.order_id,
        case_id=req.case_id,
        court_id=req.court_id,
        case_number=ledger["case_number"],
        agency=asset.agency,
        asset_kind=asset.kind,
        asset_ref=asset.ref,
        action=req.action,
        amount=amount,
        control_id=control_id,
        period_days=period if req.action in ("freeze", "seize", "renew") else None,
        owner_id_number=asset.owner_id_number,
        approved_by=req.approved_by,
        requested_at=req.requested_at,
        idempotency_key=req.idempotency_key,
        officer=req.officer,
        purpose=req.purpose,
        legal_basis=req.legal_basis,
    )
    order["command"] = command.model_dump(mode="json")
    return command, []


def refuse(req: ControlOrderRequested, reason: str, now: dt.datetime) -> CourtEvent:
    """A refusal for an order that has no ledger to go into (unknown case, another court's case)."""
    orphan: Ledger = {"cap": "0.00", "deducted": "0.00", "orders": {}, "funds": [], "applied": []}
    order = {
        "order_id": req.order_id,
        "case_id": req.case_id,
        "court_id": req.court_id,
        "asset_id": req.asset.asset_id,
        "agency": req.asset.agency,
        "action": req.action,
        "amount": money(req.amount) if req.amount is not None else None,
        "status": "pending",
        "reserved": "0.00",
        "approved_by": req.approved_by,
        "requested_at": req.requested_at.isoformat(),
    }
    return reject(orphan, order, reason, now)
