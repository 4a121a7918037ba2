"""The faust-streaming app: validate inquiries against their case, fan out to the agencies,
collect and link the responses, and emit one result per inquiry.

Topology (all keys noted; tables are co-partitioned with the topics that update them)::

    hub.court.commands (case id) ──▶ on_court_command ── cases table (case id)
        │ valid inquiry                    └─ invalid ──▶ hub.inquiry.results (status rejected)
        ├──▶ hub.inquiry.opened (inquiry id) ──▶ on_opened ──┐
        └──▶ hub.agency.<agency>.requests ─▶ connectors ─▶ hub.agency.responses (inquiry id)
                                                                 ▼
    timer (SLA) ─▶ hub.inquiry.deadlines (inquiry id) ─▶ inquiries table ─▶ hub.inquiry.results

Agents run at concurrency 1 (faust may commit past an in-flight message at higher concurrency;
ARCHITECTURE.md). Values are raw bytes decoded by ``schemas.codec`` so a malformed message goes to
the dead-letter topic with its reason instead of being dropped by faust's deserializer.
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiokafka
import faust
from faust.types import EventT

from hub.clock import clock_from_settings
from hub.masking import logging_config
from hub.settings import HubSettings, get_settings
from hub.signing import STREAMS_SIGNER, Signer, message_headers, signer_dir
from schemas.agencies import agency_type
from schemas.codec import encode
from schemas.identifiers import identifier_variants
from schemas.models import (
    AgencyRequest,
    Case,
    CaseRegistered,
    ControlOrderRequested,
    ControlOutcome,
    ControlTick,
    CourtEvent,
    IdentifierForm,
    InquiryOpened,
    InquiryRequested,
    InquiryResult,
)
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

from . import delivery, highwaters, inquiry_state, ledger, producer_checks
from .serial import KeyedLocks

log = logging.getLogger(__name__)

settings: HubSettings = get_settings()
# one data directory per worker (several may run on one machine, each with its own web port)
_datadir = settings.state_dir / "streams" / str(settings.streams_port)
_datadir.mkdir(parents=True, exist_ok=True)
clock = clock_from_settings(settings)


def _bounded_fetch_wait(max_wait_ms: int) -> None:
    """faust hard-codes ``fetch_max_wait_ms=1500`` for its consumer; each hop of an inquiry through
    the streams could then wait that long for data. Clamp it to the hub's setting."""
    original = aiokafka.AIOKafkaConsumer.__init__

    @functools.wraps(original)
    def init(self: aiokafka.AIOKafkaConsumer, *args: Any, **kwargs: Any) -> None:
        kwargs["fetch_max_wait_ms"] = min(kwargs.get("fetch_max_wait_ms", 500), max_wait_ms)
        original(self, *args, **kwargs)

    aiokafka.AIOKafkaConsumer.__init__ = init


_bounded_fetch_wait(settings.fetch_max_wait_ms)
# table recovery reads each changelog to its true end, not to the embedded broker's ListOffsets
highwaters.install(settings.bootstrap)

# the worker's broker principal (SASL; HUB_KAFKA_SASL_MECHANISM), whose ACLs allow writing only the
# streams' own topics (docker-compose.yml, schemas/topic_access.py)
_credentials = (
    faust.SASLCredentials(
        username=settings.kafka_username,
        password=settings.kafka_password.get_secret_value() if settings.kafka_password else None,
        mechanism=settings.kafka_sasl_mechanism,
    )
    if settings.kafka_sasl_mechanism
    else None
)

app = faust.App(
    "hub-streams",
    broker=[f"kafka://{h}" for h in settings.bootstrap.split(",")],
    broker_credentials=_credentials,
    store="memory://",
    datadir=str(_datadir),
    topic_partitions=settings.partitions,
    topic_replication_factor=settings.replication_factor,
    broker_session_timeout=settings.group_session_timeout_ms / 1000,
    broker_heartbeat_interval=settings.group_heartbeat_interval_ms / 1000,
    broker_rebalance_timeout=settings.group_rebalance_timeout_ms / 1000,
    broker_max_poll_interval=settings.group_max_poll_interval_ms / 1000,
    # the web server serves /healthz and faust's one-line index only: faust's own views would hand
    # anyone who can reach the port every case's debtors and assets (/table/...), the partition map
    # (/router/...), the agent graph and statistics. It binds HUB_SERVICE_HOST (loopback by default).
    web_enabled=True,
    web_tables_enabled=False,
    web_router_enabled=False,
    web_graph_enabled=False,
    web_stats_enabled=False,
    web_metrics_enabled=False,
    web_bind=settings.service_host,
    web_host=settings.service_host,
    web_port=settings.streams_port,
    web_in_thread=False,
    producer_acks=-1,
    # gather a few milliseconds of sends into one produce request (as the connectors' producer
    # does): one request per message was an eighth of the worker's CPU under load
    producer_linger=0.002,
    consumer_auto_offset_reset="earliest",
    # masked lines and tracebacks, and client-library errors at most once per 10 s per template
    # and table recovery's progress (changelog partitions, highwaters, offsets: no personal data),
    # which says why a restarted worker is not ready yet
    logging_config={
        **logging_config("streams"),
        "loggers": {"faust.tables.recovery": {"level": "INFO"}, "faust.tables.manager": {"level": "INFO"}},
    },
    # The embedded broker's ListOffsets can trail what a consumer has already read by an offset or
    # two (ARCHITECTURE.md), which faust's recovery check takes for data removed from a changelog
    # and crashes the worker on, over and over. Recovery still reads every changelog to its end.
    recovery_consistency_check=False,
    table_standby_replicas=0,
    # faust's worker without its spinner, which left the root logger at DEBUG (streams/worker.py)
    Worker="streams.worker:Worker",
)


