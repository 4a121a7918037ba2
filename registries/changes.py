"""Every registry's change feed, and planting records at run time.

A registry publishes what changes in it — an account opened, a balance credited by at least
``HUB_REGISTRY_CREDIT_THRESHOLD`` yuan, a property, land use right, vehicle, stake or securities
account registered — on a change feed of its own API shape. The shapes differ the way the
registries' query APIs differ (path, cursor and page-size parameter names, envelope, field names);
they are one declarative table, :data:`FEEDS`, one row per agency type:

- police ``GET /api/v2/changes?since=<seq>&rows=<n ≤ 20>`` → ``{"code": 0, "msg", "data": {"changes":
  [{"bgxh", "bglx", "bgsj", "person": {"xm", "zjlx", "sfzh", "csrq", "hjdz", "vehicles": [one]}}],
  "last"}}``;
- commerce ``GET /open/v1/equity/changes?fromSeq=&pageSize=<≤ 20>`` → ``{"success": true, "result":
  {"list": [{"changeSeq", "changeType", "changeTime", "stake"}], "lastSeq"}}``;
- real estate ``GET /rest/v1/changes?after=&limit=<≤ 50>`` → ``{"items": [{"sequence", "event",
  "occurredAt", "right"}], "nextAfter"}``;
- land ``GET /landreg/changes?qsxh=&ts=<≤ 20>`` → ``{"result": "OK", "records": [{"xh", "bglx",
  "bgsj", "qlxx"}], "zxxh"}``;
- banks ``GET /fi/v1/account-events?cursor=<opaque>&limit=<≤ 20>`` → ``{"events": [{"eventId",
  "eventType", "occurredAt", "creditedAmount", "account"}], "next_cursor"}``;
- securities ``GET /csdc/v3/changes?startSeq=&size=<≤ 50>`` → ``{"retCode": "0000", "retMsg",
  "data": {"changes": [{"seqNo", "changeType", "changeTime", "account"}], "nextSeq"}}``.

Every feed: the changes after the cursor, oldest first, at most the page size; the cursor to pass
next (the last change's sequence; the same cursor when nothing is new; the bank's is opaque); the
record (``person``/``stake``/``right``/``qlxx``/``account``) exactly as that registry's query API
shows it, current controls included. A cursor that is not one the feed issued is a 400 in the
registry's own error format. Sequences start at 1 and never repeat.

``POST /_admin/records`` (the registry's credential, no requester headers, no signature) plants one
line of the fixture format (``registries.fixtures``): a new ``asset.ref`` adds the record and
publishes its registration; a known ``ref`` with a higher value publishes ``balance_credited``
(deposits, when the increase reaches the threshold) or the kind's registration change (more
securities bought, say); a lower value updates the record silently. Reply 201
``{"sequence": n | null, "change_type": ... | null, "ref"}``; a line that does not fit the format:
400 with the reason. With a register file the planted lines and the feed persist in
``<register file>.changes.db``, so a restarted registry serves the same feed and records.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request

from schemas.agencies import AgencyType, agency_type
from schemas.watch import CHANGE_TYPES

from . import bank, commerce, land, police, real_estate, securities
from .api import BadRequest, RegistryApi, amount, iso
from .fixtures import FixtureError, parse_fixture_line
from .records import Holding

__all__ = ["FEEDS", "Change", "ChangeLog", "FeedShape", "changes_router", "plant"]

Record = Callable[[RegistryApi, Holding], dict[str, Any]]


@dataclass(frozen=True)
class Change:
    """One published change: its sequence, type, time, the record's ref and (credits) the amount."""

    sequence: int
    change_type: str
    at: dt.datetime
    ref: str
    credited: Decimal | None = None


@dataclass(frozen=True)
class FeedShape:
    """How one agency type's change feed looks on the wire (see the module's table)."""

    path: str
    cursor: str  # query parameter: the cursor from the last page
    size: str  # query parameter: the page size
    size_max: int
    seq: str  # per change: the sequence (or the bank's event id)
    type: str
    time: str
    record: str
    reply: Callable[[list[dict[str, Any]], str | int], dict[str, Any]]  # envelope(changes, next cursor)
    render: Record
    opaque: bool = False  # the cursor is an opaque token, not the sequence
    credited: str | None = None  # per change: the credited amount (deposits)


