"""Audit entries of many concurrent requests appended in one transaction (a group commit).

Every ``GET`` of an inquiry's or a case's assets is audited (``assets_read``), and a court's long
polls make many of them at once: one transaction each (four statements and a commit, with the
chain's lock held) was a large share of the gateway's CPU per inquiry. :class:`AuditAppender`
queues the entries of the requests waiting at the same moment and appends them together with
:func:`gateway.audit.record_many`; each request still returns only after its entry is committed,
so a read is answered only once it is on the record.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from . import audit

__all__ = ["AuditAppender"]

log = logging.getLogger(__name__)


class AuditAppender:
    """Appends audit entries for concurrent callers, a batch per transaction, in arrival order."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._queue: list[tuple[audit.Entry, asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self.batches = 0
        self.entries = 0

    async def append(
        self,
        kind: str,
        case_id: str | None,
        court_id: str,
        actor: str,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        """Return once the entry is committed (with whatever else was waiting); raises what the
        database raised when the entry could not be appended."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.add_done_callback(_retrieved)  # a caller that went away leaves no unretrieved error
        self._queue.append(((kind, case_id, court_id, actor, details), done))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        await asyncio.shield(done)  # a caller that goes away does not take the others' commit with it

    async def _flush(self) -> None:
        while self._queue:
            batch, self._queue = self._queue, []
            try:
                await self._commit([entry for entry, _ in batch])
            except Exception as e:
                if len(batch) == 1:
                    _settle(batch[0][1], e)
                    continue
                log.warning("audit: a batch of %d entries failed; appending one by one", len(batch))
                for entry, done in batch:  # one bad entry fails only its own request
                    try:
                        await self._commit([entry])
                    except Exception as one:
                        _settle(done, one)
                    else:
                        _settle(done, None)
                continue
            for _, done in batch:
                _settle(done, None)

    async def _commit(self, entries: list[audit.Entry]) -> None:
        async with self.engine.begin() as conn:
            await audit.record_many(conn, entries)
        self.batches += 1
        self.entries += len(entries)


def _retrieved(done: asyncio.Future[None]) -> None:
    if not done.cancelled():
        done.exception()


def _settle(done: asyncio.Future[None], error: BaseException | None) -> None:
    if done.done():
        return
    if error is None:
        done.set_result(None)
    else:
        done.set_exception(error)
