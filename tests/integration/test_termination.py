"""终本 through the real pipeline, with the hub's clock moved (HUB_CLOCK_FILE, as ``hub clock`` does):
a case refused termination while securities were never asked, accepted after a full inquiry; a
terminated case re-queried at six months with no court action, the difference (another court's
freeze on the debtor's account lapsed meanwhile) pushed to the court's webhook, signed, and
readable on the case."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from gateway.pipeline import WebhookDispatcher
from hub.clock import set_clock_offset

from .conftest import WEBHOOK_SECRET, HubClient
from .planted import POOR
from .planted_termination import TERM_ACCOUNT, TERM_DEBTOR, TERM_PLATE

pytestmark = pytest.mark.integration
DAY = 86400
BODY = {"reason": "经网络查控系统查询，未发现可供执行的财产"}


@pytest.fixture
def clock(hub: HubClient) -> Iterator[None]:
    """Each test moves the hub's clock; it is put back afterwards."""
    try:
        yield
    finally:
        set_clock_offset(hub.clock_file, 0)


def complete(hub: HubClient, case_id: str, debtor: dict[str, str], **extra: Any) -> dict[str, Any]:
    """An inquiry every agency asked answered (under heavy load an agency can miss the SLA: asked again)."""
    for _ in range(6):
        result = hub.wait_result(hub.inquire(case_id, debtor, **extra), timeout=60)
        if result["status"] == "complete":
            return result
    raise AssertionError(f"no complete inquiry: {result['agencies']}")


def terminate(hub: HubClient, case_id: str) -> Any:
    return hub.court_a.post(f"/v1/cases/{case_id}/termination", json={**BODY, "approved_by": hub.judge()})


def test_refused_listing_securities_as_missing_then_accepted_after_a_full_inquiry(
    hub: HubClient, clock: None
) -> None:
    assert "securities" in hub.settings.agencies
    case_id = hub.create_case([POOR])
    check = hub.court_a.get(f"/v1/cases/{case_id}/termination-check").json()
    assert not check["eligible"] and check["case_age"]["ok"] is False
    assert "securities" in check["rules"]["required_agencies"]

    set_clock_offset(hub.clock_file, 91 * DAY)
    without = [a for a in hub.settings.agencies if a != "securities"]
    complete(hub, case_id, POOR, agencies=without)
    check = hub.court_a.get(f"/v1/cases/{case_id}/termination-check").json()
    assert check["case_age"]["ok"] is True
    assert [(m["agency"], m["reason"]) for m in check["missing"]] == [("securities", "never_asked")]
    assert check["debtors"][0]["agencies"]["bank:icbc"]["ok"] is True

    r = terminate(hub, case_id)
    assert r.status_code == 422, r.text
    assert [(e["loc"], e["type"]) for e in r.json()["errors"]] == [
        (["termination_check", "debtors", 0, "agencies", "securities"], "never_asked")
    ]
    assert hub.court_a.get(f"/v1/cases/{case_id}").json()["status"] == "active"

    complete(hub, case_id, POOR)  # every agency, securities included
    r = terminate(hub, case_id)
    assert r.status_code == 201, r.text
    term = r.json()
    assert term["status"] == "terminated" and term["approved_by"] == hub.judge()
    terminated_at = dt.datetime.fromisoformat(term["terminated_at"])
    # by the hub's clock: 91 days ahead of the machine's
    assert terminated_at > dt.datetime.now(dt.UTC) + dt.timedelta(days=90)
    case = hub.court_a.get(f"/v1/cases/{case_id}").json()
    assert case["status"] == "terminated"
    assert (
        case["termination"]["requery"]["next_due_at"] == (terminated_at + dt.timedelta(days=182)).isoformat()
    )
    again = terminate(hub, case_id)
    assert again.status_code == 200 and again.json()["termination_id"] == term["termination_id"]
    assert hub.court_b.get(f"/v1/cases/{case_id}/termination-check").status_code == 404

    r = hub.court_a.post(f"/v1/cases/{case_id}/resumption", json={**BODY, "approved_by": "nobody"})
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "approved_by"]
    r = hub.court_a.post(f"/v1/cases/{case_id}/resumption", json={**BODY, "approved_by": hub.judge()})
    assert r.status_code == 200 and r.json()["status"] == "resumed"
    assert hub.court_a.get(f"/v1/cases/{case_id}").json()["status"] == "active"


