"""The lag sampler: reads the hub's consumer groups' offsets on an interval and keeps a ``LagEvaluator``.

It uses kafka-python's ``KafkaAdminClient`` (blocking) in a daemon thread, so a slow or absent broker
never blocks the gateway's event loop. Offsets come from ``list_group_offsets`` (committed) and
``list_partition_offsets`` with ``OffsetSpec.LATEST`` (end); ``describe_groups`` is not used because
it fails on the embedded broker (ARCHITECTURE.md). Groups are found with ``list_groups`` and kept
when their id starts with ``hub-`` (the streams, each connector, the gateway's read model).

No blind spots (``hub.lag``): every partition of the topics a group consumes is read, including those
it never committed on (Kafka's OffsetFetch lists only committed partitions, so the sampler asks for
each partition of the group's topics: those it committed on and those ``group_topics`` names), and
those get their lag from the log start (``OffsetSpec.EARLIEST``). The groups ``group_topics`` names
are read even when ListGroups does not list them (the embedded broker lists only groups that have
committed). An end offset is floored at the highest offset any group committed on that partition
(the embedded broker's ListOffsets trails).
``in_flight`` (the connectors' ``/in-flight``) adds the age of each partition's oldest message in flight.
"""

from __future__ import annotations

import logging
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

import httpx

from schemas.topics import (
    AGENCY_RESPONSES,
    CONTROL_RESULTS,
    CONTROL_TICKS,
    COURT_COMMANDS,
    COURT_OUTCOMES,
    DEAD_LETTERS,
    INQUIRY_DEADLINES,
    INQUIRY_OPENED,
    INQUIRY_RESULTS,
    agency_controls_topic,
    agency_requests_topic,
)

from .kafka import client_security
from .lag import STATUS_CODES, LagEvaluator
from .settings import HubSettings

# kafka-python 3.0 loads its protocol schemas at import time with importlib.resources.read_text,
# deprecated since Python 3.11; the warning is theirs, not ours (and the test suite makes warnings errors).
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", r"(read|open)_text is deprecated", DeprecationWarning)
    from kafka import TopicPartition
    from kafka.admin import KafkaAdminClient, OffsetSpec

__all__ = ["InFlightReader", "LagSampler", "connectors_in_flight", "hub_group_topics"]

log = logging.getLogger(__name__)

TopicKey = tuple[str, int]
InFlight = Mapping[str, Mapping[TopicKey, tuple[int, float]]]


def hub_group_topics(settings: HubSettings) -> dict[str, list[str]]:
    """The topics each hub consumer group reads, so that a partition it never committed on is seen."""
    from schemas.agencies import agency_slug

    out: dict[str, list[str]] = {
        "hub-streams": [
            COURT_COMMANDS,
            INQUIRY_OPENED,
            AGENCY_RESPONSES,
            INQUIRY_DEADLINES,
            CONTROL_RESULTS,
            CONTROL_TICKS,
        ],
        "hub-gateway-readmodel": [INQUIRY_RESULTS, DEAD_LETTERS, COURT_OUTCOMES],
    }
    for agency in settings.agencies:
        out[f"hub-connector-{agency_slug(agency)}"] = [agency_requests_topic(agency)]
        out[f"hub-connector-{agency_slug(agency)}-controls"] = [agency_controls_topic(agency)]
    return out


class InFlightReader:
    """A source for ``LagSampler(in_flight=...)``: calling it reads ``<url>/in-flight`` of each
    connectors process (``{group: [{"topic", "partition", "offset", "age_seconds"}]}``) and merges
    them. An unreachable process contributes nothing (its health is shown elsewhere).

    One client for every read (kept connections): a new client per read built a TLS context each
    time, a fifth of the gateway's CPU under load. Call it from one thread at a time; ``close()``
    closes the client (the sampler's ``stop()`` does)."""

    def __init__(self, urls: Iterable[str], timeout: float = 2.0) -> None:
        self._bases = [u.rstrip("/") for u in urls]
        self._timeout = timeout
        self._client: httpx.Client | None = None

    def __call__(self) -> InFlight:
        if self._client is None:
            self._client = httpx.Client(timeout=self._timeout)
        out: dict[str, dict[TopicKey, tuple[int, float]]] = {}
        for base in self._bases:
            try:
                r = self._client.get(f"{base}/in-flight")
                r.raise_for_status()
                body = r.json()
            except (httpx.HTTPError, ValueError) as e:
                log.debug("in-flight of %s unreadable: %s", base, e)
                continue
            for group, rows in body.items():
                mine = out.setdefault(str(group), {})
                for row in rows:
                    key = (str(row["topic"]), int(row["partition"]))
                    mine[key] = (int(row["offset"]), float(row["age_seconds"]))
        return out

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def connectors_in_flight(urls: Iterable[str], timeout: float = 2.0) -> InFlightReader:
    """The ``InFlightReader`` of these connectors processes' base URLs (timeout in seconds)."""
    return InFlightReader(urls, timeout)


