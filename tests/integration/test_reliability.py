"""Nothing accepted is lost across restarts and crashes of any process, the broker included.

One hub of its own (two stream workers, two connector processes, the embedded broker on its
durable store), supervised by the watchdog exactly as under ``hub up``:

- a clean stop and start, and kill -9 of every process, keep an old case usable (inquire again,
  release its freeze) and settle what was pending;
- kill -9 of the broker during 200 inquiries: every accepted one settles after the watchdog
  brings the broker back;
- kill -9 of one stream worker and one connector process under load: nothing lost, nothing doubled;
- a locked database makes ``/healthz`` say so, and results are stored once it is free again.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.supervisor import Hub

from .conftest import HubClient, WebhookReceiver, _port_block
from .planted import person

pytestmark = pytest.mark.integration

DEBTOR = person("沈立华", "42010619760606161")
ACCOUNT = "6222020200900000001"
FLAT = "鄂(2021)武汉市不动产权第0900002号"


def _fixtures(path: Path) -> Path:
    lines = [
        {
            "registry": "bank:icbc",
            "owner": DEBTOR,
            "asset": {"kind": "deposit", "ref": ACCOUNT, "value": "50000.00"},
        },
        {
            "registry": "real_estate",
            "owner": DEBTOR,
            "asset": {"kind": "real_estate", "ref": FLAT, "value": "900000.00"},
        },
    ]
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n")
    return path


@pytest.fixture(scope="module")
def overrides(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    state = tmp_path_factory.mktemp("reliable")
    base = _port_block()
    for var in ("HUB_KAFKA_BOOTSTRAP", "HUB_DATABASE_URL", "HUB_COURT_TOKENS", "HUB_OPS_TOKEN"):
        os.environ.pop(var, None)
    return {
        "HUB_STATE_DIR": str(state),
        "HUB_EMBEDDED_KAFKA_PORT": str(base),
        "HUB_EMBEDDED_STORE_PORT": str(base + 18),
        "HUB_REGISTRY_BASE_PORT": str(base),
        "HUB_GATEWAY_PORT": str(base + 15),
        "HUB_CONNECTORS_PORT": str(base + 16),
        "HUB_STREAMS_PORT": str(base + 17),
        "HUB_STREAM_WORKERS": "2",
        "HUB_CONNECTOR_PROCESSES": "2",
        "HUB_REGISTRY_FIXTURES": str(_fixtures(Path(state) / "planted.jsonl")),
        "HUB_REGISTRY_SCALE": "200",
        "HUB_REGISTRY_LATENCY_MS": "lognormal:10:0.5",
        "HUB_INQUIRY_SLA_SECONDS": "60",
        "HUB_RECONCILE_GRACE_SECONDS": "10",
        "HUB_RECONCILE_INTERVAL_SECONDS": "1",
        "HUB_CONNECTOR_BACKOFF_INITIAL": "0.05",
        "HUB_CONNECTOR_BACKOFF_MAX": "0.5",
        "HUB_LIVENESS_SECONDS": "90",
    }


class Running:
    """The module's hub, which tests may stop and start again over the same state."""

    def __init__(self, overrides: dict[str, str]) -> None:
        self.overrides = overrides
        self.webhook = WebhookReceiver(fail_first=0)
        self.hub: Hub | None = None
        self.client: HubClient | None = None

    def start(self, **changes: str) -> HubClient:
        if self.client is not None:
            self.client.close()
        self.overrides = {**self.overrides, **changes}
        self.hub = Hub(self.overrides)
        self.hub.start(timeout=240)
        self.hub.start_watchdog(interval=0.2)
        self.client = HubClient(self.hub, self.webhook, Path(self.overrides["HUB_STATE_DIR"]) / "clock")
        return self.client

    def stop(self) -> None:
        if self.client is not None:
            self.client.close()
        if self.hub is not None:
            self.hub.stop()


@pytest.fixture(scope="module")
def running(overrides: dict[str, str]) -> Iterator[Running]:
    r = Running(overrides)
    r.start()
    try:
        yield r
    finally:
        r.stop()
        r.webhook.close()


