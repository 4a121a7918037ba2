"""Re-query after 终本 (DOMAIN.md rule 8): every debtor of a terminated case is asked again every
``HUB_REQUERY_INTERVAL_DAYS`` for ``HUB_REQUERY_YEARS``, by the hub's clock, with no court action,
and the court is told what changed.

A supervised gateway loop (``Requery.run``, every ``HUB_REQUERY_CHECK_SECONDS``):

- **submit**: for each termination in force whose ``next_requery_at`` has come, the newest period
  due (see ``gateway.termination.period_due``) is submitted for every debtor of the case through
  the ordinary inquiry path (``routes.inquiries.create_inquiry``: checks, outbox and command), all
  agencies, with the idempotency key ``requery:<case>:<termination>:<debtor key>:<period>``. The
  inquiry carries the officer and legal basis of the case's last inquiry before termination, and
  the purpose ``终本后定期查询 (re-query after termination, period k)``. Two loops (two gateways)
  or a restart in the middle submit each (case, debtor, period) once: the key makes the inquiry
  once, the ``requeries`` row is keyed by (termination, period, debtor), and the schedule advances
  only from the period it read. An inquiry the route refuses (an officer no longer configured,
  say) is recorded on the row as ``refused`` with the reason, and the schedule moves on.
- **report**: once a re-query's inquiry is settled (``complete`` or ``rejected``; ``partial`` once it
  stayed so for ``4 × HUB_RECONCILE_GRACE_SECONDS``, as an agency's late answer may still complete it), the
  hub compares its assets with the previous settled result of that debtor in the case
  (:func:`asset_changes`) and records the lifecycle event ``requery_result`` in the court's feed
  (``gateway.feed``: ``GET /v1/cases/{case_id}/events``, ``GET /v1/events``), pushed to the court's
  webhook signed like order events; once per re-query (the event's key).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from fastapi import HTTPException
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError

from hub.clock import Clock
from hub.masking import mask_text
from hub.settings import HubSettings
from schemas.models import InquiryCreate

from .db import Database, inquiries
from .feed import SETTLED, event_id_for, lock_feed, record_case_event, result_summary
from .tables import utc as _utc
from .termination import ANSWERED, debtor_key, due_at, period_due, requeries, terminations

__all__ = ["Requery", "asset_changes", "requery_purpose"]

log = logging.getLogger(__name__)

Submit = Callable[..., Awaitable[dict[str, str]]]


def requery_purpose(period: int) -> str:
    return f"终本后定期查询 (re-query after termination, period {period})"


def _money(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value is not None else None
    except (InvalidOperation, ValueError):
        return None


def _brief(asset: dict[str, Any]) -> dict[str, Any]:
    return {
        "asset_id": asset["asset_id"],
        "ref": asset.get("ref"),
        "agency": asset.get("agency"),
        "kind": asset.get("kind"),
        "value": asset.get("value"),
        "linkage": (asset.get("linkage") or {}).get("decision"),
    }


def _controls(asset: dict[str, Any]) -> list[dict[str, Any]]:
    return sorted(
        (
            {
                "court": c.get("court"),
                "action": c.get("action"),
                "status": c.get("status"),
                "amount": c.get("amount"),
            }
            for c in asset.get("controls") or []
        ),
        key=lambda c: tuple(str(v) for v in c.values()),
    )


def asset_changes(previous: dict[str, Any] | None, current: dict[str, Any]) -> dict[str, Any]:
    """What changed between two inquiry results of one debtor, asset by asset (by ``asset_id``,
    which names the agency, kind and the registry's ``ref``).

    Returns ``{"new": [asset], "gone": [asset], "changed": [{asset, "changes": {field: {"before",
    "after"}}}], "unchanged": int, "not_compared": [agency]}``; an asset is ``{"asset_id", "ref",
    "agency", "kind", "value", "linkage"}``; ``changes`` may name ``value`` (a deposit's balance or
    the stated value, decimal string), ``available`` (a deposit's balance less other courts'
    controls) and ``controls`` (the controls registered on it, ``{"court", "action", "status",
    "amount"}`` each). An asset counts as gone only when its agency answered the current inquiry
    (an agency that did not answer proves nothing: it is listed in ``not_compared``); without a
    previous result every asset is new.
    """
    agencies = current.get("agencies") or {}
    answered = {name for name, a in agencies.items() if (a or {}).get("status") in ANSWERED}
    before = {a["asset_id"]: a for a in (previous or {}).get("assets", [])}
    after = {a["asset_id"]: a for a in current.get("assets", [])}
    new = [_brief(a) for asset_id, a in after.items() if asset_id not in before]
    gone = [
        _brief(a) for asset_id, a in before.items() if asset_id not in after and a.get("agency") in answered
    ]
    changed, unchanged = [], 0
    for asset_id, now in after.items():
        was = before.get(asset_id)
        if was is None:
            continue
        diff: dict[str, Any] = {}
        if _money(was.get("value")) != _money(now.get("value")):
            diff["value"] = {"before": was.get("value"), "after": now.get("value")}
        was_free = (was.get("details") or {}).get("available")
        now_free = (now.get("details") or {}).get("available")
        if _money(was_free) != _money(now_free):
            diff["available"] = {"before": was_free, "after": now_free}
        if _controls(was) != _controls(now):
            diff["controls"] = {"before": _controls(was), "after": _controls(now)}
        if diff:
            changed.append({**_brief(now), "changes": diff})
        else:
            unchanged += 1
    not_compared = sorted(name for name in agencies if name not in answered)
    return {
        "new": new,
        "gone": gone,
        "changed": changed,
        "unchanged": unchanged,
        "not_compared": not_compared,
    }


def _same_debtor(row: Any, debtor: dict[str, Any]) -> bool:
    mine = (row.request or {}).get("debtor") or {}
    return bool(mine.get("id_type") == debtor["id_type"] and mine.get("id_number") == debtor["id_number"])


class Requery:
    """The re-query loop. ``submit(body=InquiryCreate, court_id=..., idempotency_key=...)`` submits an
    inquiry through the ordinary path (the gateway passes ``routes.inquiries.create_inquiry`` bound
    to its database, relay and settings) and returns ``{"inquiry_id", "status"}``, raising
    ``HTTPException`` when it refuses. ``wake`` (optional) is set after an event is recorded, so the
    webhook dispatcher delivers it at once."""

    def __init__(
        self,
        db: Database,
        settings: HubSettings,
        clock: Clock,
        submit: Submit,
        wake: asyncio.Event | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self.submit = submit
        self.wake = wake
        self.interval_days = settings.requery_interval_days
        self.submitted = 0
        self.refused = 0
        self.reported = 0

    async def run(self) -> None:
        while True:
            await self.run_once()
            await asyncio.sleep(self.settings.requery_check_seconds)

    async def run_once(self) -> None:
        now = self.clock.now()
        for row in await self._due(now):
            await self._submit_due(row, now)
        await self.report_settled()

    async def _due(self, now: dt.datetime) -> list[Any]:
        async with self.db.engine.connect() as conn:
            return list(
                (
                    await conn.execute(
                        sa.select(terminations)
                        .where(
                            terminations.c.active_case_id.is_not(None),
                            terminations.c.next_requery_at.is_not(None),
                            terminations.c.next_requery_at <= now,
                        )
                        .order_by(terminations.c.next_requery_at)
                        .limit(200)
                    )
                ).all()
            )

    async def _submit_due(self, t: Any, now: dt.datetime) -> None:
        terminated_at, ends_at = _utc(t.terminated_at), _utc(t.requery_ends_at)
        period = max(period_due(terminated_at, ends_at, self.interval_days, now), t.next_period)
        due = due_at(terminated_at, period, self.interval_days)
        case_body = await self.db.find_case(t.case_id, t.court_id)
        if case_body is None:  # cannot happen while the case table keeps its rows; do not loop on it
            log.error("termination %s: its case is not in the database", t.termination_id)
            return
        for index, debtor in enumerate(case_body["debtors"]):
            await self._submit_one(t, period, due, index, debtor, now)
        following = due_at(terminated_at, period + 1, self.interval_days)
        async with self.db.engine.begin() as conn:
            # from the period read only: a second loop that advanced it already changes nothing
            await conn.execute(
                terminations.update()
                .where(
                    terminations.c.termination_id == t.termination_id,
                    terminations.c.next_period == t.next_period,
                )
                .values(next_period=period + 1, next_requery_at=following if following <= ends_at else None)
            )

    async def _submit_one(
        self, t: Any, period: int, due: dt.datetime, index: int, debtor: dict[str, Any], now: dt.datetime
    ) -> None:
        key = debtor_key(debtor["id_type"], debtor["id_number"])
        async with self.db.engine.connect() as conn:
            done = (
                await conn.execute(
                    sa.select(requeries.c.period).where(
                        requeries.c.termination_id == t.termination_id,
                        requeries.c.period == period,
                        requeries.c.debtor_key == key,
                    )
                )
            ).first()
        if done is not None:
            return
        inquiry_id: str | None = None
        refused: str | None = None
        fields = {**(t.requery_fields or {}), "purpose": requery_purpose(period)}
        try:
            body = InquiryCreate.model_validate(
                {
                    "case_id": t.case_id,
                    "debtor": {"id_type": debtor["id_type"], "id_number": debtor["id_number"]},
                    **{k: v for k, v in fields.items() if k in InquiryCreate.model_fields},
                }
            )
            answer = await self.submit(
                body=body,
                court_id=t.court_id,
                idempotency_key=f"requery:{t.case_id}:{t.termination_id}:{key}:{period}",
            )
            inquiry_id = answer["inquiry_id"]
        except ValidationError as e:
            refused = "; ".join(f"{'.'.join(map(str, x['loc']))}: {x['msg']}" for x in e.errors())
        except HTTPException as e:
            refused = str(e.detail)
        if refused is not None:
            refused = mask_text(refused)[:1000]
            self.refused += 1
            log.warning("re-query of case %s period %d refused: %s", t.case_id, period, refused)
        try:
            async with self.db.engine.begin() as conn:
                await conn.execute(
                    requeries.insert().values(
                        termination_id=t.termination_id,
                        period=period,
                        debtor_key=key,
                        case_id=t.case_id,
                        court_id=t.court_id,
                        debtor_index=index,
                        due_at=due,
                        submitted_at=now,
                        inquiry_id=inquiry_id,
                        refused=refused,
                    )
                )
            self.submitted += inquiry_id is not None
        except IntegrityError:  # another loop recorded it first (the same inquiry, by its key)
            pass

    async def report_settled(self) -> None:
        """Record ``requery_result`` for every re-query whose inquiry has settled since."""
        async with self.db.engine.connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(requeries, inquiries.c.status, inquiries.c.result, inquiries.c.updated_at)
                    .join(inquiries, inquiries.c.inquiry_id == requeries.c.inquiry_id)
                    .where(requeries.c.reported_at.is_(None), inquiries.c.status.in_(SETTLED))
                    .order_by(requeries.c.submitted_at)
                    .limit(200)
                )
            ).all()
        # a partial result may still become complete (late answers, the reconciler asking again):
        # reported once complete, or once partial for as long as the reconciler waits before it
        # settles an inquiry itself
        patience = dt.timedelta(seconds=4 * self.settings.reconcile_grace_seconds)
        now = dt.datetime.now(dt.UTC)
        for row in rows:
            if row.status == "partial" and now - _utc(row.updated_at) < patience:
                continue
            await self._report(row)

    async def _report(self, row: Any) -> None:
        case_body = await self.db.find_case(row.case_id, row.court_id)
        if case_body is None:
            return
        debtor = case_body["debtors"][row.debtor_index]
        history = [
            r for r in await self.db.inquiries_of_case(row.case_id, row.court_id) if _same_debtor(r, debtor)
        ]
        mine = next(i for i, r in enumerate(history) if r.inquiry_id == row.inquiry_id)
        previous = next(
            (r for r in reversed(history[:mine]) if r.status in ("complete", "partial") and r.result),
            None,
        )
        result = row.result or {}
        t = await self._termination(row.termination_id)
        payload = {
            "termination_id": row.termination_id,
            "period": row.period,
            "due_at": _utc(row.due_at).isoformat(),
            "inquiry_id": row.inquiry_id,
            "inquiry_status": row.status,
            "debtor": {"index": row.debtor_index, "name": debtor["name"], "id_type": debtor["id_type"]},
            "previous_inquiry_id": previous.inquiry_id if previous is not None else None,
            "previous_completed_at": (previous.result or {}).get("completed_at")
            if previous is not None
            else None,
            "changes": asset_changes(previous.result if previous is not None else None, result),
            "found": result_summary(result),
            "next_requery_at": (
                _utc(t.next_requery_at).isoformat()
                if t is not None and t.active_case_id is not None and t.next_requery_at is not None
                else None
            ),
        }
        key = f"requery_result:{row.case_id}:{row.termination_id}:{row.debtor_key}:{row.period}"
        try:
            await self._record(row, payload, key)
        except IntegrityError:  # another loop recorded it at the same moment (its row says so)
            return
        self.reported += 1
        if self.wake is not None:
            self.wake.set()

    async def _record(self, row: Any, payload: dict[str, Any], key: str) -> None:
        async with self.db.engine.begin() as conn:
            await lock_feed(conn)  # before the row update: feed writers take it first
            await record_case_event(
                conn,
                row.case_id,
                row.court_id,
                "requery_result",
                payload,
                key=key,
                webhook_url=self.settings.webhooks_by_court.get(row.court_id),
            )
            await conn.execute(
                requeries.update()
                .where(
                    requeries.c.termination_id == row.termination_id,
                    requeries.c.period == row.period,
                    requeries.c.debtor_key == row.debtor_key,
                    requeries.c.reported_at.is_(None),
                )
                .values(reported_at=self.clock.now(), event_id=event_id_for(key))
            )

    async def _termination(self, termination_id: str) -> Any:
        async with self.db.engine.connect() as conn:
            return (
                await conn.execute(
                    sa.select(terminations).where(terminations.c.termination_id == termination_id)
                )
            ).first()
