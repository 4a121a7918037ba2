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
    agency_controls_topic,
    agency_requests_topic,
)

from .settings import HubSettings

__all__ = ["create_topics", "hub_topics", "make_consumer", "make_producer", "wait_for_broker"]

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
    ]
    per_agency = [agency_requests_topic(a) for a in settings.agencies]
    per_agency += [agency_controls_topic(a) for a in settings.agencies]
    return fixed + per_agency


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


async def create_topics(settings: HubSettings) -> list[str]:
    """Create the hub's topics that do not exist yet; return the names created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in hub_topics(settings) if t not in existing]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(
                    [NewTopic(t, num_partitions=settings.partitions, replication_factor=1) for t in missing]
                )
        return missing
    finally:
        await admin.close()


def make_producer(settings: HubSettings, **kwargs: Any) -> AIOKafkaProducer:
    # batches of up to 1 MiB: with the default 16 KiB, hundreds of concurrent senders of few-KB
    # responses queued behind tiny batches until aiokafka's accumulator timed out under load
    return AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap,
        acks="all",
        linger_ms=2,
        max_batch_size=1 << 20,
        request_timeout_ms=15000,
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
        **kwargs,
    )