def _controls(api: RegistryApi, h: Holding) -> tuple[Decimal, list[Any]]:
    return api.current_controls(h)


def _person(api: RegistryApi, h: Holding) -> dict[str, Any]:
    o = h.owner
    return {
        "xm": o.name,
        "zjlx": police.ID_TYPES.get(o.id_type or "", o.id_type),
        "sfzh": o.id_number,
        "csrq": o.birth_date.strftime("%Y%m%d") if o.birth_date else None,
        "hjdz": o.address,
        "vehicles": [police._vehicle(h, _controls(api, h)[1])],
    }


FEEDS: dict[AgencyType, FeedShape] = {
    AgencyType.police: FeedShape(
        "/api/v2/changes", "since", "rows", 20, "bgxh", "bglx", "bgsj", "person",
        lambda items, last: {"code": 0, "msg": "ok", "data": {"changes": items, "last": last}},
        _person,
    ),
    AgencyType.commerce: FeedShape(
        "/open/v1/equity/changes", "fromSeq", "pageSize", 20, "changeSeq", "changeType", "changeTime",
        "stake",
        lambda items, last: {"success": True, "result": {"list": items, "lastSeq": last}},
        lambda api, h: commerce._stake(h, _controls(api, h)[1]),
    ),
    AgencyType.real_estate: FeedShape(
        "/rest/v1/changes", "after", "limit", 50, "sequence", "event", "occurredAt", "right",
        lambda items, last: {"items": items, "nextAfter": last},
        lambda api, h: real_estate._right(h, _controls(api, h)[1]),
    ),
    AgencyType.land: FeedShape(
        "/landreg/changes", "qsxh", "ts", 20, "xh", "bglx", "bgsj", "qlxx",
        lambda items, last: {"result": "OK", "records": items, "zxxh": last},
        lambda api, h: land._right(h, _controls(api, h)[1]),
    ),
    AgencyType.bank: FeedShape(
        "/fi/v1/account-events", "cursor", "limit", 20, "eventId", "eventType", "occurredAt", "account",
        lambda items, last: {"events": items, "next_cursor": last},
        lambda api, h: bank._account(h, *_controls(api, h)),
        opaque=True,
        credited="creditedAmount",
    ),
    AgencyType.securities: FeedShape(
        "/csdc/v3/changes", "startSeq", "size", 50, "seqNo", "changeType", "changeTime", "account",
        lambda items, last: securities._ok({"changes": items, "nextSeq": last}),
        lambda api, h: securities._account(h, *_controls(api, h)),
    ),
}  # fmt: skip


def _token(sequence: int) -> str:
    return base64.urlsafe_b64encode(f"chg:{sequence}".encode()).decode()


def _cursor(shape: FeedShape, raw: str | None) -> int:
    """The sequence a cursor stands for; ``BadRequest`` naming the parameter when it is not one."""
    if raw is None or raw == "":
        return 0
    text = raw
    if shape.opaque:
        try:
            tag, _, text = base64.urlsafe_b64decode(raw.encode()).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            tag = ""
        if tag != "chg":
            raise BadRequest(f"{shape.cursor} is not a cursor this feed issued")
    if not text.isdigit():
        raise BadRequest(f"{shape.cursor} must be a sequence number this feed issued (0 for the start)")
    return int(text)


def _size(shape: FeedShape, raw: str | None) -> int:
    if raw is None or raw == "":
        return shape.size_max
    if not raw.isdigit() or int(raw) < 1:
        raise BadRequest(f"{shape.size} must be a whole number from 1")
    return min(int(raw), shape.size_max)


