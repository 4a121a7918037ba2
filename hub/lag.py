"""Consumer-lag evaluation for the operations desk: pure functions and state, no I/O.

The sampler (``hub.lag_sampler``) reads, every ``lag_sample_seconds``, each hub group's committed
offsets and each partition's end offset, and feeds them here. This module turns those samples into
what an operator needs to act on:

- **lag in messages**: ``end - committed``;
- **lag in seconds**, estimated as kafka-lag-exporter does (``hub.lag_time``): each sample adds
  ``(time, end offset)`` to a per-partition table; the age of the oldest unconsumed message is
  ``now - t`` where ``t`` is when the end offset passed the committed offset, interpolated between the
  two table points around it, or extrapolated at the table's produce rate. 10,000 messages
  behind on a busy topic can be 2 s; 50 behind on a quiet one can be an hour.
- **a status** per partition over a sliding window of the last ``window`` samples, after Burrow's
  rules, and per group the worst of its partitions:

  ========  =================================================================================
  ERROR     the last attempt to read the offsets failed
  OK        the lag was zero at least once in the window (Burrow rule 1), or nothing below holds
  STOPPED   lag > 0 and the committed offset has not advanced for more than ``stop_seconds``
            (counted from the later of the last advance and the last time the lag was zero, so an
            idle consumer on a quiet topic is not "stopped" the moment a message arrives)
  STALLED   the committed offset is the same in every sample of a full window while lag > 0
            (Burrow's STALL; it escalates to STOPPED once ``stop_seconds`` have passed, because
            Kafka's OffsetFetch carries no commit time: a re-commit of the same offset is not visible)
  WARNING   the committed offset advances but the lag grows across the window (Burrow's WARN),
            or the committed offset moved backwards (Burrow's REWIND)
  ========  =================================================================================

No blind spots:

- a partition the group has never committed on is reported, its lag counted from the start of the
  log (``committed`` is None, ``position`` is the log start): a consumer stuck on its first message
  shows lag 1 and goes STALLED, then STOPPED, instead of vanishing from the report;
- a connector reports its oldest message in flight per partition (offset and age); one in flight
  for longer than ``in_flight_stall_seconds`` makes the partition at least STALLED, whatever the
  window says (a request stuck at a registry while the consumer commits nothing new);
- an end offset below the committed offset (the embedded broker's ListOffsets can trail, 5 against a
  committed 7) is raised to the committed offset: the lag is never negative and the offset table
  never goes backwards; the report marks the partition ``end_trailing``.

Burrow evaluates commits as they arrive; here the window is the last N *samples*, which is what a
client that can only ask the broker (no ``__consumer_offsets`` feed) can see.
"""

from __future__ import annotations

import enum
import itertools
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .lag_time import EndOffsetTable, time_lag

__all__ = [
    "STATUS_CODES",
    "EndOffsetTable",
    "GroupReport",
    "LagEvaluator",
    "PartitionReport",
    "Sample",
    "Status",
    "evaluate_window",
    "time_lag",
    "worst",
]


class Status(enum.StrEnum):
    OK = "OK"
    WARNING = "WARNING"
    STALLED = "STALLED"
    STOPPED = "STOPPED"
    ERROR = "ERROR"


# Severity order, also the numeric value of the status gauges in /metrics.
STATUS_CODES: dict[Status, int] = {
    Status.OK: 0,
    Status.WARNING: 1,
    Status.STALLED: 2,
    Status.STOPPED: 3,
    Status.ERROR: 4,
}


def worst(statuses: Iterable[Status]) -> Status:
    """The most severe status (OK when there is none): a group is as bad as its worst partition."""
    return max(statuses, key=STATUS_CODES.__getitem__, default=Status.OK)


@dataclass(frozen=True, slots=True)
class Sample:
    """One reading of one partition for one group. ``error`` set means the offsets could not be read."""

    at: float
    committed: int | None
    end: int | None
    error: str | None = None
    start: int | None = None  # the log start, which counts as the position when nothing is committed

    @property
    def position(self) -> int | None:
        """Where the group stands: its committed offset, or the log start when it has none."""
        return self.committed if self.committed is not None else self.start

    @property
    def lag(self) -> int | None:
        if self.position is None or self.end is None:
            return None
        return max(0, self.end - self.position)


