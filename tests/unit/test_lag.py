"""Lag evaluation (hub/lag.py) on synthetic sample sequences: each status, and the time-lag estimate."""

from __future__ import annotations

import pytest

from hub.lag import EndOffsetTable, LagEvaluator, Sample, Status, evaluate_window, time_lag, worst

TP = ("hub.agency.police.requests", 0)


def feed(ev: LagEvaluator, seq: list[tuple[float, int, int]], group: str = "hub-x") -> None:
    for at, committed, end in seq:
        ev.observe(at, group, {TP: (committed, end)})


def status_of(ev: LagEvaluator, now: float, group: str = "hub-x") -> tuple[Status, str]:
    report = {g.group: g for g in ev.report(now)}[group]
    part = report.partitions[0]
    assert report.status == worst([part.status])
    return part.status, part.reason


def test_caught_up_is_ok() -> None:
    ev = LagEvaluator(window=5, stop_seconds=10)
    feed(ev, [(t, 10 * t, 10 * t) for t in range(8)])
    assert status_of(ev, 7) == (Status.OK, "caught up")


def test_draining_consumer_is_ok_even_with_large_lag() -> None:
    """10,000 behind but committing faster than the producer: lag shrinks, so not a warning."""
    ev = LagEvaluator(window=5, stop_seconds=10)
    feed(ev, [(t, 1000 * t, 10_000 + 500 * t) for t in range(8)])
    status, _ = status_of(ev, 7)
    assert status is Status.OK


def test_zero_lag_within_window_is_ok() -> None:
    ev = LagEvaluator(window=5, stop_seconds=100)
    feed(ev, [(0, 0, 0), (1, 1, 3), (2, 2, 5), (3, 3, 7), (4, 4, 9)])
    assert status_of(ev, 4)[0] is Status.OK


def test_growing_lag_while_committing_is_warning() -> None:
    ev = LagEvaluator(window=5, stop_seconds=10)
    feed(ev, [(t, 100 + 2 * t, 105 + 10 * t) for t in range(6)])
    status, reason = status_of(ev, 5)
    assert status is Status.WARNING
    assert "grew" in reason


def test_warning_tolerates_one_dip() -> None:
    ev = LagEvaluator(window=6, stop_seconds=10)
    lags = [5, 8, 7, 12, 15, 20]
    feed(ev, [(t, 100 + t, 100 + t + lag) for t, lag in enumerate(lags)])
    assert status_of(ev, 5)[0] is Status.WARNING


def test_rewind_is_warning() -> None:
    ev = LagEvaluator(window=4, stop_seconds=100)
    feed(ev, [(0, 50, 60), (1, 55, 62), (2, 20, 64)])
    status, reason = status_of(ev, 2)
    assert status is Status.WARNING
    assert "backwards" in reason


def test_same_offset_across_window_with_lag_is_stalled() -> None:
    ev = LagEvaluator(window=5, stop_seconds=60)
    feed(ev, [(t, 40, 50 + t) for t in range(5)])
    status, reason = status_of(ev, 4)
    assert status is Status.STALLED
    assert "stuck at 40" in reason


def test_stalled_needs_a_full_window() -> None:
    ev = LagEvaluator(window=5, stop_seconds=60)
    feed(ev, [(t, 40, 50) for t in range(3)])
    assert status_of(ev, 2) == (Status.OK, "warming up (3/5 samples)")


def test_no_advance_longer_than_stop_seconds_is_stopped() -> None:
    ev = LagEvaluator(window=3, stop_seconds=10)
    feed(ev, [(t, 40, 50 + t) for t in range(0, 12)])
    status, reason = status_of(ev, 11)
    assert status is Status.STOPPED
    assert "> 10 s" in reason


def test_stop_clock_starts_when_lag_appears_not_at_the_last_commit() -> None:
    """An idle consumer on a quiet topic is not STOPPED the moment a message arrives."""
    ev = LagEvaluator(window=3, stop_seconds=10)
    feed(ev, [(t, 40, 40) for t in range(0, 30)])  # caught up and idle for 30 s
    feed(ev, [(30, 40, 41), (31, 40, 41), (32, 40, 41)])
    assert status_of(ev, 32)[0] is Status.STALLED
    feed(ev, [(41, 40, 41)])
    assert status_of(ev, 41)[0] is Status.STOPPED


