"""Nothing is lost when a connector crashes mid-flight: its offsets are committed only over the
contiguous prefix of finished requests, so what was in flight is delivered again after a restart."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from schemas.topics import AGENCY_RESPONSES

from .conftest import HubClient
from .planted import RICH

pytestmark = pytest.mark.integration


async def _responses_for(bootstrap: str, inquiry_ids: set[str], timeout: float) -> dict[str, str]:
    consumer = AIOKafkaConsumer(
        AGENCY_RESPONSES,
        bootstrap_servers=bootstrap,
        group_id=f"test-{uuid.uuid4().hex}",
        auto_offset_reset="earliest",
        session_timeout_ms=10000,
        heartbeat_interval_ms=3000,
        rebalance_timeout_ms=10000,
    )
    await consumer.start()
    found: dict[str, str] = {}
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    try:
        while set(found) != inquiry_ids and loop.time() < end:
            for messages in (await consumer.getmany(timeout_ms=500)).values():
                for m in messages:
                    body = json.loads(m.value)
                    if body["inquiry_id"] in inquiry_ids and body["agency"] == "police":
                        found[body["inquiry_id"]] = body["status"]
    finally:
        await consumer.stop()
    return found


def _wait_healthy(hub: HubClient, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while hub.anon.get("/healthz").status_code != 200:
        assert time.monotonic() < deadline, hub.anon.get("/healthz").json()
        time.sleep(0.5)


def test_requests_in_flight_when_the_connector_is_killed_are_answered_after_restart(hub: HubClient) -> None:
    case_id = hub.create_case([RICH])
    hub.set_faults("police", latency_ms="fixed:2500")  # keep the requests in flight at the registry
    try:
        inquiry_ids = {hub.inquire(case_id, RICH, agencies=["police"]) for _ in range(6)}
        deadline = time.monotonic() + 15
        while True:  # until the connector holds them all in flight
            stats = httpx.get(f"{hub.settings.resolved_connectors_url}/stats", timeout=5).json()
            if stats["police"]["in_flight"] >= len(inquiry_ids):
                break
            assert time.monotonic() < deadline, stats["police"]
            time.sleep(0.1)
        hub.hub.restart("connectors", kill=True)
    finally:
        hub.set_faults("police", latency_ms="fixed:0")
    _wait_healthy(hub)

    answered = asyncio.run(_responses_for(hub.settings.bootstrap, inquiry_ids, timeout=60))
    assert set(answered) == inquiry_ids, "every request in flight at the crash was answered after it"
    assert set(answered.values()) == {"answered"}
