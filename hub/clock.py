"""The hub's clock. Every time-dependent rule reads this, never ``datetime.now`` directly,
so tests and simulations can move time (a year-long freeze can expire in milliseconds).

``HubClock`` is the system clock shifted by ``HUB_CLOCK_OFFSET_SECONDS`` plus, when
``HUB_CLOCK_FILE`` is set, the offset written in that file (re-read when the file changes), so a
simulation can move the time of every process of a running hub at once: ``hub clock --days 365``
or ``set_clock_offset(path, seconds)``.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Protocol

__all__ = ["Clock", "HubClock", "ManualClock", "SystemClock", "clock_from_settings", "set_clock_offset"]


class Clock(Protocol):
    def now(self) -> dt.datetime: ...


class SystemClock:
    def __init__(self, offset_seconds: float = 0.0) -> None:
        self.offset = dt.timedelta(seconds=offset_seconds)

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.offset


class HubClock(SystemClock):
    """System time + a fixed offset + the offset in ``clock_file`` (if any)."""

    def __init__(self, offset_seconds: float = 0.0, clock_file: Path | None = None) -> None:
        super().__init__(offset_seconds)
        self.clock_file = clock_file
        self._file_state: tuple[float, int] | None = None
        self._file_offset = dt.timedelta(0)

    def _read_file(self) -> dt.timedelta:
        if self.clock_file is None:
            return dt.timedelta(0)
        try:
            st = os.stat(self.clock_file)
        except FileNotFoundError:
            return dt.timedelta(0)
        state = (st.st_mtime, st.st_size)
        if state != self._file_state:
            try:
                self._file_offset = dt.timedelta(seconds=float(self.clock_file.read_text().strip() or 0))
                self._file_state = state
            except (OSError, ValueError):
                pass  # a half-written file: keep the last good offset
        return self._file_offset

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.offset + self._read_file()


def set_clock_offset(path: Path, seconds: float) -> None:
    """Atomically write a clock offset that every process of the hub picks up."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(f"{seconds}\n")
    os.replace(tmp, path)


def clock_from_settings(settings: object) -> HubClock:
    offset = float(getattr(settings, "clock_offset_seconds", 0.0))
    clock_file = getattr(settings, "clock_file", None)
    return HubClock(offset, Path(clock_file) if clock_file else None)


class ManualClock:
    """A clock that only moves when told to (unit tests)."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self._now = start or dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

    def now(self) -> dt.datetime:
        return self._now

    def advance(self, **kwargs: float) -> dt.datetime:
        self._now += dt.timedelta(**kwargs)
        return self._now
