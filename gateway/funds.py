"""The case's fund ledger: money deducted from the debtor's assets stays held for the case until the
court pays it out (DOMAIN.md rule 9).

**Deducted**: every control order of the case with status ``deducted``, its ``amount_deducted``
(the read model's ``control_orders.state``), dated by its ``deducted`` court event's ``at`` (the
hub's clock in the streams; the order's ``updated_at`` if that is missing).

**Paid**: the rows of ``payouts`` (``POST /v1/cases/{case_id}/payouts``). A payout never makes the
paid total exceed the deducted total: the route checks and inserts in one transaction that first
locks the case's row (an update that changes nothing: the row's lock on PostgreSQL, the database's
write lock on SQLite), so two concurrent payouts are checked one after the other.

**Held**: deducted less paid. Payouts pay the oldest deductions first (:func:`held_by_deduction`).
A deduction with money still held ``HUB_PAYOUT_DAYS`` after it was made is reported to the court
once as ``payout_reminder`` (feed and webhook; key ``payout_reminder:<order_id>``), with
``{"order_id", "asset_id", "amount_deducted", "held", "deducted_at", "held_since_days", "case_held"}``
(money as decimal strings, yuan); ``payout_reminders`` records it (and, with ``held`` 0.00 and no
event, a deduction paid in full before a reminder was due, so it is not looked at again).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.settings import HubSettings

# the module, not its names: gateway.feed imports gateway.db, which imports this one
from . import feed
from .db import Database, control_orders, court_events, metadata
from .tables import utc as _utc

__all__ = [
    "Deduction",
    "balance",
    "case_deductions",
    "case_payouts",
    "held_by_deduction",
    "payout_reminders",
    "payout_view",
    "payouts",
    "remind_held",
]

payouts = sa.Table(
    "payouts",
    metadata,
    sa.Column("payout_id", sa.String(64), primary_key=True),
    sa.Column("case_id", sa.String(64), nullable=False, index=True),
    sa.Column("court_id", sa.String(64), nullable=False),
    sa.Column("amount", sa.String(24), nullable=False),  # yuan, a decimal string with two places
    sa.Column("payee", sa.String(200), nullable=False),
    sa.Column("approved_by", sa.String(100), nullable=False),
    sa.Column("paid_at", sa.DateTime(timezone=True), nullable=False),  # the hub's clock
    sa.Column("idempotency_key", sa.String(200)),
    sa.Column("request_hash", sa.String(64)),
    sa.UniqueConstraint("court_id", "idempotency_key", name="uq_payouts_idempotency"),
)

payout_reminders = sa.Table(
    "payout_reminders",
    metadata,
    sa.Column("order_id", sa.String(64), primary_key=True),  # the deduct order
    sa.Column("case_id", sa.String(64), nullable=False, index=True),
    sa.Column("court_id", sa.String(64), nullable=False),
    sa.Column("held", sa.String(24), nullable=False),  # "0.00": paid in full before a reminder was due
    sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=False),  # or found paid (hub clock)
    sa.Column("event_id", sa.String(64)),  # the payout_reminder event; NULL when paid in full
)

ZERO = Decimal("0.00")
DAY = dt.timedelta(days=1)
Deduction = dict[str, Any]  # {"order_id", "asset_id", "amount": Decimal, "deducted_at": datetime}


def _money(d: Decimal) -> str:
    return f"{d:.2f}"


def _decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value)) if value is not None else ZERO
    except ArithmeticError:
        return ZERO


def balance(deductions: Sequence[Deduction], paid: Sequence[Decimal]) -> dict[str, str]:
    """``{"deducted", "paid", "held"}``: decimal strings, yuan."""
    deducted = sum((d["amount"] for d in deductions), ZERO)
    total_paid = sum(paid, ZERO)
    return {"deducted": _money(deducted), "paid": _money(total_paid), "held": _money(deducted - total_paid)}


def held_by_deduction(deductions: Sequence[Deduction], paid: Decimal) -> list[tuple[Deduction, Decimal]]:
    """Each deduction (oldest first) with what of it is still held when ``paid`` went to the
    oldest deductions first."""
    out = []
    left = paid
    for d in sorted(deductions, key=lambda d: (d["deducted_at"], d["order_id"])):
        covered = min(left, d["amount"])
        left -= covered
        out.append((d, d["amount"] - covered))
    return out


async def case_deductions(conn: AsyncConnection, case_ids: Sequence[str]) -> dict[str, list[Deduction]]:
    """The deductions of each case (``{case_id: [deduction]}``)."""
    rows = (
        await conn.execute(
            sa.select(
                control_orders.c.order_id,
                control_orders.c.case_id,
                control_orders.c.asset_id,
                control_orders.c.state,
                control_orders.c.updated_at,
            ).where(control_orders.c.case_id.in_(list(case_ids)), control_orders.c.status == "deducted")
        )
    ).all()
    dated: dict[str, dt.datetime] = {}
    if rows:
        for event in await conn.execute(
            sa.select(court_events.c.order_id, court_events.c.body).where(
                court_events.c.order_id.in_([r.order_id for r in rows]), court_events.c.kind == "deducted"
            )
        ):
            with contextlib.suppress(KeyError, ValueError):
                dated[event.order_id] = _utc(dt.datetime.fromisoformat(str((event.body or {})["at"])))
    out: dict[str, list[Deduction]] = {case_id: [] for case_id in case_ids}
    for r in rows:
        out[r.case_id].append(
            {
                "order_id": r.order_id,
                "asset_id": r.asset_id,
                "amount": _decimal((r.state or {}).get("amount_deducted")),
                "deducted_at": dated.get(r.order_id, _utc(r.updated_at)),
            }
        )
    return out


async def case_payouts(conn: AsyncConnection, case_id: str) -> list[Any]:
    return list(
        (
            await conn.execute(
                sa.select(payouts)
                .where(payouts.c.case_id == case_id)
                .order_by(payouts.c.paid_at, payouts.c.payout_id)
            )
        ).all()
    )


def payout_view(row: Any) -> dict[str, Any]:
    """``{"payout_id", "case_id", "amount" (decimal string, yuan), "payee", "approved_by", "paid_at"
    (RFC 3339, the hub's clock)}``."""
    return {
        "payout_id": row.payout_id,
        "case_id": row.case_id,
        "amount": row.amount,
        "payee": row.payee,
        "approved_by": row.approved_by,
        "paid_at": _utc(row.paid_at).isoformat(),
    }


async def remind_held(db: Database, settings: HubSettings, now: dt.datetime) -> int:
    """Record ``payout_reminder`` once for every deduction with money held ``HUB_PAYOUT_DAYS`` after
    it was made (by ``now``, the hub's clock); returns how many were recorded."""
    async with db.engine.connect() as conn:
        pending = (
            await conn.execute(
                sa.select(control_orders.c.case_id, control_orders.c.court_id)
                .where(
                    control_orders.c.status == "deducted",
                    control_orders.c.order_id.not_in(sa.select(payout_reminders.c.order_id)),
                )
                .distinct()
                .limit(500)
            )
        ).all()
        if not pending:
            return 0
        courts = {r.case_id: r.court_id for r in pending}
        deductions = await case_deductions(conn, list(courts))
        paid: dict[str, Decimal] = {}
        for r in await conn.execute(
            sa.select(payouts.c.case_id, payouts.c.amount).where(payouts.c.case_id.in_(list(courts)))
        ):
            paid[r.case_id] = paid.get(r.case_id, ZERO) + _decimal(r.amount)
    recorded = 0
    for case_id, court_id in courts.items():
        mine = deductions.get(case_id, [])
        case_held = balance(mine, [paid.get(case_id, ZERO)])["held"]
        for d, held in held_by_deduction(mine, paid.get(case_id, ZERO)):
            if held <= 0:  # paid in full: never reminded of (payouts only grow)
                recorded += await _remind(db, settings, case_id, court_id, d["order_id"], held, None, now)
                continue
            if now < d["deducted_at"] + settings.payout_days * DAY:
                continue
            payload = {
                "order_id": d["order_id"],
                "asset_id": d["asset_id"],
                "amount_deducted": _money(d["amount"]),
                "held": _money(held),
                "deducted_at": d["deducted_at"].isoformat(),
                "held_since_days": (now - d["deducted_at"]) // DAY,
                "case_held": case_held,
            }
            recorded += await _remind(db, settings, case_id, court_id, d["order_id"], held, payload, now)
    return recorded


async def _remind(
    db: Database,
    settings: HubSettings,
    case_id: str,
    court_id: str,
    order_id: str,
    held: Decimal,
    payload: dict[str, Any] | None,
    now: dt.datetime,
) -> int:
    """Record the reminder (``payload`` None: the deduction is paid in full; no event); 1 if an
    event was recorded."""
    key = f"payout_reminder:{order_id}"
    try:
        async with db.engine.begin() as conn:
            await feed.lock_feed(conn)  # before the insert: feed writers take it first
            await conn.execute(
                payout_reminders.insert().values(
                    order_id=order_id,
                    case_id=case_id,
                    court_id=court_id,
                    held=_money(held),
                    reminded_at=now,
                    event_id=feed.event_id_for(key) if payload is not None else None,
                )
            )
            if payload is None:
                return 0
            await feed.record_case_event(
                conn,
                case_id,
                court_id,
                "payout_reminder",
                payload,
                key=key,
                webhook_url=settings.webhooks_by_court.get(court_id),
            )
    except IntegrityError:  # another loop reminded of it at the same moment
        return 0
    return 1