def test_read_error_is_error_and_group_is_worst() -> None:
    ev = LagEvaluator(window=3, stop_seconds=10)
    feed(ev, [(0, 1, 1), (1, 2, 2)], group="hub-a")
    feed(ev, [(0, 1, 1), (1, 2, 2)], group="hub-b")
    ev.observe_error(2, "hub-a", "KafkaTimeoutError: no answer")
    reports = {g.group: g for g in ev.report(2)}
    assert reports["hub-a"].status is Status.ERROR
    assert reports["hub-a"].partitions[0].status is Status.ERROR
    assert "KafkaTimeoutError" in reports["hub-a"].partitions[0].reason
    assert reports["hub-b"].status is Status.OK
    ev.observe(3, "hub-a", {TP: (3, 3)})
    assert {g.group: g for g in ev.report(3)}["hub-a"].status is Status.OK


def test_error_for_a_group_never_read() -> None:
    ev = LagEvaluator(window=3)
    ev.observe_error(0, "hub-new", "boom")
    assert ev.report(0)[0].status is Status.ERROR


def test_group_status_is_worst_partition() -> None:
    ev = LagEvaluator(window=3, stop_seconds=100)
    for t in range(4):
        ev.observe(t, "hub-g", {("a", 0): (10 * t, 10 * t), ("a", 1): (5, 9 + t)})
    g = ev.report(3)[0]
    assert [p.status for p in g.partitions] == [Status.OK, Status.STALLED]
    assert g.status is Status.STALLED
    assert g.lag == 7


def test_worst_order() -> None:
    assert worst([]) is Status.OK
    assert worst([Status.WARNING, Status.STOPPED, Status.STALLED]) is Status.STOPPED
    assert worst([Status.OK, Status.ERROR]) is Status.ERROR


def test_evaluate_window_directly() -> None:
    window = [Sample(0, 5, 10), Sample(1, 5, 11), Sample(2, 5, 12, None)]
    assert evaluate_window(window, now=2, size=3, stop_seconds=60, pending_since=0)[0] is Status.STALLED
    assert evaluate_window(window, now=100, size=3, stop_seconds=60, pending_since=0)[0] is Status.STOPPED
    assert evaluate_window([], now=0, size=3, stop_seconds=60, pending_since=None)[0] is Status.OK


# ------------------------------------------------------------------ time lag


def test_time_lag_interpolates_between_samples() -> None:
    """End offset 0 at t=0, 100 at t=10 (10 msg/s): message 30 was appended at t≈3.1."""
    points = [(0.0, 0), (10.0, 100)]
    secs, how = time_lag(points, committed=30, end=100, now=12.0)
    assert how == "interpolated"
    assert secs == pytest.approx(12.0 - 3.1)


def test_time_lag_uses_the_last_point_of_a_flat_run() -> None:
    table = EndOffsetTable()
    for t in range(0, 6):
        table.add(float(t), 50)  # nothing produced from t=0 to t=5
    table.add(6.0, 60)
    assert list(table.points) == [(0.0, 50), (5.0, 50), (6.0, 60)]
    secs, how = time_lag(list(table.points), committed=50, end=60, now=20.0)
    assert how == "interpolated"
    assert secs == pytest.approx(20.0 - 5.1)  # appended between t=5 and t=6, not at t=0


def test_time_lag_extrapolates_with_the_produce_rate() -> None:
    points = [(100.0, 1000), (110.0, 1100)]  # 10 msg/s; offset 500 is 500 messages before the table
    secs, how = time_lag(points, committed=499, end=1100, now=110.0)
    assert how == "extrapolated"
    assert secs == pytest.approx(60.0)


def test_time_lag_lower_bound_without_rate() -> None:
    points = [(100.0, 1000), (110.0, 1000)]
    secs, how = time_lag(points, committed=10, end=1000, now=130.0)
    assert (secs, how) == (30.0, "lower_bound")


def test_time_lag_zero_when_caught_up() -> None:
    assert time_lag([(0.0, 5)], committed=5, end=5, now=99.0) == (0.0, "caught_up")


def test_fast_drain_versus_stuck_in_seconds() -> None:
    """10,000 behind on a busy topic is seconds old; 50 behind on a stuck quiet one is minutes old."""
    ev = LagEvaluator(window=5, stop_seconds=600)
    for t in range(0, 11):
        ev.observe(float(t), "hub-busy", {TP: (5000 * t, 10_000 + 5000 * t)})  # 5,000 msg/s
        ev.observe(float(t * 30), "hub-quiet", {TP: (100, 150 + t)})  # 1 msg per 30 s, stuck
    busy = ev.report(10.0)[0]
    quiet = ev.report(300.0)[1]
    assert busy.partitions[0].lag == 10_000
    assert busy.partitions[0].lag_seconds == pytest.approx(2.0, abs=0.01)
    assert quiet.partitions[0].lag == 60
    assert quiet.partitions[0].lag_seconds is not None and quiet.partitions[0].lag_seconds > 300


