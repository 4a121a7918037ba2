"""What an agency did, mirrored into the case's ledger; the court events it makes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from schemas.agencies import DIVISIBLE_KINDS
from schemas.models import ControlOutcome, CourtEvent

from .state import ZERO, Ledger, d, event, excess_to_release, join, money, secured

__all__ = ["EXPIRE_SUFFIX", "STATUS_SUFFIX", "apply_outcome"]

EXPIRE_SUFFIX = ":expire"
STATUS_SUFFIX = ":status"
# when a status check could not reach the agency, ask again this much later (ledger time)
RECHECK = dt.timedelta(minutes=10)


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _over_secured(ledger: Ledger, promoted: dict[str, Any], key: str, now: dt.datetime) -> list[CourtEvent]:
    """After a promotion: when the case is now secured beyond the cap, say which control to release."""
    found = excess_to_release(ledger)
    if found is None:
        return []
    excess, advised = found
    detail = (
        f"the case is over-secured by {money(excess)} (secured {money(secured(ledger))}, cap "
        f"{ledger['cap']}, deducted {ledger['deducted']}) since order {promoted['order_id']} took effect: "
        f"release control {advised['control_id']} (order {advised['order_id']}, "
        f"securing {advised['reserved']}); "
        "excess must be released"
    )
    return [event(ledger, advised, "over_secured", f"{key}/excess", now, detail)]


def _mirror_control(
    ledger: Ledger, order: dict[str, Any], outcome: ControlOutcome, key: str, now: dt.datetime
) -> list[CourtEvent]:
    """A freeze or seizure's outcome (its own answer, a promotion note, or a status check)."""
    result = outcome.outcome
    same = _iso(outcome.effective_at) in (None, order.get("effective_at"))
    if order["status"] in ("effective", "partial") and result in ("effective", "partial") and same:
        return []  # the same promotion heard a second way (notice and status check)
    was_waiting = order["status"] == "waiting"
    order.update(
        control_id=outcome.control_id or order.get("control_id"),
        position=outcome.position,
        effective_at=_iso(outcome.effective_at) or order.get("effective_at"),
        expires_at=_iso(outcome.expires_at) or order.get("expires_at"),
        reason=join(order.get("hub_reason"), outcome.reason),
        status=result,
    )
    if result in ("effective", "partial"):
        if outcome.amount_controlled is not None:
            order["amount_controlled"] = money(outcome.amount_controlled)
            if order.get("kind", "deposit") in DIVISIBLE_KINDS:
                order["reserved"] = order["amount_controlled"]
        order["position"] = 0
        order.pop("check_at", None)
    elif result == "waiting":
        order["check_at"] = _iso(outcome.ahead_expires_at)
    elif result in ("rejected", "failed"):
        order["reserved"] = "0.00"
    if was_waiting and result in ("effective", "partial"):
        return [
            event(ledger, order, "promoted", key, now, outcome.reason),
            *_over_secured(ledger, order, key, now),
        ]
    detail = outcome.reason
    if result == "waiting":
        detail = join(outcome.reason, "a waiting control secures nothing until it takes effect")
    return [event(ledger, order, result, key, now, detail)]


def _status_check(
    ledger: Ledger, order: dict[str, Any], outcome: ControlOutcome, key: str, now: dt.datetime
) -> list[CourtEvent]:
    """The agency's answer to "what is this waiting control now?"."""
    if order["status"] != "waiting":
        return []  # mirrored already by another way
    if outcome.outcome in ("effective", "partial"):
        return _mirror_control(ledger, order, outcome, key, now)
    if outcome.outcome == "waiting":
        # still queued (the one ahead was renewed, or another is ahead now): ask again when that one
        # ends; when the agency names no later end (its clock behind the hub's), ask again shortly
        ahead = outcome.ahead_expires_at
        again = ahead if ahead is not None and ahead > now else now + RECHECK
        order.update(position=outcome.position, check_at=again.isoformat())
        return []
    if outcome.outcome == "failed":
        order["check_at"] = (now + RECHECK).isoformat()
        return []
    if outcome.outcome in ("expired", "released", "deducted"):
        order.update(status=outcome.outcome, reserved="0.00", position=None, reason=outcome.reason)
        order.pop("check_at", None)
        return [event(ledger, order, order["status"], key, now, outcome.reason)]
    return []


