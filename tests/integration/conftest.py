"""One real hub for the integration tests: embedded broker, registries over HTTP, connectors,
stream worker and gateway as child processes, exactly as ``hub up`` starts them."""

from __future__ import annotations

import asyncio
import http.server
import json
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from aiokafka import AIOKafkaConsumer

from hub.supervisor import Hub

from .planted import write_fixtures

SLA_SECONDS = 8.0
RECONCILE_GRACE_SECONDS = 8.0
WEBHOOK_SECRET = "whsec-test-court-a"
REMINDER_DAYS = 30
RETENTION_SECONDS = 4.0
CIRCUIT_RESET_SECONDS = 5.0


def read_topic(
    bootstrap: str,
    topic: str,
    *,
    select: Callable[[Any], Any | None],
    done: Callable[[list[Any]], bool],
    timeout: float,
) -> list[Any]:
    """Read ``topic`` from its beginning in a fresh consumer group; keep ``select(message)`` when it
    is not None; stop when ``done(kept)`` or after ``timeout`` seconds."""

    async def run() -> list[Any]:
        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=bootstrap,
            group_id=f"test-{uuid.uuid4().hex}",
            auto_offset_reset="earliest",
            session_timeout_ms=10000,
            heartbeat_interval_ms=3000,
            rebalance_timeout_ms=10000,
        )
        await consumer.start()
        kept: list[Any] = []
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        try:
            while not done(kept) and loop.time() < end:
                for messages in (await consumer.getmany(timeout_ms=500)).values():
                    kept += [x for x in map(select, messages) if x is not None]
        finally:
            await consumer.stop()
        return kept

    return asyncio.run(run())


