"""Lag evaluation on the real embedded broker: four consumer groups, one steady producer, the sampler.

One scenario runs once for the module (the group joins take ~5 s each, concurrently) and the tests
read what the sampler reported along the way:

- ``ops-stopped`` commits once, then its consumer stops while producing goes on → STOPPED, lag grows;
- ``ops-slow`` commits one more message every 0.25 s while 20 msg/s arrive → WARNING;
- ``ops-caught`` consumes and commits everything → OK;
- ``ops-stuck`` stays in the group and re-commits the same offset → STALLED (before ``stop_seconds``);
- ``ops-nocommit`` reads but never commits: Kafka lists no offset for it, yet it is reported with its
  lag counted from the log start, STALLED then STOPPED;
- the time-lag estimate of ``ops-stopped`` against the true age of its oldest unconsumed message.

And apart: a real connector runner stuck on its first request (the registry, a real HTTP server,
never answers) is STALLED from the age of its oldest message in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from hub.kafka import wait_for_broker
from hub.lag_sampler import LagSampler
from hub.supervisor import tansu_binary

pytestmark = pytest.mark.integration

TOPIC = "ops.lag.test"
TP = TopicPartition(TOPIC, 0)
PRODUCE_EVERY = 0.05  # 20 msg/s
INTERVAL = 0.4
WINDOW = 5
STOP_SECONDS = 5.0
RUN_AFTER_JOIN = 9.0
# The time-lag estimate must be within this many seconds of the true age (or 25 %, the larger).
TIME_LAG_TOLERANCE = 1.0
GROUP_TIMEOUTS: dict[str, Any] = {
    "session_timeout_ms": 10_000,
    "heartbeat_interval_ms": 3_000,
    "rebalance_timeout_ms": 10_000,
    "max_poll_interval_ms": 30_000,
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def bootstrap() -> Iterator[str]:
    """Our own tansu broker on a free port, terminated at teardown."""
    port = _free_port()
    url = f"tcp://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [tansu_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        asyncio.run(wait_for_broker(f"127.0.0.1:{port}", timeout=20))
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(8)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@dataclass
class Scenario:
    observations: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    produced_at: dict[int, float] = field(default_factory=dict)
    committed: dict[str, int] = field(default_factory=dict)
    committed_at: dict[str, float] = field(default_factory=dict)  # when the offset last changed
    first_commit_at: dict[str, float] = field(default_factory=dict)

    def group(self, snapshot: dict[str, Any], group: str) -> dict[str, Any] | None:
        return next((g for g in snapshot["groups"] if g["group"] == group), None)

    def statuses(self, group: str, after: float = 0.0) -> list[str]:
        out = []
        for t, snap in self.observations:
            g = self.group(snap, group)
            if g is not None and t >= after:
                out.append(g["status"])
        return out

    def last(self, group: str) -> dict[str, Any]:
        g = self.group(self.observations[-1][1], group)
        assert g is not None, f"{group} never reported"
        return g


def _consumer(bootstrap: str, group: str) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        TOPIC,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="latest",
        fetch_max_wait_ms=50,
        **GROUP_TIMEOUTS,
    )


async def _joined(consumer: AIOKafkaConsumer) -> None:
    await consumer.start()
    while not consumer.assignment():
        await consumer.getmany(timeout_ms=200)


async def _run(bootstrap: str) -> Scenario:
    sc = Scenario()
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(TOPIC, 1, 1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=0)
    await producer.start()
    sampler = LagSampler(
        bootstrap,
        interval=INTERVAL,
        window=WINDOW,
        stop_seconds=STOP_SECONDS,
        group_prefix="ops-",
        group_topics={"ops-nocommit": [TOPIC]},
    )
    stop = asyncio.Event()

    async def produce() -> None:
        n = 0
        while not stop.is_set():
            meta = await producer.send_and_wait(TOPIC, f"m{n}".encode(), partition=0)
            sc.produced_at[meta.offset] = time.time()
            n += 1
            await asyncio.sleep(PRODUCE_EVERY)

    async def observe() -> None:
        while not stop.is_set():
            sc.observations.append((time.time(), sampler.snapshot()))
            await asyncio.sleep(0.2)

    async def commit(consumer: AIOKafkaConsumer, group: str, offset: int) -> None:
        await consumer.commit({TP: offset})
        sc.first_commit_at.setdefault(group, time.time())
        if sc.committed.get(group) != offset:
            sc.committed_at[group] = time.time()
        sc.committed[group] = offset

    async def stopped(deadline: list[float]) -> None:
        c = _consumer(bootstrap, "ops-stopped")
        await _joined(c)
        await commit(c, "ops-stopped", await c.position(TP))
        await c.stop()

    async def slow(deadline: list[float]) -> None:
        c = _consumer(bootstrap, "ops-slow")
        await _joined(c)
        offset = await c.position(TP)
        try:
            while time.time() < deadline[0]:
                await commit(c, "ops-slow", offset)
                offset += 1
                await asyncio.sleep(0.25)
        finally:
            await c.stop()

    async def caught(deadline: list[float]) -> None:
        c = _consumer(bootstrap, "ops-caught")
        await _joined(c)
        try:
            while time.time() < deadline[0]:
                await c.getmany(timeout_ms=100)
                await commit(c, "ops-caught", await c.position(TP))
        finally:
            await c.stop()

    async def stuck(deadline: list[float]) -> None:
        c = _consumer(bootstrap, "ops-stuck")
        await _joined(c)
        offset = await c.position(TP)
        try:
            while time.time() < deadline[0]:
                await c.getmany(timeout_ms=100)  # reads on, but never gets past one message
                await commit(c, "ops-stuck", offset)
                await asyncio.sleep(0.2)
        finally:
            await c.stop()

    async def nocommit(deadline: list[float]) -> None:
        c = _consumer(bootstrap, "ops-nocommit")
        await _joined(c)
        sc.first_commit_at["ops-nocommit"] = time.time()  # joined: it would have committed by now
        try:
            while time.time() < deadline[0]:
                await c.getmany(timeout_ms=100)  # reads, never commits
        finally:
            await c.stop()

    sampler.start()
    background = [asyncio.create_task(produce()), asyncio.create_task(observe())]
    deadline = [time.time() + 60]
    try:
        groups = [stopped, slow, caught, stuck]
        runs = [asyncio.create_task(g(deadline)) for g in [*groups, nocommit]]
        # every group has joined and committed once: run the scenario for a fixed time from there
        while len(sc.committed) < len(groups) or "ops-nocommit" not in sc.first_commit_at:
            await asyncio.sleep(0.1)
            if any(r.done() and r.exception() for r in runs):
                break
        deadline[0] = time.time() + RUN_AFTER_JOIN
        await asyncio.gather(*runs)
    finally:
        stop.set()
        await asyncio.gather(*background, return_exceptions=True)
        await asyncio.to_thread(sampler.stop)
        with contextlib.suppress(Exception):
            await producer.stop()
    return sc


@pytest.fixture(scope="module")
def scenario(bootstrap: str) -> Scenario:
    return asyncio.run(_run(bootstrap))


def test_stopped_group_is_stopped_with_growing_lag(scenario: Scenario) -> None:
    g = scenario.last("ops-stopped")
    assert g["status"] == "STOPPED", g
    part = g["partitions"][0]
    assert part["committed"] == scenario.committed["ops-stopped"]
    assert "no commit advance" in part["reason"]
    # lag grew while it was stopped
    lags = [
        grp["lag"]
        for t, snap in scenario.observations
        if t > scenario.committed_at["ops-stopped"] and (grp := scenario.group(snap, "ops-stopped"))
    ]
    assert lags[-1] >= lags[0] + 100, lags
    # STALLED came first (same offset across the window), STOPPED only after stop_seconds
    statuses = scenario.statuses("ops-stopped")
    assert statuses.index("STALLED") < statuses.index("STOPPED")
    first_stopped = next(
        t
        for t, snap in scenario.observations
        if (grp := scenario.group(snap, "ops-stopped")) and grp["status"] == "STOPPED"
    )
    assert first_stopped - scenario.committed_at["ops-stopped"] >= STOP_SECONDS


def test_slow_consumer_is_warning(scenario: Scenario) -> None:
    g = scenario.last("ops-slow")
    assert g["status"] == "WARNING", g
    assert "grew" in g["partitions"][0]["reason"]
    tail = scenario.statuses("ops-slow", after=scenario.observations[-1][0] - 3)
    assert tail.count("WARNING") >= len(tail) - 1, tail


def test_caught_up_group_is_ok(scenario: Scenario) -> None:
    g = scenario.last("ops-caught")
    assert g["status"] == "OK", g
    assert g["lag"] <= 5
    assert g["lag_seconds"] < 1.0
    statuses = scenario.statuses("ops-caught", after=scenario.first_commit_at["ops-caught"] + 1)
    assert set(statuses) == {"OK"}, statuses


def test_stuck_consumer_is_stalled(scenario: Scenario) -> None:
    since = scenario.committed_at["ops-stuck"]
    window_span = WINDOW * INTERVAL
    stalled = [
        t - since
        for t, snap in scenario.observations
        if (g := scenario.group(snap, "ops-stuck")) and g["status"] == "STALLED"
    ]
    assert stalled, scenario.statuses("ops-stuck")
    # from a full window of the same offset until stop_seconds without an advance
    assert min(stalled) >= window_span - INTERVAL
    assert max(stalled) <= STOP_SECONDS + 2 * INTERVAL
    g = next(
        g
        for _, snap in scenario.observations
        if (g := scenario.group(snap, "ops-stuck")) and g["status"] == "STALLED"
    )
    assert "stuck at" in g["partitions"][0]["reason"]
    assert g["partitions"][0]["lag"] > 0


def test_time_lag_estimate_matches_true_age(scenario: Scenario) -> None:
    committed = scenario.committed["ops-stopped"]
    errors: list[tuple[float, float, float]] = []
    for _, snap in scenario.observations:
        g = scenario.group(snap, "ops-stopped")
        if g is None or committed not in scenario.produced_at:
            continue
        part = g["partitions"][0]
        appended = scenario.produced_at[committed]
        if part["lag"] == 0 or snap["now"] < appended + 2 * INTERVAL:
            continue
        true_age = snap["now"] - appended
        errors.append((true_age, part["lag_seconds"], part["lag_seconds"] - true_age))
    assert len(errors) >= 10
    worst = max(abs(e) for _, _, e in errors)
    print(f"time-lag estimate: {len(errors)} readings, worst error {worst:.3f} s")
    for true_age, estimate, err in errors:
        assert abs(err) <= max(TIME_LAG_TOLERANCE, 0.25 * true_age), (true_age, estimate)


def test_group_without_a_commit_is_reported_from_the_log_start(scenario: Scenario) -> None:
    g = scenario.last("ops-nocommit")
    part = g["partitions"][0]
    assert part["committed"] is None and part["lag_from"] == "log_start"
    assert part["position"] == 0
    assert part["lag"] == part["end"] > 100  # everything produced since the topic was created
    statuses = scenario.statuses("ops-nocommit")
    assert "STALLED" in statuses and statuses[-1] == "STOPPED", statuses
    assert statuses.index("STALLED") < statuses.index("STOPPED")


# ------------------------------------------------------------------ a connector stuck on its first request


class HangingRegistry:
    """A real HTTP server that holds every request until ``release()``, then answers 503."""

    def __init__(self) -> None:
        import http.server
        import threading

        self.release_event = threading.Event()
        self.calls = 0
        registry = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                registry.calls += 1
                registry.release_event.wait(60)
                self.send_response(503)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_POST = do_GET

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.release_event.set()
        self.server.shutdown()
        self.server.server_close()


def test_connector_stuck_on_its_first_request_is_stalled_by_its_in_flight_age(bootstrap: str) -> None:
    import datetime as dt

    import httpx

    from connectors.registry_adapters import build_adapter
    from connectors.runtime import ConnectorRunner
    from hub.kafka import create_topics, make_producer
    from hub.settings import HubSettings
    from schemas.codec import encode
    from schemas.models import AgencyRequest, IdentifierForm, Party
    from schemas.topics import agency_requests_topic

    registry = HangingRegistry()
    settings = HubSettings(
        kafka_bootstrap=bootstrap,
        partitions=1,
        banks="icbc",
        agency_urls={"police": registry.url},
        connector_timeout_seconds=120,
    )
    topic = agency_requests_topic("police")
    stall_after = 2.0

    async def run() -> dict[str, Any]:
        await create_topics(settings)
        producer = make_producer(settings)
        await producer.start()
        client = httpx.AsyncClient(timeout=120)
        runner = ConnectorRunner(
            build_adapter("police", settings), settings, producer=producer, client=client
        )

        def in_flight() -> dict[str, dict[tuple[str, int], tuple[int, float]]]:
            rows = runner.in_flight_report()
            return {
                runner.group_id: {(r["topic"], r["partition"]): (r["offset"], r["age_seconds"]) for r in rows}
            }

        # a window far longer than the test: only the in-flight age can make it STALLED
        sampler = LagSampler(
            bootstrap,
            interval=INTERVAL,
            window=1000,
            stop_seconds=600,
            groups={runner.group_id},
            group_topics={runner.group_id: [topic]},
            in_flight=in_flight,
            in_flight_stall_seconds=stall_after,
        )
        task = asyncio.create_task(runner.run())
        try:
            await asyncio.wait_for(runner.assigned.wait(), 30)
            subject = Party(name="赵德明", id_type="resident_id", id_number="110101198001010010")
            request = AgencyRequest(
                request_id="inq_stuck/police",
                inquiry_id="inq_stuck",
                case_id="case_stuck",
                court_id="court-a",
                agency="police",
                subject=subject,
                identifiers=[IdentifierForm(id_type="resident_id", id_number=subject.id_number)],
                deadline=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10),
                idempotency_key="stuck",
                officer="officer-court-a-1",
                purpose="asset investigation",
                legal_basis="(2026)鄂0111执1234号 执行裁定书",
            )
            await producer.send_and_wait(topic, encode(request), key=b"inq_stuck")
            sampler.start()
            end = time.monotonic() + 60
            while True:
                snap = await asyncio.to_thread(sampler.snapshot)
                group = next((g for g in snap["groups"] if g["group"] == runner.group_id), None)
                if group is not None and group["status"] == "STALLED":
                    return group
                assert time.monotonic() < end, snap
                await asyncio.sleep(0.2)
        finally:
            await asyncio.to_thread(sampler.stop)
            registry.close()
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
            await client.aclose()
            await producer.stop()

    group = asyncio.run(run())
    part = group["partitions"][0]
    assert registry.calls >= 1, "the request reached the registry and hangs there"
    assert part["committed"] is None and part["lag_from"] == "log_start" and part["lag"] == 1
    assert part["oldest_in_flight"]["offset"] == 0
    assert part["oldest_in_flight"]["age_seconds"] > stall_after
    assert "in flight for" in part["reason"]
