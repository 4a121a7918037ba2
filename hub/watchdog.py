"""The supervisor's restart policy and the status it reports, as plain data (unit-tested).

A service that exits on its own is restarted after a backoff that doubles with each recent restart
(``initial`` · 2ⁿ, at most ``maximum`` seconds). One that exited ``loop_restarts`` times within
``window`` seconds is *crash-looping*: it is still retried, at the longest backoff, but reported as
such, and it never stops the other services (stopping them would stop the broker and lose what it
holds in memory). A service that stays up for ``window`` seconds is forgiven its past restarts.

The status of every service is written to ``<HUB_STATE_DIR>/services.json`` on each change, for
``hub up``'s output and the gateway's ``/healthz``::

    {"updated_at": "...", "services": {"broker": {"state": "running", "pid": 123, "restarts": 0,
     "last_exit_code": null, "since": "...", "next_restart_in": null}, ...}}

States: ``running``; ``restarting`` (exited, waiting for its backoff); ``crash_looping`` (exited
too often, retried at the longest backoff); ``stopped`` (stopped by the supervisor).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Liveness", "RestartPolicy", "ServiceStatus", "read_status", "write_status"]


@dataclass(frozen=True)
class RestartPolicy:
    initial: float = 0.5
    maximum: float = 30.0
    loop_restarts: int = 5
    window: float = 600.0

    def recent(self, restarts: list[float], now: float) -> list[float]:
        return [t for t in restarts if now - t < self.window]

    def delay(self, restarts: list[float], now: float) -> float:
        """Seconds to wait before the next restart, given the monotonic times of earlier ones."""
        n = len(self.recent(restarts, now))
        if n >= self.loop_restarts:
            return self.maximum
        return min(self.maximum, self.initial * (2**n))

    def crash_looping(self, restarts: list[float], now: float) -> bool:
        return len(self.recent(restarts, now)) >= self.loop_restarts


@dataclass
class ServiceStatus:
    state: str = "running"
    pid: int | None = None
    restarts: int = 0
    last_exit_code: int | None = None
    since: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat())
    next_restart_in: float | None = None

    def public(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "pid": self.pid,
            "restarts": self.restarts,
            "last_exit_code": self.last_exit_code,
            "since": self.since,
            "next_restart_in": self.next_restart_in,
        }


def write_status(path: Path, services: dict[str, ServiceStatus]) -> None:
    """Atomically replace the status file (readers never see half a file)."""
    body = {
        "updated_at": dt.datetime.now(dt.UTC).isoformat(),
        "services": {name: s.public() for name, s in services.items()},
    }
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(body, indent=2))
    os.replace(tmp, path)


def read_status(path: Path) -> dict[str, Any] | None:
    """The status file's content, or None when there is none (no supervisor, e.g. in production)."""
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data


@dataclass
class Liveness:
    """Restart a service that runs but does not work: one whose own health check has failed
    continuously for ``limit`` seconds. A stream worker can hang in a consumer-group rebalance on
    the embedded broker (faust skips its recovery when the generation moved on meanwhile) and
    never become ready; a new process joins cleanly."""

    limit: float = 90.0
    _failing_since: dict[str, float] = field(default_factory=dict)
    _progress: dict[str, Any] = field(default_factory=dict)

    def observe(self, name: str, healthy: bool, now: float, progress: Any = None) -> bool:
        """Record one health check; True when the service has been failing for ``limit`` seconds
        without progress. ``progress`` is what the service's health check reports as its work done
        so far (None when it reports none): a service that is not ready but whose progress moved
        since the last check (a stream worker recovering a long changelog on a slow machine) is
        working, and its clock starts again."""
        if healthy:
            self._failing_since.pop(name, None)
            self._progress.pop(name, None)
            return False
        if progress is not None and self._progress.get(name) != progress:
            moved = name in self._progress
            self._progress[name] = progress
            if moved:
                self._failing_since[name] = now
                return False
        first = self._failing_since.setdefault(name, now)
        return now - first >= self.limit

    def forget(self, name: str) -> None:
        self._failing_since.pop(name, None)
        self._progress.pop(name, None)