def apply_outcome(ledger: Ledger, outcome: ControlOutcome, now: dt.datetime) -> list[CourtEvent]:
    """Mirror what the agency did into the ledger; the events to push to the court (each outcome is
    applied once per ``idempotency_key``)."""
    key = outcome.idempotency_key
    if key in ledger["applied"]:
        return []
    base = outcome.order_id.removesuffix(EXPIRE_SUFFIX).removesuffix(STATUS_SUFFIX)
    order = ledger["orders"].get(base)
    if order is None:
        return []
    ledger["applied"] = [*ledger["applied"][-1999:], key]
    if outcome.order_id.endswith(STATUS_SUFFIX):
        return _status_check(ledger, order, outcome, key, now)
    if outcome.order_id.endswith(EXPIRE_SUFFIX):
        if outcome.outcome not in ("expired", "released"):
            return []  # the agency refused the notice; the control stays as it is
        order.update(status="expired", reserved="0.00", position=None, reason=outcome.reason)
        return [event(ledger, order, "expired", key, now, f"expired at {order.get('expires_at')}")]

    action = order["action"]
    if action in ("freeze", "seize"):
        return _mirror_control(ledger, order, outcome, key, now)

    target = ledger["orders"].get(order.get("target_order", ""))
    fields = {
        "control_id": outcome.control_id or order.get("control_id"),
        "position": outcome.position,
        "effective_at": _iso(outcome.effective_at) or order.get("effective_at"),
        "expires_at": _iso(outcome.expires_at) or order.get("expires_at"),
        "reason": outcome.reason,
    }
    if outcome.outcome in ("rejected", "failed") or target is None:
        order.update(
            status=outcome.outcome if outcome.outcome in ("rejected", "failed") else "failed",
            reason=outcome.reason,
        )
        return [event(ledger, order, order["status"], key, now, outcome.reason)]
    events: list[CourtEvent] = []
    if action == "renew":
        order.update(fields, status="effective")
        target.update(expires_at=fields["expires_at"], reminded=False, expiry_sent=False)
        detail = join(f"now expires at {fields['expires_at']}", outcome.reason)
        events.append(event(ledger, order, "renewed", key, now, detail))
        events.append(
            event(ledger, target, "renewed", f"{key}/target", now, f"renewed by {order['order_id']}")
        )
    elif action == "release":
        order.update(fields, status="released")
        target.update(status="released", reserved="0.00", position=None)
        target.pop("check_at", None)
        events.append(event(ledger, order, "released", key, now, outcome.reason))
        events.append(
            event(ledger, target, "released", f"{key}/target", now, f"released by {order['order_id']}")
        )
    elif action == "deduct":
        amount = d(outcome.amount_deducted)
        order.update(fields, status="deducted", amount_deducted=money(amount))
        left = d(target.get("amount_controlled")) - amount
        target.update(amount_controlled=money(left), reserved=money(max(left, ZERO)))
        if left <= 0:
            target["status"] = "deducted"
        ledger["deducted"] = money(d(ledger["deducted"]) + amount)
        ledger["funds"].append(
            {"order_id": order["order_id"], "amount": money(amount), "at": now.isoformat()}
        )
        events.append(
            event(ledger, order, "deducted", key, now, f"{money(amount)} moved to the court's account")
        )
        detail = f"{money(amount)} deducted by {order['order_id']}; {money(left)} stays frozen"
        events.append(event(ledger, target, "deducted", f"{key}/target", now, detail))
    return events
