"""SQLite for the gateway without a thread hand-off per call.

aiosqlite runs every call of a connection (execute, each fetch, commit, cursor close) on that
connection's own thread and wakes the event loop with the answer. On these machines a hand-off
costs far more than the work: a ``SELECT 1`` took 158 µs of CPU and 546 µs of wall time through
aiosqlite against 2 µs with ``sqlite3`` alone, and a statement through SQLAlchemy makes three or
four of them. That was most of the gateway's CPU per inquiry.

:class:`InlineConnection` runs each call on the event loop's own thread instead, where it cannot
wait: the connection's busy timeout is 0 there, so a statement that meets another connection's
write lock fails at once with ``SQLITE_BUSY`` (having done nothing) and is run again on the
connection's thread with the full busy timeout, where waiting blocks nothing else. Reads in WAL
mode never wait for a writer. Calls that could leave half their work done when they fail
(``executemany``, ``executescript``) and closing the connection always go to its thread.

The gateway's own connections take turns for SQLite's write lock before they ask SQLite for it: a
statement that writes (``INSERT``, ``UPDATE``, ``DELETE``, ``REPLACE``, ``BEGIN``, DDL) first awaits
the database's :class:`WriterTurn`, held until that connection's transaction ends (commit,
rollback, close). Concurrent writers of the process then queue on the event loop instead of each
meeting ``SQLITE_BUSY`` and parking a thread in SQLite's busy handler; only another process's
writer (a migration, the command line) still sends a call to the thread. A turn not given within
the busy timeout fails as SQLite would, with ``database is locked``.

Use :func:`async_creator` as ``create_async_engine(..., async_creator=...)`` for a file database.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any

import aiosqlite

__all__ = ["InlineConnection", "WriterTurn", "async_creator"]

_BUSY = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}
# calls run again on the connection's thread after SQLITE_BUSY: each fails before doing anything
_RETRIED = {"execute", "commit", "rollback"}
# calls that always run on the connection's thread
_ON_THREAD = {"executemany", "executescript", "backup", "iterdump", "interrupt"}


# the first keyword of a statement that takes SQLite's write lock
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "BEGIN", "CREATE", "DROP", "ALTER")
_STATEMENTS = {"execute", "executemany", "executescript"}


def _busy(e: sqlite3.OperationalError) -> bool:
    return (getattr(e, "sqlite_errorcode", 0) & 0xFF) in _BUSY


def _writes(name: str, args: tuple[Any, ...]) -> bool:
    return (
        name in _STATEMENTS
        and bool(args)
        and isinstance(args[0], str)
        and args[0].lstrip()[:7].upper().startswith(_WRITES)
    )


class WriterTurn:
    """The turn for SQLite's write lock among the connections of one database file in this process
    (an ``asyncio.Lock`` created on first use, so on the loop that uses it)."""

    def __init__(self) -> None:
        self._lock: asyncio.Lock | None = None

    @property
    def lock(self) -> asyncio.Lock:
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock


class InlineConnection(aiosqlite.Connection):
    """An aiosqlite connection whose calls run on the caller's thread unless they would wait for a
    lock (then on the connection's thread, with ``busy_timeout_ms``). Same API as aiosqlite's."""

    def __init__(
        self,
        connector: Callable[[], sqlite3.Connection],
        busy_timeout_ms: int,
        turn: WriterTurn | None = None,
    ) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self._busy_timeout_ms = busy_timeout_ms
        self._on_thread_calls = 0  # calls queued or running on the connection's thread
        self._turn = turn
        self._has_turn = False

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        name = getattr(fn, "__name__", "")
        closing = name == "close" and isinstance(getattr(fn, "__self__", None), sqlite3.Connection)
        if self._turn is not None and not self._has_turn and _writes(name, args):
            await self._take_turn()
        try:
            if self._on_thread_calls == 0 and name not in _ON_THREAD and not closing:
                try:
                    return fn(*args, **kwargs)
                except sqlite3.OperationalError as e:
                    if not (_busy(e) and name in _RETRIED):
                        raise
            return await self._on_thread(fn, *args, waits=not closing, **kwargs)
        finally:
            # the turn ends with the transaction (commit, rollback, an autocommit statement, close)
            if self._has_turn and (
                closing or self._connection is None or not self._connection.in_transaction
            ):
                self._give_turn()

    async def _take_turn(self) -> None:
        assert self._turn is not None
        try:
            async with asyncio.timeout(self._busy_timeout_ms / 1000):  # Lock.acquire is cancel-safe
                await self._turn.lock.acquire()
        except TimeoutError:
            raise sqlite3.OperationalError(
                "database is locked (no write turn within the busy timeout)"
            ) from None
        self._has_turn = True

    def _give_turn(self) -> None:
        assert self._turn is not None
        self._has_turn = False
        self._turn.lock.release()

    async def _on_thread(self, fn: Callable[..., Any], *args: Any, waits: bool, **kwargs: Any) -> Any:
        """Run ``fn`` on the connection's thread (``waits``: with the full busy timeout)."""
        conn = self._conn
        timeout = self._busy_timeout_ms
        loop = asyncio.get_running_loop()

        def call() -> Any:
            try:
                if not waits:
                    return fn(*args, **kwargs)
                conn.execute(f"PRAGMA busy_timeout = {timeout}")
                try:
                    return fn(*args, **kwargs)
                finally:
                    conn.execute("PRAGMA busy_timeout = 0")
            finally:
                # counted down on the loop's thread once the call is over, even when its caller was
                # cancelled meanwhile: no call runs inline while one is still running here
                with contextlib.suppress(RuntimeError):  # the loop is closed: nothing runs inline
                    loop.call_soon_threadsafe(self._thread_call_done)

        self._on_thread_calls += 1
        return await super()._execute(call)

    def _thread_call_done(self) -> None:
        self._on_thread_calls -= 1


def async_creator(path: str, busy_timeout_s: float) -> Callable[[], Awaitable[InlineConnection]]:
    """An ``async_creator`` for SQLAlchemy's ``sqlite+aiosqlite`` dialect: connections to the
    database file ``path`` that wait up to ``busy_timeout_s`` seconds for another writer."""

    turn = WriterTurn()  # shared by every connection of this engine

    async def create() -> InlineConnection:
        connection = InlineConnection(
            lambda: sqlite3.connect(path, timeout=0, check_same_thread=False),
            busy_timeout_ms=int(busy_timeout_s * 1000),
            turn=turn,
        )
        connection._thread.daemon = True  # as SQLAlchemy's dialect does with aiosqlite's own
        await connection
        return connection

    return create
