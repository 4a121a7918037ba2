"""The aggregation per inquiry in the stream worker: its agents and timers on ``streams.app``'s app.

- ``hub.inquiry.opened``, ``hub.agency.responses`` and ``hub.inquiry.deadlines`` (each at
  concurrency 1, keyed by inquiry id) change one inquiry's state in the ``inquiries`` table at a time
  (``streams.inquiry_state``, under the inquiry's lock); an answer's records go to
  ``inquiry_parts``, one entry per part.
- ``_update`` publishes the result (``hub.inquiry.results``) before it writes the state: a publish
  that fails leaves the table as it was. A settled result goes out at once; a progress version when
  the pacer lets it (``streams.progress``), else ``progress_timer`` publishes it from the table.
- ``sla_timer`` asks the owner of each overdue inquiry's partition to settle it (a
  ``DeadlineReached`` tick on ``hub.inquiry.deadlines``: the table is only written there), again
  while it stays open, and to compact a settled inquiry after ``HUB_INQUIRY_RETENTION_SECONDS``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, cast

from schemas.codec import TooLargeError, encode
from schemas.models import DeadlineReached, InquiryOpened

from . import inquiry_state, producer_checks
from .app import (
    _each,
    _inquiry_locks,
    _per_inquiry,
    _publish_result,
    agency_responses,
    app,
    clock,
    dead_letters,
    inquiries,
    inquiry_deadlines,
    inquiry_opened,
    inquiry_parts,
    settings,
)
from .progress import ProgressPacer

log = logging.getLogger(__name__)


# Deadlines of the inquiries this worker holds open, so the SLA timer need not scan the whole
# (ever-growing) table twice a second. Kept where the table is written; a slow full scan picks up
# entries restored from the changelog after a rebalance or restart.
_open_deadlines: dict[str, dt.datetime] = {}
# Inquiries settled on this worker (monotonic time first seen settled), to compact after retention.
_settled: dict[str, float] = {}
_FULL_SCAN_SECONDS = 30.0


def _track(inquiry_id: str, state: dict[str, Any]) -> None:
    if state["opened"] is not None and not state["final"]:
        _open_deadlines[inquiry_id] = dt.datetime.fromisoformat(state["opened"]["deadline"])
        return
    _open_deadlines.pop(inquiry_id, None)
    if state["opened"] is not None and state["final"]:
        _settled.setdefault(inquiry_id, time.monotonic())
    else:
        _settled.pop(inquiry_id, None)


# Linked assets of the answer parts of open inquiries on this worker (a part never changes): a big
# answer is linked once, not again each time another agency's answer republishes the result.
_linked: inquiry_state.Linked = {}
_LINKED_MAX_PARTS = 2000


def _stored_records(key: str) -> list[dict[str, Any]] | None:
    raw = inquiry_parts.get(key)
    if not raw:
        return None
    # written as JSON bytes; a worker that restored the table from its changelog may hold the
    # decoded list instead (faust's recovery decodes with the app's JSON serializer)
    return raw if isinstance(raw, list) else cast(list[dict[str, Any]], json.loads(raw))


async def _update(inquiry_id: str, change: Callable[[dict[str, Any]], bool]) -> None:
    """Apply ``change`` to a copy of the inquiry's state; when it asks for it, publish the result (a
    progress version only when the pacer lets it go now, else held for ``progress_timer``); only
    then write the state and any answer parts it received to the tables. A publish that fails
    leaves the table as it was (the message is dead-lettered by ``_each``; the SLA timer still
    settles the inquiry)."""
    current = inquiries.get(inquiry_id)
    state = inquiry_state.upgrade(inquiry_state.clone(current) if current else inquiry_state.new_state())
    changed = change(state) and state["opened"] is not None
    if changed and (inquiry_state.settles(state) or _pacer.publish_now(inquiry_id)):
        await _publish_state(inquiry_id, state)
    for key, records in inquiry_state.take_parts(state).items():
        inquiry_parts[key] = json.dumps(records, ensure_ascii=False, separators=(",", ":")).encode()
    inquiries[inquiry_id] = state
    _track(inquiry_id, state)


async def _publish_state(inquiry_id: str, state: dict[str, Any]) -> None:
    """Build the result of ``state`` (at its version; marks it final when settled) and publish it."""
    if len(_linked) > _LINKED_MAX_PARTS:
        _linked.clear()
    result = inquiry_state.build_result(
        state,
        court_id=state["opened"]["court_id"],
        now=clock.now(),
        stored=_stored_records,
        linked=_linked,
    )
    await _publish_result(result)
    if state["final"]:
        _pacer.settled(inquiry_id)
        for key in inquiry_state.part_keys(inquiry_id, state):
            _linked.pop(key, None)
    else:
        _pacer.published(inquiry_id)


# progress versions of open inquiries: at most one per HUB_PROGRESS_INTERVAL_MS each (streams/progress.py)
_pacer = ProgressPacer(settings.progress_interval_ms / 1000)


@app.timer(interval=max(0.02, min(0.1, settings.progress_interval_ms / 4000)))
async def progress_timer() -> None:
    """Publish the progress versions the pacer held that fall due, from the inquiries table (the
    state is there already: reading it needs no event). One whose publish fails for a reason that
    can pass is held again a second; one that can never be published (a result with an asset larger
    than a message) is let go: the next change tries again, and the settlement dead-letters it."""
    for inquiry_id in _pacer.due():
        async with _inquiry_locks(inquiry_id):
            stored = inquiries.get(inquiry_id)
            if not stored or stored.get("final") or stored.get("opened") is None:
                _pacer.settled(inquiry_id)  # settled meanwhile (its result went out), or gone
                continue
            if _pacer.fresh(inquiry_id):  # the agent published it while this waited for the lock
                continue
            try:
                await _publish_state(inquiry_id, inquiry_state.upgrade(inquiry_state.clone(stored)))
            except TooLargeError:
                log.warning("inquiry %s: progress version larger than a message; not held", inquiry_id)
            except Exception as e:  # the next change publishes it anyway; nothing waits on this one
                log.warning(
                    "inquiry %s: progress not published (%s); held again", inquiry_id, type(e).__name__
                )
                _pacer.hold(inquiry_id, 1.0)


async def _on_opened(opened: InquiryOpened) -> None:
    forged: dict[str, tuple[dict[str, Any], str]] = {}

    def change(state: dict[str, Any]) -> bool:
        changed = inquiry_state.apply_opened(state, opened)
        # answers recorded before the opened record are judged now (streams/producer_checks.py)
        for agency, reason in producer_checks.early_mismatches(state).items() if changed else ():
            forged[agency] = (state["responses"][agency], reason)
        for key in producer_checks.drop_responses(opened.inquiry_id, state, list(forged)):
            if key in inquiry_parts:
                del inquiry_parts[key]
        return changed

    await _update(opened.inquiry_id, change)
    for header, reason in forged.values():
        await producer_checks.dead_letter_dropped(
            dead_letters, opened.inquiry_id, header, reason, "streams.inquiry_opened.producer_check"
        )


async def _on_response(response: Any) -> None:
    def change(state: dict[str, Any]) -> bool:
        producer_checks.check_response(state, response)
        # a part that leaves the answer incomplete is kept, not published: the result would not change
        accepted = inquiry_state.apply_response(state, response)
        return accepted and inquiry_state.answer_complete(state, response.agency)

    await _update(response.inquiry_id, change)


async def _on_deadline(tick: DeadlineReached) -> None:
    producer_checks.check_deadline(tick, clock.now())
    if tick.compact:
        state = inquiries.get(tick.inquiry_id)
        state = inquiry_state.upgrade(inquiry_state.clone(state)) if state else None
        tombstone = inquiry_state.compact(state) if state else None
        if state is not None and tombstone is not None:
            for key in inquiry_state.part_keys(tick.inquiry_id, state):
                if key in inquiry_parts:
                    del inquiry_parts[key]
            inquiries[tick.inquiry_id] = tombstone
            _track(tick.inquiry_id, tombstone)
        return
    await _update(tick.inquiry_id, lambda s: inquiry_state.apply_deadline(s, tick.at))


@app.agent(inquiry_opened, concurrency=1)
async def on_inquiry_opened(stream: Any) -> AsyncIterator[None]:
    async for _ in _each(stream, "streams.inquiry_opened", _per_inquiry(_on_opened)):
        yield None


@app.agent(agency_responses, concurrency=1)
async def on_agency_response(stream: Any) -> AsyncIterator[None]:
    async for _ in _each(stream, "streams.agency_responses", _per_inquiry(_on_response)):
        yield None


@app.agent(inquiry_deadlines, concurrency=1)
async def on_deadline(stream: Any) -> AsyncIterator[None]:
    async for _ in _each(stream, "streams.inquiry_deadlines", _per_inquiry(_on_deadline)):
        yield None


# When this worker last asked to settle each overdue inquiry (monotonic s): asked again while it stays
# open, so a settlement whose publish failed (the tick is dead-lettered, the state left as it was)
# is retried until it succeeds.
_deadline_sent: dict[str, float] = {}
_DEADLINE_RETRY_SECONDS = 10.0
_last_full_scan = {"at": 0.0}


@app.timer(interval=0.5)
async def sla_timer() -> None:
    """Ask the owner of each overdue inquiry's partition to settle it (the table is only written there)."""
    if time.monotonic() - _last_full_scan["at"] >= _FULL_SCAN_SECONDS:
        _last_full_scan["at"] = time.monotonic()
        for inquiry_id, state in list(inquiries.items()):
            if state:
                _track(inquiry_id, state)
    now = clock.now()
    for inquiry_id, deadline in list(_open_deadlines.items()):
        asked = _deadline_sent.get(inquiry_id)
        if now >= deadline and (asked is None or time.monotonic() - asked >= _DEADLINE_RETRY_SECONDS):
            _deadline_sent[inquiry_id] = time.monotonic()
            tick = DeadlineReached(inquiry_id=inquiry_id, at=now)
            await inquiry_deadlines.send(key=inquiry_id.encode(), value=encode(tick))
    for inquiry_id in [i for i in _deadline_sent if i not in _open_deadlines]:  # settled: no memory
        del _deadline_sent[inquiry_id]
    retention = settings.inquiry_retention_seconds
    for inquiry_id, since in list(_settled.items()):
        if time.monotonic() - since >= retention:
            del _settled[inquiry_id]
            tick = DeadlineReached(inquiry_id=inquiry_id, at=now, compact=True)
            await inquiry_deadlines.send(key=inquiry_id.encode(), value=encode(tick))
