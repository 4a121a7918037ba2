"""The live new-asset watch through the real pipeline: a record planted at run time on a mocked
registry (``POST /_admin/records``) appears on its change feed, the connector publishes it, the
stream worker matches it against the watched debtors by identity linkage, and the gateway pushes
``new_asset`` to the court (case feed and signed webhook). A namesake's new account is counted,
never pushed; ``DELETE`` stops the events; 终本 watches a case's debtors until it resumes; a
connector killed and restarted resumes its feeds from the stored cursors."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from connectors.registry_adapters import build_adapter
from gateway.pipeline import WebhookDispatcher
from hub.clock import set_clock_offset
from schemas.identifiers import resident_id_check

from .conftest import WEBHOOK_SECRET, HubClient
from .test_termination import BODY, DAY, complete, terminate

pytestmark = pytest.mark.integration
DEADLINE = 60.0  # generous: the benchmark measures the latency, the test only waits for the outcome


def _person(name: str, body: str) -> dict[str, str]:
    return {"name": name, "id_type": "resident_id", "id_number": body + resident_id_check(body)}


WATCHED = _person("沃奇甲", "42010619850101003")
NAMESAKE = _person("沃奇甲", "42010619900707005")  # same name, another (valid) identity
RESUMED = _person("沃奇乙", "42010619820202007")
RESTARTED = _person("沃奇丙", "42010619830303009")
_refs = iter(range(1, 10_000))


def plant(hub: HubClient, agency: str, owner: dict[str, str], kind: str = "deposit", **asset: Any) -> str:
    """Plant one record on the agency's registry at run time; return its ref."""
    ref = asset.pop("ref", f"62220209{next(_refs):08d}")
    line = {
        "registry": agency,
        "owner": owner,
        "asset": {"kind": kind, "ref": ref, "value": "50000.00", **asset},
    }
    adapter = build_adapter(agency, hub.settings)
    r = httpx.post(
        f"{hub.settings.registry_url(agency)}/_admin/records",
        json=line,
        headers=adapter.auth_headers(),
        timeout=5,
    )
    assert r.status_code == 201, r.text
    return ref


def events(hub: HubClient, case_id: str, kind: str | None = None) -> list[dict[str, Any]]:
    r = hub.court_a.get(f"/v1/cases/{case_id}/events", params={"limit": 500})
    assert r.status_code == 200, r.text
    body = r.json()
    items: list[dict[str, Any]] = body["items"]
    return [e for e in items if kind is None or e["type"] == kind]


def wait_new_asset(hub: HubClient, case_id: str, ref: str) -> dict[str, Any]:
    deadline = time.monotonic() + DEADLINE
    while True:
        found = [e for e in events(hub, case_id, "new_asset") if e["data"]["ref"] == ref]
        if found:
            return found[0]
        assert time.monotonic() < deadline, f"no new_asset for {ref}: {events(hub, case_id)}"
        time.sleep(0.2)


def watch(hub: HubClient, case_id: str) -> dict[str, Any]:
    r = hub.court_a.get(f"/v1/cases/{case_id}/watch")
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def pushed(hub: HubClient, event_id: str) -> tuple[dict[str, str], bytes]:
    deadline = time.monotonic() + DEADLINE
    while True:
        with hub.webhook.lock:
            found = [(h, b) for h, b in hub.webhook.received if json.loads(b)["event_id"] == event_id]
        if found:
            return found[0]
        assert time.monotonic() < deadline, f"event {event_id} never reached the webhook"
        time.sleep(0.2)


@pytest.fixture
def clock(hub: HubClient) -> Iterator[None]:
    try:
        yield
    finally:
        set_clock_offset(hub.clock_file, 0)


