"""A debtor with 10,000 accounts at one bank and 2,000 properties: the bank's answer (about 3 MB) and
the linked result (about 7 MB) are far larger than one Kafka message, and the court still gets a
``complete`` result listing every asset, through the real pipeline.

This hub runs with a 60 s SLA (the session hub's 8 s SLA is for the outage tests), on its own ports,
with the big debtor planted in its registries; it is started once for this module.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from hub.supervisor import Hub
from schemas.codec import MESSAGE_BUDGET_BYTES
from schemas.topics import AGENCY_RESPONSES, INQUIRY_RESULTS

from .conftest import HubClient, WebhookReceiver, _port_block
from .planted import rid

pytestmark = pytest.mark.integration

SLA_SECONDS = 60
ACCOUNTS = 10_000
PROPERTIES = 2_000
BIG = {"name": "钱满仓", "id_type": "resident_id", "id_number": rid("42010619700505123")}
NOBODY = {"name": "孙空空", "id_type": "resident_id", "id_number": rid("42010619800606234")}


def _account(i: int) -> str:
    return f"62220288{i:011d}"


def _certificate(i: int) -> str:
    return f"鄂(2021)武汉市不动产权第{i:07d}号"


def write_big_debtor(path: Path) -> Path:
    """The fixture file: every account at bank:icbc and every property at real_estate."""
    lines: list[dict[str, Any]] = [
        {
            "registry": "bank:icbc",
            "owner": BIG,
            "asset": {"kind": "deposit", "ref": _account(i), "value": f"{1000 + i}.50"},
        }
        for i in range(ACCOUNTS)
    ]
    lines += [
        {
            "registry": "real_estate",
            "owner": BIG,
            "asset": {
                "kind": "real_estate",
                "ref": _certificate(i),
                "value": "900000.00",
                "address": f"武汉市江汉区解放大道{i}号",
                "area_m2": 89.5,
            },
        }
        for i in range(PROPERTIES)
    ]
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n")
    return path


@pytest.fixture(scope="module")
def big_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubClient]:
    state = tmp_path_factory.mktemp("bighub")
    base = _port_block()
    for var in (
        "HUB_KAFKA_BOOTSTRAP",
        "HUB_DATABASE_URL",
        "HUB_COURT_TOKENS",
        "HUB_OPS_TOKEN",
        "HUB_COURT_JUDGES",
        "HUB_COURT_OFFICERS",
    ):
        os.environ.pop(var, None)
    running = Hub(
        {
            "HUB_STATE_DIR": str(state),
            "HUB_EMBEDDED_KAFKA_PORT": str(base),
            "HUB_EMBEDDED_STORE_PORT": str(base + 19),
            "HUB_REGISTRY_BASE_PORT": str(base),
            "HUB_GATEWAY_PORT": str(base + 15),
            "HUB_CONNECTORS_PORT": str(base + 16),
            "HUB_STREAMS_PORT": str(base + 17),
            "HUB_REGISTRY_FIXTURES": str(write_big_debtor(Path(state) / "big.jsonl")),
            "HUB_REGISTRY_SCALE": "300",
            # 500 pages of 20 accounts are fetched one after the other: latency is not what is tested
            "HUB_REGISTRY_LATENCY_MS": "fixed:1",
            "HUB_INQUIRY_SLA_SECONDS": str(SLA_SECONDS),
        }
    )
    webhook = WebhookReceiver(fail_first=0)
    try:
        running.start(timeout=120)
        client = HubClient(running, webhook, Path(state) / "clock-offset")
        try:
            yield client
        finally:
            client.close()
    finally:
        running.stop()
        webhook.close()


def _sizes(bootstrap: str, topic: str, inquiry_id: str) -> list[int]:
    """Byte sizes of every message about the inquiry on ``topic``, up to the topic's end now."""

    async def run() -> list[int]:
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        await consumer.start()
        try:
            tps = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or set()]
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            ends = await consumer.end_offsets(tps)
            sizes: list[int] = []

            async def behind() -> bool:
                return any([await consumer.position(tp) < end for tp, end in ends.items()])

            while await behind():
                for messages in (await consumer.getmany(timeout_ms=500)).values():
                    sizes += [len(m.value or b"") for m in messages if m.key == inquiry_id.encode()]
            return sizes
        finally:
            await consumer.stop()

    return asyncio.run(run())