def _pushed(hub: HubClient, case_id: str, kind: str) -> list[tuple[dict[str, str], bytes]]:
    with hub.webhook.lock:
        received = list(hub.webhook.received)
    return [
        (headers, body)
        for headers, body in received
        if json.loads(body).get("type") == kind and json.loads(body).get("case_id") == case_id
    ]


def test_a_terminated_case_is_requeried_at_six_months_with_the_difference_pushed(
    hub: HubClient, clock: None
) -> None:
    case_id = hub.create_case([TERM_DEBTOR])
    set_clock_offset(hub.clock_file, 91 * DAY)
    first = complete(hub, case_id, TERM_DEBTOR)
    account = next(a for a in first["assets"] if a["ref"] == TERM_ACCOUNT)
    assert account["details"]["available"] == "40000.00"  # court-x's 20,000.00 freeze still in effect
    r = terminate(hub, case_id)
    assert r.status_code == 201, r.text

    set_clock_offset(hub.clock_file, (91 + 183) * DAY)  # six months on: court-x's freeze has lapsed
    deadline = time.monotonic() + 180
    while not (pushed := _pushed(hub, case_id, "requery_result")):
        assert time.monotonic() < deadline, hub.court_a.get(f"/v1/cases/{case_id}").json().get("requeries")
        time.sleep(0.5)
    headers, body = pushed[0]
    assert headers["X-Hub-Signature-256"] == WebhookDispatcher.signature(WEBHOOK_SECRET, body)
    event = json.loads(body)
    data = event["data"]
    assert data["period"] == 1 and data["previous_inquiry_id"] == first["inquiry_id"]
    assert data["inquiry_status"] == "complete" and data["debtor"]["index"] == 0
    changes = data["changes"]
    assert changes["new"] == [] and changes["gone"] == [] and changes["not_compared"] == []
    changed = {c["ref"]: c["changes"] for c in changes["changed"]}
    assert set(changed) == {TERM_ACCOUNT}, changes
    assert changed[TERM_ACCOUNT]["available"] == {"before": "40000.00", "after": "60000.00"}
    (before,) = changed[TERM_ACCOUNT]["controls"]["before"]
    (after,) = changed[TERM_ACCOUNT]["controls"]["after"]
    assert before["court"] == after["court"] == "court-x" and before["status"] != after["status"]
    assert "value" not in changed[TERM_ACCOUNT]  # the balance itself did not move
    assert changes["unchanged"] >= 1  # the vehicle
    assert TERM_DEBTOR["id_number"] not in body.decode()

    # the re-query went the ordinary way: an inquiry of the case, asked with the case's officer
    requery = hub.wait_result(data["inquiry_id"])
    assert requery["requested"]["officer"] == hub.officer()
    assert "period 1" in requery["requested"]["purpose"]
    assert {a["ref"] for a in requery["assets"]} >= {TERM_ACCOUNT, TERM_PLATE}

    events = hub.court_a.get(f"/v1/cases/{case_id}/events").json()["items"]
    assert event["event_id"] in [e["event_id"] for e in events if e["type"] == "requery_result"]
    case = hub.court_a.get(f"/v1/cases/{case_id}").json()
    assert [(q["period"], q["inquiry_id"]) for q in case["requeries"]] == [(1, data["inquiry_id"])]
    assert case["requeries"][0]["event_id"] == event["event_id"]
    assert case["termination"]["requery"]["next_period"] == 2
    terminated_at = dt.datetime.fromisoformat(case["termination"]["terminated_at"])
    assert (
        case["termination"]["requery"]["next_due_at"] == (terminated_at + dt.timedelta(days=364)).isoformat()
    )
    time.sleep(2 * hub.settings.requery_check_seconds)  # two more rounds of the loop
    assert len(_pushed(hub, case_id, "requery_result")) == 1  # once, however often the loop runs
