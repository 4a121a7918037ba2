"""The connector runtime every agency shares: Kafka in, registry over HTTP, Kafka out.

- Consumes ``hub.agency.<agency>.requests`` in its own consumer group.
- Keeps up to ``connector_concurrency`` requests in flight (a registry that takes 300 ms per call
  must not cap the connector at 3 calls a second), on one shared ``httpx.AsyncClient``.
- Commits a partition's offset only over the contiguous prefix of finished requests (as Kafka
  Connect does), so a crash re-delivers what was in flight instead of losing it.
- Refuses a message without the stream worker's valid seal (``hub.signing.verify_message``) when
  the hub has keys: dead-lettered as ``ForgedMessage``, never sent on to the registry.
- Retries only transient failures (``connectors.retry``); what can never succeed goes to the
  dead-letter topic with the reason and the original message, and the agency is reported as
  ``failed`` or ``unavailable`` for that request, never silently missing.
- Calls go through the agency's circuit breaker (``connectors.circuit``): after
  ``HUB_CIRCUIT_FAILURE_THRESHOLD`` consecutive failures an inquiry gets the agency ``unavailable``
  at once, without calling the registry, until a probe after ``HUB_CIRCUIT_RESET_SECONDS`` succeeds.
- The age of the oldest request in flight per partition is exported (``/stats``, ``/in-flight``,
  ``hub_connector_oldest_in_flight_seconds``) so the desk sees a connector stuck on one message.
- An answer larger than one message (``schemas.codec.MESSAGE_BUDGET_BYTES``) is published as
  ``parts`` consecutive responses that split its records by size; a publish is retried only while the
  broker's error is retriable (a message the producer or broker refuses as too large never is).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from tenacity import AsyncRetrying, retry_if_exception, stop_after_delay, wait_exponential_jitter

from hub.clock import Clock, clock_from_settings
from hub.errors import ForgedMessage, PermanentRegistryError, RegistryUnavailable
from hub.kafka import make_consumer
from hub.masking import mask_text
from hub.settings import HubSettings
from hub.signing import STREAMS_SIGNER, KeyRing, SignatureInvalid, signer_dir, verify_message
from schemas.agencies import agency_slug
from schemas.codec import CodecError, TooLargeError, dead_letter, decode, encode
from schemas.models import AgencyRequest, AgencyResponse
from schemas.topics import AGENCY_RESPONSES, DEAD_LETTERS, agency_requests_topic

from .adapter import AgencyAdapter
from .circuit import CircuitBreaker, CircuitOpenError, CircuitState
from .messages import retriable, split_response
from .retry import RetryPolicy, is_transient
from .signed_transport import collecting_seals

__all__ = ["METRICS_REGISTRY", "AgencyStats", "ConnectorRunner", "OffsetTracker", "split_response"]

log = logging.getLogger(__name__)

# Prometheus metrics of the connectors process, in their own registry so that the gateway can append
# this text to its own /metrics without duplicate process_* / python_* families.
METRICS_REGISTRY = CollectorRegistry()
REQUESTS = Counter(
    "hub_connector_requests",
    "Agency requests finished, by outcome",
    ["agency", "outcome"],
    registry=METRICS_REGISTRY,
)
RETRIES = Counter("hub_connector_retries", "Registry calls retried", ["agency"], registry=METRICS_REGISTRY)
DEAD_LETTERS_SENT = Counter(
    "hub_connector_dead_letters",
    "Messages dead-lettered by the connector",
    ["agency"],
    registry=METRICS_REGISTRY,
)
LATENCY = Histogram(
    "hub_connector_registry_latency_seconds",
    "Registry call latency including retries",
    ["agency"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=METRICS_REGISTRY,
)
IN_FLIGHT = Gauge(
    "hub_connector_in_flight", "Registry calls in flight", ["agency"], registry=METRICS_REGISTRY
)
CIRCUIT_OPEN = Gauge(
    "hub_connector_circuit_open",
    "1 while the agency's circuit is open or half-open (calls refused without reaching the registry)",
    ["agency"],
    registry=METRICS_REGISTRY,
)
CIRCUIT_STATE = Gauge(
    "hub_connector_circuit_state",
    "1 for the agency's circuit state (one-hot: closed, open, half_open)",
    ["agency", "state"],
    registry=METRICS_REGISTRY,
)
CIRCUIT_OPENED = Counter(
    "hub_connector_circuit_opened", "Times the agency's circuit opened", ["agency"], registry=METRICS_REGISTRY
)
CIRCUIT_REFUSED = Counter(
    "hub_connector_circuit_refused",
    "Registry calls refused by the open circuit (answered without calling the registry)",
    ["agency"],
    registry=METRICS_REGISTRY,
)
OLDEST_IN_FLIGHT = Gauge(
    "hub_connector_oldest_in_flight_seconds",
    "Age of the oldest message the runner has in flight (0 when none), by consumer group",
    ["agency", "group"],
    registry=METRICS_REGISTRY,
)


def circuit_for(agency: str, settings: HubSettings) -> CircuitBreaker:
    """The agency's breaker, configured from settings and wired to the circuit metrics."""

    def changed(state: CircuitState) -> None:
        for s in CircuitState:
            CIRCUIT_STATE.labels(agency, s.value).set(1 if s is state else 0)
        CIRCUIT_OPEN.labels(agency).set(0 if state is CircuitState.CLOSED else 1)
        if state is CircuitState.OPEN:
            CIRCUIT_OPENED.labels(agency).inc()

    breaker = CircuitBreaker(
        agency,
        failure_threshold=settings.circuit_failure_threshold,
        reset_seconds=settings.circuit_reset_seconds,
        on_change=changed,
    )
    changed(CircuitState.CLOSED)
    return breaker


