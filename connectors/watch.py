"""Following every registry's change feed into ``hub.watch.changes`` (the live new-asset watch).

Each agency's feed has its own shape; how the connector reads each is one declarative table,
:data:`FEED_CLIENTS` (path, cursor and page-size parameters, where the changes and the next cursor
sit in the reply, the field names of a change, and which of the agency's own record mappers turns
the record into a :data:`~schemas.models.AssetRecord` — the same mapper its inquiries use).

:class:`FeedFollower` (one per agency) polls its feed every ``HUB_WATCH_POLL_SECONDS`` (at once
again while pages come back full), publishes every change as an :class:`~schemas.watch.AssetChange`
keyed ``<agency>/<ref>``, waits for the broker's acknowledgement of the whole page, and only then
stores the feed's cursor (:class:`CursorStore`, SQLite in ``<state dir>/connectors/feeds.db``). A
crash between the two re-reads that page after a restart: at-least-once, and ``change_id`` lets
the streams and the gateway recognise a repeat. A change whose record cannot be read goes to the
dead-letter topic with the reason, and the feed moves on. Registry errors are classified by the
agency's adapter (``classify_response``) and retried after ``HUB_WATCH_POLL_SECONDS`` (doubling up
to 30 s); nothing here ever ends the loop but cancellation.

Only one process follows an agency's feed at a time: it holds ``<state dir>/connectors/feed-<agency>.lock``
(an exclusive ``flock``); another connector process sharing the state directory waits for it and
takes over when the holder dies.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import fcntl
import logging
import os
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from prometheus_client import Counter, Gauge
from pydantic import TypeAdapter

from hub.errors import HubError
from hub.masking import mask_text
from hub.settings import HubSettings
from schemas.agencies import AgencyType, agency_slug, agency_type
from schemas.codec import dead_letter, encode
from schemas.models import AssetRecord, DeadLetter
from schemas.topics import DEAD_LETTERS, WATCH_CHANGES
from schemas.watch import AssetChange

from . import commerce, land, police, real_estate, securities
from .adapter import AgencyAdapter
from .runtime import METRICS_REGISTRY

__all__ = ["FEED_CLIENTS", "CursorStore", "FeedClient", "FeedFollower"]

log = logging.getLogger(__name__)

FEED_CHANGES = Counter(
    "hub_watch_feed_changes", "Registry changes published to hub.watch.changes", ["agency"],
    registry=METRICS_REGISTRY,
)  # fmt: skip
FEED_ERRORS = Counter(
    "hub_watch_feed_errors", "Failed polls of a registry's change feed", ["agency"], registry=METRICS_REGISTRY
)
FEED_LAG = Gauge(
    "hub_watch_feed_delay_seconds",
    "Seconds between a change's registration and its publication (last change)",
    ["agency"],
    registry=METRICS_REGISTRY,
)
_RECORD = TypeAdapter(AssetRecord)
Parse = Callable[[AgencyAdapter, dict[str, Any]], Any]


@dataclass(frozen=True)
class FeedClient:
    """How the connector reads one agency type's change feed."""

    path: str
    cursor: str  # query parameter of the cursor
    size: str  # query parameter of the page size
    page: int
    unwrap: tuple[str, ...]  # keys from the reply down to the object with the changes
    items: str
    next: str  # the cursor to pass next, beside the items
    seq: str
    type: str
    time: str
    record: str
    parse: Parse
    start: str = "0"  # the cursor of the feed's beginning
    credited: str | None = None


def _bank_account(adapter: AgencyAdapter, record: dict[str, Any]) -> Any:
    return adapter._account(record)  # type: ignore[attr-defined]  # BankAdapter: its agency in the record


FEED_CLIENTS: dict[AgencyType, FeedClient] = {
    AgencyType.police: FeedClient(
        "/api/v2/changes", "since", "rows", 20, ("data",), "changes", "last", "bgxh", "bglx", "bgsj",
        "person", lambda _, p: police._vehicle(p["vehicles"][0], police._owner(p)),
    ),
    AgencyType.commerce: FeedClient(
        "/open/v1/equity/changes", "fromSeq", "pageSize", 20, ("result",), "list", "lastSeq",
        "changeSeq", "changeType", "changeTime", "stake", lambda _, r: commerce._stake(r),
    ),
    AgencyType.real_estate: FeedClient(
        "/rest/v1/changes", "after", "limit", 50, (), "items", "nextAfter", "sequence", "event",
        "occurredAt", "right", lambda _, r: real_estate._right(r),
    ),
    AgencyType.land: FeedClient(
        "/landreg/changes", "qsxh", "ts", 20, (), "records", "zxxh", "xh", "bglx", "bgsj", "qlxx",
        lambda _, r: land._right(r),
    ),
    AgencyType.bank: FeedClient(
        "/fi/v1/account-events", "cursor", "limit", 20, (), "events", "next_cursor", "eventId",
        "eventType", "occurredAt", "account", _bank_account, start="", credited="creditedAmount",
    ),
    AgencyType.securities: FeedClient(
        "/csdc/v3/changes", "startSeq", "size", 50, ("data",), "changes", "nextSeq", "seqNo",
        "changeType", "changeTime", "account", lambda _, r: securities._account(r),
    ),
}  # fmt: skip