def _topic(name: str) -> faust.TopicT:
    return app.topic(name, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw")


court_commands = _topic(COURT_COMMANDS)
inquiry_opened = _topic(INQUIRY_OPENED)
inquiry_deadlines = _topic(INQUIRY_DEADLINES)
agency_responses = _topic(AGENCY_RESPONSES)
inquiry_results = _topic(INQUIRY_RESULTS)
dead_letters = _topic(DEAD_LETTERS)
request_topics = {a: _topic(agency_requests_topic(a)) for a in settings.agencies}
control_topics = {a: _topic(agency_controls_topic(a)) for a in settings.agencies}
control_results = _topic(CONTROL_RESULTS)
control_ticks = _topic(CONTROL_TICKS)
court_outcomes = _topic(COURT_OUTCOMES)

cases = app.Table("cases", default=None, partitions=settings.partitions)
inquiries = app.Table("inquiries", default=None, partitions=settings.partitions)
# The records of each part of an agency's answer, keyed ``<inquiry id>|<agency>|<part>``
# (inquiry_state.part_key), as the JSON bytes of the record list: no value is larger than the
# message that brought it, so the changelog never meets the producer's size limit.
inquiry_parts = app.Table(
    "inquiry_parts",
    default=None,
    partitions=settings.partitions,
    schema=faust.Schema(key_type=str, value_type=bytes, key_serializer="json", value_serializer="raw"),
)

_ready = {"assigned": False}


@app.on_partitions_assigned.connect  # type: ignore[arg-type]
async def _on_assigned(app: faust.App, assigned: Any, **kwargs: Any) -> None:
    _ready["assigned"] = True


def _progress() -> int:
    """A number that grows while this worker works: changelog offsets its table recovery has read
    plus events it has processed. The supervisor's liveness rule restarts a worker that is not ready
    only when this stands still (a recovery that is slow is not a hang)."""
    recovery: Any = getattr(app.tables, "recovery", None)  # TableManager's type omits it
    offsets = [
        *getattr(recovery, "active_offsets", {}).values(),
        *getattr(recovery, "standby_offsets", {}).values(),
    ]
    recovered = sum(o for o in offsets if isinstance(o, int))  # faust keeps None for "none yet"
    return recovered + int(getattr(app.monitor, "events_total", 0) or 0)


@app.page("/healthz")
async def healthz(web: Any, request: Any) -> Any:
    ok = _ready["assigned"] and app.rebalancing is False
    return web.json({"ok": ok, "progress": _progress()}, status=200 if ok else 503)


_send_acked = delivery.send_acked

# every message to an agency's request or control topic is sealed (hub/signing.py, signer
# ``streams``); the connectors refuse one without a valid seal before it reaches a registry
_message_signer = (
    Signer(signer_dir(settings.signing_keys_dir, STREAMS_SIGNER)) if settings.signing_keys_dir else None
)


async def _send_sealed(topic: faust.TopicT, key: bytes, value: bytes) -> None:
    """``_send_acked`` with the stream worker's seal on the message (when the hub has keys)."""
    headers = None
    if _message_signer is not None:
        headers = message_headers(_message_signer, topic.get_topic_name(), key, value)
    await _send_acked(topic, key, value, headers)


async def _dead_letter(event: EventT, stage: str, error: BaseException) -> None:
    await delivery.dead_letter_event(dead_letters, event, stage, error)


_case_locks = KeyedLocks()
_inquiry_locks = KeyedLocks()


def _per_case(handle: Callable[[Any], Awaitable[None]]) -> Callable[[Any], Awaitable[None]]:
    """``handle`` holding the case's lock: the agents of commands, outcomes and ticks change one
    case's entry one at a time (``streams.serial``)."""

    async def run(message: Any) -> None:
        key = message.case.case_id if isinstance(message, CaseRegistered) else message.case_id
        async with _case_locks(key):
            await handle(message)

    return run


def _per_inquiry(handle: Callable[[Any], Awaitable[None]]) -> Callable[[Any], Awaitable[None]]:
    """``handle`` holding the inquiry's lock (its opened record, answers and deadline)."""

    async def run(message: Any) -> None:
        async with _inquiry_locks(message.inquiry_id):
            await handle(message)

    return run


def _each(stream: Any, stage: str, handle: Callable[[Any], Awaitable[None]]) -> AsyncIterator[None]:
    """Decode every event; dead-letter what cannot be decoded or handled; keep serving the next."""
    return delivery.each(stream, stage, handle, dead_letters)


# ---------------------------------------------------------------- court commands


def refusal_reason(case: Case | None, cmd: InquiryRequested) -> str | None:
    """Why an inquiry may not proceed, or None. Only a debtor of the court's own case may be queried."""
    if case is None or case.court_id != cmd.court_id:
        return f"case {cmd.case_id} is not a case of court {cmd.court_id}"
    if case.debtor(cmd.debtor.id_type, cmd.debtor.id_number) is None:
        return f"the party inquired about is not a debtor of case {cmd.case_id}"
    return None


async def _publish_result(result: InquiryResult) -> None:
    """Publish one result version, split into parts under the message budget; return once the
    producer accepted every part (raises what ``_send_acked`` raises: a part too large at once)."""
    key = result.inquiry_id.encode()
    for message in inquiry_state.result_messages(result):
        await _send_acked(inquiry_results, key, message)


async def _on_command(cmd: CaseRegistered | InquiryRequested | ControlOrderRequested) -> None:
    if isinstance(cmd, CaseRegistered):
        current = cases.get(cmd.case.case_id) or {}
        producer_checks.check_case_registration(current, cmd)
        registered: dict[str, Any] = {
            "case": cmd.case.model_dump(mode="json"),
            "inquiries": current.get("inquiries", []),
            "ledger": current.get("ledger") or ledger.new_ledger(cmd.case),
        }
        cases[cmd.case.case_id] = registered
        return
    if isinstance(cmd, ControlOrderRequested):
        await _on_control_order(cmd)
        return
    entry: dict[str, Any] | None = _case_copy(cmd.case_id)
    # A command seen before (redelivered after a crash, or sent again by the gateway's reconciler for
    # an inquiry still pending past its SLA) is fanned out again: what was lost in between arrives,
    # and what had arrived is kept once per agency.
    case = Case.model_validate(entry["case"]) if entry else None
    now = clock.now()
    reason = refusal_reason(case, cmd)
    if reason is not None or case is None or entry is None:
        await _publish_result(
            InquiryResult(
                inquiry_id=cmd.inquiry_id,
                case_id=cmd.case_id,
                court_id=cmd.court_id,
                status="rejected",
                detail=reason,
                updated_at=now,
                completed_at=now,
                version=1,
            )
        )
        return
    debtor = case.debtor(cmd.debtor.id_type, cmd.debtor.id_number)
    assert debtor is not None
    agencies = [a for a in cmd.agencies if a in request_topics]
    deadline = now + dt.timedelta(seconds=settings.inquiry_sla_seconds)
    opened = InquiryOpened(
        inquiry_id=cmd.inquiry_id,
        case_id=cmd.case_id,
        court_id=cmd.court_id,
        debtor=debtor,
        agencies=agencies,
        deadline=deadline,
        opened_at=now,
    )
    key = cmd.inquiry_id.encode()
    # every fan-out message is handed to the producer before the case records the inquiry; faust
    # flushes the producer before it commits the command's offset, and a redelivered command is
    # fanned out again whatever the case recorded (agencies' answers are kept once per agency)
    sends = [_send_acked(inquiry_opened, key, encode(opened))]
    forms = [
        IdentifierForm(id_type=t, id_number=n)
        for t, n in identifier_variants(
            debtor.id_type, debtor.id_number, exact_only=debtor.check_override is not None
        )
    ]
    for agency in agencies:
        request = AgencyRequest(
            request_id=f"{cmd.inquiry_id}/{agency}",
            inquiry_id=cmd.inquiry_id,
            case_id=cmd.case_id,
            court_id=cmd.court_id,
            agency=agency,
            subject=debtor,
            identifiers=forms,
            deadline=deadline,
            idempotency_key=f"{cmd.idempotency_key}/{agency}",
            # who asks and why, as the court stated it (absent on a command from before officers:
            # the agency then refuses, and the inquiry reports that agency failed with its reason)
            officer=cmd.officer,
            purpose=cmd.purpose,
            legal_basis=cmd.legal_basis,
        )
        sends.append(_send_sealed(request_topics[agency], key, encode(request)))
    await asyncio.gather(*sends)
    if cmd.inquiry_id not in entry["inquiries"]:
        entry["inquiries"] = [*entry["inquiries"][-999:], cmd.inquiry_id]
        cases[cmd.case_id] = entry


# ---------------------------------------------------------------- control orders and the case ledger


async def _send_events(events: list[CourtEvent]) -> None:
    # handed to the producer before the ledger is written (a crash in between repeats them; event
    # ids dedupe them at the gateway)
    await asyncio.gather(
        *(_send_acked(court_outcomes, event.case_id.encode(), encode(event)) for event in events)
    )


async def _send_command(command: Any) -> None:
    # keyed by asset: the agency sees one asset's orders in the order the hub decided them;
    # handed to the producer before the ledger is written; a redelivered order still unanswered is
    # sent again (the agency is idempotent by order id)
    key = f"{command.agency}/{command.asset_ref}".encode()
    await _send_sealed(control_topics[command.agency], key, encode(command))


def _case_copy(case_id: str) -> dict[str, Any] | None:
    """The case's entry to change: a copy, so that the table keeps the old value until the changes'
    messages were handed to the producer and the new value is written back (state changes only with
    them)."""
    entry = cases.get(case_id)
    return copy.deepcopy(entry) if entry is not None else None


async def _on_control_order(req: ControlOrderRequested) -> None:
    entry = _case_copy(req.case_id)
    now = clock.now()
    if not entry or entry["case"]["court_id"] != req.court_id:
        await _send_events(
            [ledger.refuse(req, f"case {req.case_id} is not a case of court {req.court_id}", now)]
        )
        return
    if req.asset.agency not in control_topics:
        await _send_events([ledger.refuse(req, f"agency {req.asset.agency} is not configured", now)])
        return
    command, events = ledger.accept_order(entry["ledger"], req, now)
    if command is not None:
        await _send_command(command)
    await _send_events(events)
    cases[req.case_id] = entry


async def _on_control_result(outcome: ControlOutcome) -> None:
    entry = _case_copy(outcome.case_id)
    producer_checks.check_control_outcome(entry, outcome)
    assert entry is not None
    events = ledger.apply_outcome(entry["ledger"], outcome, clock.now())
    await _send_events(events)
    cases[outcome.case_id] = entry


async def _on_control_tick(tick: ControlTick) -> None:
    entry = _case_copy(tick.case_id)
    if not entry or "ledger" not in entry:
        return
    command, events = ledger.apply_tick(entry["ledger"], tick, clock.now(), settings.control_reminder_days)
    await _send_events(events)
    if command is not None:
        await _send_command(command)
    cases[tick.case_id] = entry


@app.agent(control_results, concurrency=1)
async def on_control_result(stream: Any) -> AsyncIterator[None]:
    async for _ in _each(stream, "streams.control_results", _per_case(_on_control_result)):
        yield None


@app.agent(control_ticks, concurrency=1)
async def on_control_tick(stream: Any) -> AsyncIterator[None]:
    async for _ in _each(stream, "streams.control_ticks", _per_case(_on_control_tick)):
        yield None


_ticks_sent: set[tuple[str, str, str]] = set()


@app.timer(interval=1.0)
async def expiry_timer() -> None:
    """Reminders, expiry notices and status checks of waiting controls as the hub's clock reaches
    them (the clock can be simulated); each (order, kind, due instant) is sent once per worker."""
    now = clock.now()
    for case_id, entry in list(cases.items()):
        if not entry or "ledger" not in entry:
            continue
        for tick in ledger.due_ticks(entry["ledger"], now, settings.control_reminder_days):
            key = (tick.order_id, tick.kind, tick.due.isoformat() if tick.due else "")
            if key in _ticks_sent:
                continue
            _ticks_sent.add(key)
            await control_ticks.send(key=case_id.encode(), value=encode(tick))


@app.agent(court_commands, concurrency=1)
async def on_court_command(stream: Any) -> AsyncIterator[None]:
    async for _ in _each(stream, "streams.court_commands", _per_case(_on_command)):
        yield None


def main() -> None:
    from hub.masking import setup_logging

    setup_logging(service="streams")
    agency_type("police")  # import-time sanity of the agency catalogue
    app.main()


# the aggregation per inquiry (streams/inquiry_agents.py) and the live new-asset watch
# (streams/watch_agents.py) register their agents and timers on this app
from . import inquiry_agents, watch_agents  # noqa: E402, F401
