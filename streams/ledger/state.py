"""The ledger's state and the figures read from it: cap, secured, remaining, over-securing.

A ledger is a JSON-able dict (it lives in the streams' ``cases`` table)::

    {"case_number", "cap": "<yuan>", "deducted": "<yuan>", "orders": {order_id: order},
     "funds": [{"order_id", "amount", "at"}], "applied": [outcome idempotency keys]}

Each order is a dict shaped like :class:`~schemas.models.ControlOrderState` plus the ledger's own
keys: ``reserved`` (yuan it secures while it secures anything), ``kind``, ``ref``, ``value``,
``hub_reason`` (why the hub allowed it, kept beside what the agency says), ``check_at`` (waiting:
when to ask the agency whether it took effect), ``check_sent``, ``reminded``, ``expiry_sent``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from typing import Any

from schemas.agencies import DIVISIBLE_KINDS, MAX_PERIOD_DAYS, AssetKind
from schemas.models import Case, ControlOrderState, CourtEvent

__all__ = [
    "INDIVISIBLE",
    "IN_FORCE",
    "MAX_PERIOD_DAYS",
    "SECURING",
    "Ledger",
    "event",
    "excess_to_release",
    "join",
    "new_ledger",
    "reject",
    "remaining",
    "secured",
]

Ledger = dict[str, Any]

# one control takes the whole asset (a freeze of a divisible kind blocks only the amount it states)
INDIVISIBLE = set(AssetKind) - DIVISIBLE_KINDS
# an order in force occupies its asset for the case (a second control of the case is refused)
IN_FORCE = {"pending", "effective", "waiting", "partial"}
# an order that secures something: asked and not yet answered, or in effect. A waiting control
# has no effect yet, so it secures nothing until it is promoted (DOMAIN.md rule 4).
SECURING = {"pending", "effective", "partial"}
ZERO = Decimal("0.00")


def d(value: Any) -> Decimal:
    return Decimal(str(value)) if value is not None else ZERO


def money(value: Decimal) -> str:
    return f"{value:.2f}"


def join(*parts: str | None) -> str | None:
    return "; ".join(p for p in parts if p) or None


def new_ledger(case: Case) -> Ledger:
    return {
        "case_number": case.case_number,
        "cap": money(case.amount_owed + case.costs),
        "deducted": "0.00",
        "orders": {},
        "funds": [],
        "applied": [],
    }


def secured(ledger: Ledger) -> Decimal:
    """Yuan secured for the case: frozen (or asked, while pending) + stated value of seized assets."""
    return sum((d(o["reserved"]) for o in ledger["orders"].values() if o["status"] in SECURING), ZERO)


def remaining(ledger: Ledger) -> Decimal:
    """What may still be secured: cap − deducted − secured (negative when over-secured)."""
    return d(ledger["cap"]) - d(ledger["deducted"]) - secured(ledger)


def excess_to_release(ledger: Ledger) -> tuple[Decimal, dict[str, Any]] | None:
    """When the case is secured beyond what it is owed (a waiting control took effect), the excess
    (yuan) and the control to release; None when there is nothing that must be released.

    - A control the others cover without it (they still secure the whole cap) is redundant: the
      largest redundant control is named.
    - Otherwise, when deposit freezes alone secure more than the cap, the smallest freeze whose
      release ends the excess is named (else the largest).
    - An indivisible asset beyond the cap with nothing divisible to do instead is not an excess (it
      was allowed so; DOMAIN.md rule 4).
    """
    owed = d(ledger["cap"]) - d(ledger["deducted"])
    total = secured(ledger)
    if total <= owed:
        return None
    in_force = [
        o
        for o in ledger["orders"].values()
        if o["action"] in ("freeze", "seize")
        and o["status"] in ("effective", "partial")
        and o.get("control_id")
    ]
    redundant = [o for o in in_force if d(o["reserved"]) > 0 and total - d(o["reserved"]) >= owed]
    if redundant:
        return total - owed, max(redundant, key=lambda o: (d(o["reserved"]), o.get("effective_at") or ""))
    divisible = [o for o in in_force if o.get("kind", "deposit") in DIVISIBLE_KINDS]
    excess = sum((d(o["reserved"]) for o in divisible), ZERO) - owed
    if excess <= 0 or not divisible:
        return None
    enough = [o for o in divisible if d(o["reserved"]) >= excess]
    if enough:
        return excess, min(enough, key=lambda o: (d(o["reserved"]), o.get("effective_at") or ""))
    return excess, max(divisible, key=lambda o: (d(o["reserved"]), o.get("effective_at") or ""))


def event(
    ledger: Ledger, order: dict[str, Any], kind: str, source: str, now: dt.datetime, detail: str | None = None
) -> CourtEvent:
    """The court event ``kind`` for ``order``; its id is stable for the same (order, kind, source)."""
    digest = hashlib.sha256(f"{order['order_id']}|{kind}|{source}".encode()).hexdigest()[:24]
    return CourtEvent(
        event_id=f"evt_{digest}",
        kind=kind,
        case_id=order["case_id"],
        court_id=order["court_id"],
        order_id=order["order_id"],
        order=ControlOrderState.model_validate(order),
        detail=detail,
        secured=secured(ledger),
        deducted_total=d(ledger["deducted"]),
        at=now,
    )


def reject(ledger: Ledger, order: dict[str, Any], reason: str, now: dt.datetime) -> CourtEvent:
    order.update(status="rejected", reason=reason, reserved="0.00")
    return event(ledger, order, "rejected", "hub", now, reason)
