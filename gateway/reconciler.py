"""Anti-entropy for accepted inquiries: the database, not the broker, is the record of what was
accepted, so every accepted inquiry settles whatever was lost between the processes.

The stream processors settle an inquiry at its SLA deadline. They can only do so for an inquiry
they know of; a command or an ``opened`` record lost in transit (a stream worker killed in the
middle of a rebalance, a broker whose log was lost) leaves an inquiry that nothing would ever
settle. So every ``HUB_RECONCILE_INTERVAL_SECONDS`` the gateway looks for inquiries still pending
in its database past their SLA:

- past ``SLA + HUB_RECONCILE_GRACE_SECONDS`` it **re-drives** the inquiry: the same command, same
  inquiry id and idempotency key, through the outbox again. The streams fan it out again; the
  agencies' answers are kept once per agency, so a repeat changes nothing but what was missing.
  At most once per grace period per inquiry.
- past ``SLA + 4 × grace`` it **settles** the inquiry itself as ``partial``, every agency without
  an answer marked ``unavailable`` ("no answer from the hub within the SLA"). The result keeps its
  version, so a later answer from the streams still replaces it.

An inquiry the SLA settled ``partial`` because an agency never answered (``unavailable``, "no
answer within the inquiry's SLA": a request lost with a killed connector, or a slow agency) is
**asked again** too, past ``SLA + grace``: the same command through the outbox, at most
``PARTIAL_REDRIVES`` times, once per grace period, until ``SLA + 10 × grace``. The streams keep
the answers they have and re-send every request; an answer that arrives upgrades the result
(a newer version, ``complete`` once every agency answered). An agency that answered
``unavailable`` or ``failed`` itself (an outage, a circuit open) is not asked again.

A control order of which nothing was heard (still ``pending``) ``HUB_CONTROL_RETRY_SECONDS + grace``
after it was accepted, longer than a connector retries it against its agency, is sent again as it
was first sent, at most once per grace period; the ledger sends a still-unanswered order's command
to the agency again, and the agency is idempotent by order id, so it is executed once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from typing import Any

from hub.settings import HubSettings
from schemas.codec import encode
from schemas.models import ControlOrderRequested, DebtorRef, InquiryRequested
from schemas.topics import COURT_COMMANDS

from .db import Database
from .pipeline import OutboxRelay

__all__ = ["Reconciler"]

log = logging.getLogger(__name__)

UNANSWERED = "no answer from the hub within the inquiry's SLA"
TIMED_OUT = "no answer within the inquiry's SLA"  # what the streams' SLA timer records
PARTIAL_REDRIVES = 2


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def settled_result(row: Any, now: dt.datetime) -> dict[str, Any]:
    """The ``partial`` result the gateway stores for an inquiry the hub never settled: what was
    answered so far is kept; every agency still pending is ``unavailable``."""
    base: dict[str, Any] = dict(row.result or {})
    agencies = dict(base.get("agencies") or {})
    for agency in row.request.get("agencies", []):
        current = agencies.get(agency) or {"status": "pending"}
        if current.get("status") == "pending":
            agencies[agency] = {**current, "status": "unavailable", "detail": UNANSWERED}
    return {
        **base,
        "inquiry_id": row.inquiry_id,
        "case_id": row.case_id,
        "court_id": row.court_id,
        "status": "partial",
        "detail": UNANSWERED,
        "agencies": agencies,
        "assets": base.get("assets", []),
        "excluded_non_matches": base.get("excluded_non_matches", 0),
        "version": row.version,
        "updated_at": now.isoformat(),
        "completed_at": now.isoformat(),
    }


def timed_out_agencies(result: dict[str, Any] | None) -> list[str]:
    """The agencies of a settled result that never answered: ``unavailable`` by the SLA timer."""
    agencies = (result or {}).get("agencies") or {}
    return [
        name
        for name, state in agencies.items()
        if state.get("status") == "unavailable" and state.get("detail") in (TIMED_OUT, UNANSWERED)
    ]


class Reconciler:
    def __init__(self, db: Database, relay: OutboxRelay, settings: HubSettings) -> None:
        self.db = db
        self.relay = relay
        self.sla = settings.inquiry_sla_seconds
        self.grace = settings.reconcile_grace_seconds
        self.interval = settings.reconcile_interval_seconds
        self.order_wait = settings.control_retry_seconds + settings.reconcile_grace_seconds
        self._redriven: dict[str, float] = {}  # inquiry id -> monotonic time of the last re-drive
        self._partial_redrives: dict[str, int] = {}  # partial inquiry id -> times asked again
        self.redriven = 0
        self.settled = 0

    async def run(self) -> None:
        while True:
            await self.reconcile_once()
            await asyncio.sleep(self.interval)

    async def reconcile_once(self) -> None:
        now = dt.datetime.now(dt.UTC)
        rows = await self.db.unsettled_inquiries(now - dt.timedelta(seconds=self.sla + self.grace))
        still = set()
        for row in rows:
            still.add(row.inquiry_id)
            age = (now - _utc(row.created_at)).total_seconds()
            if age > self.sla + 4 * self.grace:
                if await self.db.settle_unanswered(row.inquiry_id, row.version, settled_result(row, now)):
                    self.settled += 1
                    log.warning("inquiry %s settled by the gateway: no answer from the hub", row.inquiry_id)
                continue
            last = self._redriven.get(row.inquiry_id)
            if last is not None and time.monotonic() - last < self.grace:
                continue
            await self._redrive(row)
        for row in await self.db.timed_out_partials(
            now - dt.timedelta(seconds=self.sla + 10 * self.grace),
            now - dt.timedelta(seconds=self.sla + self.grace),
        ):
            if not timed_out_agencies(row.result):
                continue
            still.add(row.inquiry_id)
            last = self._redriven.get(row.inquiry_id)
            if self._partial_redrives.get(row.inquiry_id, 0) >= PARTIAL_REDRIVES or (
                last is not None and time.monotonic() - last < self.grace
            ):
                continue
            self._partial_redrives[row.inquiry_id] = self._partial_redrives.get(row.inquiry_id, 0) + 1
            await self._redrive(row)
        for row in await self.db.unanswered_orders(now - dt.timedelta(seconds=self.order_wait)):
            still.add(row.order_id)
            last = self._redriven.get(row.order_id)
            command = row.request.get("command")
            if command is None or (last is not None and time.monotonic() - last < self.grace):
                continue
            await self._send_again(row.order_id, row.case_id, ControlOrderRequested.model_validate(command))
        for key in set(self._redriven) - still:
            del self._redriven[key]
        for key in set(self._partial_redrives) - still:
            del self._partial_redrives[key]

    async def _redrive(self, row: Any) -> None:
        if not row.request.get("debtor"):
            return  # an inquiry that reached the hub without this gateway: nothing to send again
        command = InquiryRequested(
            inquiry_id=row.inquiry_id,
            case_id=row.case_id,
            court_id=row.court_id,
            # as accepted (a debtor registered with a check override would not validate again)
            debtor=DebtorRef.model_construct(**row.request["debtor"]),
            agencies=row.request.get("agencies", []),
            requested_at=_utc(row.created_at),
            idempotency_key=row.idempotency_key or row.inquiry_id,
            officer=row.request.get("officer"),
            purpose=row.request.get("purpose"),
            legal_basis=row.request.get("legal_basis"),
        )
        await self._send_again(row.inquiry_id, row.case_id, command)

    async def _send_again(self, ident: str, case_id: str, command: Any) -> None:
        async with self.db.engine.begin() as conn:
            await self.db.add_outbox(conn, COURT_COMMANDS, case_id, encode(command))
        self.relay.wake.set()
        self._redriven[ident] = time.monotonic()
        self.redriven += 1
        log.warning("%s still unanswered: sent again", ident)
