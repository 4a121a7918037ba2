"""The hub's clock. Every time-dependent rule reads this, never ``datetime.now`` directly,
so tests and simulations can move time (a year-long freeze can expire in milliseconds)."""

from __future__ import annotations

import datetime as dt
import time
from typing import Protocol

__all__ = ["Clock", "ManualClock", "SystemClock"]


class Clock(Protocol):
    def now(self) -> dt.datetime: ...


class SystemClock:
    def __init__(self, offset_seconds: float = 0.0) -> None:
        self.offset = dt.timedelta(seconds=offset_seconds)

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.offset

    def monotonic(self) -> float:
        return time.monotonic()


class ManualClock:
    """A clock that only moves when told to."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self._now = start or dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

    def now(self) -> dt.datetime:
        return self._now

    def advance(self, **kwargs: float) -> dt.datetime:
        self._now += dt.timedelta(**kwargs)
        return self._now
