"""One change at a time per table key, across the agents of one worker.

Several agents of a worker update the same table entry (an inquiry's state from its ``opened``
record, its answers and its deadline; a case's ledger from court commands, agency outcomes and
timer ticks). Each change reads the entry, works on a copy, publishes what the change produced and
only then writes the copy back, so that the table never holds a state whose messages were not sent.
Between the read and the write the agent awaits the producer, and another agent could read the
same old entry: its write would undo the first change. Holding the key's lock from the read to the
write keeps the changes of one key in order; different keys still run concurrently.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

__all__ = ["KeyedLocks"]


class KeyedLocks:
    """``async with locks(key): ...`` — a lock per key, dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def __call__(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)