def evaluate_window(
    window: Sequence[Sample], *, now: float, size: int, stop_seconds: float, pending_since: float | None
) -> tuple[Status, str]:
    """Status of one partition and the reason, from its last samples (oldest first).

    ``pending_since`` is when the partition last was fine (its committed offset last advanced or its
    lag last was zero), or None when it is caught up now.
    """
    if not window:
        return Status.OK, "no samples yet"
    last = window[-1]
    if last.error is not None:
        return Status.ERROR, f"offsets could not be read: {last.error}"
    readable = [s for s in window if s.error is None and s.lag is not None]
    lags = [s.lag for s in readable if s.lag is not None]
    if not lags or lags[-1] == 0:
        return Status.OK, "caught up"
    if pending_since is not None and now - pending_since > stop_seconds:
        return (
            Status.STOPPED,
            f"no commit advance for {now - pending_since:.0f} s (> {stop_seconds:g} s) with lag {lags[-1]}",
        )
    if 0 in lags:
        return Status.OK, "lag was zero within the window"
    committed = [s.position for s in readable]
    if any(b is not None and a is not None and b < a for a, b in itertools.pairwise(committed)):
        return Status.WARNING, "committed offset moved backwards (rewind)"
    if len(readable) < size:
        return Status.OK, f"warming up ({len(readable)}/{size} samples)"
    if committed[0] == committed[-1]:
        return (
            Status.STALLED,
            f"{'committed offset' if readable[-1].committed is not None else 'nothing committed; log start'}"
            f" stuck at {committed[-1]} across the window with lag {lags[-1]}",
        )
    steps = list(itertools.pairwise(lags))
    shrinking = sum(1 for a, b in steps if b < a)
    if lags[-1] > lags[0] and shrinking <= len(steps) // 4:
        return Status.WARNING, f"lag grew from {lags[0]} to {lags[-1]} across the window while committing"
    return Status.OK, "consuming"


@dataclass
class PartitionReport:
    group: str
    topic: str
    partition: int
    committed: int | None
    end: int | None
    lag: int | None
    lag_seconds: float | None
    lag_seconds_method: str
    status: Status
    reason: str
    position: int | None = None
    end_trailing: bool = False
    in_flight: tuple[int, float] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "partition": self.partition,
            "committed": self.committed,
            "position": self.position,
            "lag_from": "committed" if self.committed is not None else "log_start",
            "end": self.end,
            "end_trailing": self.end_trailing,
            "lag": self.lag,
            "lag_seconds": None if self.lag_seconds is None else round(self.lag_seconds, 3),
            "lag_seconds_method": self.lag_seconds_method,
            "oldest_in_flight": None
            if self.in_flight is None
            else {"offset": self.in_flight[0], "age_seconds": round(self.in_flight[1], 3)},
            "status": self.status.value,
            "reason": self.reason,
        }


@dataclass
class GroupReport:
    group: str
    status: Status
    lag: int
    lag_seconds: float
    error: str | None
    partitions: list[PartitionReport]
    history: list[tuple[float, int, float]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "status": self.status.value,
            "lag": self.lag,
            "lag_seconds": round(self.lag_seconds, 3),
            "error": self.error,
            "partitions": [p.as_dict() for p in self.partitions],
            "history": [[round(t, 3), lag, round(secs, 3)] for t, lag, secs in self.history],
        }


@dataclass
class _PartitionState:
    window: deque[Sample]
    table: EndOffsetTable
    last_committed: int | None = None
    pending_since: float | None = None
    end_trailing: bool = False
    in_flight: tuple[int, float, float] | None = None  # offset, age, sampled at


@dataclass
class _GroupState:
    partitions: dict[tuple[str, int], _PartitionState] = field(default_factory=dict)
    error: str | None = None
    history: deque[tuple[float, int, float]] = field(default_factory=deque)


