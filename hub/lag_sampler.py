"""The lag sampler: reads the hub's consumer groups' offsets on an interval and keeps a ``LagEvaluator``.

It uses kafka-python's ``KafkaAdminClient`` (blocking) in a daemon thread, so a slow or absent broker
never blocks the gateway's event loop. Offsets come from ``list_group_offsets`` (committed) and
``list_partition_offsets`` with ``OffsetSpec.LATEST`` (end); ``describe_groups`` is not used because
it fails on the embedded broker (ARCHITECTURE.md). Groups are found with ``list_groups`` and kept
when their id starts with ``hub-`` (the streams, each connector, the gateway's read model).
"""

from __future__ import annotations

import logging
import threading
import time
import warnings
from collections.abc import Callable
from typing import Any, Protocol

from .lag import STATUS_CODES, LagEvaluator

# kafka-python 3.0 loads its protocol schemas at import time with importlib.resources.read_text,
# deprecated since Python 3.11; the warning is theirs, not ours (and the test suite makes warnings errors).
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", r"(read|open)_text is deprecated", DeprecationWarning)
    from kafka import TopicPartition
    from kafka.admin import KafkaAdminClient, OffsetSpec

__all__ = ["LagSampler"]

log = logging.getLogger(__name__)


class _Admin(Protocol):
    def list_groups(self) -> list[dict[str, Any]]: ...
    def list_group_offsets(self, group_specs: Any) -> dict[str, dict[TopicPartition, Any]]: ...
    def list_partition_offsets(self, topic_partition_specs: Any) -> dict[TopicPartition, Any]: ...
    def close(self) -> None: ...


def _default_admin(bootstrap: str) -> _Admin:
    return KafkaAdminClient(bootstrap_servers=bootstrap, client_id="hub-lag-sampler", request_timeout_ms=5000)


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
    ) -> None:
        self.bootstrap = bootstrap
        self.interval = interval
        self.group_prefix = group_prefix
        self.only_groups = groups
        self.evaluator = LagEvaluator(window=window, stop_seconds=stop_seconds)
        self._admin_factory = admin_factory
        self._admin: _Admin | None = None
        self._clock = clock
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.samples = 0
        self.last_sample_at: float | None = None
        self.last_error: str | None = None

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
        readings: dict[str, dict[tuple[str, int], tuple[int | None, int]] | str] = {}
        try:
            committed = self._committed(self._admin, groups)
            wanted = {tp for offsets in committed.values() if isinstance(offsets, dict) for tp in offsets}
            ends = (
                self._admin.list_partition_offsets({tp: OffsetSpec.LATEST for tp in wanted}) if wanted else {}
            )
        except Exception as e:
            self._record_failure(f"{type(e).__name__}: {e}")
            self._close_admin()
            return
        for group, offsets in committed.items():
            if isinstance(offsets, str):
                readings[group] = offsets
                continue
            readings[group] = {
                (tp.topic, tp.partition): (meta.offset if meta.offset >= 0 else None, ends[tp].offset)
                for tp, meta in offsets.items()
                if tp in ends
            }
        now = self._clock()
        with self._lock:
            self.evaluator.forget(groups)
            for group, reading in readings.items():
                if isinstance(reading, str):
                    self.evaluator.observe_error(now, group, reading)
                else:
                    self.evaluator.observe(now, group, reading)
            self.samples += 1
            self.last_sample_at = now
            self.last_error = None

    def _list_groups(self, admin: _Admin) -> list[str]:
        ids = sorted({str(g["group_id"]) for g in admin.list_groups()})
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
