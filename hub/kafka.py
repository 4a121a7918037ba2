"""Kafka plumbing shared by the services: client factories and topic creation.

Everything here speaks plain Kafka protocol: nothing assumes the embedded broker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

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
    WATCH_CHANGES,
    WATCH_DEBTORS,
    WATCH_HITS,
    agency_controls_topic,
    agency_requests_topic,
)

from .settings import HubSettings, get_settings

__all__ = [
    "client_security",
    "create_topics",
    "hub_topics",
    "make_consumer",
    "make_producer",
    "topic_configs",
    "wait_for_broker",
]

log = logging.getLogger(__name__)


def hub_topics(settings: HubSettings) -> list[str]:
    fixed = [
        COURT_COMMANDS,
        INQUIRY_OPENED,
        INQUIRY_DEADLINES,
        AGENCY_RESPONSES,
        INQUIRY_RESULTS,
        DEAD_LETTERS,
        CONTROL_RESULTS,
        CONTROL_TICKS,
        COURT_OUTCOMES,
        WATCH_CHANGES,
        WATCH_DEBTORS,
        WATCH_HITS,
    ]
    per_agency = [agency_requests_topic(a) for a in settings.agencies]
    per_agency += [agency_controls_topic(a) for a in settings.agencies]
    return fixed + per_agency


# Topics whose messages matter only while an inquiry is open: its outcome lives in the streams' table
# and the gateway's read model, so they are deleted after HUB_TOPIC_RETENTION_SECONDS.
_INQUIRY_TRAFFIC = {INQUIRY_OPENED, INQUIRY_DEADLINES, AGENCY_RESPONSES, INQUIRY_RESULTS}
_HOUR_MS = 3_600_000


def topic_configs(settings: HubSettings, topic: str) -> dict[str, str]:
    """The broker configs of one hub topic (``{name: value}``, values as Kafka wants them: strings).

    Every hub topic is ``cleanup.policy=delete`` with a retention by kind: inquiry traffic (agency
    requests, responses, opened, deadlines, results) ``HUB_TOPIC_RETENTION_SECONDS``; court commands
    and control topics ``HUB_CONTROL_TOPIC_RETENTION_SECONDS``; dead letters
    ``HUB_DEAD_LETTER_RETENTION_SECONDS``. Segments roll at most hourly (or at the retention if
    shorter) so that retention can delete them. ``min.insync.replicas`` is ``HUB_MIN_INSYNC_REPLICAS``.
    The streams' changelog topics are faust's: it creates them compacted.
    """
    if topic == DEAD_LETTERS:
        seconds = settings.dead_letter_retention_seconds
    elif topic in _INQUIRY_TRAFFIC or topic.endswith(".requests"):
        seconds = settings.topic_retention_seconds
    else:
        seconds = settings.control_topic_retention_seconds
    retention_ms = max(1, round(seconds * 1000))
    return {
        "cleanup.policy": "delete",
        "retention.ms": str(retention_ms),
        "segment.ms": str(min(retention_ms, _HOUR_MS)),
        "min.insync.replicas": str(settings.min_insync_replicas),
    }


async def _port_open(host: str, port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection(host, port)
    except OSError:
        return False
    writer.close()
    await writer.wait_closed()
    return True


async def wait_for_broker(bootstrap: str, timeout: float = 30.0) -> None:
    """Wait until the broker answers metadata requests (first the port, quietly, then Kafka itself)."""
    deadline = asyncio.get_running_loop().time() + timeout
    host, _, port = bootstrap.split(",")[0].rpartition(":")
    while not await _port_open(host, int(port)):
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"no broker listening at {bootstrap}")
        await asyncio.sleep(0.1)
    while True:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000)
        try:
            await admin.start()
            await admin.list_topics()
            return
        except KafkaError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.2)
        finally:
            await admin.close()


async def create_topics(settings: HubSettings, *, align_existing: bool = False) -> list[str]:
    """Create the hub's topics that do not exist yet, with ``HUB_PARTITIONS`` partitions,
    ``HUB_REPLICATION_FACTOR`` replicas and ``topic_configs``; return the names created.

    With ``align_existing`` (``hub topics``), topics that already exist get their configs set to
    ``topic_configs`` (AlterConfigs); a broker that refuses is logged, not fatal, since the topics
    themselves are usable. Raises ``KafkaError`` when the broker refuses a creation (for example a
    replication factor above its broker count).
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap, **client_security(settings))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = hub_topics(settings)
        missing = [t for t in wanted if t not in existing]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(
                    [
                        NewTopic(
                            t,
                            num_partitions=settings.partitions,
                            replication_factor=settings.replication_factor,
                            topic_configs=topic_configs(settings, t),
                        )
                        for t in missing
                    ]
                )
        present = [t for t in wanted if t in existing]
        if align_existing and present:
            await _align_configs(admin, settings, present)
        return missing
    finally:
        await admin.close()


async def _align_configs(admin: AIOKafkaAdminClient, settings: HubSettings, topics: list[str]) -> None:
    from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

    resources = [
        ConfigResource(ConfigResourceType.TOPIC, t, configs=topic_configs(settings, t)) for t in topics
    ]
    try:
        responses = await admin.alter_configs(resources)
        refused = [
            f"{name}: {message or code}"
            for response in responses
            for code, message, _type, name in response.resources
            if code
        ]
        if refused:
            log.warning("the broker refused the configs of %d topics: %s", len(refused), "; ".join(refused))
    except (KafkaError, ValueError) as e:
        log.warning(
            "could not set the configs of %d existing topics: %s: %s", len(topics), type(e).__name__, e
        )


def client_security(settings: HubSettings | None = None) -> dict[str, Any]:
    """The SASL arguments of this service's Kafka clients (aiokafka's and kafka-python's names):
    empty without ``HUB_KAFKA_SASL_MECHANISM``; else ``SASL_PLAINTEXT`` with the service's principal
    (``HUB_KAFKA_USERNAME`` / ``HUB_KAFKA_PASSWORD``). ``settings`` default: from the environment."""
    settings = settings or get_settings()
    if settings.kafka_sasl_mechanism is None:
        return {}
    password = settings.kafka_password.get_secret_value() if settings.kafka_password else ""
    return {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": settings.kafka_sasl_mechanism,
        "sasl_plain_username": settings.kafka_username or "",
        "sasl_plain_password": password,
    }


def make_producer(settings: HubSettings, **kwargs: Any) -> AIOKafkaProducer:
    # batches of up to 1 MiB: with the default 16 KiB, hundreds of concurrent senders of few-KB
    # responses queued behind tiny batches until aiokafka's accumulator timed out under load
    return AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap,
        acks="all",
        linger_ms=2,
        max_batch_size=1 << 20,
        request_timeout_ms=15000,
        **client_security(settings),
        **kwargs,
    )


def make_consumer(settings: HubSettings, *topics: str, group_id: str, **kwargs: Any) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        *topics,
        bootstrap_servers=settings.bootstrap,
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        **settings.group_timeouts(),
        **client_security(settings),
        **kwargs,
    )
