"""The control ledger of one enforcement case, as pure functions over a JSON-able state.

It lives in the streams' ``cases`` table (keyed by case id), so every order, outcome and timer
tick of a case is applied by one agent, one at a time: several freezes submitted at once at
different banks cannot race past the cap.

Rules (DOMAIN.md):

- **No over-securing.** ``secured`` = amounts frozen (or asked, while pending or waiting) + stated
  value of seized assets, over the case's orders in force. A new freeze or seizure is refused when
  it would take ``secured`` above ``cap`` = amount owed + costs − deducted. An indivisible asset
  (real estate, land use right, vehicle, equity) worth more than the remainder may still be seized
  whole while something of the cap remains.
- **Effective time** is the agency's registration time; a waiting control has none until promoted.
- **Periods** are capped by asset kind (deposit 1 year, vehicle 2, real estate / land / equity 3);
  a renewal runs on from the old expiry.
- **Expiry.** A reminder (``expiring``) goes to the court ``reminder_days`` before expiry; at expiry
  the hub sends the agency an expiry notice, marks the control ``expired``, and the agency's next
  waiting control is promoted (its court is told).
- **Deduction** moves frozen money to the case's fund ledger, lowers what is owed, and is applied
  once per order however often its messages are delivered (outcomes are applied once per key).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from typing import Any

from schemas.agencies import CONTROL_ACTIONS_BY_KIND, AssetKind
from schemas.models import (
    Case,
    ControlCommand,
    ControlOrderRequested,
    ControlOrderState,
    ControlOutcome,
    ControlTick,
    CourtEvent,
)

__all__ = [
    "MAX_PERIOD_DAYS",
    "accept_order",
    "apply_outcome",
    "apply_tick",
    "due_ticks",
    "new_ledger",
    "refuse",
    "remaining",
    "secured",
]

Ledger = dict[str, Any]

MAX_PERIOD_DAYS = {
    AssetKind.deposit: 365,
    AssetKind.vehicle: 730,
    AssetKind.real_estate: 1095,
    AssetKind.land_use_right: 1095,
    AssetKind.equity: 1095,
}
INDIVISIBLE = {AssetKind.real_estate, AssetKind.land_use_right, AssetKind.vehicle, AssetKind.equity}
_IN_FORCE = {"pending", "effective", "waiting", "partial"}
_EXPIRE_SUFFIX = ":expire"
_ZERO = Decimal("0.00")


def _d(value: Any) -> Decimal:
    return Decimal(str(value)) if value is not None else _ZERO


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def new_ledger(case: Case) -> Ledger:
    return {
        "case_number": case.case_number,
        "cap": _money(case.amount_owed + case.costs),
        "deducted": "0.00",
        "orders": {},
        "funds": [],
        "applied": [],
    }


def secured(ledger: Ledger) -> Decimal:
    return sum(
        (_d(o["reserved"]) for o in ledger["orders"].values() if o["status"] in _IN_FORCE),
        _ZERO,
    )


def remaining(ledger: Ledger) -> Decimal:
    return _d(ledger["cap"]) - _d(ledger["deducted"]) - secured(ledger)


# ---------------------------------------------------------------- events


def _state(order: dict[str, Any]) -> ControlOrderState:
    return ControlOrderState.model_validate(order)


def _event(
    ledger: Ledger, order: dict[str, Any], kind: str, source: str, now: dt.datetime, detail: str | None = None
) -> CourtEvent:
    digest = hashlib.sha256(f"{order['order_id']}|{kind}|{source}".encode()).hexdigest()[:24]
    return CourtEvent(
        event_id=f"evt_{digest}",
        kind=kind,
        case_id=order["case_id"],
        court_id=order["court_id"],
        order_id=order["order_id"],
        order=_state(order),
        detail=detail,
        secured=secured(ledger),
        deducted_total=_d(ledger["deducted"]),
        at=now,
    )


def _reject(ledger: Ledger, order: dict[str, Any], reason: str, now: dt.datetime) -> CourtEvent:
    order.update(status="rejected", reason=reason, reserved="0.00")
    return _event(ledger, order, "rejected", "hub", now, reason)


# ---------------------------------------------------------------- orders


def _target(ledger: Ledger, asset_id: str, statuses: set[str]) -> dict[str, Any] | None:
    """The case's latest freeze or seizure on the asset whose status is one of ``statuses``."""
    candidates = [
        o
        for o in ledger["orders"].values()
        if o["asset_id"] == asset_id and o["action"] in ("freeze", "seize") and o["status"] in statuses
    ]
    return max(candidates, key=lambda o: o["requested_at"]) if candidates else None