def _hub(running: Running) -> HubClient:
    assert running.client is not None
    return running.client


def _wait_healthy(hub: HubClient, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while (r := hub.anon.get("/healthz")).status_code != 200:
        assert time.monotonic() < deadline, r.json()
        time.sleep(0.5)


def _submit(hub: HubClient, case_id: str, n: int) -> list[str]:
    ids = []
    for i in range(n):
        r = hub.court_a.post(
            "/v1/inquiries",
            json={
                "case_id": case_id,
                "debtor": {"id_type": "resident_id", "id_number": DEBTOR["id_number"]},
                **hub.asking(),
            },
            headers={"Idempotency-Key": f"{case_id}-{i}-{time.monotonic_ns()}"},
        )
        if r.status_code == 202:
            ids.append(r.json()["inquiry_id"])
        else:  # the gateway itself may be restarting: an unaccepted request is the client's to retry
            assert r.status_code in (502, 503), r.text
    return ids


def _settled(
    hub: HubClient, ids: list[str], timeout: float, until: tuple[str, ...] = ("complete",)
) -> dict[str, dict[str, Any]]:
    """Each inquiry's result once its status is one of ``until``. A ``partial`` settled at the SLA
    turns ``complete`` when the late answers arrive (a consumer group that rebalanced for longer than
    the SLA on the embedded broker), so waiting for ``complete`` waits for them."""
    deadline = time.monotonic() + timeout
    results: dict[str, dict[str, Any]] = {}
    while len(results) < len(ids):
        for inquiry_id in ids:
            if inquiry_id in results:
                continue
            try:
                r = hub.court_a.get(f"/v1/inquiries/{inquiry_id}")
            except httpx.HTTPError:
                break
            if r.status_code == 200 and r.json()["status"] in until:
                results[inquiry_id] = r.json()
        pending = len(ids) - len(results)
        assert time.monotonic() < deadline, f"{pending} of {len(ids)} inquiries never settled"
        if pending:
            time.sleep(0.5)
    return results


def _freeze(hub: HubClient, case_id: str, asset_id: str, amount: str) -> dict[str, Any]:
    order_id = hub.order(
        case_id=case_id, asset_id=asset_id, action="freeze", amount=amount, approved_by=hub.judge()
    )
    return hub.wait_order(order_id, {"effective", "partial", "rejected", "failed"}, timeout=60)


def test_one_stream_worker_and_one_connector_killed_under_load_lose_and_double_nothing(
    running: Running,
) -> None:
    hub = _hub(running)
    assert running.hub is not None
    case_id = hub.create_case([DEBTOR], case_number="(2026)鄂0111执9001号")
    ids = _submit(hub, case_id, 30)
    running.hub.kill("streams-1")
    running.hub.kill("connectors-1")
    ids += _submit(hub, case_id, 30)
    results = _settled(hub, ids, timeout=240)  # the SLA (60 s), late answers, the reconciler
    assert len(ids) == 60
    for result in results.values():
        assert result["status"] == "complete", result["agencies"]
        refs = [a["ref"] for a in result["assets"]]
        assert sorted(refs) == sorted({ACCOUNT, FLAT}), "each asset once: nothing lost, nothing doubled"
    status = json.loads((running.hub.state_dir / "services.json").read_text())["services"]
    assert status["streams-1"]["restarts"] >= 1 and status["connectors-1"]["restarts"] >= 1


def test_broker_killed_during_200_inquiries_every_accepted_one_settles(running: Running) -> None:
    hub = _hub(running)
    assert running.hub is not None
    case_id = hub.create_case([DEBTOR], case_number="(2026)鄂0111执9002号")
    ids: list[str] = []
    killer = threading.Timer(1.0, lambda: running.hub and running.hub.kill("broker"))
    killer.start()
    ids += _submit(hub, case_id, 200)
    killer.join()
    assert len(ids) == 200, "the gateway accepts while the broker is away (the outbox keeps them)"
    results = _settled(hub, ids, timeout=180)
    statuses = [r["status"] for r in results.values()]
    assert statuses.count("complete") == 200, {s: statuses.count(s) for s in set(statuses)}
    _wait_healthy(hub)
    status = json.loads((running.hub.state_dir / "services.json").read_text())["services"]
    assert status["broker"]["restarts"] >= 1 and status["broker"]["state"] == "running"


def test_a_locked_database_shows_in_health_and_results_are_stored_once_it_is_free(running: Running) -> None:
    hub = _hub(running)
    assert running.hub is not None
    case_id = hub.create_case([DEBTOR], case_number="(2026)鄂0111执9003号")
    db = sqlite3.connect(str(running.hub.state_dir / "hub.db"), timeout=30, isolation_level=None)
    db.execute("BEGIN EXCLUSIVE")
    try:
        deadline = time.monotonic() + 20
        while True:
            r = hub.anon.get("/healthz", timeout=15)
            if r.status_code == 503 and r.json()["components"]["database"] != "ok":
                break
            assert time.monotonic() < deadline, r.json()
        # "not writable within 2 s" or "no write committed for N s": either way, not storing
        assert "writ" in r.json()["components"]["database"]
    finally:
        db.execute("ROLLBACK")
        db.close()
    ids = _submit(hub, case_id, 3)
    assert all(r["status"] == "complete" for r in _settled(hub, ids, timeout=60).values())
    _wait_healthy(hub)


def test_a_clean_restart_keeps_an_old_case_usable(running: Running) -> None:
    hub = _hub(running)
    case_id, assets = hub.find_assets(DEBTOR, case_number="(2026)鄂0111执9004号")
    frozen = _freeze(hub, case_id, assets[ACCOUNT]["asset_id"], "10000.00")
    assert frozen["status"] == "effective", frozen["history"]
    running.stop()
    hub = running.start()
    _wait_healthy(hub)
    again = _settled(hub, _submit(hub, case_id, 1), timeout=60)
    assert [r["status"] for r in again.values()] == ["complete"]
    release = hub.order(
        case_id=case_id, asset_id=assets[ACCOUNT]["asset_id"], action="release", approved_by=hub.judge()
    )
    released = hub.wait_order(release, {"released", "rejected", "failed"}, timeout=60)
    assert released["status"] == "released", released["history"]
    assert hub.wait_order(frozen["order_id"], {"released"}, timeout=30)["status"] == "released"


def test_kill_minus_nine_of_every_process_loses_nothing(running: Running) -> None:
    hub = _hub(running)
    assert running.hub is not None
    case_id, assets = hub.find_assets(DEBTOR, case_number="(2026)鄂0111执9005号")
    seize = hub.order(
        case_id=case_id, asset_id=assets[FLAT]["asset_id"], action="seize", approved_by=hub.judge()
    )
    seized = hub.wait_order(seize, {"effective", "waiting", "rejected", "failed"}, timeout=60)
    assert seized["status"] == "effective", seized["history"]
    pending = _submit(hub, case_id, 20)
    running.hub.stop_watchdog()
    for child in list(running.hub.children):  # every process at once, as a power cut would
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.proc.pid, signal.SIGKILL)
    for child in list(running.hub.children):
        child.proc.wait(10)
        child.log_file.close()
    running.hub.children.clear()
    # back as the default deployment runs (one stream worker, one connector process): the consumer
    # groups still hold the dead members of before the crash, and the new ones take over from them
    hub = running.start(HUB_STREAM_WORKERS="1", HUB_CONNECTOR_PROCESSES="1")
    _wait_healthy(hub)
    results = _settled(hub, pending, timeout=150)
    assert {r["status"] for r in results.values()} == {"complete"}
    release = hub.order(
        case_id=case_id, asset_id=assets[FLAT]["asset_id"], action="release", approved_by=hub.judge()
    )
    assert hub.wait_order(release, {"released", "rejected", "failed"}, timeout=60)["status"] == "released"