def test_table_restarts_when_the_end_offset_goes_back() -> None:
    table = EndOffsetTable(capacity=4)
    table.add(0.0, 100)
    table.add(1.0, 5)
    assert list(table.points) == [(1.0, 5)]
    with pytest.raises(ValueError):
        EndOffsetTable(capacity=1)


def test_history_and_forget() -> None:
    ev = LagEvaluator(window=3, history_seconds=5)
    for t in range(10):
        ev.observe(float(t), "hub-a", {TP: (t, t + 2)})
    hist = ev.report(9.0)[0].history
    assert [h[0] for h in hist] == [4.0, 5.0, 6.0, 7.0, 8.0, 9.0]
    assert all(h[1] == 2 for h in hist)
    ev.forget([])
    assert ev.report(9.0) == []


# ------------------------------------------------------------------ the sampler, with a fake admin client


class FakeAdmin:
    """Answers like kafka-python 3's KafkaAdminClient; ``fail`` makes the next calls raise."""

    def __init__(self) -> None:
        from kafka import TopicPartition

        self.tp = TopicPartition("t", 0)
        self.committed = 5
        self.end = 9
        self.start = 0
        self.partitions = 1
        self.fail = False

    def list_groups(self) -> list[dict[str, str]]:
        if self.fail:
            raise ConnectionError("broker gone")
        return [{"group_id": "hub-streams"}, {"group_id": "other-app"}]

    def list_group_offsets(self, group_specs: dict[str, None]) -> dict[str, dict[object, object]]:
        from kafka.structs import OffsetAndMetadata

        return {g: {self.tp: OffsetAndMetadata(self.committed, None, -1)} for g in group_specs}

    def list_partition_offsets(self, specs: dict[object, object]) -> dict[object, object]:
        from kafka.admin import OffsetSpec
        from kafka.structs import OffsetAndTimestamp

        return {
            tp: OffsetAndTimestamp(self.start if spec == OffsetSpec.EARLIEST else self.end, -1, 0)
            for tp, spec in specs.items()
        }

    def describe_topics(self, topics: list[str]) -> list[dict[str, object]]:
        return [
            {
                "name": t,
                "error_code": 0,
                "partitions": [{"partition_index": p} for p in range(self.partitions)],
            }
            for t in topics
        ]

    def close(self) -> None:
        pass


def test_sampler_reads_hub_groups_and_turns_failures_into_error() -> None:
    from hub.lag_sampler import LagSampler

    admin = FakeAdmin()
    clock = iter(float(t) for t in range(100))
    sampler = LagSampler("x:1", window=2, admin_factory=lambda _: admin, clock=lambda: next(clock))
    sampler.sample_once()
    snap = sampler.snapshot()
    assert [g["group"] for g in snap["groups"]] == ["hub-streams"]  # other-app is not the hub's
    part = snap["groups"][0]["partitions"][0]
    assert (part["topic"], part["committed"], part["end"], part["lag"]) == ("t", 5, 9, 4)
    admin.fail = True
    sampler.sample_once()
    snap = sampler.snapshot()
    assert snap["error"] == "ConnectionError: broker gone"
    assert snap["groups"][0]["status"] == "ERROR"
    admin.fail = False
    sampler.sample_once()
    assert sampler.snapshot()["groups"][0]["status"] != "ERROR"


# ------------------------------------------------------------------ no blind spots


def test_partition_without_commit_counts_from_the_log_start_and_stalls() -> None:
    """A connector stuck on its first message: nothing committed, one message in the log."""
    ev = LagEvaluator(window=3, stop_seconds=10)
    for t in range(4):
        ev.observe(float(t), "hub-x", {TP: (None, 1)}, log_start={TP: 0})
    part = ev.report(3.0)[0].partitions[0]
    assert (part.committed, part.position, part.lag) == (None, 0, 1)
    assert part.status is Status.STALLED, part.reason
    assert "nothing committed" in part.reason
    assert part.as_dict()["lag_from"] == "log_start"
    ev.observe(20.0, "hub-x", {TP: (None, 1)}, log_start={TP: 0})
    assert ev.report(20.0)[0].partitions[0].status is Status.STOPPED