def accept_order(
    ledger: Ledger, req: ControlOrderRequested, now: dt.datetime
) -> tuple[ControlCommand | None, list[CourtEvent]]:
    """Check an order against the ledger; reserve what it secures; return the agency command."""
    if req.order_id in ledger["orders"]:
        return None, []  # a redelivered order: handled already
    asset = req.asset
    order: dict[str, Any] = {
        "order_id": req.order_id,
        "case_id": req.case_id,
        "court_id": req.court_id,
        "asset_id": asset.asset_id,
        "agency": asset.agency,
        "kind": str(asset.kind),
        "ref": asset.ref,
        "value": _money(asset.value),
        "owner_id_number": asset.owner_id_number,
        "action": req.action,
        "amount": _money(req.amount) if req.amount is not None else None,
        "status": "pending",
        "reserved": "0.00",
        "approved_by": req.approved_by,
        "requested_at": req.requested_at.isoformat(),
        "reminded": False,
        "expiry_sent": False,
    }
    ledger["orders"][req.order_id] = order
    if req.action not in CONTROL_ACTIONS_BY_KIND[asset.kind]:
        return None, [_reject(ledger, order, f"{req.action} does not apply to {asset.kind}", now)]
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
            and o["status"] in _IN_FORCE
        ]
        if in_force:
            reason = (
                f"this case already has a control in force on the asset (order {in_force[0]['order_id']})"
            )
            return None, [_reject(ledger, order, reason, now)]
        left = remaining(ledger)
        if req.action == "freeze" and asset.kind == AssetKind.deposit:
            assert amount is not None
            if amount > left:
                reason = (
                    f"over the case's cap: freezing {_money(amount)} would secure more than owed plus costs "
                    f"(cap {ledger['cap']}, deducted {ledger['deducted']}, "
                    f"secured {_money(secured(ledger))}, "
                    f"remaining {_money(left)})"
                )
                return None, [_reject(ledger, order, reason, now)]
            order["reserved"] = _money(amount)
        else:
            value = asset.value if asset.kind in INDIVISIBLE or amount is None else amount
            if left <= 0:
                return None, [_reject(ledger, order, f"the case is fully secured (cap {ledger['cap']})", now)]
            if value > left:
                order["reason"] = (
                    f"indivisible asset worth {_money(value)} seized whole although only {_money(left)} "
                    "of the "
                    "cap remained (allowed when the debtor has nothing else suitable)"
                )
            order["reserved"] = _money(value)
            amount = None if asset.kind in INDIVISIBLE else amount
    else:
        wanted = {
            "release": _IN_FORCE - {"pending"},
            "renew": {"effective", "partial"},
            "deduct": {"effective", "partial"},
        }[req.action]
        target = _target(ledger, asset.asset_id, wanted)
        if target is None or not target.get("control_id"):
            return None, [
                _reject(ledger, order, f"no control of this case on the asset that can {req.action}", now)
            ]
        order["target_order"] = target["order_id"]
        control_id = target["control_id"]
        if req.action == "deduct":
            assert amount is not None
            frozen = _d(target.get("amount_controlled"))
            owed = _d(ledger["cap"]) - _d(ledger["deducted"])
            if amount > frozen:
                return None, [
                    _reject(
                        ledger, order, f"deduction {_money(amount)} exceeds the frozen {_money(frozen)}", now
                    )
                ]
            if amount > owed:
                return None, [
                    _reject(
                        ledger, order, f"deduction {_money(amount)} exceeds what is owed {_money(owed)}", now
                    )
                ]
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
    )
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
        "amount": _money(req.amount) if req.amount is not None else None,
        "status": "pending",
        "reserved": "0.00",
        "approved_by": req.approved_by,
        "requested_at": req.requested_at.isoformat(),
    }
    return _reject(orphan, order, reason, now)


# ---------------------------------------------------------------- agency outcomes