class LagEvaluator:
    """Keeps each group's partition windows and offset tables; ``report`` evaluates them.

    Not thread-safe: the sampler serialises calls under its own lock.
    """

    def __init__(
        self,
        *,
        window: int = 10,
        stop_seconds: float = 60.0,
        table_size: int = 300,
        history_seconds: float = 600.0,
        in_flight_stall_seconds: float = 60.0,
    ) -> None:
        if window < 2:
            raise ValueError("window must be at least 2 samples")
        self.window = window
        self.stop_seconds = stop_seconds
        self.in_flight_stall_seconds = in_flight_stall_seconds
        self.table_size = table_size
        self.history_seconds = history_seconds
        self._groups: dict[str, _GroupState] = {}

    @property
    def groups(self) -> list[str]:
        return sorted(self._groups)

    def _partition(self, group: _GroupState, topic: str, partition: int) -> _PartitionState:
        key = (topic, partition)
        state = group.partitions.get(key)
        if state is None:
            state = _PartitionState(deque(maxlen=self.window), EndOffsetTable(self.table_size))
            group.partitions[key] = state
        return state

    def observe(
        self,
        at: float,
        group: str,
        offsets: Mapping[tuple[str, int], tuple[int | None, int]],
        *,
        log_start: Mapping[tuple[str, int], int] | None = None,
        in_flight: Mapping[tuple[str, int], tuple[int, float]] | None = None,
    ) -> None:
        """One successful reading of a group: ``(topic, partition) -> (committed or None, end offset)``.

        A partition without a committed offset counts from ``log_start[(topic, partition)]`` (the
        log's first offset); without one its lag is unknown (reported, never alarmed on). An end
        offset below the position is raised to it (the broker's answer trails). ``in_flight`` maps a
        partition to ``(offset, age in seconds)`` of the oldest message its consumer is still working
        on; partitions absent from it have nothing in flight. ``at`` is in seconds (epoch).
        """
        gstate = self._groups.setdefault(group, _GroupState())
        gstate.error = None
        starts = log_start or {}
        flights = in_flight or {}
        for (topic, partition), (committed, end) in offsets.items():
            state = self._partition(gstate, topic, partition)
            start = starts.get((topic, partition)) if committed is None else None
            position = committed if committed is not None else start
            state.end_trailing = position is not None and end < position
            if position is not None:
                end = max(end, position)
            state.table.add(at, end)
            sample = Sample(at, committed, end, start=start)
            lag = sample.lag
            advanced = position is not None and position != state.last_committed
            if lag is None or lag == 0:
                state.pending_since = None
            elif advanced or state.pending_since is None:
                state.pending_since = at
            state.last_committed = position
            flight = flights.get((topic, partition))
            state.in_flight = None if flight is None else (flight[0], flight[1], at)
            state.window.append(sample)
        self._record_history(at, gstate)

    def observe_error(self, at: float, group: str, error: str) -> None:
        """The group's offsets could not be read this round: every partition known gets an ERROR sample."""
        gstate = self._groups.setdefault(group, _GroupState())
        gstate.error = error
        for state in gstate.partitions.values():
            state.window.append(Sample(at, None, None, error))

    def forget(self, keep: Iterable[str]) -> None:
        """Drop groups that no longer exist on the broker."""
        wanted = set(keep)
        for group in [g for g in self._groups if g not in wanted]:
            del self._groups[group]

    def _record_history(self, at: float, gstate: _GroupState) -> None:
        total, secs = 0, 0.0
        for state in gstate.partitions.values():
            last = state.window[-1] if state.window else None
            if last is None or last.lag is None or last.position is None or last.end is None:
                continue
            total += last.lag
            secs = max(secs, time_lag(list(state.table.points), last.position, last.end, at)[0])
        gstate.history.append((at, total, secs))
        while gstate.history and gstate.history[0][0] < at - self.history_seconds:
            gstate.history.popleft()

    def _partition_report(
        self, group: str, topic: str, partition: int, state: _PartitionState, now: float
    ) -> PartitionReport:
        status, reason = evaluate_window(
            list(state.window),
            now=now,
            size=self.window,
            stop_seconds=self.stop_seconds,
            pending_since=state.pending_since,
        )
        good = [s for s in state.window if s.error is None]
        last = good[-1] if good else None
        committed, end = (last.committed, last.end) if last else (None, None)
        position = last.position if last else None
        lag = last.lag if last else None
        secs: float | None = None
        method = "unknown"
        if position is not None and end is not None:
            secs, method = time_lag(list(state.table.points), position, end, now)
        flight: tuple[int, float] | None = None
        if state.in_flight is not None and status is not Status.ERROR:
            offset, age, sampled_at = state.in_flight
            flight = (offset, age + max(0.0, now - sampled_at))
            if (
                flight[1] > self.in_flight_stall_seconds
                and STATUS_CODES[status] < STATUS_CODES[Status.STALLED]
            ):
                status = Status.STALLED
                reason = (
                    f"message at offset {offset} in flight for {flight[1]:.0f} s "
                    f"(> {self.in_flight_stall_seconds:g} s)"
                )
        return PartitionReport(
            group,
            topic,
            partition,
            committed,
            end,
            lag,
            secs,
            method,
            status,
            reason,
            position=position,
            end_trailing=state.end_trailing,
            in_flight=flight,
        )

    def report(self, now: float) -> list[GroupReport]:
        out: list[GroupReport] = []
        for group in sorted(self._groups):
            gstate = self._groups[group]
            parts = [
                self._partition_report(group, topic, p, state, now)
                for (topic, p), state in sorted(gstate.partitions.items())
            ]
            statuses = [p.status for p in parts]
            if gstate.error is not None:
                statuses.append(Status.ERROR)
            out.append(
                GroupReport(
                    group=group,
                    status=worst(statuses),
                    lag=sum(p.lag or 0 for p in parts),
                    lag_seconds=max((p.lag_seconds or 0.0 for p in parts), default=0.0),
                    error=gstate.error,
                    partitions=parts,
                    history=list(gstate.history),
                )
            )
        return out