class WebhookReceiver:
    """A real HTTP endpoint for court-a's webhook that refuses the first ``fail_first`` deliveries."""

    def __init__(self, fail_first: int = 2) -> None:
        self.fail_first = fail_first
        self.attempts = 0
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.refused_ids: list[str] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.attempts += 1
                    failing = receiver.attempts <= receiver.fail_first
                    if failing:
                        receiver.refused_ids.append(self.headers.get("X-Hub-Event-Id", ""))
                    else:
                        receiver.received.append((dict(self.headers.items()), body))
                self.send_response(503 if failing else 204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hub-events"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def events(self) -> list[dict[str, Any]]:
        with self.lock:
            return [json.loads(body) for _, body in self.received]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _port_block() -> int:
    """A base port whose whole block (base .. base+30) is free.

    Blocks are drawn below 32768, outside Linux's ephemeral port range (32768-60999), so an
    outgoing connection of a running hub cannot take one of the ports between this check and
    the hub binding it.
    """
    for _ in range(200):
        base = random.randrange(10000, 32000, 100)
        if all(_free(base + i) for i in range(0, 31)):
            return base
    raise RuntimeError("no free port block")


_case_serials = iter(range(100_000, 1_000_000))


def unique_case_number() -> str:
    """A case number no other test of the session registered: a court's case numbers are unique."""
    return f"(2026)鄂0111执{next(_case_serials)}号"


class HubClient:
    def __init__(self, hub: Hub, webhook: WebhookReceiver, clock_file: Path) -> None:
        self.hub = hub
        self.webhook = webhook
        self.clock_file = clock_file
        self.settings = hub.settings
        tokens = hub.settings.tokens_by_court
        self.court_a = httpx.Client(
            base_url=hub.gateway_url, headers={"Authorization": f"Bearer {tokens['court-a']}"}, timeout=10
        )
        self.court_b = httpx.Client(
            base_url=hub.gateway_url, headers={"Authorization": f"Bearer {tokens['court-b']}"}, timeout=10
        )
        self.anon = httpx.Client(base_url=hub.gateway_url, timeout=10)

    def close(self) -> None:
        for client in (self.court_a, self.court_b, self.anon):
            client.close()

    def create_case(
        self, debtors: list[dict[str, Any]], client: httpx.Client | None = None, **extra: Any
    ) -> str:
        body = {
            "case_number": unique_case_number(),
            "applicant": {"name": "申请人甲"},
            "debtors": debtors,
            "amount_owed": "100000.00",
            "costs": "1500.00",
            **extra,
        }
        r = (client or self.court_a).post("/v1/cases", json=body)
        assert r.status_code == 201, r.text
        return str(r.json()["case_id"])

    def inquire(
        self, case_id: str, debtor: dict[str, Any], client: httpx.Client | None = None, **extra: Any
    ) -> str:
        body = {
            "case_id": case_id,
            "debtor": {"id_type": debtor["id_type"], "id_number": debtor["id_number"]},
            **self.asking(client),
            **extra,
        }
        r = (client or self.court_a).post("/v1/inquiries", json=body)
        assert r.status_code == 202, r.text
        return str(r.json()["inquiry_id"])

    def wait_result(
        self, inquiry_id: str, timeout: float = 30.0, client: httpx.Client | None = None
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            r = (client or self.court_a).get(f"/v1/inquiries/{inquiry_id}")
            assert r.status_code == 200, r.text
            body: dict[str, Any] = r.json()
            if body["status"] != "pending":
                return body
            assert time.monotonic() < deadline, f"inquiry {inquiry_id} still pending: {body['agencies']}"
            time.sleep(0.2)

    def find_assets(
        self, debtor: dict[str, Any], client: httpx.Client | None = None, **case: Any
    ) -> tuple[str, dict[str, Any]]:
        """Register a case against the debtor and inquire: (case id, assets by registry ref)."""
        case_id = self.create_case([debtor], client=client, **case)
        result = self.wait_result(self.inquire(case_id, debtor, client=client), client=client)
        return case_id, {a["ref"]: a for a in result["assets"]}

    def order(self, client: httpx.Client | None = None, **body: Any) -> str:
        body = {**self.asking(client), **body}
        r = (client or self.court_a).post("/v1/control-orders", json=body)
        assert r.status_code == 202, r.text
        return str(r.json()["order_id"])

    def wait_order(
        self,
        order_id: str,
        statuses: set[str],
        timeout: float = 30.0,
        client: httpx.Client | None = None,
        missing_ok: bool = False,
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            r = (client or self.court_a).get(f"/v1/control-orders/{order_id}")
            if r.status_code == 404 and missing_ok and time.monotonic() < deadline:
                time.sleep(0.2)  # published straight to Kafka: the gateway learns of it from its first event
                continue
            assert r.status_code == 200, r.text
            body: dict[str, Any] = r.json()
            if body["status"] in statuses:
                return body
            assert time.monotonic() < deadline, f"order {order_id} is {body['status']}: {body['history']}"
            time.sleep(0.2)

    def judge(self, court: str = "court-a") -> str:
        return sorted(self.settings.judges_by_court[court])[0]

    def officer(self, court: str = "court-a") -> str:
        return sorted(self.settings.officers_by_court[court])[0]

    def court_of(self, client: httpx.Client | None) -> str:
        return "court-b" if client is self.court_b else "court-a"

    def asking(self, client: httpx.Client | None = None) -> dict[str, str]:
        """Who asks and why, as every inquiry and control order states it (the client's court)."""
        return {
            "officer": self.officer(self.court_of(client)),
            "purpose": "查明被执行人财产 (asset investigation)",
            "legal_basis": "(2026)鄂0111执1234号 执行裁定书",
        }

    def set_faults(self, agency: str, **faults: Any) -> None:
        from connectors.registry_adapters import build_adapter

        adapter = build_adapter(agency, self.settings)
        r = httpx.post(
            f"{self.settings.registry_url(agency)}/_admin/faults",
            json=faults,
            headers=adapter.auth_headers(),
            timeout=5,
        )
        assert r.status_code == 200, r.text
        if faults.get("outage") is False:
            self.wait_circuit(agency, {"closed", "half_open"})

    def connector_stats(self, agency: str) -> dict[str, Any]:
        """The connectors' ``/stats`` entry of one agency (inquiry counters; ``controls`` inside)."""
        r = httpx.get(f"{self.settings.resolved_connectors_url}/stats", timeout=5)
        assert r.status_code == 200, r.text
        entry: dict[str, Any] = r.json()[agency]
        return entry

    def wait_circuit(
        self, agency: str, states: set[str], timeout: float = CIRCUIT_RESET_SECONDS + 20
    ) -> dict[str, Any]:
        """Wait until the agency's circuit is in one of ``states``; return its snapshot. After an
        outage is lifted the circuit lets the next call through within HUB_CIRCUIT_RESET_SECONDS,
        so tests that follow are not answered ``unavailable`` by a circuit still open."""
        deadline = time.monotonic() + timeout
        while True:
            circuit: dict[str, Any] = self.connector_stats(agency)["circuit"]
            if circuit["state"] in states:
                return circuit
            assert time.monotonic() < deadline, f"{agency}: circuit {circuit}"
            time.sleep(0.1)

    def registry_requests(self, agency: str) -> int:
        """Requests the agency's registry has served (its ``/_admin/stats``; admin calls excluded)."""
        from connectors.registry_adapters import build_adapter

        adapter = build_adapter(agency, self.settings)
        r = httpx.get(
            f"{self.settings.registry_url(agency)}/_admin/stats", headers=adapter.auth_headers(), timeout=5
        )
        assert r.status_code == 200, r.text
        return int(r.json()["requests"])

    def registry_requesters(self, agency: str) -> dict[str, Any]:
        """Who asked the agency's registry lately (its ``/_admin/requests``): decoded requester
        headers of its last requests, and how many it refused for lacking them."""
        from connectors.registry_adapters import build_adapter

        adapter = build_adapter(agency, self.settings)
        r = httpx.get(
            f"{self.settings.registry_url(agency)}/_admin/requests", headers=adapter.auth_headers(), timeout=5
        )
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body


@pytest.fixture(scope="session")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubClient]:
    state = tmp_path_factory.mktemp("hub")
    base = _port_block()
    webhook = WebhookReceiver(fail_first=2)
    clock_file = Path(state) / "clock-offset"
    overrides = {
        "HUB_CLOCK_FILE": str(clock_file),
        "HUB_COURT_WEBHOOKS": f"court-a:{webhook.url}",
        "HUB_WEBHOOK_SECRETS": f"court-a:{WEBHOOK_SECRET}",
        "HUB_WEBHOOK_BACKOFF_INITIAL": "0.1",
        "HUB_WEBHOOK_BACKOFF_MAX": "0.5",
        "HUB_CONTROL_REMINDER_DAYS": str(REMINDER_DAYS),
        "HUB_INQUIRY_RETENTION_SECONDS": str(RETENTION_SECONDS),
        "HUB_STATE_DIR": str(state),
        # the session hub serves the functional tests; the durable store is tested by the hubs of
        # test_reliability, test_broker_retention and test_broker_store, which start their own
        "HUB_EMBEDDED_BROKER_STORAGE": "memory",
        "HUB_EMBEDDED_KAFKA_PORT": str(base),
        "HUB_REGISTRY_BASE_PORT": str(base),
        "HUB_GATEWAY_PORT": str(base + 15),
        "HUB_CONNECTORS_PORT": str(base + 16),
        "HUB_STREAMS_PORT": str(base + 17),
        "HUB_EMBEDDED_STORE_PORT": str(base + 18),
        "HUB_REGISTRY_FIXTURES": str(write_fixtures(Path(state) / "planted.jsonl")),
        "HUB_REGISTRY_SCALE": "300",
        "HUB_REGISTRY_LATENCY_MS": "lognormal:15:0.5",
        "HUB_INQUIRY_SLA_SECONDS": str(SLA_SECONDS),
        "HUB_RECONCILE_GRACE_SECONDS": str(RECONCILE_GRACE_SECONDS),
        "HUB_RECONCILE_INTERVAL_SECONDS": "1",
        "HUB_CONNECTOR_BACKOFF_INITIAL": "0.05",
        "HUB_CONNECTOR_BACKOFF_MAX": "0.5",
        "HUB_CIRCUIT_RESET_SECONDS": str(CIRCUIT_RESET_SECONDS),
    }
    for var in (
        "HUB_KAFKA_BOOTSTRAP",
        "HUB_DATABASE_URL",
        "HUB_COURT_TOKENS",
        "HUB_OPS_TOKEN",
        "HUB_COURT_JUDGES",
        "HUB_COURT_OFFICERS",
    ):
        os.environ.pop(var, None)
    running = Hub(overrides)
    try:
        running.start(timeout=120)
    except BaseException:
        webhook.close()
        raise
    running.start_watchdog(interval=0.5)  # as under `hub up`: a service that dies is restarted
    client = HubClient(running, webhook, clock_file)
    try:
        yield client
    finally:
        client.close()
        running.stop()
        webhook.close()


# The data layer on both databases: SQLite in a temporary file, and a fresh PostgreSQL database per
# test (HUB_TEST_POSTGRES_URL names the server; tests on it carry the ``postgres`` mark).
PG_URL = os.environ.get("HUB_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL of an empty database, dropped after the test (PostgreSQL)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'hub.db'}"
        return
    name = f"hub_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