def apply_outcome(ledger: Ledger, outcome: ControlOutcome, now: dt.datetime) -> list[CourtEvent]:
    """Mirror what the agency did into the ledger; the events to push to the court."""
    key = outcome.idempotency_key
    if key in ledger["applied"]:
        return []
    expiring = outcome.order_id.endswith(_EXPIRE_SUFFIX)
    order = ledger["orders"].get(outcome.order_id.removesuffix(_EXPIRE_SUFFIX))
    if order is None:
        return []
    ledger["applied"] = [*ledger["applied"][-1999:], key]
    fields = {
        "control_id": outcome.control_id or order.get("control_id"),
        "position": outcome.position,
        "effective_at": outcome.effective_at.isoformat()
        if outcome.effective_at
        else order.get("effective_at"),
        "expires_at": outcome.expires_at.isoformat() if outcome.expires_at else order.get("expires_at"),
        "reason": outcome.reason,
    }
    if expiring:
        if outcome.outcome not in ("expired", "released"):
            return []  # the agency refused the notice; the control stays as it is
        order.update(status="expired", reserved="0.00", position=None, reason=outcome.reason)
        return [_event(ledger, order, "expired", key, now, f"expired at {order.get('expires_at')}")]

    action = order["action"]
    if action in ("freeze", "seize"):
        was_waiting = order["status"] == "waiting"
        order.update(fields, status=outcome.outcome)
        if outcome.outcome in ("effective", "partial"):
            if outcome.amount_controlled is not None:
                order["amount_controlled"] = _money(outcome.amount_controlled)
                if action == "freeze":
                    order["reserved"] = order["amount_controlled"]
            order["position"] = 0
        elif outcome.outcome in ("rejected", "failed"):
            order["reserved"] = "0.00"
        kind = "promoted" if was_waiting and outcome.outcome in ("effective", "partial") else outcome.outcome
        return [_event(ledger, order, kind, key, now, outcome.reason)]

    target = ledger["orders"].get(order.get("target_order", ""))
    if outcome.outcome in ("rejected", "failed") or target is None:
        order.update(
            status=outcome.outcome if outcome.outcome in ("rejected", "failed") else "failed",
            reason=outcome.reason,
        )
        return [_event(ledger, order, order["status"], key, now, outcome.reason)]
    events: list[CourtEvent] = []
    if action == "renew":
        order.update(fields, status="effective")
        target.update(expires_at=fields["expires_at"], reminded=False, expiry_sent=False)
        events.append(_event(ledger, order, "renewed", key, now, f"now expires at {fields['expires_at']}"))
        events.append(
            _event(ledger, target, "renewed", f"{key}/target", now, f"renewed by {order['order_id']}")
        )
    elif action == "release":
        order.update(fields, status="released")
        target.update(status="released", reserved="0.00", position=None)
        events.append(_event(ledger, order, "released", key, now, outcome.reason))
        events.append(
            _event(ledger, target, "released", f"{key}/target", now, f"released by {order['order_id']}")
        )
    elif action == "deduct":
        amount = _d(outcome.amount_deducted)
        order.update(fields, status="deducted", amount_deducted=_money(amount))
        left = _d(target.get("amount_controlled")) - amount
        target.update(amount_controlled=_money(left), reserved=_money(max(left, _ZERO)))
        if left <= 0:
            target["status"] = "deducted"
        ledger["deducted"] = _money(_d(ledger["deducted"]) + amount)
        ledger["funds"].append(
            {"order_id": order["order_id"], "amount": _money(amount), "at": now.isoformat()}
        )
        events.append(
            _event(ledger, order, "deducted", key, now, f"{_money(amount)} moved to the court's account")
        )
        events.append(
            _event(
                ledger,
                target,
                "deducted",
                f"{key}/target",
                now,
                f"{_money(amount)} deducted by {order['order_id']}; {_money(left)} stays frozen",
            )
        )
    return events


# ---------------------------------------------------------------- expiry


def due_ticks(ledger: Ledger, now: dt.datetime, reminder_days: float) -> list[ControlTick]:
    ticks = []
    for o in ledger["orders"].values():
        if o["action"] not in ("freeze", "seize") or o["status"] not in ("effective", "partial"):
            continue
        if not o.get("expires_at"):
            continue
        expires = dt.datetime.fromisoformat(o["expires_at"])
        if not o["expiry_sent"] and now >= expires:
            ticks.append(ControlTick(case_id=o["case_id"], order_id=o["order_id"], kind="expire", at=now))
        elif not o["reminded"] and now >= expires - dt.timedelta(days=reminder_days):
            ticks.append(ControlTick(case_id=o["case_id"], order_id=o["order_id"], kind="remind", at=now))
    return ticks


def apply_tick(
    ledger: Ledger, tick: ControlTick, now: dt.datetime, reminder_days: float
) -> tuple[ControlCommand | None, list[CourtEvent]]:
    order = ledger["orders"].get(tick.order_id)
    if order is None or order["status"] not in ("effective", "partial") or not order.get("expires_at"):
        return None, []
    expires = dt.datetime.fromisoformat(order["expires_at"])
    if tick.kind == "remind":
        if order["reminded"] or now < expires - dt.timedelta(days=reminder_days):
            return None, []
        order["reminded"] = True
        detail = f"expires at {order['expires_at']}: renew before then to keep its priority"
        return None, [_event(ledger, order, "expiring", order["expires_at"], now, detail)]
    if order["expiry_sent"] or now < expires:
        return None, []
    order["expiry_sent"] = True
    command = ControlCommand(
        order_id=f"{order['order_id']}{_EXPIRE_SUFFIX}",
        case_id=order["case_id"],
        court_id=order["court_id"],
        case_number=ledger["case_number"],
        agency=order["agency"],
        asset_kind=order["kind"],
        asset_ref=order["ref"],
        action="expire",
        control_id=order.get("control_id"),
        approved_by="hub:expiry",
        requested_at=now,
        idempotency_key=f"{order['order_id']}{_EXPIRE_SUFFIX}/{order['expires_at']}",
    )
    events = []
    if not order["reminded"]:  # the court is always told before the expiry
        order["reminded"] = True
        events.append(_event(ledger, order, "expiring", order["expires_at"], now, "expires now"))
    return command, events