class _Admin(Protocol):
    def list_groups(self) -> list[dict[str, Any]]: ...
    def list_group_offsets(self, group_specs: Any) -> dict[str, dict[TopicPartition, Any]]: ...
    def list_partition_offsets(self, topic_partition_specs: Any) -> dict[TopicPartition, Any]: ...
    def describe_topics(self, topics: Any = None) -> list[dict[str, Any]]: ...
    def close(self) -> None: ...


def _default_admin(bootstrap: str) -> _Admin:
    return KafkaAdminClient(
        bootstrap_servers=bootstrap, client_id="hub-lag-sampler", request_timeout_ms=5000, **client_security()
    )


class LagSampler:
    """Samples every ``interval`` seconds; ``snapshot()`` is the JSON of ``GET /v1/ops/lag``."""

    def __init__(
        self,
        bootstrap: str,
        *,
        interval: float = 2.0,
        window: int = 10,
        stop_seconds: float = 60.0,
        group_prefix: str = "hub-",
        groups: set[str] | None = None,
        admin_factory: Callable[[str], _Admin] = _default_admin,
        clock: Callable[[], float] = time.time,
        group_topics: Mapping[str, Iterable[str]] | None = None,
        in_flight: Callable[[], InFlight] | None = None,
        in_flight_stall_seconds: float = 60.0,
    ) -> None:
        self.bootstrap = bootstrap
        self.interval = interval
        self.group_prefix = group_prefix
        self.only_groups = groups
        self.group_topics = {g: list(ts) for g, ts in (group_topics or {}).items()}
        self._in_flight = in_flight
        self.evaluator = LagEvaluator(
            window=window, stop_seconds=stop_seconds, in_flight_stall_seconds=in_flight_stall_seconds
        )
        self._admin_factory = admin_factory
        self._admin: _Admin | None = None
        self._clock = clock
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.samples = 0
        self.last_sample_at: float | None = None
        self.last_error: str | None = None

    @classmethod
    def from_settings(cls, settings: HubSettings) -> LagSampler:
        """The gateway's sampler: every ``hub-`` group, its topics, and the connectors' in-flight ages."""
        urls = getattr(settings, "connectors_urls", None) or [settings.resolved_connectors_url]
        return cls(
            settings.bootstrap,
            interval=settings.lag_sample_seconds,
            window=settings.lag_window,
            stop_seconds=settings.lag_stop_seconds,
            group_topics=hub_group_topics(settings),
            in_flight=connectors_in_flight(urls),
            in_flight_stall_seconds=settings.lag_in_flight_stall_seconds,
        )

    # ------------------------------------------------------------ lifecycle
    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="hub-lag-sampler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self._close_admin()
        close = getattr(self._in_flight, "close", None)
        if close is not None:
            close()

    def _close_admin(self) -> None:
        if self._admin is not None:
            try:
                self._admin.close()
            except Exception:  # closing a broken client must not mask the stop
                log.debug("closing the admin client failed", exc_info=True)
            self._admin = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            self.sample_once()
            self._stop.wait(max(0.0, self.interval - (time.monotonic() - started)))

    # ------------------------------------------------------------ one round
    def sample_once(self) -> None:
        """Read all groups once and feed the evaluator; failures become ERROR samples, never exceptions."""
        try:
            if self._admin is None:
                self._admin = self._admin_factory(self.bootstrap)
            groups = self._list_groups(self._admin)
        except Exception as e:  # broker down or unreachable: every known group is in ERROR
            self._record_failure(f"{type(e).__name__}: {e}")
            self._close_admin()
            return
        readings: dict[str, dict[TopicKey, tuple[int | None, int]] | str] = {}
        try:
            committed = self._committed(self._admin, groups)
            self._add_uncommitted(self._admin, committed)
            wanted = {tp for offsets in committed.values() if isinstance(offsets, dict) for tp in offsets}
            ends = (
                self._admin.list_partition_offsets({tp: OffsetSpec.LATEST for tp in wanted}) if wanted else {}
            )
            bare = {
                tp
                for offsets in committed.values()
                if isinstance(offsets, dict)
                for tp, meta in offsets.items()
                if meta is None or meta.offset < 0
            }
            starts = (
                self._admin.list_partition_offsets({tp: OffsetSpec.EARLIEST for tp in bare}) if bare else {}
            )
        except Exception as e:
            self._record_failure(f"{type(e).__name__}: {e}")
            self._close_admin()
            return
        # the end is at least the highest offset any group committed (ListOffsets may trail)
        floor: dict[TopicPartition, int] = {}
        for offsets in committed.values():
            if isinstance(offsets, dict):
                for tp, meta in offsets.items():
                    if meta is not None and meta.offset >= 0:
                        floor[tp] = max(floor.get(tp, 0), meta.offset)
        for group, offsets in committed.items():
            if isinstance(offsets, str):
                readings[group] = offsets
                continue
            readings[group] = {
                (tp.topic, tp.partition): (
                    meta.offset if meta is not None and meta.offset >= 0 else None,
                    max(ends[tp].offset, floor.get(tp, 0)),
                )
                for tp, meta in offsets.items()
                if tp in ends
            }
        log_start = {(tp.topic, tp.partition): starts[tp].offset for tp in starts}
        flights = self._read_in_flight()
        now = self._clock()
        with self._lock:
            self.evaluator.forget(groups)
            for group, reading in readings.items():
                if isinstance(reading, str):
                    self.evaluator.observe_error(now, group, reading)
                else:
                    self.evaluator.observe(
                        now, group, reading, log_start=log_start, in_flight=flights.get(group)
                    )
            self.samples += 1
            self.last_sample_at = now
            self.last_error = None

    def _read_in_flight(self) -> InFlight:
        if self._in_flight is None:
            return {}
        try:
            return self._in_flight()
        except Exception as e:  # the desk still reports lag without it
            log.warning("in-flight ages unreadable: %s: %s", type(e).__name__, e)
            return {}

    def _add_uncommitted(self, admin: _Admin, committed: dict[str, dict[TopicPartition, Any] | str]) -> None:
        """Give every group an entry (offset meta None) for each partition of its topics it has not
        committed on: its topics are those it committed on plus those ``group_topics`` names."""
        topics_of = {
            group: {tp.topic for tp in offsets} | set(self.group_topics.get(group, ()))
            for group, offsets in committed.items()
            if isinstance(offsets, dict)
        }
        every = sorted(set().union(*topics_of.values())) if topics_of else []
        if not every:
            return
        try:
            described = admin.describe_topics(every)
        except Exception as e:  # without metadata the committed partitions are still reported
            log.warning("topic metadata unreadable: %s: %s", type(e).__name__, e)
            return
        partitions = {
            str(t["name"]): [int(p["partition_index"]) for p in t.get("partitions") or []]
            for t in described
            if not t.get("error_code")
        }
        for group, topics in topics_of.items():
            offsets = committed[group]
            assert isinstance(offsets, dict)
            for topic in topics:
                for p in partitions.get(topic, []):
                    offsets.setdefault(TopicPartition(topic, p), None)

    def _list_groups(self, admin: _Admin) -> list[str]:
        # the groups ``group_topics`` names are read even when ListGroups leaves them out: the embedded
        # broker lists a group only once it has committed, and a group that never committed (or never
        # started) with messages waiting is exactly what the desk must show
        ids = sorted({str(g["group_id"]) for g in admin.list_groups()} | set(self.group_topics))
        if self.only_groups is not None:
            return [g for g in ids if g in self.only_groups]
        return [g for g in ids if g.startswith(self.group_prefix)]

    @staticmethod
    def _committed(admin: _Admin, groups: list[str]) -> dict[str, dict[TopicPartition, Any] | str]:
        """Committed offsets of every group; if the batched call fails, group by group so one bad
        group is ERROR alone."""
        if not groups:
            return {}
        try:
            return dict(admin.list_group_offsets(dict.fromkeys(groups)))
        except Exception:
            log.debug("batched OffsetFetch failed; asking group by group", exc_info=True)
        out: dict[str, dict[TopicPartition, Any] | str] = {}
        for group in groups:
            try:
                out[group] = admin.list_group_offsets({group: None}).get(group, {})
            except Exception as e:
                out[group] = f"{type(e).__name__}: {e}"
        return out

    def _record_failure(self, error: str) -> None:
        log.warning("lag sample failed: %s", error)
        now = self._clock()
        with self._lock:
            for group in self.evaluator.groups:
                self.evaluator.observe_error(now, group, error)
            self.last_error = error
            self.last_sample_at = now

    # ------------------------------------------------------------ reading
    @property
    def alive(self) -> bool:
        """Whether the sampling thread runs (``/healthz`` reports a dead one)."""
        return self._thread is not None and self._thread.is_alive()

    def snapshot(self) -> dict[str, Any]:
        now = self._clock()
        with self._lock:
            groups = [g.as_dict() for g in self.evaluator.report(now)]
        return {
            "sampled_at": self.last_sample_at,
            "now": now,
            "samples": self.samples,
            "interval_seconds": self.interval,
            "window": self.evaluator.window,
            "stop_seconds": self.evaluator.stop_seconds,
            "error": self.last_error,
            "status_codes": {s.value: c for s, c in STATUS_CODES.items()},
            "groups": groups,
        }
