"""The time lag of a consumer, as kafka-lag-exporter estimates it: every sample adds
``(time, end offset)`` to a per-partition table; the age of the oldest unconsumed message is
``now - t`` where ``t`` is when the end offset passed the committed offset, interpolated between the
two table points around it, or extrapolated at the table's produce rate when it is older than the
table. Times are seconds (any epoch, as long as one is used throughout); offsets are Kafka offsets."""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Sequence

__all__ = ["EndOffsetTable", "time_lag"]


class EndOffsetTable:
    """Sampled ``(time, end offset)`` points of one partition, oldest first (kafka-lag-exporter's table).

    A run of equal offsets keeps only its first and last point: the last time the end offset was
    still ``o`` is the tightest bound on when message ``o`` was appended, and nothing between adds
    information. A smaller end offset than the last one (topic re-created) starts the table anew.
    """

    def __init__(self, capacity: int = 300) -> None:
        if capacity < 2:
            raise ValueError("capacity must be at least 2")
        self.points: deque[tuple[float, int]] = deque(maxlen=capacity)

    def add(self, at: float, end: int) -> None:
        pts = self.points
        if pts and end < pts[-1][1]:
            pts.clear()
        if len(pts) >= 2 and pts[-1][1] == end and pts[-2][1] == end:
            pts[-1] = (at, end)
        else:
            pts.append((at, end))

    def appended_at(self, offset: int) -> tuple[float | None, str]:
        """When the message at ``offset`` was appended, i.e. when the end offset reached ``offset + 1``.

        Returns the time and how it was found: ``interpolated``, ``extrapolated`` (before the table,
        at the table's produce rate), ``lower_bound`` (before the table and no rate to extrapolate
        with: the message is at least as old as the table), ``not_appended`` (offset not yet written)
        or ``empty``.
        """
        return _appended_at(list(self.points), offset)


def _appended_at(points: Sequence[tuple[float, int]], offset: int) -> tuple[float | None, str]:
    if not points:
        return None, "empty"
    target = offset + 1
    last_t, last_o = points[-1]
    if target > last_o:
        return None, "not_appended"
    first_t, first_o = points[0]
    if target <= first_o:
        span_o, span_t = last_o - first_o, last_t - first_t
        if span_o > 0 and span_t > 0:
            rate = span_o / span_t
            return first_t - (first_o - target) / rate, "extrapolated"
        return first_t, "lower_bound"
    # first point whose offset reaches the target; the one before it is below the target
    for (t0, o0), (t1, o1) in itertools.pairwise(points):
        if o0 < target <= o1:
            return t0 + (target - o0) / (o1 - o0) * (t1 - t0), "interpolated"
    return last_t, "interpolated"  # pragma: no cover - unreachable with a monotonic table


def time_lag(points: Sequence[tuple[float, int]], committed: int, end: int, now: float) -> tuple[float, str]:
    """Seconds the oldest unconsumed message has waited (0 when caught up), and how it was estimated."""
    if committed >= end:
        return 0.0, "caught_up"
    at, how = _appended_at(points, committed)
    if at is None:
        return 0.0, how
    return max(0.0, now - at), how
