"""The embedded broker's durable store applies the topics' retention (the broker stores retention.ms
but deletes nothing): old record batches of the inquiry traffic topics go, the newest of each
partition and every changelog stay, and the hub keeps answering — across a restart of its consumers
— while the start of those logs moves."""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hub.supervisor import Hub

from .conftest import HubClient, WebhookReceiver, _port_block
from .test_reliability import DEBTOR, _fixtures, _settled, _submit

pytestmark = pytest.mark.integration

BATCH = re.compile(r"topics/([^/]+)/partitions/(\d+)/records/(\d+)\.batch\._S3rver_object$")


@pytest.fixture(scope="module")
def retaining(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubClient]:
    saved = dict(os.environ)  # a Hub writes its settings into the environment: put it back after
    state = tmp_path_factory.mktemp("retention")
    base = _port_block()
    for var in ("HUB_KAFKA_BOOTSTRAP", "HUB_DATABASE_URL", "HUB_COURT_TOKENS", "HUB_OPS_TOKEN"):
        os.environ.pop(var, None)
    os.environ["HUB_STORE_SWEEP_SECONDS"] = "1"  # read by the store process (deploy/embedded/store.js)
    webhook = WebhookReceiver(fail_first=0)
    hub = Hub(
        {
            "HUB_STATE_DIR": str(state),
            "HUB_EMBEDDED_KAFKA_PORT": str(base),
            "HUB_EMBEDDED_STORE_PORT": str(base + 18),
            "HUB_REGISTRY_BASE_PORT": str(base),
            "HUB_GATEWAY_PORT": str(base + 15),
            "HUB_CONNECTORS_PORT": str(base + 16),
            "HUB_STREAMS_PORT": str(base + 17),
            "HUB_REGISTRY_FIXTURES": str(_fixtures(Path(state) / "planted.jsonl")),
            "HUB_REGISTRY_SCALE": "200",
            "HUB_REGISTRY_LATENCY_MS": "lognormal:10:0.5",
            "HUB_TOPIC_RETENTION_SECONDS": "3",
        }
    )
    try:
        hub.start(timeout=240)
        hub.start_watchdog(interval=0.2)
        client = HubClient(hub, webhook, Path(state) / "clock")
        yield client
        client.close()
    finally:
        hub.stop()
        webhook.close()
        os.environ.clear()
        os.environ.update(saved)


def _batches(state: Path, topic: str) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for path in (state / "broker-store").rglob("*._S3rver_object"):
        match = BATCH.search(path.as_posix())
        if match and match.group(1) == topic:
            found.setdefault(match.group(2), []).append(int(match.group(3)))
    return found


def test_old_batches_of_inquiry_traffic_go_and_the_hub_keeps_answering(retaining: HubClient) -> None:
    hub = retaining
    case_id = hub.create_case([DEBTOR])
    first = _submit(hub, case_id, 20)
    assert all(r["status"] == "complete" for r in _settled(hub, first, timeout=120).values())
    state = hub.hub.state_dir
    assert _batches(state, "hub.agency.responses"), "the agencies' answers were stored as batches"

    # 20 inquiries wrote more than one batch to some partition; the sweep leaves one per partition
    deadline = time.monotonic() + 30
    store_log = state / "logs" / "store.log"
    while any(len(v) > 1 for v in _batches(state, "hub.agency.responses").values()) or (
        "retention: removed" not in store_log.read_text()
    ):
        assert time.monotonic() < deadline, _batches(state, "hub.agency.responses")
        time.sleep(1)
    changelogs = [p for p in (state / "broker-store").rglob("*._S3rver_object") if "-changelog/" in str(p)]
    assert changelogs, "the stream workers' changelogs are kept whole"

    # consumers restarted: they resume where they committed, past what the sweep removed
    for name in ("connectors", "streams", "gateway"):
        hub.hub.kill(name)
    deadline = time.monotonic() + 180
    while True:  # the gateway itself is coming back: refused connections first
        with contextlib.suppress(httpx.HTTPError):
            if hub.anon.get("/healthz").status_code == 200:
                break
        assert time.monotonic() < deadline, "the hub did not come back healthy"
        time.sleep(0.5)
    again = _submit(hub, case_id, 20)
    assert all(r["status"] == "complete" for r in _settled(hub, again, timeout=180).values())
