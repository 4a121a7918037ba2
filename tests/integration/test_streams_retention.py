"""The stream worker keeps a settled inquiry's full state only for HUB_INQUIRY_RETENTION_SECONDS,
then compacts it to a tombstone (in its table and so in the table's changelog topic)."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from aiokafka import AIOKafkaConsumer

from .conftest import RETENTION_SECONDS, HubClient
from .planted import RICH

pytestmark = pytest.mark.integration
CHANGELOG = "hub-streams-inquiries-changelog"


async def _states(bootstrap: str, inquiry_id: str, timeout: float) -> list[dict]:
    consumer = AIOKafkaConsumer(
        CHANGELOG,
        bootstrap_servers=bootstrap,
        group_id=f"test-{uuid.uuid4().hex}",
        auto_offset_reset="earliest",
        session_timeout_ms=10000,
        heartbeat_interval_ms=3000,
        rebalance_timeout_ms=10000,
    )
    await consumer.start()
    states: list[dict] = []
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    try:
        while not any(s.get("compacted") for s in states) and loop.time() < end:
            for messages in (await consumer.getmany(timeout_ms=500)).values():
                states += [json.loads(m.value) for m in messages if m.key and json.loads(m.key) == inquiry_id]
    finally:
        await consumer.stop()
    return states


def test_a_settled_inquiry_is_compacted_after_retention_and_its_result_stays_readable(hub: HubClient) -> None:
    case_id = hub.create_case([RICH])
    inquiry_id = hub.inquire(case_id, RICH, agencies=["police"])
    result = hub.wait_result(inquiry_id)
    assert result["status"] == "complete"

    states = asyncio.run(_states(hub.settings.bootstrap, inquiry_id, timeout=RETENTION_SECONDS + 40))
    assert any(s["final"] and s["responses"] for s in states), "the settled state held the answers"
    tomb = states[-1]
    assert tomb.get("compacted") and tomb["responses"] == {} and tomb["final"]
    assert hub.court_a.get(f"/v1/inquiries/{inquiry_id}").json()["assets"] == result["assets"]