class CursorStore:
    """Each feed's cursor, in SQLite (``path``); written only after the broker acknowledged the page."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=10)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS feed_cursors (agency TEXT PRIMARY KEY, cursor TEXT NOT NULL,"
            " updated_at TEXT NOT NULL)"
        )

    def get(self, agency: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT cursor FROM feed_cursors WHERE agency = ?", (agency,)).fetchone()
        return row[0] if row else None

    def put(self, agency: str, cursor: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO feed_cursors (agency, cursor, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT(agency) DO UPDATE SET cursor = excluded.cursor,"
                " updated_at = excluded.updated_at",
                (agency, cursor, dt.datetime.now(dt.UTC).isoformat()),
            )

    def close(self) -> None:
        self._db.close()


def _dig(reply: Any, keys: tuple[str, ...]) -> dict[str, Any]:
    for k in keys:
        reply = reply[k]
    if not isinstance(reply, dict):
        raise TypeError("the feed's reply is not an object")
    return reply


class FeedFollower:
    """Follows one agency's change feed (see the module's docstring). ``run()`` never returns."""

    def __init__(
        self,
        adapter: AgencyAdapter,
        settings: HubSettings,
        *,
        producer: AIOKafkaProducer,
        client: httpx.AsyncClient,
        cursors: CursorStore,
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.adapter = adapter
        self.agency = adapter.agency
        self.shape = FEED_CLIENTS[agency_type(self.agency)]
        self.producer = producer
        self.client = client
        self.cursors = cursors
        self.interval = settings.watch_poll_seconds
        self.now = now
        self._lock_path = settings.state_dir / "connectors" / f"feed-{agency_slug(self.agency)}.lock"
        self._lock_fd: int | None = None
        self.published = 0
        self.dead_lettered = 0
        self.errors = 0
        self.last_error: str | None = None
        self.leading = False
        self.failing = False  # the last poll failed (the loop goes on, with backoff)

    def snapshot(self) -> dict[str, Any]:
        return {
            "leading": self.leading,
            "failing": self.failing,
            "cursor": self.cursors.get(self.agency),
            "published": self.published,
            "dead_lettered": self.dead_lettered,
            "errors": self.errors,
            "last_error": self.last_error,
        }

    def _lead(self) -> bool:
        """Whether this process holds the feed's lock (taken without waiting)."""
        if self._lock_fd is not None:
            return True
        self._lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._lock_path, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._lock_fd = fd
        return True

    def release(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the descriptor drops the flock
            self._lock_fd = None
            self.leading = False

    async def run(self) -> None:
        failures = 0
        try:
            while True:
                self.leading = self._lead()
                if not self.leading:
                    await asyncio.sleep(max(self.interval, 1.0))
                    continue
                try:
                    full = await self.poll_once()
                    failures = 0
                    self.failing = False
                except (HubError, httpx.HTTPError, KafkaError, ValueError, KeyError, TypeError) as e:
                    failures += 1
                    self.failing = True
                    self.errors += 1
                    FEED_ERRORS.labels(self.agency).inc()
                    self.last_error = mask_text(f"{type(e).__name__}: {e}")[:300]
                    log.warning("change feed of %s: %s", self.agency, self.last_error)
                    await asyncio.sleep(min(30.0, self.interval * 2 ** min(failures, 8)))
                    continue
                if not full:
                    await asyncio.sleep(self.interval)
        finally:
            self.release()

    async def poll_once(self) -> bool:
        """Read one page after the stored cursor, publish it, store the next cursor; return whether
        the page was full (more may be waiting)."""
        shape = self.shape
        cursor = self.cursors.get(self.agency) or shape.start
        params = {shape.size: str(shape.page)}
        if cursor:
            params[shape.cursor] = cursor
        response = await self.client.get(
            self.adapter.url(shape.path), params=params, headers=self.adapter.auth_headers()
        )
        self.adapter.classify_response(response)
        body = _dig(response.json(), shape.unwrap)
        items, following = body[shape.items], body[shape.next]
        if not isinstance(items, list):
            raise TypeError(f"{shape.items} is not a list")
        parsed = [self._change(item) for item in items]
        changes = [c for c in parsed if isinstance(c, AssetChange)]
        letters = [c for c in parsed if isinstance(c, DeadLetter)]
        acks = [
            await self.producer.send(WATCH_CHANGES, encode(c), key=f"{c.agency}/{c.asset.ref}".encode())
            for c in changes
        ]
        acks += [await self.producer.send(DEAD_LETTERS, encode(d), key=self.agency.encode()) for d in letters]
        await asyncio.gather(*acks)  # the whole page acknowledged before the cursor moves past it
        if following is not None and str(following) != cursor:
            self.cursors.put(self.agency, str(following))
        self.dead_lettered += len(letters)
        self.published += len(changes)
        FEED_CHANGES.labels(self.agency).inc(len(changes))
        if changes:
            FEED_LAG.labels(self.agency).set(
                max(0.0, (changes[-1].observed_at - changes[-1].occurred_at).total_seconds())
            )
        return len(items) >= shape.page

    def _change(self, item: Any) -> AssetChange | DeadLetter:
        """One feed item as an :class:`AssetChange`, or the dead letter saying why it is unreadable."""
        shape = self.shape
        try:
            sequence = str(item[shape.seq])
            asset = _RECORD.validate_python(shape.parse(self.adapter, item[shape.record]))
            return AssetChange(
                change_id=f"{self.agency}:{sequence}",
                agency=self.agency,
                sequence=sequence,
                change_type=item[shape.type],
                occurred_at=item[shape.time],
                observed_at=self.now(),
                credited=item.get(shape.credited) if shape.credited else None,
                asset=asset,
            )
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as e:
            return dead_letter(
                topic=f"{self.agency}{shape.path}",
                value=repr(item).encode(),
                stage="connectors.watch.feed",
                error=e,
                context={"agency": self.agency},
            )
