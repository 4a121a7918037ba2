"""The deadline loop of first-seizure transfers (DOMAIN rule 7; records and rules:
``gateway/transfers.py``).

**The loop** (:class:`TransferDeadlines`, supervised, every ``HUB_TRANSFER_CHECK_SECONDS``, by the
hub's clock) tells both courts, once each:

- ``disposal_deadline_passed``: a priority court's waiting order has a first seizure ahead of it
  whose disposal deadline passed without disposal and the priority court has not asked yet (once
  per pair of orders: ``priority_claims`` remembers the first order it was told about);
- ``transfer_answer_overdue``: a transfer request still open after ``answer_due_at`` (once per
  request: ``overdue_at``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from hub.clock import Clock
from hub.settings import HubSettings

from .db import Database, control_orders
from .feed import lock_feed
from .tables import utc as _utc
from .transfers import (
    audit_both,
    disposal_due_at,
    disposals,
    effective_at,
    first_seizure,
    notify_both,
    order_ref,
    priority_claims,
    request_view,
    sides,
    transfer_requests,
)

__all__ = ["TransferDeadlines"]


def _iso(value: dt.datetime | None) -> str | None:
    return _utc(value).isoformat() if value is not None else None


class TransferDeadlines:
    """The loop that reports the disposal deadline and unanswered transfer requests to both courts.
    ``wake`` (optional) is set after an event is recorded (the webhook dispatcher delivers it at
    once)."""

    def __init__(
        self, db: Database, settings: HubSettings, clock: Clock, wake: asyncio.Event | None = None
    ) -> None:
        self.db, self.settings, self.clock, self.wake = db, settings, clock, wake
        self.windows = 0
        self.overdue = 0

    async def run(self) -> None:
        while True:
            await self.run_once()
            await asyncio.sleep(self.settings.transfer_check_seconds)

    async def run_once(self) -> None:
        now = self.clock.now()
        before = self.windows + self.overdue
        await self.report_windows(now)
        await self.report_overdue(now)
        if self.wake is not None and self.windows + self.overdue > before:
            self.wake.set()

    async def report_windows(self, now: dt.datetime) -> None:
        """``disposal_deadline_passed`` once per (first order, waiting priority order)."""
        async with self.db.engine.connect() as conn:
            waiting = (
                await conn.execute(
                    sa.select(priority_claims)
                    .join(control_orders, control_orders.c.order_id == priority_claims.c.order_id)
                    .where(control_orders.c.status == "waiting")
                    .order_by(priority_claims.c.created_at)
                    .limit(1000)
                )
            ).all()
        for claim in waiting:
            async with self.db.engine.connect() as conn:
                first = await first_seizure(conn, claim.asset_id)
                if (
                    first is None
                    or first.order_id == claim.window_order_id
                    or first.court_id == claim.court_id
                ):
                    continue
                due = disposal_due_at(first, self.settings)
                if due is None or now < due:
                    continue
                started = (
                    await conn.execute(
                        sa.select(disposals.c.order_id).where(disposals.c.order_id == first.order_id)
                    )
                ).first()
                asked = (  # the priority court asked already: the notice would come after the fact
                    await conn.execute(
                        sa.select(transfer_requests.c.request_id).where(
                            transfer_requests.c.order_id == claim.order_id,
                            transfer_requests.c.first_order_id == first.order_id,
                        )
                    )
                ).first()
            if started is None and asked is None and await self._window(claim, first, due, now):
                self.windows += 1

    async def _window(self, claim: Any, first: Any, due: dt.datetime, now: dt.datetime) -> bool:
        data = {
            "asset_id": claim.asset_id,
            "ref": order_ref(first),
            "first": {"court_id": first.court_id, "order_id": first.order_id},
            "priority": {"court_id": claim.court_id, "order_id": claim.order_id},
            "priority_claim": claim.claim,
            "effective_at": _iso(effective_at(first)),
            "disposal_due_at": _iso(due),
        }
        try:
            async with self.db.engine.begin() as conn:
                await lock_feed(conn)  # before the row update: feed writers take it first
                updated = await conn.execute(
                    priority_claims.update()
                    .where(
                        priority_claims.c.order_id == claim.order_id,
                        sa.or_(
                            priority_claims.c.window_order_id.is_(None),
                            priority_claims.c.window_order_id != first.order_id,
                        ),
                    )
                    .values(window_order_id=first.order_id, window_at=now)
                )
                if not updated.rowcount:
                    return False
                await notify_both(
                    conn,
                    self.settings,
                    "disposal_deadline_passed",
                    f"disposal_deadline_passed:{first.order_id}:{claim.order_id}",
                    (first.court_id, first.case_id, first.order_id),
                    (claim.court_id, claim.case_id, claim.order_id),
                    data,
                )
                cases = (first.court_id, first.case_id), (claim.court_id, claim.case_id)
                details = {
                    "first_order_id": first.order_id,
                    "order_id": claim.order_id,
                    "event": "disposal_due",
                }
                await audit_both(conn, "transfer_deadline", cases, "hub", details)
        except IntegrityError:  # another loop recorded it at the same moment
            return False
        return True

    async def report_overdue(self, now: dt.datetime) -> None:
        """``transfer_answer_overdue`` once per request still open after its ``answer_due_at``."""
        async with self.db.engine.connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(transfer_requests)
                    .where(
                        transfer_requests.c.status == "open",
                        transfer_requests.c.answer_due_at < now,
                        transfer_requests.c.overdue_at.is_(None),
                    )
                    .order_by(transfer_requests.c.requested_at)
                    .limit(500)
                )
            ).all()
        for row in rows:
            if await self._overdue(row, now):
                self.overdue += 1

    async def _overdue(self, row: Any, now: dt.datetime) -> bool:
        try:
            async with self.db.engine.begin() as conn:
                await lock_feed(conn)
                updated = await conn.execute(
                    transfer_requests.update()
                    .where(
                        transfer_requests.c.request_id == row.request_id,
                        transfer_requests.c.status == "open",
                        transfer_requests.c.overdue_at.is_(None),
                    )
                    .values(overdue_at=now)
                )
                if not updated.rowcount:  # answered or reported meanwhile
                    return False
                fresh = (
                    await conn.execute(
                        sa.select(transfer_requests).where(transfer_requests.c.request_id == row.request_id)
                    )
                ).one()
                first, priority = sides(fresh)
                await notify_both(
                    conn,
                    self.settings,
                    "transfer_answer_overdue",
                    f"transfer_answer_overdue:{row.request_id}",
                    first,
                    priority,
                    request_view(fresh),
                )
                details = {"request_id": row.request_id, "event": "answer_overdue"}
                cases = (first[0], first[1]), (priority[0], priority[1])
                await audit_both(conn, "transfer_deadline", cases, "hub", details)
        except IntegrityError:
            return False
        return True
