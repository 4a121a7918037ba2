"""First seizure and priority creditors (DOMAIN rule 7) through the real pipeline: court-a seizes a
flat first and court-b, enforcing a mortgage on it, waits behind (gateway → broker → streams ledger
→ connector → real-estate registry over HTTP and back); the hub's clock is moved as ``hub clock``
moves it (HUB_CLOCK_FILE). Before 60 days a transfer request is refused, after 60 days without
disposal it is made, the first court is told, answers, and a request left unanswered for 15 days
is reported to both courts once; once disposal started, requests are refused. Both courts have a
webhook: every lifecycle event reaches it signed with the court's secret, and the court's feed.

This module starts its own hub (two courts with webhooks, a fixture file with the one flat) so that
moving its clock by months touches no other test's state.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.clock import set_clock_offset
from hub.supervisor import Hub

from .complete import found
from .conftest import HubClient, WebhookReceiver, _port_block
from .planted_transfers import MORTGAGE, MORTGAGED_FLAT, MORTGAGED_OWNER, write_transfer_fixtures

pytestmark = pytest.mark.integration
DAY = 86400
SECRETS = {"court-a": "whsec-transfer-a", "court-b": "whsec-transfer-b"}
SETTLED = {"effective", "waiting", "partial", "rejected", "failed"}
LIFECYCLE = {
    "disposal_deadline_passed",
    "transfer_requested",
    "transfer_answered",
    "transfer_answer_overdue",
    "disposal_started",
}


class TransferHub(HubClient):
    def __init__(self, hub: Hub, webhooks: dict[str, WebhookReceiver], clock_file: Path) -> None:
        super().__init__(hub, webhooks["court-a"], clock_file)
        self.webhooks = webhooks


@pytest.fixture(scope="module")
def transfer_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TransferHub]:
    state = tmp_path_factory.mktemp("transferhub")
    base = _port_block()
    # court-a's receiver refuses the first delivery: the retry carries the same event id
    webhooks = {"court-a": WebhookReceiver(fail_first=1), "court-b": WebhookReceiver(fail_first=0)}
    for var in (
        "HUB_KAFKA_BOOTSTRAP",
        "HUB_DATABASE_URL",
        "HUB_COURT_TOKENS",
        "HUB_OPS_TOKEN",
        "HUB_COURT_JUDGES",
        "HUB_COURT_OFFICERS",
    ):
        os.environ.pop(var, None)
    clock_file = Path(state) / "clock-offset"
    running = Hub(
        {
            "HUB_STATE_DIR": str(state),
            "HUB_CLOCK_FILE": str(clock_file),
            "HUB_COURT_WEBHOOKS": ",".join(f"{court}:{w.url}" for court, w in webhooks.items()),
            "HUB_WEBHOOK_SECRETS": ",".join(f"{court}:{secret}" for court, secret in SECRETS.items()),
            "HUB_WEBHOOK_BACKOFF_INITIAL": "0.1",
            "HUB_WEBHOOK_BACKOFF_MAX": "0.5",
            "HUB_TRANSFER_CHECK_SECONDS": "0.5",
            "HUB_EMBEDDED_KAFKA_PORT": str(base),
            "HUB_EMBEDDED_STORE_PORT": str(base + 19),
            "HUB_REGISTRY_BASE_PORT": str(base),
            "HUB_GATEWAY_PORT": str(base + 15),
            "HUB_CONNECTORS_PORT": str(base + 16),
            "HUB_STREAMS_PORT": str(base + 17),
            "HUB_REGISTRY_FIXTURES": str(write_transfer_fixtures(Path(state) / "transfers.jsonl")),
            "HUB_REGISTRY_SCALE": "100",
            "HUB_REGISTRY_LATENCY_MS": "fixed:2",
            "HUB_INQUIRY_SLA_SECONDS": "8",
        }
    )
    try:
        running.start(timeout=120)
        client = TransferHub(running, webhooks, clock_file)
        try:
            yield client
        finally:
            client.close()
    finally:
        running.stop()
        for receiver in webhooks.values():
            receiver.close()


def feed(client: httpx.Client, case_id: str) -> list[dict[str, Any]]:
    """The case's lifecycle events of this feature, in feed order."""
    r = client.get(f"/v1/cases/{case_id}/events", params={"limit": 500})
    assert r.status_code == 200, r.text
    return [e for e in r.json()["items"] if e["type"] in LIFECYCLE]


def pushed(receiver: WebhookReceiver, type: str) -> list[dict[str, Any]]:
    return [e for e in receiver.events() if e.get("type") == type]


