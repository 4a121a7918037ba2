"""The live new-asset watch at the gateway: which cases are watched, and what the streams found.

State (``case_watches``, one row per case ever watched): ``by_court`` (``POST
/v1/cases/{case_id}/watch``) and ``by_termination`` (终本: every debtor of a terminated case is
watched until the case resumes). A case is watched while either holds. Every change of a row is
published in the same transaction, through the outbox, as the case's whole
:class:`~schemas.watch.WatchState` on ``hub.watch.debtors`` (keyed by case id), so the stream
workers' index follows the database; :class:`WatchRepublisher` publishes each active watch again
before the topic's retention (``HUB_CONTROL_TOPIC_RETENTION_SECONDS``) could delete it.

Hits (:class:`WatchHits`, group ``hub-gateway-watch`` on ``hub.watch.hits``: one message per
change with every watched debtor it was compared with): a ``match`` or ``possible`` of a case still
watched becomes one ``new_asset`` event (case feed + signed webhook,
``gateway.feed.record_case_event``, idempotent by ``<change_id>|<case_id>|<debtor_index>``)::

    {"asset_id", "agency", "kind", "ref", "value", "change_type", "change_id", "occurred_at",
     "observed_at", "matched_at", "credited", "debtor_index", "linkage": {"decision", "score", "evidence"}}

``possible`` says a judge must confirm the owner before anything is controlled; to control the
asset the court inquires about the debtor (the inquiry lists it under the same ``asset_id``).
``credited`` is the amount of a ``balance_credited`` change.

A ``non_match`` (a namesake: same name, another identity) is never pushed; it is counted once per
(change, case, debtor) in ``watch_exclusions``, shown by ``GET /v1/cases/{case_id}/watch``,
``GET /v1/ops/watch`` and ``hub_watch_namesakes_excluded_total`` on ``/metrics`` (beside
``hub_watch_cases`` and ``hub_watch_new_assets_total``).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import sqlalchemy as sa
import sqlalchemy.exc as sa_exc
from aiokafka import AIOKafkaConsumer
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.kafka import make_consumer
from hub.masking import mask_text
from hub.settings import HubSettings
from schemas.codec import CodecError, dead_letter, decode, encode
from schemas.models import Party
from schemas.topics import WATCH_DEBTORS, WATCH_HITS
from schemas.watch import WatchCandidate, WatchHit, WatchSource, WatchState

from . import feed as _feed  # a module import: gateway.feed and gateway.db import each other
from .db import Database, metadata
from .tables import utc as _utc

__all__ = [
    "WatchHits",
    "WatchRepublisher",
    "case_watches",
    "set_watch",
    "watch_exclusions",
    "watch_metrics",
    "watch_summary",
    "watch_view",
]

log = logging.getLogger(__name__)
# database errors that say the database is away (not that this hit is bad): raised, never dead-lettered
_DB_AWAY = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError, sa_exc.TimeoutError)

case_watches = sa.Table(
    "case_watches",
    metadata,
    sa.Column("case_id", sa.String(64), primary_key=True),
    sa.Column("court_id", sa.String(64), nullable=False),
    sa.Column("by_court", sa.Boolean, nullable=False),
    sa.Column("by_termination", sa.Boolean, nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_case_watches_published", "published_at"),
)
watch_exclusions = sa.Table(
    "watch_exclusions",
    metadata,
    sa.Column("key", sa.String(300), primary_key=True),
    sa.Column("case_id", sa.String(64), nullable=False),
    sa.Column("court_id", sa.String(64), nullable=False),
    sa.Column("agency", sa.String(64), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_watch_exclusions_case", "case_id"),
)


async def watch_metrics(db: Database) -> list[Metric]:
    """The watch's families for the gateway's ``/metrics`` (from the database: they survive restarts)."""
    async with db.engine.connect() as conn:
        counts = await watch_summary(conn)
    watched = GaugeMetricFamily("hub_watch_cases", "Cases whose debtors are watched for new assets")
    watched.add_metric([], counts["watched"])
    pushed = CounterMetricFamily("hub_watch_new_assets", "new_asset events recorded for watched cases")
    pushed.add_metric([], counts["new_assets"])
    excluded = CounterMetricFamily(
        "hub_watch_namesakes_excluded", "Changes of a namesake of a watched debtor: counted, never pushed"
    )
    excluded.add_metric([], counts["namesakes_excluded"])
    return [watched, pushed, excluded]


def _state(
    case: dict[str, Any],
    active: bool,
    sources: list[WatchSource],
    now: dt.datetime,
    started: dt.datetime | None = None,
) -> WatchState:
    return WatchState(
        started_at=_utc(started) if started is not None else None,
        case_id=case["case_id"],
        court_id=case["court_id"],
        case_number=case.get("case_number"),
        active=active,
        sources=sources,
        debtors=[Party.model_validate(d) for d in case.get("debtors", [])],
        updated_at=now,
    )


def _named(by_court: bool, by_termination: bool) -> list[WatchSource]:
    out: list[WatchSource] = []
    if by_court:
        out.append("court")
    if by_termination:
        out.append("termination")
    return out


def _sources(row: Any) -> list[WatchSource]:
    return _named(bool(row.by_court), bool(row.by_termination)) if row is not None else []


async def set_watch(
    db: Database,
    conn: AsyncConnection,
    case: dict[str, Any],
    now: dt.datetime,
    *,
    court: bool | None = None,
    termination: bool | None = None,
) -> Any:
    """Set who watches ``case`` (None: unchanged) in ``conn``'s transaction; when whether it is
    watched or why changed, publish its new :class:`WatchState` through the outbox, and when the
    watch starts or ends record ``watch_started`` / ``watch_stopped`` (``{"case_id", "sources"}``:
    who watches, or who watched) on the case's feed and webhook. Returns the row as it is now
    (None: the case was never watched)."""
    table = case_watches
    row = (await conn.execute(sa.select(table).where(table.c.case_id == case["case_id"]))).first()
    by_court = court if court is not None else bool(row and row.by_court)
    by_term = termination if termination is not None else bool(row and row.by_termination)
    active = by_court or by_term
    was_active = bool(row and (row.by_court or row.by_termination))
    started = (row.started_at if row is not None and was_active else now) if active else None
    values = {"by_court": by_court, "by_termination": by_term, "started_at": started}
    if row is not None and (row.by_court, row.by_termination) == (by_court, by_term):
        return row
    if row is None and not active:
        return None  # never watched, and still not
    # published_at is the machine's time: the topic's retention runs on it, not on the hub's clock
    values |= {"updated_at": now, "published_at": dt.datetime.now(dt.UTC)}
    if row is None:
        await conn.execute(
            table.insert().values(case_id=case["case_id"], court_id=case["court_id"], **values)
        )
    else:
        await conn.execute(table.update().where(table.c.case_id == case["case_id"]).values(**values))
    sources = _named(by_court, by_term)
    await db.add_outbox(
        conn, WATCH_DEBTORS, case["case_id"], encode(_state(case, active, sources, now, started))
    )
    if active != was_active:  # a lifecycle event of the case: feed and signed webhook
        await _feed.record_case_event(
            conn,
            case["case_id"],
            case["court_id"],
            "watch_started" if active else "watch_stopped",
            {"case_id": case["case_id"], "sources": sources if active else _sources(row)},
            webhook_url=db.webhooks.get(case["court_id"]),
            at=now,
        )
    return (await conn.execute(sa.select(table).where(table.c.case_id == case["case_id"]))).first()


def watch_view(case_id: str, row: Any, namesakes: int, new_assets: int) -> dict[str, Any]:
    """``{"case_id", "active", "sources": ["court" | "termination"], "started_at", "updated_at",
    "new_assets", "namesakes_excluded"}`` (times ISO 8601, UTC; never watched: inactive, nulls)."""
    return {
        "case_id": case_id,
        "active": bool(row is not None and (row.by_court or row.by_termination)),
        "sources": _sources(row),
        "started_at": _utc(row.started_at).isoformat() if row is not None and row.started_at else None,
        "updated_at": _utc(row.updated_at).isoformat() if row is not None else None,
        "new_assets": new_assets,
        "namesakes_excluded": namesakes,
    }


async def watch_summary(conn: AsyncConnection, case_id: str | None = None) -> dict[str, int]:
    """Counts of one case (or all): ``watched`` cases, ``new_assets`` events, ``namesakes_excluded``."""
    from .feed import case_events

    watched = sa.select(sa.func.count()).select_from(case_watches)
    watched = watched.where(sa.or_(case_watches.c.by_court, case_watches.c.by_termination))
    excluded = sa.select(sa.func.count()).select_from(watch_exclusions)
    pushed = sa.select(sa.func.count()).select_from(case_events).where(case_events.c.type == "new_asset")
    if case_id is not None:
        watched = watched.where(case_watches.c.case_id == case_id)
        excluded = excluded.where(watch_exclusions.c.case_id == case_id)
        pushed = pushed.where(case_events.c.case_id == case_id)
    return {
        "watched": int((await conn.execute(watched)).scalar_one()),
        "new_assets": int((await conn.execute(pushed)).scalar_one()),
        "namesakes_excluded": int((await conn.execute(excluded)).scalar_one()),
    }


def _payload(hit: WatchHit, candidate: WatchCandidate) -> dict[str, Any]:
    change, asset = hit.change, hit.change.asset
    return {
        "asset_id": hit.asset_id,
        "agency": asset.agency,
        "kind": asset.kind,
        "ref": asset.ref,
        "value": f"{asset.value:.2f}",
        "change_type": change.change_type,
        "change_id": change.change_id,
        "credited": change.credited,
        "occurred_at": change.occurred_at.isoformat(),
        "observed_at": change.observed_at.isoformat(),
        "matched_at": hit.matched_at.isoformat(),
        "debtor_index": candidate.debtor_index,
        "linkage": candidate.linkage.model_dump(mode="json") if candidate.linkage else None,
    }


class WatchHits:
    """Consumes ``hub.watch.hits`` into ``new_asset`` events and namesake counts (see module).

    ``run()`` stores each fetched batch in one transaction, then commits the offsets; a hit that
    cannot be decoded or stored is recorded in the database's dead letters with the reason (the
    others of its batch are stored one by one). Only an unreachable database or broker raises.
    Supervised by the gateway (``recover``: back to the committed offsets)."""

    def __init__(self, db: Database, settings: HubSettings, wake: Any = None) -> None:
        self.db = db
        self.wake = wake  # set after new events were stored: the webhook dispatcher delivers them
        self.consumer: AIOKafkaConsumer = make_consumer(settings, WATCH_HITS, group_id="hub-gateway-watch")
        self.started = False
        self.stored = 0
        self.dead_lettered = 0

    async def start(self) -> None:
        await self.consumer.start()
        self.started = True

    async def stop(self) -> None:
        await self.consumer.stop()

    async def rewind(self) -> None:
        await self.consumer.seek_to_committed()

    async def run(self) -> None:
        while True:
            batch = await self.consumer.getmany(timeout_ms=200, max_records=500)
            hits: list[tuple[Any, WatchHit]] = []
            for messages in batch.values():
                for msg in messages:
                    try:
                        hits.append((msg, decode(WATCH_HITS, msg.value)))
                    except CodecError as e:
                        await self._dead_letter(msg, e)
            if hits:
                try:
                    await self.store([h for _, h in hits])
                except _DB_AWAY:
                    raise
                except Exception:  # one of them cannot be stored: the others are, one by one
                    for msg, hit in hits:
                        try:
                            await self.store([hit])
                        except _DB_AWAY:
                            raise
                        except Exception as e:
                            await self._dead_letter(msg, e)
            if batch:
                await self.consumer.commit()

    async def _dead_letter(self, msg: Any, error: BaseException) -> None:
        """Record a hit that can never be stored in the database's dead letters (the ops desk's)."""
        letter = dead_letter(
            topic=msg.topic,
            value=msg.value,
            stage="gateway.watch_hits",
            error=error,
            partition=msg.partition,
            offset=msg.offset,
            key=msg.key,
        )
        letter.reason = mask_text(letter.reason)
        log.warning(
            "watch: hit at %s[%s]@%s dead-lettered: %s", msg.topic, msg.partition, msg.offset, letter.reason
        )
        await self.db.add_dead_letter(letter.model_dump(mode="json"))
        self.dead_lettered += 1

    async def store(self, hits: list[WatchHit]) -> None:
        """Record the hits in one transaction (idempotent by each candidate's key): a match or
        possible of a case still watched as ``new_asset``, a non_match as an exclusion row."""
        cases = {c.case_id for h in hits for c in h.candidates}
        async with self.db.engine.begin() as conn:
            watched = set()
            for chunk in _chunks(sorted(cases), 500):
                query = sa.select(case_watches.c.case_id).where(
                    case_watches.c.case_id.in_(chunk),
                    sa.or_(case_watches.c.by_court, case_watches.c.by_termination),
                )
                watched |= set((await conn.execute(query)).scalars())
            excluded: dict[str, dict[str, Any]] = {}
            for hit in hits:
                for c in hit.candidates:
                    if c.case_id not in watched:
                        continue  # the watch ended (DELETE, resumption) before the hit arrived
                    key = hit.key(c)[:300]
                    if c.decision == "non_match":
                        excluded[key] = {
                            "key": key,
                            "case_id": c.case_id,
                            "court_id": c.court_id,
                            "agency": hit.change.agency,
                            "at": hit.matched_at,
                        }
                        continue
                    await _feed.record_case_event(
                        conn,
                        c.case_id,
                        c.court_id,
                        "new_asset",
                        _payload(hit, c),
                        key=f"new_asset:{key}",
                        webhook_url=self.db.webhooks.get(c.court_id),
                    )
            for chunk in _chunks(list(excluded), 500):
                seen = sa.select(watch_exclusions.c.key).where(watch_exclusions.c.key.in_(chunk))
                known = set((await conn.execute(seen)).scalars())
                rows = [excluded[k] for k in chunk if k not in known]
                if rows:
                    await conn.execute(watch_exclusions.insert(), rows)
        self.stored += len(hits)
        if self.wake is not None:
            self.wake.set()


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


class WatchRepublisher:
    """Publishes each active watch again once its last publication is older than half the topic's
    retention, so ``hub.watch.debtors`` always holds every active watch (checks every ``interval``)."""

    def __init__(self, db: Database, settings: HubSettings, wake: Any, interval: float = 60.0) -> None:
        self.db = db
        self.max_age = dt.timedelta(seconds=settings.control_topic_retention_seconds / 2)
        self.wake = wake
        self.interval = interval
        self.republished = 0

    async def run(self) -> None:
        import asyncio

        from .db import cases as cases_table

        while True:
            now = dt.datetime.now(dt.UTC)
            async with self.db.engine.begin() as conn:
                rows = (
                    await conn.execute(
                        sa.select(case_watches, cases_table.c.body)
                        .join(cases_table, cases_table.c.case_id == case_watches.c.case_id)
                        .where(sa.or_(case_watches.c.by_court, case_watches.c.by_termination))
                        .where(case_watches.c.published_at < now - self.max_age)
                        .limit(1000)
                    )
                ).all()
                for row in rows:
                    state = _state(row.body, True, _sources(row), now, row.started_at)
                    await self.db.add_outbox(conn, WATCH_DEBTORS, row.case_id, encode(state))
                    await conn.execute(
                        case_watches.update()
                        .where(case_watches.c.case_id == row.case_id)
                        .values(published_at=now)
                    )
            self.republished += len(rows)
            if rows:
                self.wake.set()
                continue
            await asyncio.sleep(self.interval)
