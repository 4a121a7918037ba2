"""Nothing is lost when a connector crashes mid-flight: its offsets are committed only over the
contiguous prefix of finished requests, so what was in flight is delivered again after a restart."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from schemas.topics import AGENCY_RESPONSES

from .conftest import HubClient, read_topic
from .planted import RICH

pytestmark = pytest.mark.integration


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

    kept = read_topic(
        hub.settings.bootstrap,
        AGENCY_RESPONSES,
        select=lambda m: (
            r if (r := json.loads(m.value))["inquiry_id"] in inquiry_ids and r["agency"] == "police" else None
        ),
        done=lambda kept: {r["inquiry_id"] for r in kept} == inquiry_ids,
        timeout=60,
    )
    answered = {r["inquiry_id"]: r["status"] for r in kept}
    assert set(answered) == inquiry_ids, "every request in flight at the crash was answered after it"
    assert set(answered.values()) == {"answered"}