def wait_told(hub: TransferHub, type: str, cases: dict[str, str], count: int = 1) -> None:
    """Until both courts have ``count`` events of ``type`` in their case's feed and their webhook."""
    clients = {"court-a": hub.court_a, "court-b": hub.court_b}
    deadline = time.monotonic() + 30
    while True:
        in_feed = {c: [e["type"] for e in feed(clients[c], case)].count(type) for c, case in cases.items()}
        at_hook = {c: len({e["event_id"] for e in pushed(hub.webhooks[c], type)}) for c in cases}
        if all(n >= count for n in (*in_feed.values(), *at_hook.values())):
            return
        assert time.monotonic() < deadline, f"{type}: feed {in_feed}, webhooks {at_hook}"
        time.sleep(0.2)


def problem(response: httpx.Response, status: int) -> str:
    """The detail of an error answer with ``status`` (lower case)."""
    assert response.status_code == status, response.text
    return str(response.json()["detail"]).lower()


def test_priority_court_asks_for_transfer_after_sixty_days_and_both_courts_follow_it(
    transfer_hub: TransferHub,
) -> None:
    hub = transfer_hub
    a, b = hub.court_a, hub.court_b
    case_a, assets_a = found(hub, MORTGAGED_OWNER)
    case_b, assets_b = found(hub, MORTGAGED_OWNER, client=b)
    flat = assets_a[MORTGAGED_FLAT]["asset_id"]
    assert assets_b[MORTGAGED_FLAT]["asset_id"] == flat

    first = hub.order(case_id=case_a, asset_id=flat, action="seize", approved_by=hub.judge())
    seized = hub.wait_order(first, SETTLED)
    assert (seized["status"], seized["position"]) == ("effective", 0), seized
    effective_at = dt.datetime.fromisoformat(seized["effective_at"])

    order = {"case_id": case_b, "asset_id": flat, "approved_by": hub.judge("court-b"), **hub.asking(b)}
    bad_kind = b.post(
        "/v1/control-orders", json={**order, "action": "seize", "priority_claim": {"kind": "x"}}
    )
    assert bad_kind.status_code == 422
    assert {tuple(e["loc"]) for e in bad_kind.json()["errors"]} == {
        ("body", "priority_claim", "kind"),
        ("body", "priority_claim", "reference"),
    }
    on_release = b.post("/v1/control-orders", json={**order, "action": "release", "priority_claim": MORTGAGE})
    assert on_release.status_code == 422 and on_release.json()["errors"][0]["loc"] == [
        "body",
        "priority_claim",
    ]
    waiting = hub.order(b, **order, action="seize", priority_claim=MORTGAGE)
    queued = hub.wait_order(waiting, SETTLED, client=b)
    assert (queued["status"], queued["position"], queued["priority_claim"]) == ("waiting", 1, MORTGAGE)

    ask, asking_b = f"/v1/control-orders/{waiting}/transfer-requests", {"approved_by": hub.judge("court-b")}
    asking_b["officer"] = hub.officer("court-b")
    asking_a = {"approved_by": hub.judge(), "officer": hub.officer()}
    # who may call what: the first court neither asks nor is seen by the other; the waiting one
    # records no disposal
    own = a.post(f"/v1/control-orders/{first}/transfer-requests", json=asking_a)
    assert "first seizure" in problem(own, 403)
    assert "only the first-seizing court" in problem(
        b.post(f"/v1/control-orders/{waiting}/disposal", json={**asking_b, "method": "auction"}), 403
    )
    assert a.get(ask).status_code == 404 and a.post(ask, json=asking_a).status_code == 404
    not_theirs = b.post(ask, json={**asking_b, "approved_by": hub.judge()})
    assert not_theirs.status_code == 422 and not_theirs.json()["errors"][0]["loc"] == ["body", "approved_by"]

    early = problem(b.post(ask, json=asking_b), 409)
    assert "60 days" in early and (effective_at + dt.timedelta(days=60)).isoformat().lower() in early

    cases = {"court-a": case_a, "court-b": case_b}
    try:
        set_clock_offset(hub.clock_file, 61 * DAY)
        wait_told(hub, "disposal_deadline_passed", cases)
        (told,) = pushed(hub.webhooks["court-b"], "disposal_deadline_passed")
        assert told["data"]["first"] == {"court_id": "court-a", "order_id": first}
        assert (told["data"]["role"], told["data"]["order_id"], told["data"]["ref"]) == (
            "priority",
            waiting,
            MORTGAGED_FLAT,
        )

        made = b.post(ask, json={**asking_b, "note": "抵押权人 (mortgagee): 某银行"})
        assert made.status_code == 201, made.text
        request = made.json()
        assert (request["status"], request["priority_claim"], request["first"]["order_id"]) == (
            "open",
            MORTGAGE,
            first,
        )
        requested_at = dt.datetime.fromisoformat(request["requested_at"])
        assert dt.datetime.fromisoformat(request["answer_due_at"]) - requested_at == dt.timedelta(days=15)
        assert requested_at >= effective_at + dt.timedelta(days=60), "the hub's clock, moved"
        wait_told(hub, "transfer_requested", cases)
        (to_first,) = pushed(hub.webhooks["court-a"], "transfer_requested")
        assert (to_first["case_id"], to_first["data"]["role"], to_first["data"]["order_id"]) == (
            case_a,
            "first",
            first,
        )
        assert to_first["data"]["request_id"] == request["request_id"]
        second = b.post(ask, json=asking_b)
        assert "still open" in problem(second, 409) and second.json()["request_id"] == request["request_id"]

        answer = f"/v1/control-orders/{first}/transfer-requests/{request['request_id']}/answer"
        refuse = {
            **asking_a,
            "decision": "refuse",
            "reason": "拍卖评估已委托 (valuation for auction ordered)",
        }
        assert a.post(answer, json={**refuse, "decision": "maybe"}).status_code == 422
        refused = a.post(answer, json=refuse)
        assert refused.status_code == 200, refused.text
        assert refused.json()["answer"]["decision"] == "refuse" and refused.json()["answer"]["on_time"]
        wait_told(hub, "transfer_answered", cases)
        (to_priority,) = pushed(hub.webhooks["court-b"], "transfer_answered")
        assert to_priority["data"]["answer"]["reason"] == refuse["reason"]

        again = b.post(ask, json=asking_b)
        assert again.status_code == 201, again.text
        unanswered = again.json()["request_id"]
        set_clock_offset(hub.clock_file, (61 + 16) * DAY)
        wait_told(hub, "transfer_answer_overdue", cases)
        (late,) = pushed(hub.webhooks["court-a"], "transfer_answer_overdue")
        assert late["data"]["request_id"] == unanswered and late["data"]["status"] == "open"

        disposal = {**asking_a, "method": "auction", "reference": "(2026)鄂0111执恢1号拍卖公告"}
        started = a.post(f"/v1/control-orders/{first}/disposal", json=disposal)
        assert started.status_code == 201, started.text
        wait_told(hub, "disposal_started", cases)
        after = problem(b.post(ask, json=asking_b), 409)
        assert "disposal" in after and "auction" in after
        accept = {**asking_a, "decision": "accept", "reason": "同意移送 (transfer agreed)"}
        accepted = a.post(f"/v1/control-orders/{first}/transfer-requests/{unanswered}/answer", json=accept)
        assert accepted.status_code == 200 and accepted.json()["answer"]["on_time"] is False, accepted.text
        wait_told(hub, "transfer_answered", cases, count=2)

        listed = b.get(ask).json()
        assert listed["role"] == "priority"
        assert [(i["request_id"], i["status"]) for i in listed["items"]] == [
            (request["request_id"], "refused"),
            (unanswered, "accepted"),
        ]
        assert listed["first_seizure"]["disposal"]["method"] == "auction"
        time.sleep(2)  # four more rounds of the deadline loop: nothing is reported twice
        expected = [
            "disposal_deadline_passed",
            "transfer_requested",
            "transfer_answered",
            "transfer_requested",
            "transfer_answer_overdue",
            "disposal_started",
            "transfer_answered",
        ]
        for court, client, case in (("court-a", a, case_a), ("court-b", b, case_b)):
            events = feed(client, case)
            assert [e["type"] for e in events] == expected, court
            assert [int(e["cursor"]) for e in events] == sorted(int(e["cursor"]) for e in events)
            hook = [e for e in hub.webhooks[court].events() if e.get("type") in LIFECYCLE]
            assert {e["event_id"] for e in hook} == {e["event_id"] for e in events}, court
            assert len(pushed(hub.webhooks[court], "transfer_answer_overdue")) == 1
            for headers, body in hub.webhooks[court].received:
                digest = hmac.new(SECRETS[court].encode(), body, hashlib.sha256).hexdigest()
                assert headers["X-Hub-Signature-256"] == f"sha256={digest}"
                assert headers["X-Hub-Event-Id"] == json.loads(body)["event_id"]
        assert hub.webhooks["court-a"].refused_ids, "court-a's receiver refused a first attempt"
        audit = a.get(f"/v1/cases/{case_a}/audit", params={"limit": 500}).json()["entries"]
        kinds = [e["kind"] for e in audit if e["kind"].startswith(("transfer", "disposal"))]
        assert kinds == [
            "transfer_deadline",
            "transfer_request",
            "transfer_answer",
            "transfer_request",
            "transfer_deadline",
            "disposal",
            "transfer_answer",
        ]
    finally:
        set_clock_offset(hub.clock_file, 0)
