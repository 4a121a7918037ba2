"""Finding things back, the event feed and batches, through the real hub: cases listed, filtered
(by a debtor's identifier in any accepted form) and paged; a case number registered twice gets 409
with the first case; the feed replays exactly what happened after a cursor; inquiry completion is
pushed to the court's webhook, signed; a batch of 100 inquiries completes with its summary."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import httpx
import pytest

from .conftest import WEBHOOK_SECRET, HubClient, unique_case_number
from .planted import LEGACY_DEBTOR, LEGACY_ID_15, RICH, person

pytestmark = pytest.mark.integration

# debtors no other test registers: the identifier filter must find exactly this module's cases
LISTED = person("卢明远", "11010119800101123")
NUMBERED = person("龙海波", "11010119800101167")
VEHICLE = "鄂A80008"  # LEGACY_DEBTOR's car (planted at police)


def case_body(debtors: list[dict[str, Any]], number: str | None = None) -> dict[str, Any]:
    return {
        "case_number": number or unique_case_number(),
        "applicant": {"name": "申请人甲"},
        "debtors": debtors,
        "amount_owed": "100000.00",
    }


def read_all(client: httpx.Client, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every item of a cursor-paged list, page by page."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        r = client.get(path, params={**params, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200, r.text
        page = r.json()
        items += page["items"]
        assert len(page["items"]) <= params.get("limit", 50)
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def feed_after(
    client: httpx.Client, cursor: str | None, path: str = "/v1/events"
) -> tuple[list[Any], str | None]:
    """Every event after ``cursor`` (read in pages of 50), and the cursor to go on from."""
    events: list[dict[str, Any]] = []
    while True:
        r = client.get(path, params={"limit": 50, **({"after": cursor} if cursor else {})})
        assert r.status_code == 200, r.text
        page = r.json()
        events += page["items"]
        cursor = page["next_cursor"]
        if len(page["items"]) < 50:
            return events, cursor


def test_cases_are_listed_filtered_by_number_status_and_debtor_and_paged(hub: HubClient) -> None:
    other = person("严正平", "11010119800101145")
    mine = [hub.create_case([LISTED]) for _ in range(4)] + [hub.create_case([other, LISTED])]
    hub.create_case([other])
    found = read_all(hub.court_a, "/v1/cases", id_number=LISTED["id_number"], limit=2)
    assert [c["case_id"] for c in found] == mine, "oldest first, every page once"
    legacy = LISTED["id_number"][:6] + LISTED["id_number"][8:17]
    assert [c["case_id"] for c in read_all(hub.court_a, "/v1/cases", id_number=legacy)] == mine
    spaced = " ".join([LISTED["id_number"][:6], LISTED["id_number"][6:]])
    assert [c["case_id"] for c in read_all(hub.court_a, "/v1/cases", id_number=spaced)] == mine
    assert read_all(hub.court_b, "/v1/cases", id_number=LISTED["id_number"]) == [], "another court's cases"

    first = found[0]
    assert first["status"] == "active" and first["debtors"][0]["id_number"] == LISTED["id_number"]
    by_number = read_all(hub.court_a, "/v1/cases", case_number=first["case_number"])
    assert [c["case_id"] for c in by_number] == [mine[0]]
    active = read_all(hub.court_a, "/v1/cases", id_number=LISTED["id_number"], status="active", limit=500)
    assert [c["case_id"] for c in active] == mine
    assert read_all(hub.court_a, "/v1/cases", id_number=LISTED["id_number"], status="terminated") == []

    everything = read_all(hub.court_a, "/v1/cases", limit=7)
    ids = [c["case_id"] for c in everything]
    assert len(ids) == len(set(ids)) and set(mine) <= set(ids)

    for params, loc in (
        ({"cursor": "not-a-cursor"}, ["query", "cursor"]),
        ({"limit": 501}, ["query", "limit"]),
        ({"limit": 0}, ["query", "limit"]),
        ({"status": "Active!"}, ["query", "status"]),
    ):
        r = hub.court_a.get("/v1/cases", params=params)
        assert r.status_code == 422, r.text
        assert any(e["loc"] == loc for e in r.json()["errors"]), r.text
    for path in (
        f"/v1/cases/{mine[0]}/inquiries",
        f"/v1/cases/{mine[0]}/control-orders",
        f"/v1/cases/{mine[0]}/events",
    ):
        assert hub.court_b.get(path).status_code == 404, path
        assert hub.court_a.get(path).status_code == 200, path


def test_a_case_number_registered_again_gets_409_naming_the_first_case(hub: HubClient) -> None:
    number = unique_case_number()
    first = hub.court_a.post(
        "/v1/cases", json=case_body([NUMBERED], number), headers={"Idempotency-Key": "fb-1"}
    )
    assert first.status_code == 201, first.text
    case_id = first.json()["case_id"]
    again = hub.court_a.post(
        "/v1/cases", json=case_body([NUMBERED], number), headers={"Idempotency-Key": "fb-1"}
    )
    assert (again.status_code, again.json()) == (201, {"case_id": case_id}), "the same key answers the first"
    for headers in ({}, {"Idempotency-Key": "fb-2"}):
        dup = hub.court_a.post("/v1/cases", json=case_body([RICH], number), headers=headers)
        assert dup.status_code == 409, dup.text
        assert dup.json()["case_id"] == case_id
        assert dup.json()["errors"][0]["loc"] == ["body", "case_number"]
    other_court = hub.court_b.post("/v1/cases", json=case_body([NUMBERED], number))
    assert other_court.status_code == 201 and other_court.json()["case_id"] != case_id

    raced = unique_case_number()
    with ThreadPoolExecutor(8) as pool:
        answers = list(
            pool.map(lambda _: hub.court_a.post("/v1/cases", json=case_body([NUMBERED], raced)), range(8))
        )
    created = [a.json()["case_id"] for a in answers if a.status_code == 201]
    assert len(created) == 1, [a.text for a in answers]
    assert all(
        a.status_code == 409 and a.json()["case_id"] == created[0] for a in answers if a.status_code != 201
    )
    assert [c["case_id"] for c in read_all(hub.court_a, "/v1/cases", case_number=raced)] == created


def wait_for(what: str, probe: Any, timeout: float = 90.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.3)


def test_the_feed_replays_exactly_what_happened_after_a_cursor_and_pushes_completion_signed(
    hub: HubClient,
) -> None:
    _, cursor = feed_after(hub.court_a, None)
    case_id = hub.create_case([LEGACY_DEBTOR])
    inquiry_id = hub.inquire(case_id, LEGACY_DEBTOR, agencies=["police"])
    result = hub.wait_result(inquiry_id)
    assert result["status"] == "complete", result["agencies"]
    vehicle = next(a for a in result["assets"] if a["ref"] == VEHICLE)
    order_id = hub.order(
        case_id=case_id, asset_id=vehicle["asset_id"], action="seize", approved_by=hub.judge()
    )
    order = hub.wait_order(order_id, {"effective", "waiting", "rejected", "failed"})
    history_ids = [e["event_id"] for e in order["history"] if "event_id" in e]  # not "submitted"

    def mine() -> list[dict[str, Any]]:
        events = [e for e in feed_after(hub.court_a, cursor)[0] if e["case_id"] == case_id]
        orders = [e["event_id"] for e in events if e["type"] == "order_event"]
        return events if orders == history_ids else []

    events = wait_for("the order's events in the feed", mine)
    settled = [e for e in events if e["type"] == "inquiry_settled"]
    assert [e["data"]["inquiry_id"] for e in settled] == [inquiry_id]
    assert settled[0]["data"]["status"] == "complete" and settled[0]["data"]["version"] == result["version"]
    assert settled[0]["data"]["assets_by_kind"]["vehicle"]["count"] >= 1
    assert events.index(settled[0]) < min(i for i, e in enumerate(events) if e["type"] == "order_event")
    assert [e["data"]["order_id"] for e in events if e["type"] == "order_event"] == [order_id] * len(
        history_ids
    )
    cursors = [int(e["cursor"]) for e in events]
    assert cursors == sorted(cursors) and len(set(cursors)) == len(cursors)
    assert len({e["event_id"] for e in events}) == len(events), "each event once"

    # the same events for the case alone, with the same cursors; and replays from any of them
    of_case, _ = feed_after(hub.court_a, None, f"/v1/cases/{case_id}/events")
    assert of_case == events
    suffix = [e for e in feed_after(hub.court_a, events[0]["cursor"])[0] if e["case_id"] == case_id]
    assert suffix == events[1:]
    assert [e for e in feed_after(hub.court_b, cursor)[0] if e["case_id"] == case_id] == [], "another court's"
    assert hub.court_a.get("/v1/events", params={"after": "x1"}).status_code == 422

    # pushed: the court's webhook got the same event, signed with its secret
    def pushed() -> tuple[dict[str, str], bytes] | None:
        for headers, body in list(hub.webhook.received):
            event = json.loads(body)
            if event.get("type") == "inquiry_settled" and event["data"]["inquiry_id"] == inquiry_id:
                return headers, body
        return None

    headers, body = wait_for("the inquiry_settled webhook", pushed)
    expected = "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-Hub-Signature-256"] == expected
    assert headers["X-Hub-Event-Id"] == settled[0]["event_id"]
    assert json.loads(body) == settled[0]
    listed = read_all(hub.court_a, f"/v1/cases/{case_id}/inquiries")
    assert [(i["inquiry_id"], i["status"]) for i in listed] == [(inquiry_id, "complete")]
    assert listed[0]["assets_by_kind"] == settled[0]["data"]["assets_by_kind"]
    orders = read_all(hub.court_a, f"/v1/cases/{case_id}/control-orders")
    assert [(o["order_id"], o["action"], o["status"]) for o in orders] == [
        (order_id, "seize", order["status"])
    ]
    by_legacy = read_all(hub.court_a, "/v1/cases", id_number=LEGACY_ID_15)
    assert case_id in [c["case_id"] for c in by_legacy]


def test_a_batch_of_100_inquiries_completes_with_its_summary(hub: HubClient) -> None:
    case_ids = [hub.create_case([RICH]) for _ in range(100)]
    items = [
        {"case_id": c, "debtor": {k: RICH[k] for k in ("id_type", "id_number")}, "agencies": ["bank:icbc"]}
        for c in case_ids
    ]
    body = {"items": items, **hub.asking()}
    r = hub.court_a.post("/v1/inquiry-batches", json=body, headers={"Idempotency-Key": "batch-100"})
    assert r.status_code == 202, r.text
    batch_id, inquiry_ids = r.json()["batch_id"], r.json()["inquiry_ids"]
    assert len(set(inquiry_ids)) == 100
    repeat = hub.court_a.post("/v1/inquiry-batches", json=body, headers={"Idempotency-Key": "batch-100"})
    assert repeat.status_code == 202 and repeat.json() == {"batch_id": batch_id, "inquiry_ids": inquiry_ids}
    assert hub.court_b.get(f"/v1/inquiry-batches/{batch_id}").status_code == 404

    def done() -> dict[str, Any] | None:
        view = hub.court_a.get(f"/v1/inquiry-batches/{batch_id}")
        assert view.status_code == 200, view.text
        return view.json() if view.json()["status"] == "done" else None

    view = wait_for("the batch to finish", done, timeout=240)
    assert (
        view["total"] == 100 and sum(view["progress"].values()) == 100 and "pending" not in view["progress"]
    )
    summary = view["summary"]
    assert [(s["inquiry_id"], s["case_id"]) for s in summary] == list(zip(inquiry_ids, case_ids, strict=True))
    complete = [s for s in summary if s["status"] == "complete"]
    assert complete, "no inquiry of the batch completed"
    one = hub.court_a.get(f"/v1/inquiries/{complete[0]['inquiry_id']}").json()
    deposits = [a for a in one["assets"] if a["kind"] == "deposit"]
    assert deposits, one["agencies"]
    value = f"{sum(Decimal(a['value']) for a in deposits):.2f}"
    expected = {"deposit": {"count": len(deposits), "value": value}}
    for s in complete:
        assert s["assets_by_kind"] == expected and s["total_value"] == value, s
    assert view["totals"]["assets"] == sum(s["assets"] for s in summary)
    # each item is an ordinary inquiry of its case, with who asked and why
    first = hub.court_a.get(f"/v1/inquiries/{inquiry_ids[0]}").json()
    assert first["requested"]["officer"] == body["officer"] and first["requested"]["agencies"] == [
        "bank:icbc"
    ]
    assert [i["inquiry_id"] for i in read_all(hub.court_a, f"/v1/cases/{case_ids[0]}/inquiries")] == [
        inquiry_ids[0]
    ]


def test_a_batch_with_a_bad_item_is_refused_whole_naming_each_item(hub: HubClient) -> None:
    case_id = hub.create_case([RICH])
    other_court_case = hub.create_case([RICH], client=hub.court_b)
    debtor = {k: RICH[k] for k in ("id_type", "id_number")}
    stranger = {k: LISTED[k] for k in ("id_type", "id_number")}
    items = [
        {"case_id": case_id, "debtor": debtor},
        {"case_id": other_court_case, "debtor": debtor},
        {"case_id": case_id, "debtor": stranger},
        {"case_id": case_id, "debtor": debtor, "agencies": ["bank:nosuch"]},
    ]
    r = hub.court_a.post("/v1/inquiry-batches", json={"items": items, **hub.asking()})
    assert r.status_code == 422, r.text
    locs = [e["loc"] for e in r.json()["errors"]]
    assert locs == [
        ["body", "items", 1, "case_id"],
        ["body", "items", 2, "debtor"],
        ["body", "items", 3, "agencies"],
    ], locs
    assert read_all(hub.court_a, f"/v1/cases/{case_id}/inquiries") == [], "nothing of a refused batch is kept"
    bad_id = {**items[0], "debtor": {"id_type": "resident_id", "id_number": "12345"}}
    r = hub.court_a.post("/v1/inquiry-batches", json={"items": [items[0], bad_id], **hub.asking()})
    assert r.status_code == 422 and r.json()["errors"][0]["loc"][:4] == ["body", "items", 1, "debtor"], r.text
    r = hub.court_a.post("/v1/inquiry-batches", json={"items": [items[0]] * 1001, **hub.asking()})
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "items"], r.text
    r = hub.court_a.post("/v1/inquiry-batches", json={"items": [items[0]]})
    assert r.status_code == 422 and ["body", "officer"] in [e["loc"] for e in r.json()["errors"]], r.text