def test_partition_without_commit_and_without_log_start_is_reported_unknown() -> None:
    ev = LagEvaluator(window=3, stop_seconds=10)
    ev.observe(0.0, "hub-x", {TP: (None, 4)})
    part = ev.report(0.0)[0].partitions[0]
    assert part.lag is None and part.status is Status.OK


def test_end_offset_trailing_the_commit_is_raised_to_it() -> None:
    """The embedded broker answered end 5 with 7 committed: lag 0, not negative, table monotonic."""
    ev = LagEvaluator(window=3, stop_seconds=10)
    ev.observe(0.0, "hub-x", {TP: (3, 5)})
    ev.observe(1.0, "hub-x", {TP: (7, 5)})
    part = ev.report(1.0)[0].partitions[0]
    assert (part.end, part.lag, part.end_trailing) == (7, 0, True)
    assert part.status is Status.OK
    ev.observe(2.0, "hub-x", {TP: (7, 9)})
    part = ev.report(2.0)[0].partitions[0]
    assert (part.end, part.lag, part.end_trailing) == (9, 2, False)


def test_message_in_flight_too_long_makes_the_partition_stalled() -> None:
    ev = LagEvaluator(window=10, stop_seconds=600, in_flight_stall_seconds=30)
    ev.observe(0.0, "hub-connector-police", {TP: (4, 5)}, in_flight={TP: (4, 12.0)})
    part = ev.report(0.0)[0].partitions[0]
    assert part.status is Status.OK  # warming up, 12 s in flight is within bounds
    assert part.in_flight == (4, 12.0)
    # the age keeps counting between samples: 12 s at the sample + 20 s since
    part = ev.report(20.0)[0].partitions[0]
    assert part.status is Status.STALLED
    assert "offset 4 in flight for 32 s" in part.reason
    assert ev.report(20.0)[0].status is Status.STALLED
    # answered: nothing in flight any more
    ev.observe(21.0, "hub-connector-police", {TP: (5, 5)}, in_flight={})
    assert ev.report(21.0)[0].partitions[0].status is Status.OK


def test_sampler_reports_uncommitted_partitions_floors_ends_and_reads_in_flight() -> None:
    from kafka.structs import OffsetAndMetadata

    from hub.lag_sampler import LagSampler

    admin = FakeAdmin()
    admin.partitions = 2  # "t" has a partition 1 nobody committed on
    admin.start = 2
    admin.end = 6  # ListOffsets trails: hub-streams committed 8 below
    topics_seen: list[list[str]] = []
    describe = admin.describe_topics

    def describe_spy(topics: list[str]) -> list[dict[str, object]]:
        topics_seen.append(sorted(topics))
        return describe(topics)

    admin.describe_topics = describe_spy  # type: ignore[method-assign]

    def offsets(group_specs: dict[str, None]) -> dict[str, dict[object, object]]:
        return {
            "hub-streams": {admin.tp: OffsetAndMetadata(8, None, -1)},
            "hub-connector-police": {},  # joined, never committed
        }

    admin.list_group_offsets = offsets  # type: ignore[assignment]
    admin.list_groups = lambda: [{"group_id": "hub-streams"}, {"group_id": "hub-connector-police"}]  # type: ignore[method-assign]
    sampler = LagSampler(
        "x:1",
        window=2,
        admin_factory=lambda _: admin,
        clock=lambda: 100.0,
        group_topics={"hub-connector-police": ["t"]},
        in_flight=lambda: {"hub-connector-police": {("t", 0): (2, 75.0)}},
        in_flight_stall_seconds=60,
    )
    sampler.sample_once()
    groups = {g["group"]: g for g in sampler.snapshot()["groups"]}
    assert topics_seen == [["t"]]
    streams = {p["partition"]: p for p in groups["hub-streams"]["partitions"]}
    assert (streams[0]["committed"], streams[0]["end"], streams[0]["lag"]) == (8, 8, 0)
    assert streams[0]["end_trailing"] is False  # floored by the sampler before the evaluator saw it
    # partition 1 of the same topic: never committed, counted from the log start
    assert (streams[1]["committed"], streams[1]["position"], streams[1]["lag"]) == (None, 2, 4)
    assert streams[1]["lag_from"] == "log_start"
    police = {p["partition"]: p for p in groups["hub-connector-police"]["partitions"]}
    assert set(police) == {0, 1}, "a group with no commit at all is reported on its topic's partitions"
    assert police[0]["lag"] == 6  # end floored at 8 (another group's commit) minus the log start 2
    assert police[0]["status"] == "STALLED" and police[0]["oldest_in_flight"]["offset"] == 2
    assert groups["hub-connector-police"]["status"] == "STALLED"