class ChangeLog:
    """The changes one registry published, in order; kept in SQLite at ``path`` when given
    (with the planted fixture lines, so a restart restores both). Thread-safe."""

    def __init__(self, path: Path | None = None) -> None:
        self._lock = threading.Lock()
        self._changes: list[Change] = []
        self._db: sqlite3.Connection | None = None
        self.lines: list[str] = []  # planted lines, in order (replayed into the store at start)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS planted (n INTEGER PRIMARY KEY, line TEXT NOT NULL,"
                " seq INTEGER, type TEXT, at TEXT NOT NULL, ref TEXT NOT NULL, credited TEXT)"
            )
            for line, seq, kind, at, ref, credited in self._db.execute(
                "SELECT line, seq, type, at, ref, credited FROM planted ORDER BY n"
            ):
                self.lines.append(line)
                if seq is not None:
                    money = Decimal(credited) if credited else None
                    self._changes.append(Change(seq, kind, dt.datetime.fromisoformat(at), ref, money))

    def __len__(self) -> int:
        return len(self._changes)

    def record(
        self, line: str, ref: str, change_type: str | None, at: dt.datetime, credited: Decimal | None
    ) -> Change | None:
        """Keep a planted ``line``; publish ``change_type`` (None: a silent update). Returns the change."""
        with self._lock:
            change = None
            if change_type is not None:
                last = self._changes[-1].sequence if self._changes else 0
                change = Change(last + 1, change_type, at, ref, credited)
                self._changes.append(change)
            if self._db is not None:
                self._db.execute(
                    "INSERT INTO planted (line, seq, type, at, ref, credited) VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        line,
                        change.sequence if change else None,
                        change_type,
                        at.isoformat(),
                        ref,
                        str(credited) if credited is not None else None,
                    ),
                )
            self.lines.append(line)
            return change

    def after(self, sequence: int, limit: int) -> list[Change]:
        """At most ``limit`` changes with a sequence above ``sequence``, oldest first."""
        with self._lock:
            # sequences are 1..n without gaps: change k sits at index k - 1
            return self._changes[sequence : sequence + limit]

    def close(self) -> None:
        if self._db is not None:
            self._db.close()


def plant(api: RegistryApi, log: ChangeLog | None, line: str, threshold: Decimal) -> Change | None:
    """Plant one fixture ``line`` in ``api``'s store (see the module's docstring) and, with a
    ``log``, record and publish its change. Raises ``BadRequest`` for a line that does not fit."""
    try:
        holding = parse_fixture_line(line, 1, agencies=[api.agency])
    except FixtureError as e:
        raise BadRequest(e.reason) from None
    change_type: str | None = CHANGE_TYPES[holding.kind]
    credited: Decimal | None = None
    existing = api.store.find(holding.ref)
    if existing is None:
        api.store.add(holding)
    else:
        increase = holding.value - existing.value
        api.store.update_value(existing, holding.value)
        if increase <= 0:
            change_type = None
        elif holding.kind == "deposit":
            credited = increase
            change_type = "balance_credited" if increase >= threshold else None
    if log is None:
        return None
    return log.record(line, holding.ref, change_type, api.clock.now(), credited)


def changes_router(api: RegistryApi, log: ChangeLog, threshold: Decimal) -> APIRouter:
    """The registry's change feed (its row of :data:`FEEDS`) and ``POST /_admin/records``."""
    shape = FEEDS[agency_type(api.agency)]
    router = APIRouter()

    @router.get(shape.path)
    async def feed(request: Request) -> dict[str, Any]:
        start = _cursor(shape, request.query_params.get(shape.cursor))
        page = log.after(start, _size(shape, request.query_params.get(shape.size)))
        items = []
        for c in page:
            holding = api.store.find(c.ref)
            if holding is None:  # planted before a restart that lost the record: nothing to show
                continue
            item = {
                shape.seq: _token(c.sequence) if shape.opaque else c.sequence,
                shape.type: c.change_type,
                shape.time: iso(c.at),
                shape.record: shape.render(api, holding),
            }
            if shape.credited:
                item[shape.credited] = amount(c.credited)
            items.append(item)
        last = page[-1].sequence if page else start
        return shape.reply(items, _token(last) if shape.opaque else last)

    @router.post("/_admin/records", status_code=201)
    async def plant_record(request: Request) -> dict[str, Any]:
        try:
            body = json.loads(await request.body())
        except (ValueError, UnicodeDecodeError):
            raise BadRequest("the body must be one fixture line (a JSON object)") from None
        change = plant(api, log, json.dumps(body, ensure_ascii=False), threshold)
        return {
            "sequence": change.sequence if change else None,
            "change_type": change.change_type if change else None,
            "ref": body.get("asset", {}).get("ref") if isinstance(body, dict) else None,
        }

    return router