def _wait_settled(hub: HubClient, inquiry_id: str, timeout: float) -> dict[str, Any]:
    """Long-poll the inquiry until it is no longer pending (each answer is several MB: no busy polling)."""
    deadline = time.monotonic() + timeout
    version = 0
    while True:
        r = hub.court_a.get(
            f"/v1/inquiries/{inquiry_id}", params={"wait": 10, "version": version}, timeout=30
        )
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        if body["status"] != "pending":
            return body
        assert time.monotonic() < deadline, f"still pending: {body['agencies']}"
        version = body.get("version", version)


def test_ten_thousand_accounts_and_two_thousand_properties_come_back_complete(big_hub: HubClient) -> None:
    # every connector's consumer group has joined once a small inquiry came back complete
    for _ in range(3):
        warm_up = big_hub.create_case([NOBODY])
        if _wait_settled(big_hub, big_hub.inquire(warm_up, NOBODY), SLA_SECONDS + 30)["status"] == "complete":
            break
    case_id = big_hub.create_case([BIG])
    started = time.monotonic()
    inquiry_id = big_hub.inquire(case_id, BIG)
    result = _wait_settled(big_hub, inquiry_id, timeout=SLA_SECONDS + 30)
    elapsed = time.monotonic() - started
    print(f"\n10,000-account inquiry: {result['status']} in {elapsed:.1f} s")  # the figure for the README

    # complete means every agency answered before the SLA deadline settled the inquiry
    assert result["status"] == "complete", {a: s["status"] for a, s in result["agencies"].items()}
    accounts = sorted(a["ref"] for a in result["assets"] if a["agency"] == "bank:icbc")
    properties = sorted(a["ref"] for a in result["assets"] if a["agency"] == "real_estate")
    assert accounts == sorted(_account(i) for i in range(ACCOUNTS))
    assert properties == sorted(_certificate(i) for i in range(PROPERTIES))
    assert result["agencies"]["bank:icbc"] == {
        **result["agencies"]["bank:icbc"],
        "status": "answered",
        "assets": ACCOUNTS,
    }
    assert result["agencies"]["real_estate"]["assets"] == PROPERTIES
    assert len({a["asset_id"] for a in result["assets"]}) == len(result["assets"]), "each asset once"
    deposit = next(a for a in result["assets"] if a["ref"] == _account(7))
    assert deposit["value"] == "1007.50" and deposit["linkage"]["decision"] == "match"

    # the same assets, page by page
    paged: list[str] = []
    offset: int | None = 0
    while offset is not None:
        r = big_hub.court_a.get(
            f"/v1/inquiries/{inquiry_id}", params={"assets_offset": offset, "assets_limit": 5000}
        )
        assert r.status_code == 200, r.text
        page = r.json()
        assert page["assets_total"] == ACCOUNTS + PROPERTIES and len(page["assets"]) <= 5000
        paged += [a["asset_id"] for a in page["assets"]]
        offset = page["assets_next_offset"]
    assert paged == [a["asset_id"] for a in result["assets"]]

    # the answer and the result crossed the broker in parts, none over the message budget
    bootstrap = big_hub.settings.bootstrap
    answers = _sizes(bootstrap, AGENCY_RESPONSES, inquiry_id)
    results = _sizes(bootstrap, INQUIRY_RESULTS, inquiry_id)
    assert sum(answers) > 2 * MESSAGE_BUDGET_BYTES and max(answers) <= MESSAGE_BUDGET_BYTES
    assert sum(results) > 4 * MESSAGE_BUDGET_BYTES and max(results) <= MESSAGE_BUDGET_BYTES
