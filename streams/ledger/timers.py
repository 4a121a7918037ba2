"""Time in the ledger: reminders before expiry, expiry notices, and status checks of waiting controls.

The streams' timer calls :func:`due_ticks` with the hub's clock; each tick goes through the
``hub.control.ticks`` topic to the owner of the case's partition, which applies it with
:func:`apply_tick` (again against the clock, so a late or repeated tick does nothing twice).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from schemas.models import ControlCommand, ControlTick, CourtEvent

from .outcomes import EXPIRE_SUFFIX, STATUS_SUFFIX
from .state import Ledger, event

__all__ = ["apply_tick", "due_ticks"]


def due_ticks(ledger: Ledger, now: dt.datetime, reminder_days: float) -> list[ControlTick]:
    """Ticks due at ``now``: ``remind`` (``reminder_days`` before expiry), ``expire`` (at expiry),
    ``check`` (a waiting control whose control ahead was due to end by ``now``)."""
    ticks = []
    for o in ledger["orders"].values():
        if o["action"] not in ("freeze", "seize"):
            continue
        if o["status"] == "waiting" and o.get("check_at"):
            check_at = dt.datetime.fromisoformat(o["check_at"])
            if now >= check_at and o.get("check_sent") != o["check_at"]:
                ticks.append(
                    ControlTick(
                        case_id=o["case_id"], order_id=o["order_id"], kind="check", at=now, due=check_at
                    )
                )
            continue
        if o["status"] not in ("effective", "partial") or not o.get("expires_at"):
            continue
        expires = dt.datetime.fromisoformat(o["expires_at"])
        tick = {"case_id": o["case_id"], "order_id": o["order_id"], "at": now, "due": expires}
        if not o["expiry_sent"] and now >= expires:
            ticks.append(ControlTick(kind="expire", **tick))
        elif not o["reminded"] and now >= expires - dt.timedelta(days=reminder_days):
            ticks.append(ControlTick(kind="remind", **tick))
    return ticks


def _on_behalf(order: dict[str, Any], hub_actor: str, purpose: str) -> dict[str, str]:
    """Who asks for a notice the hub sends on its own about a control: the officer of the order that
    registered it (the hub itself for an order from before officers), this notice's purpose, and
    that order's legal basis (or the order itself)."""
    return {
        "officer": str(order.get("officer") or hub_actor),
        "purpose": purpose,
        "legal_basis": str(order.get("legal_basis") or f"control order {order['order_id']}"),
    }


def _check(ledger: Ledger, order: dict[str, object], now: dt.datetime) -> ControlCommand | None:
    check_at = order.get("check_at")
    if order["status"] != "waiting" or not isinstance(check_at, str) or order.get("check_sent") == check_at:
        return None
    if now < dt.datetime.fromisoformat(check_at) or not order.get("control_id"):
        return None
    order["check_sent"] = check_at
    return ControlCommand(
        order_id=f"{order['order_id']}{STATUS_SUFFIX}",
        case_id=str(order["case_id"]),
        court_id=str(order["court_id"]),
        case_number=ledger["case_number"],
        agency=str(order["agency"]),
        asset_kind=order["kind"],
        asset_ref=str(order["ref"]),
        action="status",
        control_id=str(order["control_id"]),
        approved_by="hub:status",
        requested_at=now,
        idempotency_key=f"{order['order_id']}{STATUS_SUFFIX}/{check_at}",
        **_on_behalf(order, "hub:status", "status check of a waiting control"),
    )


def apply_tick(
    ledger: Ledger, tick: ControlTick, now: dt.datetime, reminder_days: float
) -> tuple[ControlCommand | None, list[CourtEvent]]:
    """The agency command (expiry notice, status check) and court events a due tick makes."""
    order = ledger["orders"].get(tick.order_id)
    if order is None:
        return None, []
    if tick.kind == "check":
        return _check(ledger, order, now), []
    if order["status"] not in ("effective", "partial") or not order.get("expires_at"):
        return None, []
    expires = dt.datetime.fromisoformat(order["expires_at"])
    if tick.kind == "remind":
        if order["reminded"] or now < expires - dt.timedelta(days=reminder_days):
            return None, []
        order["reminded"] = True
        detail = f"expires at {order['expires_at']}: renew before then to keep its priority"
        return None, [event(ledger, order, "expiring", order["expires_at"], now, detail)]
    if order["expiry_sent"] or now < expires:
        return None, []
    order["expiry_sent"] = True
    command = ControlCommand(
        order_id=f"{order['order_id']}{EXPIRE_SUFFIX}",
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
        idempotency_key=f"{order['order_id']}{EXPIRE_SUFFIX}/{order['expires_at']}",
        **_on_behalf(order, "hub:expiry", "expiry notice: the control's period ended"),
    )
    events = []
    if not order["reminded"]:  # the court is always told before the expiry
        order["reminded"] = True
        events.append(event(ledger, order, "expiring", order["expires_at"], now, "expires now"))
    return command, events
