"""The operations desk on a running hub: the ops JSON, /metrics, `hub lag --json` and the /ops page
in a real headless Chromium (Playwright driving Debian's /usr/bin/chromium, no downloaded browser)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from .conftest import HubClient
from .planted import RICH

pytestmark = pytest.mark.integration

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _ops(hub: HubClient) -> httpx.Client:
    token = hub.settings.ops_token
    assert token is not None
    return httpx.Client(
        base_url=hub.hub.gateway_url,
        headers={"Authorization": f"Bearer {token.get_secret_value()}"},
        timeout=10,
    )


@pytest.fixture(scope="module")
def desk(hub: HubClient) -> dict[str, Any]:
    """Some real traffic (one inquiry across every agency), then lag samples covering the hub's groups."""
    case_id = hub.create_case([RICH])
    hub.wait_result(hub.inquire(case_id, RICH), timeout=30)
    wanted = {"hub-streams", "hub-gateway-readmodel", "hub-connector-police"}
    deadline = time.monotonic() + 30
    with _ops(hub) as client:
        while True:
            r = client.get("/v1/ops/lag")
            assert r.status_code == 200, r.text
            body: dict[str, Any] = r.json()
            groups = {g["group"] for g in body["groups"]}
            if wanted <= groups and body["samples"] >= 3:
                return body
            assert time.monotonic() < deadline, f"groups seen: {sorted(groups)}"
            time.sleep(0.5)


def test_ops_routes_need_the_ops_token(hub: HubClient) -> None:
    for path in ("/v1/ops/lag", "/v1/ops/agencies"):
        assert hub.anon.get(path).status_code == 401
        assert hub.court_a.get(path).status_code == 401  # a court's token is not the ops role
        assert hub.anon.get(path, headers={"Authorization": "Bearer nope"}).status_code == 401


def test_lag_json_covers_every_hub_group(hub: HubClient, desk: dict[str, Any]) -> None:
    groups = {g["group"]: g for g in desk["groups"]}
    assert all(name.startswith("hub-") for name in groups)
    for agency in hub.settings.agencies:
        slug = agency.replace(":", ".")
        assert any(name.startswith("hub-connector-") and slug in name for name in groups), (agency, groups)
    streams = groups["hub-streams"]
    assert streams["status"] in {"OK", "WARNING", "STALLED", "STOPPED", "ERROR"}
    part = streams["partitions"][0]
    assert {"topic", "partition", "committed", "end", "lag", "lag_seconds", "status", "reason"} <= set(part)
    assert streams["history"], "the chart needs history"
    assert desk["window"] == hub.settings.lag_window


def test_agencies_json_has_connector_stats_and_dead_letters(hub: HubClient, desk: dict[str, Any]) -> None:
    with _ops(hub) as client:
        r = client.get("/v1/ops/agencies")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["connectors"] == "ok"
    assert set(body["agencies"]) == set(hub.settings.agencies)
    police = body["agencies"]["police"]
    assert police["reachable"] is True
    assert police["requests"] >= 1
    assert {"in_flight", "answered", "circuit_open", "latency_ms", "dead_letters_recorded"} <= set(police)
    assert police["circuit"]["state"] in {"closed", "open", "half_open"}
    assert police["circuit"]["failure_threshold"] == hub.settings.circuit_failure_threshold
    assert police["oldest_in_flight_seconds"] >= 0
    assert police["controls"]["circuit"]["state"] == police["circuit"]["state"]  # one breaker per agency
    assert isinstance(body["dead_letters_total"], int)


