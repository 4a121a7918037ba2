"""Control orders, the events of their outcomes and the webhook deliveries that push them: the
part of :class:`gateway.db.Database` that stores them (a mixin on its ``engine``)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from .tables import control_orders, court_events, metadata, webhook_deliveries

__all__ = ["OrderRecords"]


class OrderRecords:
    """Control orders, their events and webhook deliveries (``Database`` inherits these)."""

    engine: AsyncEngine

    async def insert_order(
        self,
        conn: AsyncConnection,
        *,
        order_id: str,
        court_id: str,
        case_id: str,
        asset_id: str,
        request: dict[str, Any],
        idempotency_key: str | None,
        request_hash: str,
    ) -> None:
        now = dt.datetime.now(dt.UTC)
        await conn.execute(
            control_orders.insert().values(
                order_id=order_id,
                court_id=court_id,
                case_id=case_id,
                asset_id=asset_id,
                request=request,
                status="pending",
                idempotency_key=idempotency_key,
                request_hash=request_hash,
                created_at=now,
                updated_at=now,
            )
        )

    async def get_order(self, order_id: str, court_id: str) -> sa.Row[Any] | None:
        async with self.engine.connect() as conn:
            return (
                await conn.execute(
                    sa.select(control_orders).where(
                        control_orders.c.order_id == order_id, control_orders.c.court_id == court_id
                    )
                )
            ).first()

    async def orders_of_case(self, case_id: str, court_id: str) -> Sequence[sa.Row[Any]]:
        async with self.engine.connect() as conn:
            return (
                await conn.execute(
                    sa.select(control_orders)
                    .where(control_orders.c.case_id == case_id, control_orders.c.court_id == court_id)
                    .order_by(control_orders.c.created_at)
                )
            ).all()

    async def events_of_order(self, order_id: str) -> list[dict[str, Any]]:
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(court_events.c.body)
                    .where(court_events.c.order_id == order_id)
                    .order_by(court_events.c.seq)
                )
            ).all()
        return [r.body for r in rows]

    async def store_events(self, events: list[dict[str, Any]], webhooks: dict[str, str]) -> list[str]:
        """Record court events once each (by event id); update each order's state; queue webhooks.

        Returns the ids of the events that were new.
        """
        new: list[str] = []
        now = dt.datetime.now(dt.UTC)
        async with self.engine.begin() as conn:
            await feed.lock_feed(conn)  # before any row lock: see gateway/feed.py
            for event in events:
                seen = (
                    await conn.execute(
                        sa.select(court_events.c.event_id).where(court_events.c.event_id == event["event_id"])
                    )
                ).first()
                if seen:
                    continue
                seq = (
                    await conn.execute(
                        sa.select(sa.func.count()).where(court_events.c.order_id == event["order_id"])
                    )
                ).scalar_one()
                await conn.execute(
                    court_events.insert().values(
                        event_id=event["event_id"],
                        order_id=event["order_id"],
                        court_id=event["court_id"],
                        case_id=event["case_id"],
                        kind=event["kind"],
                        body=event,
                        seq=seq,
                        received_at=now,
                    )
                )
                state = event["order"]
                updated = await conn.execute(
                    control_orders.update()
                    .where(control_orders.c.order_id == event["order_id"])
                    .values(state=state, status=state["status"], updated_at=now)
                )
                if not updated.rowcount:  # an order that reached the streams without this gateway
                    await conn.execute(
                        control_orders.insert().values(
                            order_id=event["order_id"],
                            court_id=event["court_id"],
                            case_id=event["case_id"],
                            asset_id=state["asset_id"],
                            request={},
                            status=state["status"],
                            state=state,
                            created_at=now,
                            updated_at=now,
                        )
                    )
                url = webhooks.get(event["court_id"])
                if url:
                    await conn.execute(
                        webhook_deliveries.insert().values(
                            event_id=event["event_id"],
                            court_id=event["court_id"],
                            url=url,
                            body=json.dumps(event, ensure_ascii=False, sort_keys=True).encode(),
                            status="pending",
                            attempts=0,
                            created_at=now,
                        )
                    )
                # the court's feed (its webhook got the event above, under the same event id)
                await feed.record_case_event(
                    conn,
                    event["case_id"],
                    event["court_id"],
                    "order_event",
                    event,
                    event_id=event["event_id"],
                )
                new.append(event["event_id"])
        return new

    async def latest_case_event(self, case_id: str) -> dict[str, Any] | None:
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    sa.select(court_events.c.body)
                    .where(court_events.c.case_id == case_id)
                    .order_by(court_events.c.received_at.desc(), court_events.c.seq.desc())
                    .limit(1)
                )
            ).first()
        return row.body if row else None

    # ------------------------------------------------------------ webhooks
    async def pending_deliveries(self, limit: int = 100) -> Sequence[sa.Row[Any]]:
        async with self.engine.connect() as conn:
            return (
                await conn.execute(
                    sa.select(webhook_deliveries)
                    .where(webhook_deliveries.c.status == "pending")
                    .order_by(webhook_deliveries.c.created_at)
                    .limit(limit)
                )
            ).all()

    async def finish_delivery(
        self, event_id: str, *, delivered: bool, attempts: int, error: str | None
    ) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                webhook_deliveries.update()
                .where(webhook_deliveries.c.event_id == event_id)
                .values(
                    status="delivered" if delivered else "failed",
                    attempts=attempts,
                    last_error=error,
                    delivered_at=dt.datetime.now(dt.UTC) if delivered else None,
                )
            )
            await _audit_delivery(conn, event_id, delivered, attempts)


async def _audit_delivery(conn: AsyncConnection, event_id: str, delivered: bool, attempts: int) -> None:
    """Audit a webhook delivery's end, under the case of the event it carried (an order event, or
    an event of the court's feed)."""
    feed_events = metadata.tables.get("case_events")
    event = None
    for table in (court_events, feed_events):
        if event is None and table is not None:
            query = sa.select(table.c.court_id, table.c.case_id).where(table.c.event_id == event_id)
            event = (await conn.execute(query)).first()
    if event is None:
        return
    details = {"event_id": event_id, "delivered": delivered, "attempts": attempts}
    await _audit.record(conn, "webhook_delivery", event.case_id, event.court_id, "hub", details)


# the audit trail and the court feed import ``gateway.db``, which imports this module first
from . import audit as _audit  # noqa: E402
from . import feed  # noqa: E402
