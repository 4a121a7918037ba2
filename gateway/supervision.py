"""Supervised background loops of the gateway: a loop that raises is logged, counted and restarted
with backoff, never left dead in a forgotten task; ``/healthz`` reads each loop's state.

A loop is *healthy* while it runs and has not failed within the last ``grace`` seconds: a loop that
keeps failing (a database locked for longer than its timeout, a broker that is away) flips between
``running`` and ``restarting``, and ``/healthz`` says so for as long as the failures go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from hub.masking import mask_text

__all__ = ["DatabaseProbe", "Supervised"]

log = logging.getLogger(__name__)


@dataclass
class Supervised:
    """One background loop. ``run`` is the loop body (it should never return); ``recover`` runs
    before each restart (a consumer rewinds to its committed offsets, say)."""

    name: str
    run: Callable[[], Awaitable[None]]
    recover: Callable[[], Awaitable[None]] | None = None
    initial: float = 0.5
    maximum: float = 30.0
    grace: float = 15.0
    clock: Callable[[], float] = time.monotonic
    state: str = "starting"
    restarts: int = 0
    last_error: str | None = None
    last_failure_at: float | None = None
    _task: asyncio.Task[None] | None = field(default=None, repr=False)

    def start(self) -> asyncio.Task[None]:
        self._task = asyncio.create_task(self._supervise(), name=f"supervised-{self.name}")
        return self._task

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.state = "stopped"

    def backoff(self) -> float:
        return float(min(self.maximum, self.initial * 2 ** min(self.restarts, 16)))

    async def _supervise(self) -> None:
        while True:
            self.state = "running"
            try:
                await self.run()
                raise RuntimeError("the loop returned")  # a loop that ends is a loop that died
            except asyncio.CancelledError:
                raise
            except Exception as e:
                self.restarts += 1
                self.last_failure_at = self.clock()
                self.last_error = mask_text(f"{type(e).__name__}: {e}")[:300]
                self.state = "restarting"
                log.error(
                    "%s failed (%s); restart %d in %.1f s",
                    self.name,
                    self.last_error,
                    self.restarts,
                    self.backoff(),
                )
            await asyncio.sleep(self.backoff())
            if self.recover is not None:
                try:
                    await self.recover()
                except Exception as e:  # the next round of run() will fail and say why
                    log.warning("%s: recovery failed: %s", self.name, mask_text(str(e))[:300])

    @property
    def healthy(self) -> bool:
        recent = self.last_failure_at is not None and self.clock() - self.last_failure_at < self.grace
        return self.state == "running" and not recent

    def health(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "healthy": self.healthy,
            "restarts": self.restarts,
            "last_error": self.last_error,
        }


class DatabaseProbe:
    """Commits a write that changes nothing every ``interval`` seconds, so ``/healthz`` can say at
    once whether results can be stored, without ever waiting on a locked database itself."""

    def __init__(
        self,
        write: Callable[[], Awaitable[None]],
        interval: float = 1.0,
        timeout: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.write = write
        self.interval = interval
        self.timeout = timeout
        self.clock = clock
        self.last_ok: float | None = None
        self.last_error: str | None = None
        self.started = clock()

    async def run(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self.write(), self.timeout)
                self.last_ok, self.last_error = self.clock(), None
            except TimeoutError:
                self.last_error = f"not writable within {self.timeout:.0f} s (locked or overloaded)"
            except Exception as e:  # a driver error: the database is not usable
                self.last_error = f"error ({type(e).__name__})"
            await asyncio.sleep(self.interval)

    def status(self) -> str:
        """``ok`` while the last write within ``interval + 2 × timeout`` seconds succeeded."""
        limit = self.interval + 2 * self.timeout
        if self.last_error is not None:
            return self.last_error
        since = self.last_ok if self.last_ok is not None else self.started
        age = self.clock() - since
        if age > limit:
            return f"no write committed for {age:.0f} s"
        return "ok" if self.last_ok is not None else "starting"