def test_metrics_parse_and_carry_the_desk(hub: HubClient, desk: dict[str, Any]) -> None:
    r = hub.anon.get("/metrics")  # no token: Prometheus scrapes it
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(r.text)}
    for name in (
        "hub_consumer_lag_messages",
        "hub_consumer_lag_seconds",
        "hub_consumer_partition_status",
        "hub_consumer_group_lag_messages",
        "hub_consumer_group_lag_seconds",
        "hub_consumer_group_status",
        "hub_consumer_group_status_code",
        "hub_dead_letters",
        "hub_connectors_metrics_up",
        "hub_connector_requests",
        "hub_connector_registry_latency_seconds",
        "hub_connector_in_flight",
        "hub_connector_circuit_open",
        "hub_connector_circuit_state",
        "hub_connector_circuit_opened",
        "hub_connector_circuit_refused",
        "hub_connector_oldest_in_flight_seconds",
    ):
        assert name in families, name
    status = [s for s in families["hub_consumer_group_status"].samples if s.labels["group"] == "hub-streams"]
    assert sorted(s.labels["status"] for s in status) == ["ERROR", "OK", "STALLED", "STOPPED", "WARNING"]
    assert sum(s.value for s in status) == 1  # one-hot
    police = [
        s
        for s in families["hub_connector_requests"].samples
        if s.labels.get("agency") == "police" and s.name == "hub_connector_requests_total"
    ]
    assert sum(s.value for s in police) >= 1
    assert families["hub_connectors_metrics_up"].samples[0].value == 1
    states = [s for s in families["hub_connector_circuit_state"].samples if s.labels["agency"] == "police"]
    assert sorted(s.labels["state"] for s in states) == ["closed", "half_open", "open"]
    assert sum(s.value for s in states) == 1  # one-hot
    oldest = {s.labels["group"] for s in families["hub_connector_oldest_in_flight_seconds"].samples}
    assert {"hub-connector-police", "hub-connector-police-controls"} <= oldest


def test_hub_lag_json_cli(hub: HubClient, desk: dict[str, Any]) -> None:
    token = hub.settings.ops_token
    assert token is not None
    env = {**os.environ, "HUB_STATE_DIR": str(hub.hub.state_dir)}
    env.pop("HUB_OPS_TOKEN", None)  # read from credentials.json, as after `hub up`
    out = subprocess.run(
        [sys.executable, "-m", "hub.cli", "lag", "--json", "--gateway", hub.hub.gateway_url],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    body = json.loads(out.stdout)
    assert any(g["group"] == "hub-streams" for g in body["groups"])


def test_ops_page_renders_chart_and_statuses_in_chromium(hub: HubClient, desk: dict[str, Any]) -> None:
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium (`apt-get install -y chromium`; .ci/run does)"
        )
    from playwright.sync_api import sync_playwright

    token = hub.settings.ops_token
    assert token is not None
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            outside: list[str] = []
            page.on(
                "request",
                lambda req: outside.append(req.url) if not req.url.startswith(hub.hub.gateway_url) else None,
            )
            page.goto(f"{hub.hub.gateway_url}/ops")
            page.fill("#token", "wrong-token")
            page.click("button[type=submit]")
            page.wait_for_selector("#login-error:has-text('refused')", timeout=10_000)

            page.fill("#token", token.get_secret_value())
            page.click("button[type=submit]")
            page.wait_for_selector("[data-testid=group][data-group=hub-streams]", timeout=15_000)
            card = page.locator("[data-testid=group][data-group=hub-streams]")
            badge = card.locator("[data-testid=group-status]").inner_text()
            assert badge in {"OK", "WARNING", "STALLED", "STOPPED", "ERROR"}
            points = card.locator("svg.chart polyline.lag").get_attribute("points") or ""
            assert len(points.split()) >= 2, points
            assert page.locator("[data-testid=partition-status]").count() >= 4
            assert page.locator("[data-testid=agency]").count() == len(hub.settings.agencies)
            police = page.locator("[data-testid=agency][data-agency=police] [data-testid=circuit]")
            assert police.get_attribute("data-state") in {"closed", "open", "half_open"}
            assert "recorded" in page.locator("#dl-total").inner_text()

            # remembered: a reload goes straight to the desk, and it keeps polling
            page.reload()
            page.wait_for_selector("[data-testid=group][data-group=hub-streams]", timeout=15_000)
            first = page.locator("#updated").inner_text()
            page.wait_for_function(
                "(prev) => document.getElementById('updated').textContent !== prev", arg=first, timeout=10_000
            )
            assert not errors, errors
            assert not outside, f"the page fetched from outside the gateway: {outside}"
        finally:
            browser.close()