def test_a_watched_debtors_new_account_reaches_the_court_and_a_namesakes_is_only_counted(
    hub: HubClient,
) -> None:
    case_id = hub.create_case([WATCHED])
    assert watch(hub, case_id)["active"] is False
    assert hub.court_b.post(f"/v1/cases/{case_id}/watch").status_code == 404  # another court's case
    r = hub.court_a.post(f"/v1/cases/{case_id}/watch", json={"note": "终本后持续监控"})
    assert r.status_code == 201, r.text
    assert r.json()["active"] is True and r.json()["sources"] == ["court"]
    assert hub.court_a.post(f"/v1/cases/{case_id}/watch").status_code == 200  # already on; no body
    assert hub.court_a.post(f"/v1/cases/{case_id}/watch", json={"note": ""}).status_code == 422

    namesakes_before = watch(hub, case_id)["namesakes_excluded"]
    namesake_ref = plant(hub, "bank:ccb", NAMESAKE)
    ref = plant(hub, "bank:icbc", WATCHED)
    event = wait_new_asset(hub, case_id, ref)
    data = event["data"]
    assert data["asset_id"] == f"bank:icbc/deposit/{ref}" and data["agency"] == "bank:icbc"
    assert data["kind"] == "deposit" and data["value"] == "50000.00"
    assert data["change_type"] == "account_opened" and data["linkage"]["decision"] == "match"
    headers, body = pushed(hub, event["event_id"])
    assert headers["X-Hub-Signature-256"] == WebhookDispatcher.signature(WEBHOOK_SECRET, body)
    assert json.loads(body)["data"]["ref"] == ref

    deadline = time.monotonic() + DEADLINE
    while watch(hub, case_id)["namesakes_excluded"] <= namesakes_before:
        assert time.monotonic() < deadline, watch(hub, case_id)
        time.sleep(0.2)
    assert not [e for e in events(hub, case_id, "new_asset") if e["data"]["ref"] == namesake_ref]
    metrics = hub.anon.get("/metrics").text
    assert any(
        line.startswith("hub_watch_namesakes_excluded_total ") and float(line.split()[1]) >= 1
        for line in metrics.splitlines()
    ), metrics
    assert hub.settings.ops_token is not None
    token = hub.settings.ops_token.get_secret_value()
    ops = hub.anon.get("/v1/ops/watch", headers={"Authorization": f"Bearer {token}"})
    assert ops.status_code == 200 and ops.json()["namesakes_excluded"] >= 1, ops.text
    feeds, streams = ops.json()["feeds"], ops.json()["streams"]
    assert set(feeds) == set(hub.settings.agencies) and all(f["leading"] for f in feeds.values()), feeds
    assert feeds["bank:icbc"]["published"] >= 1 and streams[0]["loaded"] is True, ops.text
    assert [e["type"] for e in events(hub, case_id) if e["type"].startswith("watch_")] == ["watch_started"]


def test_delete_stops_the_events(hub: HubClient) -> None:
    stopped = hub.create_case([WATCHED])
    sentinel = hub.create_case([WATCHED])  # still watched: shows the later change went through
    for case_id in (stopped, sentinel):
        assert hub.court_a.post(f"/v1/cases/{case_id}/watch").status_code == 201
    before = plant(hub, "bank:boc", WATCHED)
    wait_new_asset(hub, stopped, before)
    r = hub.court_a.delete(f"/v1/cases/{stopped}/watch")
    assert r.status_code == 200 and r.json()["active"] is False and r.json()["sources"] == []
    after = plant(hub, "bank:boc", WATCHED)
    wait_new_asset(hub, sentinel, after)
    assert [e["data"]["ref"] for e in events(hub, stopped, "new_asset")] == [before]
    kinds = [e["type"] for e in events(hub, stopped) if e["type"].startswith("watch_")]
    assert kinds == ["watch_started", "watch_stopped"]


def test_a_terminated_case_is_watched_until_it_resumes(hub: HubClient, clock: None) -> None:
    case_id = hub.create_case([RESUMED])
    set_clock_offset(hub.clock_file, 91 * DAY)
    complete(hub, case_id, RESUMED)
    assert terminate(hub, case_id).status_code == 201
    assert watch(hub, case_id)["sources"] == ["termination"]
    plate = plant(hub, "police", RESUMED, kind="vehicle", ref="鄂A·W0001")
    event = wait_new_asset(hub, case_id, plate)
    assert event["data"]["asset_id"] == f"police/vehicle/{plate}"
    assert event["data"]["change_type"] == "vehicle_registered"

    r = hub.court_a.post(f"/v1/cases/{case_id}/resumption", json={**BODY, "approved_by": hub.judge()})
    assert r.status_code == 200, r.text
    state = watch(hub, case_id)
    assert state["active"] is False and state["sources"] == []
    assert [e["type"] for e in events(hub, case_id) if e["type"].startswith("watch_")] == [
        "watch_started",
        "watch_stopped",
    ]


def test_a_killed_connector_resumes_its_feed_without_losing_or_repeating_changes(hub: HubClient) -> None:
    case_id = hub.create_case([RESTARTED])
    assert hub.court_a.post(f"/v1/cases/{case_id}/watch").status_code == 201
    first = plant(hub, "securities", RESTARTED, kind="securities", ref="A90000001", value="0.00")
    wait_new_asset(hub, case_id, first)
    hub.hub.restart("connectors", kill=True)
    second = plant(hub, "securities", RESTARTED, kind="securities", ref="A90000002", value="0.00")
    wait_new_asset(hub, case_id, second)
    feeds = httpx.get(f"{hub.settings.resolved_connectors_url}/watch", timeout=5).json()
    # the restarted follower began at the stored cursor: it published the second change only
    assert feeds["securities"]["published"] == 1, feeds["securities"]
    assert [e["data"]["ref"] for e in events(hub, case_id, "new_asset")] == [first, second]