class OffsetTracker:
    """Per partition: offsets handed out and finished; the committable offset is the first unfinished."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._pending: dict[TopicPartition, dict[int, bool]] = {}
        self._started_at: dict[TopicPartition, dict[int, float]] = {}
        self._clock = clock

    def started(self, tp: TopicPartition, offset: int) -> None:
        self._pending.setdefault(tp, {})[offset] = False
        self._started_at.setdefault(tp, {})[offset] = self._clock()

    def finished(self, tp: TopicPartition, offset: int) -> None:
        self._pending[tp][offset] = True
        self._started_at.get(tp, {}).pop(offset, None)

    def oldest_in_flight(self) -> dict[TopicPartition, tuple[int, float]]:
        """Per partition with work in flight: (offset, age in seconds) of its oldest unfinished message."""
        now = self._clock()
        out: dict[TopicPartition, tuple[int, float]] = {}
        for tp, started in self._started_at.items():
            if started:
                offset = min(started)
                out[tp] = (offset, max(0.0, now - started[offset]))
        return out

    def committable(self) -> dict[TopicPartition, int]:
        out: dict[TopicPartition, int] = {}
        for tp, offsets in self._pending.items():
            done_upto = None
            for off in sorted(offsets):
                if not offsets[off]:
                    break
                done_upto = off
            if done_upto is not None:
                out[tp] = done_upto + 1
                for off in [o for o in offsets if o <= done_upto]:
                    del offsets[off]
        return out

    def forget(self, tps: set[TopicPartition]) -> None:
        for tp in tps:
            self._pending.pop(tp, None)
            self._started_at.pop(tp, None)

    @property
    def in_flight(self) -> int:
        return sum(1 for offsets in self._pending.values() for done in offsets.values() if not done)


@dataclass
class AgencyStats:
    """Counters for the operations desk (``/stats`` of the connectors service)."""

    in_flight: int = 0
    requests: int = 0
    answered: int = 0
    no_record: int = 0
    retried: int = 0
    failed: int = 0
    unavailable: int = 0
    dead_letters: int = 0
    consecutive_failures: int = 0
    last_error: str | None = None
    latencies_ms: deque[float] = field(default_factory=lambda: deque(maxlen=2000))
    circuit: CircuitBreaker | None = None
    oldest_in_flight_seconds: float = 0.0

    def snapshot(self) -> dict[str, Any]:
        lat = sorted(self.latencies_ms)

        def pct(p: float) -> float | None:
            return round(lat[min(len(lat) - 1, int(p * len(lat)))], 1) if lat else None

        return {
            "in_flight": self.in_flight,
            "requests": self.requests,
            "answered": self.answered,
            "no_record": self.no_record,
            "retried": self.retried,
            "failed": self.failed,
            "unavailable": self.unavailable,
            "dead_letters": self.dead_letters,
            "circuit_open": self.circuit is not None and self.circuit.state is not CircuitState.CLOSED,
            "circuit": self.circuit.snapshot() if self.circuit is not None else None,
            "oldest_in_flight_seconds": round(self.oldest_in_flight_seconds, 3),
            "last_error": self.last_error,
            "latency_ms": {"p50": pct(0.5), "p95": pct(0.95), "p99": pct(0.99)},
        }


class ConnectorRunner:
    """Consumes one agency's topic, calls its registry per message (at most
    ``HUB_CONNECTOR_CONCURRENCY`` at once), publishes the answers, and commits each partition's
    offset up to its first unfinished message: at most once per ``COMMIT_INTERVAL_SECONDS`` while
    it runs (each commit is a write of the group's state to the broker, and on the durable store
    an object write), and at once when partitions are revoked and when it stops. A crash re-serves
    what finished since the last commit: at most that interval's requests, answered again by the
    registry (queries read; controls are idempotent by key at the agency) and counted once by the
    stream worker."""

    COMMIT_INTERVAL_SECONDS = 1.0

    def __init__(
        self,
        adapter: AgencyAdapter,
        settings: HubSettings,
        *,
        producer: AIOKafkaProducer,
        client: httpx.AsyncClient,
        clock: Clock | None = None,
        retry: RetryPolicy | None = None,
        circuit: CircuitBreaker | None = None,
    ) -> None:
        self.adapter = adapter
        self.agency = adapter.agency
        self.settings = settings
        self.producer = producer
        self.client = client
        self.clock = clock or clock_from_settings(settings)
        self.retry = retry or RetryPolicy(
            max_attempts=settings.connector_max_attempts,
            initial=settings.connector_backoff_initial,
            maximum=settings.connector_backoff_max,
        )
        self.topic = agency_requests_topic(self.agency)
        self.group_id = f"hub-connector-{agency_slug(self.agency)}"
        self.circuit = circuit or circuit_for(self.agency, settings)
        self.stats = AgencyStats(circuit=self.circuit)
        self.assigned = asyncio.Event()
        self._tracker = OffsetTracker()
        self.monotonic: Callable[[], float] = time.monotonic  # the commit interval's clock (seconds)
        self._slots = asyncio.Semaphore(settings.connector_concurrency)
        self._tasks: set[asyncio.Task[None]] = set()
        self._consumer: AIOKafkaConsumer | None = None
        # the stream worker's seal on every message of this topic (hub/signing.py): checked when
        # the hub has keys, before anything reaches the registry
        root = settings.signing_keys_dir
        self.producer_keys = KeyRing(signer_dir(root, STREAMS_SIGNER)) if root is not None else None

    # ------------------------------------------------------------------ Kafka loop
    async def run(self) -> None:
        runner = self

        from aiokafka.abc import ConsumerRebalanceListener

        class _Listener(ConsumerRebalanceListener):
            async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
                await runner._drain_and_commit()
                runner._tracker.forget(set(revoked))

            async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
                runner.assigned.set()

        OLDEST_IN_FLIGHT.labels(self.agency, self.group_id).set_function(self.oldest_in_flight_seconds)
        consumer = make_consumer(self.settings, group_id=self.group_id, max_poll_records=500)
        consumer.subscribe([self.topic], listener=_Listener())
        self._consumer = consumer
        await consumer.start()
        committed = self.monotonic()
        try:
            while True:
                batch = await consumer.getmany(
                    timeout_ms=200, max_records=self.settings.connector_concurrency
                )
                for tp, messages in batch.items():
                    for msg in messages:
                        await self._slots.acquire()
                        self._tracker.started(tp, msg.offset)
                        task = asyncio.create_task(self._run_one(tp, msg))
                        self._tasks.add(task)
                        task.add_done_callback(self._tasks.discard)
                if self.monotonic() - committed >= self.COMMIT_INTERVAL_SECONDS:
                    committed = self.monotonic()
                    await self._commit()
        finally:
            await self._drain_and_commit()
            await consumer.stop()

    async def _run_one(self, tp: TopicPartition, msg: ConsumerRecord[bytes, bytes]) -> None:
        try:
            if (forged := self.unsealed(msg)) is not None:  # never sent on to the registry
                await self._dead_letter(
                    msg.value, forged, "connector.seal", msg.partition, msg.offset, msg.key
                )
                return
            await self.handle(msg.value, partition=msg.partition, offset=msg.offset, key=msg.key)
        except Exception:  # never lose the message: handle() dead-letters; this is the last resort
            log.exception("%s: unexpected error at offset %s", self.agency, msg.offset)
            await self._send_dead_letter(
                msg.value, RuntimeError("unexpected connector error"), msg, "connector"
            )
        finally:
            self._tracker.finished(tp, msg.offset)
            self._slots.release()

    def unsealed(self, msg: ConsumerRecord[bytes, bytes]) -> ForgedMessage | None:
        """Why ``msg`` does not carry the stream worker's valid seal (a ``ForgedMessage`` to
        dead-letter), or None when it does or the hub has no keys."""
        if self.producer_keys is None:
            return None
        try:
            verify_message(self.producer_keys, msg.topic, msg.key, msg.value, msg.headers or ())
        except SignatureInvalid as e:
            return ForgedMessage(f"seal: {e}; only the hub's stream worker may send to {msg.topic}")
        return None

    async def _commit(self) -> None:
        offsets = self._tracker.committable()
        if offsets and self._consumer is not None:
            await self._consumer.commit(offsets)

    async def _drain_and_commit(self) -> None:
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        await self._commit()

    # ------------------------------------------------------------------ what the desk reads
    def in_flight_report(self) -> list[dict[str, Any]]:
        """Per partition with work in flight: ``{"topic", "partition", "offset", "age_seconds"}`` of
        its oldest unfinished message (the one that holds the partition's commit back)."""
        return [
            {"topic": tp.topic, "partition": tp.partition, "offset": off, "age_seconds": round(age, 3)}
            for tp, (off, age) in sorted(self._tracker.oldest_in_flight().items())
        ]

    def oldest_in_flight_seconds(self) -> float:
        """Age in seconds of the oldest message in flight on any partition (0.0 when none)."""
        return max((age for _, age in self._tracker.oldest_in_flight().values()), default=0.0)

    def snapshot(self) -> dict[str, Any]:
        """The ``/stats`` entry: ``AgencyStats.snapshot()`` with the circuit and the oldest in flight."""
        self.stats.oldest_in_flight_seconds = self.oldest_in_flight_seconds()
        return self.stats.snapshot()

    # ------------------------------------------------------------------ one request
    async def handle(
        self,
        value: bytes | None,
        *,
        partition: int | None = None,
        offset: int | None = None,
        key: bytes | None = None,
    ) -> AgencyResponse | None:
        """Process one request message end to end; return the response published (None if dead-lettered)."""
        try:
            request: AgencyRequest = decode(self.topic, value)
        except CodecError as e:
            await self._dead_letter(value, e, "connector.decode", partition, offset, key)
            return None
        if request.agency != self.agency:
            err = CodecError(f"agency: request for {request.agency!r} on {self.agency!r}'s topic")
            await self._dead_letter(value, err, "connector.route", partition, offset, key)
            return None

        self.stats.requests += 1
        self.stats.in_flight += 1
        IN_FLIGHT.labels(self.agency).inc()
        started = time.perf_counter()
        attempts = 0

        seals: list[dict[str, str]] = []  # the registry's signed replies (connectors/signed_transport.py)

        async def call() -> Any:
            nonlocal attempts
            attempts += 1
            if attempts > 1:
                self.stats.retried += 1
                RETRIES.labels(self.agency).inc()
            with collecting_seals() as sealed:
                answer = await self.adapter.inquire(self.client, request)
            seals[:] = sealed  # of the attempt that answered
            return answer

        status: str
        detail: str | None = None
        answer = None
        try:
            # an open circuit answers at once: an outage must not cost every inquiry its retries
            answer, _ = await self.retry.call(
                call, deadline=request.deadline, now=self.clock.now, circuit=self.circuit
            )
            status = "answered" if (answer.records or answer.party_records) else "no_record"
            self.stats.consecutive_failures = 0
        except Exception as e:
            if not (is_transient(e) or isinstance(e, PermanentRegistryError)):
                log.exception("%s: adapter error", self.agency)
            if isinstance(e, CircuitOpenError):
                CIRCUIT_REFUSED.labels(self.agency).inc()
            unavailable = is_transient(e) or isinstance(e, RegistryUnavailable)
            status = "unavailable" if unavailable else "failed"
            detail = self._reason(e, attempts)
            self.stats.consecutive_failures += 1
            self.stats.last_error = detail
            await self._dead_letter(
                value,
                e,
                "connector.registry",
                partition,
                offset,
                key,
                context={"agency": self.agency, "attempts": str(attempts), "inquiry_id": request.inquiry_id},
            )
        finally:
            self.stats.in_flight -= 1
            IN_FLIGHT.labels(self.agency).dec()
        elapsed = (time.perf_counter() - started) * 1000
        self.stats.latencies_ms.append(elapsed)
        setattr(self.stats, status, getattr(self.stats, status) + 1)
        LATENCY.labels(self.agency).observe(elapsed / 1000)
        REQUESTS.labels(self.agency, status).inc()

        response = AgencyResponse(
            request_id=request.request_id,
            inquiry_id=request.inquiry_id,
            case_id=request.case_id,
            agency=self.agency,
            status=status,
            detail=detail,
            records=answer.records if answer else [],
            party_records=answer.party_records if answer else [],
            attempts=max(attempts, 1),
            latency_ms=round(elapsed, 1),
            responded_at=self.clock.now(),
            idempotency_key=f"{request.idempotency_key}/response",
            seals=seals if answer else [],
        )
        key = request.inquiry_id.encode()
        try:
            for part in split_response(response):
                await self.publish(AGENCY_RESPONSES, encode(part), key=key)
        except (TooLargeError, KafkaError) as e:
            # can never succeed (or the broker stayed away): say so instead of leaving the agency silent
            detail = mask_text(f"the answer could not be published: {type(e).__name__}: {e}")[:500]
            context = {
                "agency": self.agency,
                "inquiry_id": request.inquiry_id,
                "records": str(len(response.records)),
            }
            await self._dead_letter(value, e, "connector.publish", partition, offset, key, context=context)
            response = response.model_copy(
                update={"status": "failed", "detail": detail, "records": [], "party_records": []}
            )
            await self.publish(AGENCY_RESPONSES, encode(response), key=key)
        return response

    async def publish(self, topic: str, value: bytes, *, key: bytes | None) -> None:
        """Publish, retrying while the broker does not accept it: the registry's answer is in hand
        and must not be lost to a broker hiccup (the offset is not committed until this returns).

        Only retriable Kafka errors are retried (for ``connector_publish_retry_seconds``); any other
        (``MessageSizeTooLargeError`` above all) is raised at once: it can never succeed.
        """
        try:  # the first try without a retrying loop (built per publish, it cost real CPU)
            await self.producer.send_and_wait(topic, value, key=key)
            return
        except Exception as e:
            if not retriable(e):
                raise
            first: BaseException | None = e
        async for attempt in AsyncRetrying(
            retry=retry_if_exception(retriable),
            wait=wait_exponential_jitter(multiplier=0.2, max=5.0),
            stop=stop_after_delay(self.settings.connector_publish_retry_seconds),
            reraise=True,
        ):
            with attempt:
                if first is not None:  # replayed as the loop's first attempt
                    replay, first = first, None
                    raise replay
                if attempt.retry_state.attempt_number > 1:
                    log.warning(
                        "%s: retrying publish to %s (attempt %d)",
                        self.agency,
                        topic,
                        attempt.retry_state.attempt_number,
                    )
                await self.producer.send_and_wait(topic, value, key=key)

    @staticmethod
    def _reason(e: BaseException, attempts: int) -> str:
        if isinstance(e, httpx.TimeoutException):
            what = "registry timed out"
        elif isinstance(e, httpx.TransportError):
            what = f"registry unreachable ({type(e).__name__})"
        else:
            what = str(e)
        suffix = f" after {attempts} attempts" if attempts > 1 else ""
        return mask_text(f"{what}{suffix}")[:500]

    async def _dead_letter(
        self,
        value: bytes | None,
        error: BaseException,
        stage: str,
        partition: int | None,
        offset: int | None,
        key: bytes | None,
        context: dict[str, str] | None = None,
    ) -> None:
        self.stats.dead_letters += 1
        DEAD_LETTERS_SENT.labels(self.agency).inc()
        letter = dead_letter(
            topic=self.topic,
            value=value,
            stage=stage,
            error=error,
            partition=partition,
            offset=offset,
            key=key,
            context=context,
        )
        letter.reason = mask_text(letter.reason)
        await self.publish(DEAD_LETTERS, encode(letter), key=key)
        log.warning("%s: dead-lettered offset %s at %s: %s", self.agency, offset, stage, letter.reason)

    async def _send_dead_letter(
        self, value: bytes | None, error: BaseException, msg: ConsumerRecord[bytes, bytes], stage: str
    ) -> None:
        try:
            await self._dead_letter(value, error, stage, msg.partition, msg.offset, msg.key)
        except Exception:
            log.exception("%s: could not dead-letter offset %s", self.agency, msg.offset)
