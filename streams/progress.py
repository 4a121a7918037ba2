"""Pacing of an open inquiry's progress versions (the stream worker's side of cheap progress).

An inquiry asked of 8 agencies used to publish 9 whole results: one when it opened and one per
answer, each stored by the gateway's read model and each waking the court's long polls. Courts want
progress, not every step of it: :class:`ProgressPacer` lets an inquiry publish a progress
(``pending``) version at once when it has published none within ``interval`` seconds, and
otherwise holds it until ``interval`` after the last one, so that the answers arriving meanwhile go
out together, in the newest version. A settled result (``complete`` or ``partial``, and a late
answer's newer version) is never held.

What the pacer holds is only "publish this inquiry's state at this time": the state itself is in
the inquiries table already, at a version that each accepted change advanced
(``streams.inquiry_state``), so a held version is built from the table when it falls due
(``streams.inquiry_agents.progress_timer``), and a version published twice is a duplicate that
readers ignore. Held versions are this worker's memory: a worker that stops with one held
publishes nothing for it, and the inquiry's next change (at the latest its settlement, by every
answer or by the SLA) publishes a newer version that carries it.

Times are ``time.monotonic()`` seconds: pacing is not a legal period, and the injectable clock of
the legal rules (``hub.clock``) may stand still or jump in a test.
"""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["ProgressPacer"]


class ProgressPacer:
    """When each open inquiry of this worker may publish its next progress version.

    ``interval``: seconds between two progress versions of one inquiry (0: no pacing, every change
    is published at once). Memory: one entry per inquiry that published within the last
    ``interval`` or holds a version (both dropped by :meth:`due` once past, and by :meth:`settled`).
    """

    def __init__(self, interval: float, clock: Callable[[], float] = time.monotonic) -> None:
        if interval < 0:
            raise ValueError("interval: seconds, at least 0")
        self.interval = interval
        self._clock = clock
        self._last: dict[str, float] = {}  # inquiry id -> when its last version was published
        self._held: dict[str, float] = {}  # inquiry id -> when its held version falls due

    def publish_now(self, inquiry_id: str) -> bool:
        """Whether a progress version of ``inquiry_id`` may go out now; when not, it is held until
        ``interval`` after the last one (:meth:`due` returns it then)."""
        if self.interval == 0:
            return True
        last = self._last.get(inquiry_id)
        if last is None or self._clock() - last >= self.interval:
            return True
        self._held.setdefault(inquiry_id, last + self.interval)
        return False

    def published(self, inquiry_id: str) -> None:
        """A version of ``inquiry_id`` went out now (anything held for it went with it)."""
        self._held.pop(inquiry_id, None)
        if self.interval:
            self._last[inquiry_id] = self._clock()

    def settled(self, inquiry_id: str) -> None:
        """``inquiry_id`` settled (or left this worker): it has nothing more to pace."""
        self._held.pop(inquiry_id, None)
        self._last.pop(inquiry_id, None)

    def due(self) -> list[str]:
        """The inquiries whose held version falls due now, oldest first (no longer held: a publish
        that fails is held again by calling :meth:`hold`); forgets publishes older than ``interval``."""
        now = self._clock()
        ready = sorted((at, i) for i, at in self._held.items() if at <= now)
        for _, inquiry_id in ready:
            del self._held[inquiry_id]
        for inquiry_id in [i for i, at in self._last.items() if now - at >= self.interval]:
            del self._last[inquiry_id]
        return [inquiry_id for _, inquiry_id in ready]

    def fresh(self, inquiry_id: str) -> bool:
        """Whether a version of ``inquiry_id`` went out within the last ``interval``."""
        last = self._last.get(inquiry_id)
        return last is not None and self._clock() - last < self.interval

    def hold(self, inquiry_id: str, seconds: float) -> None:
        """Hold ``inquiry_id``'s version again, due in ``seconds`` (a publish that failed)."""
        self._held[inquiry_id] = self._clock() + seconds

    @property
    def held(self) -> int:
        """How many inquiries hold a version now."""
        return len(self._held)

    def __len__(self) -> int:
        return len(self._last.keys() | self._held.keys())
