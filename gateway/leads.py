"""Leads (财产线索, DOMAIN.md rule 9): what an applicant reports about a debtor's asset, checked by a
targeted inquiry and settled within ``HUB_LEAD_DAYS`` (``HUB_LEAD_URGENT_DAYS`` if urgent) by the
hub's clock.

**The record**: one row of ``leads`` per lead; ``inquiry_ids`` are the targeted inquiries the hub
ran when the lead was recorded (one per debtor of the case, that agency only, through the ordinary
inquiry path: ``routes.inquiries.create_inquiry``). ``status`` is ``open`` until the lead settles:

- ``verified``: an inquiry of the lead found a linked asset (linkage ``match`` or ``possible``) at
  that agency, with the registry reference ``asset_ref`` when the lead gave one (compared without
  white space, case-insensitively);
- ``not_found``: every inquiry of the lead has the agency's answer (``answered`` or ``no_record``)
  and none found such an asset.

An agency that did not answer (``unavailable``, ``failed``, ...) leaves the lead open.

**The loop** (:class:`FollowUps`, a supervised gateway loop, every ``HUB_LEAD_CHECK_SECONDS``)
records ``lead_settled`` once a lead settles and ``lead_overdue`` once for a lead still open after
its ``due_at``; it also reminds the court of deducted money held too long (``gateway.funds``).
Both events go to the court's feed and its signed webhook (``gateway.feed.record_case_event``), once
each (the event's key: ``lead_settled:<lead_id>``, ``lead_overdue:<lead_id>``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from hub.clock import Clock
from hub.settings import HubSettings

# the module, not its names: gateway.feed imports gateway.db, which imports this one
from . import feed, funds
from .db import Database, inquiries, metadata
from .tables import utc as _utc
from .termination import ANSWERED

__all__ = ["LINKED", "FollowUps", "lead_due_at", "lead_outcome", "lead_view", "leads"]

log = logging.getLogger(__name__)

leads = sa.Table(
    "leads",
    metadata,
    sa.Column("lead_id", sa.String(64), primary_key=True),
    sa.Column("case_id", sa.String(64), nullable=False, index=True),
    sa.Column("court_id", sa.String(64), nullable=False),
    sa.Column("agency", sa.String(40), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("asset_ref", sa.String(300)),
    sa.Column("urgent", sa.Boolean, nullable=False),
    sa.Column("officer", sa.String(100), nullable=False),
    sa.Column("status", sa.String(16), nullable=False, index=True),  # open | verified | not_found
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("inquiry_ids", sa.JSON, nullable=False),
    sa.Column("found", sa.JSON),  # the matching assets, once settled
    sa.Column("settled_at", sa.DateTime(timezone=True)),
    sa.Column("event_id", sa.String(64)),  # lead_settled
    sa.Column("overdue_at", sa.DateTime(timezone=True)),
    sa.Column("overdue_event_id", sa.String(64)),  # lead_overdue
    sa.Column("idempotency_key", sa.String(200)),
    sa.Column("request_hash", sa.String(64)),
    sa.UniqueConstraint("court_id", "idempotency_key", name="uq_leads_idempotency"),
)

# linkage decisions that make an asset the debtor's (a namesake's, ``non_match``, never verifies)
LINKED = frozenset({"match", "possible"})
DAY = dt.timedelta(days=1)


def lead_due_at(created_at: dt.datetime, urgent: bool, settings: HubSettings) -> dt.datetime:
    """``created_at`` plus ``HUB_LEAD_URGENT_DAYS`` (urgent) or ``HUB_LEAD_DAYS``."""
    return created_at + (settings.lead_urgent_days if urgent else settings.lead_days) * DAY


def _plain(ref: Any) -> str:
    return "".join(str(ref or "").split()).casefold()


def _brief(asset: dict[str, Any], inquiry_id: str) -> dict[str, Any]:
    return {
        "asset_id": asset.get("asset_id"),
        "ref": asset.get("ref"),
        "agency": asset.get("agency"),
        "kind": asset.get("kind"),
        "value": asset.get("value"),
        "inquiry_id": inquiry_id,
    }


def lead_outcome(
    agency: str, asset_ref: str | None, results: Sequence[tuple[str, dict[str, Any] | None]]
) -> tuple[str, list[dict[str, Any]]]:
    """``(status, found)`` of a lead from its inquiries' results (``(inquiry_id, result or None)``).

    ``status``: ``verified``, ``not_found`` or ``open`` (see the module's docstring); ``found``: the
    matching assets ``{"asset_id", "ref", "agency", "kind", "value", "inquiry_id"}`` (verified only).
    """
    found = [
        _brief(asset, inquiry_id)
        for inquiry_id, result in results
        for asset in (result or {}).get("assets", [])
        if asset.get("agency") == agency
        and (asset.get("linkage") or {}).get("decision") in LINKED
        and (asset_ref is None or _plain(asset.get("ref")) == _plain(asset_ref))
    ]
    if found:
        return "verified", found
    answered = bool(results) and all(
        result is not None and ((result.get("agencies") or {}).get(agency) or {}).get("status") in ANSWERED
        for _, result in results
    )
    return ("not_found" if answered else "open"), []


def _iso(value: dt.datetime | None) -> str | None:
    return _utc(value).isoformat() if value is not None else None


def lead_view(row: Any) -> dict[str, Any]:
    """A lead as the API serves it: ``{"lead_id", "case_id", "agency", "description", "asset_ref",
    "urgent", "status" (open | verified | not_found), "created_at", "due_at", "inquiry_ids",
    "found" ([asset] once verified), "settled_at", "settled_event_id", "overdue_at",
    "overdue_event_id"}``; times RFC 3339 by the hub's clock, null until they happen."""
    return {
        "lead_id": row.lead_id,
        "case_id": row.case_id,
        "agency": row.agency,
        "description": row.description,
        "asset_ref": row.asset_ref,
        "urgent": bool(row.urgent),
        "status": row.status,
        "created_at": _iso(row.created_at),
        "due_at": _iso(row.due_at),
        "inquiry_ids": list(row.inquiry_ids or []),
        "found": list(row.found or []),
        "settled_at": _iso(row.settled_at),
        "settled_event_id": row.event_id,
        "overdue_at": _iso(row.overdue_at),
        "overdue_event_id": row.overdue_event_id,
    }


def _event_payload(row: Any) -> dict[str, Any]:
    return {
        "lead_id": row.lead_id,
        "agency": row.agency,
        "asset_ref": row.asset_ref,
        "urgent": bool(row.urgent),
        "due_at": _iso(row.due_at),
        "inquiry_ids": list(row.inquiry_ids or []),
    }


class FollowUps:
    """The loop that settles leads, reports overdue ones and reminds the court of deducted money held
    longer than ``HUB_PAYOUT_DAYS``. ``wake`` (optional) is set after an event is recorded, so the
    webhook dispatcher delivers it at once."""

    def __init__(
        self, db: Database, settings: HubSettings, clock: Clock, wake: asyncio.Event | None = None
    ) -> None:
        self.db, self.settings, self.clock, self.wake = db, settings, clock, wake
        self.settled = 0
        self.overdue = 0
        self.reminded = 0

    async def run(self) -> None:
        while True:
            await self.run_once()
            await asyncio.sleep(self.settings.lead_check_seconds)

    async def run_once(self) -> None:
        now = self.clock.now()
        before = self.settled + self.overdue + self.reminded
        await self.settle_leads(now)
        await self.report_overdue(now)
        self.reminded += await funds.remind_held(self.db, self.settings, now)
        if self.wake is not None and self.settled + self.overdue + self.reminded > before:
            self.wake.set()

    async def _open(self, *conditions: Any) -> list[Any]:
        async with self.db.engine.connect() as conn:
            return list(
                (
                    await conn.execute(
                        sa.select(leads)
                        .where(leads.c.status == "open", *conditions)
                        .order_by(leads.c.created_at)
                        .limit(500)
                    )
                ).all()
            )

    async def settle_leads(self, now: dt.datetime) -> None:
        """Record ``lead_settled`` for every open lead whose inquiries settle it."""
        for row in await self._open():
            ids = list(row.inquiry_ids or [])
            async with self.db.engine.connect() as conn:
                stored = {
                    r.inquiry_id: r.result
                    for r in await conn.execute(
                        sa.select(inquiries.c.inquiry_id, inquiries.c.result).where(
                            inquiries.c.inquiry_id.in_(ids)
                        )
                    )
                }
            status, found = lead_outcome(row.agency, row.asset_ref, [(i, stored.get(i)) for i in ids])
            if status == "open":
                continue
            payload = {
                **_event_payload(row),
                "status": status,
                "found": found,
                "settled_at": now.isoformat(),
                "on_time": now <= _utc(row.due_at),
            }
            key = f"lead_settled:{row.lead_id}"
            values = {"status": status, "found": found, "settled_at": now, "event_id": feed.event_id_for(key)}
            if await self._record(row, "lead_settled", payload, key, values):
                self.settled += 1

    async def report_overdue(self, now: dt.datetime) -> None:
        """Record ``lead_overdue`` once for every lead still open after its ``due_at``."""
        for row in await self._open(leads.c.due_at < now, leads.c.overdue_at.is_(None)):
            payload = {**_event_payload(row), "status": "open", "overdue_since": _iso(row.due_at)}
            key = f"lead_overdue:{row.lead_id}"
            values = {"overdue_at": now, "overdue_event_id": feed.event_id_for(key)}
            if await self._record(row, "lead_overdue", payload, key, values):
                self.overdue += 1

    async def _record(
        self, row: Any, kind: str, payload: dict[str, Any], key: str, values: dict[str, Any]
    ) -> bool:
        unchanged = leads.c.status == "open" if kind == "lead_settled" else leads.c.overdue_at.is_(None)
        try:
            async with self.db.engine.begin() as conn:
                await feed.lock_feed(conn)  # before the row update: feed writers take it first
                updated = await conn.execute(
                    leads.update().where(leads.c.lead_id == row.lead_id, unchanged).values(**values)
                )
                if not updated.rowcount:  # another loop settled or reported it meanwhile
                    return False
                await feed.record_case_event(
                    conn,
                    row.case_id,
                    row.court_id,
                    kind,
                    payload,
                    key=key,
                    webhook_url=self.settings.webhooks_by_court.get(row.court_id),
                )
        except IntegrityError:  # another loop recorded it at the same moment
            return False
        return True
