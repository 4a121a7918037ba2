"""A circuit breaker per agency: after ``failure_threshold`` consecutive failed registry calls the
circuit opens and calls are refused at once (no HTTP) until ``reset_seconds`` have passed; then one
call at a time is let through as a probe (half-open): its success closes the circuit, its failure
opens it again for another ``reset_seconds``.

What counts as a failure is decided by the caller (``connectors.retry.is_transient``: timeouts,
connection errors, 5xx, 429): a 4xx or an unreadable reply shows the registry is up, so it counts as
a success for the breaker. One breaker is shared by an agency's inquiry and control runners, since
they call the same registry.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable
from typing import Any

from hub.errors import RegistryUnavailable

log = logging.getLogger(__name__)

__all__ = ["CircuitBreaker", "CircuitOpenError", "CircuitState"]


class CircuitState(enum.StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitOpenError(RegistryUnavailable):
    """Raised instead of calling the registry while the circuit is open (or its probe is out).

    ``retry_after`` (seconds, >= 0) is when the next probe may go: a caller that retries (control
    orders) waits at least that long; an inquiry reports the agency ``unavailable`` at once.
    """


class CircuitBreaker:
    """Per-agency breaker. Not thread-safe: used from one event loop.

    ``clock`` returns monotonic seconds (tests pass their own). ``on_change(state)`` is called on
    every state transition (metrics).
    """

    def __init__(
        self,
        agency: str,
        *,
        failure_threshold: int = 5,
        reset_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[CircuitState], Any] | None = None,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        if reset_seconds <= 0:
            raise ValueError("reset_seconds must be positive")
        self.agency = agency
        self.failure_threshold = failure_threshold
        self.reset_seconds = reset_seconds
        self._clock = clock
        self._on_change = on_change
        self._state = CircuitState.CLOSED
        self._opened_at: float | None = None
        self._probe_out = False
        self.consecutive_failures = 0
        self.times_opened = 0
        self.refused = 0
        self.last_failure: str | None = None

    # ------------------------------------------------------------ reading
    @property
    def state(self) -> CircuitState:
        """The state as a caller would find it now: an open circuit whose reset time has passed
        reads ``half_open`` (the next call is the probe)."""
        if self._state is CircuitState.OPEN and self.retry_after() == 0.0:
            return CircuitState.HALF_OPEN
        return self._state

    def retry_after(self) -> float:
        """Seconds until a probe may go (0 when closed, or when the reset time has passed)."""
        if self._state is not CircuitState.OPEN or self._opened_at is None:
            return 0.0
        return max(0.0, self._opened_at + self.reset_seconds - self._clock())

    def snapshot(self) -> dict[str, Any]:
        """JSON for ``/stats``: state, consecutive failures, seconds until the next probe, counts."""
        return {
            "state": self.state.value,
            "consecutive_failures": self.consecutive_failures,
            "failure_threshold": self.failure_threshold,
            "reset_seconds": self.reset_seconds,
            "retry_in_seconds": round(self.retry_after(), 3),
            "times_opened": self.times_opened,
            "refused": self.refused,
            "last_failure": self.last_failure,
        }

    # ------------------------------------------------------------ the protocol around one call
    def before_call(self) -> None:
        """Admit a call or raise ``CircuitOpenError``. An admitted call must end in exactly one
        ``record_success`` or ``record_failure``."""
        if self._state is CircuitState.CLOSED:
            return
        wait = self.retry_after()
        if self._state is CircuitState.OPEN and wait == 0.0:
            self._set(CircuitState.HALF_OPEN)
        if self._state is CircuitState.HALF_OPEN and not self._probe_out:
            self._probe_out = True
            return
        self.refused += 1
        what = "probe in progress" if self._state is CircuitState.HALF_OPEN else f"next probe in {wait:.1f} s"
        raise CircuitOpenError(
            self.agency,
            f"circuit open after {self.consecutive_failures} consecutive failures ({what})",
            retry_after=wait if wait > 0 else min(1.0, self.reset_seconds),
        )

    def record_success(self) -> None:
        self.consecutive_failures = 0
        self._probe_out = False
        if self._state is not CircuitState.CLOSED:
            self._opened_at = None
            self._set(CircuitState.CLOSED)

    def record_failure(self, reason: str | None = None) -> None:
        self.consecutive_failures += 1
        self.last_failure = reason
        probe_failed = self._state is CircuitState.HALF_OPEN
        self._probe_out = False
        if probe_failed or (
            self._state is CircuitState.CLOSED and self.consecutive_failures >= self.failure_threshold
        ):
            self._opened_at = self._clock()
            self.times_opened += 1
            log.warning(
                "%s: circuit opened after %d consecutive failures, the last: %s",
                self.agency,
                self.consecutive_failures,
                reason,
            )
            self._set(CircuitState.OPEN)

    def release(self) -> None:
        """An admitted call ended without telling anything about the registry (cancelled): free
        the probe slot without changing the state."""
        self._probe_out = False

    def _set(self, state: CircuitState) -> None:
        if state is not self._state:
            self._state = state
            if self._on_change is not None:
                self._on_change(state)
