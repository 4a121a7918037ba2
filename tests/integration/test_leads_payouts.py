"""Leads and payouts through the real pipeline, with the hub's clock moved (HUB_CLOCK_FILE, as ``hub
clock`` does): a lead checked by a targeted inquiry against the mocked registry and verified before
its deadline; a lead whose agency is out of service reported overdue once its deadline passed; money
deducted by a real control order paid out only up to what was deducted, and the court reminded of
what is still held 30 days on. Every event reaches the court's webhook, signed, and its feed.
Concurrent payouts never pay more than was deducted, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.db import Database, control_orders
from gateway.main import create_app
from gateway.pipeline import WebhookDispatcher
from hub.clock import ManualClock, set_clock_offset
from hub.settings import HubSettings

from .conftest import WEBHOOK_SECRET, HubClient
from .planted_leads import LEAD_ACCOUNT, LEAD_DEBTOR, PAY_ACCOUNT, PAY_DEBTOR

pytestmark = pytest.mark.integration
DAY = 86400
SETTLED_ORDER = {"effective", "waiting", "partial", "rejected", "failed"}


@pytest.fixture
def clock(hub: HubClient) -> Iterator[None]:
    """Each test may move the hub's clock; it is put back afterwards."""
    try:
        yield
    finally:
        set_clock_offset(hub.clock_file, 0)


def pushed(hub: HubClient, case_id: str, kind: str, timeout: float = 120.0) -> tuple[dict[str, str], bytes]:
    """The first ``kind`` event of the case the court's webhook received (waits for it)."""
    deadline = time.monotonic() + timeout
    while True:
        with hub.webhook.lock:
            received = list(hub.webhook.received)
        for headers, body in received:
            event = json.loads(body)
            if event.get("type") == kind and event.get("case_id") == case_id:
                return headers, body
        assert time.monotonic() < deadline, hub.court_a.get(f"/v1/cases/{case_id}/leads").json()
        time.sleep(0.5)


def post_lead(hub: HubClient, case_id: str, **body: Any) -> dict[str, Any]:
    r = hub.court_a.post(
        f"/v1/cases/{case_id}/leads", json={"description": "申请人提供的财产线索", **hub.asking(), **body}
    )
    assert r.status_code == 201, r.text
    lead: dict[str, Any] = r.json()
    return lead


def test_a_lead_is_verified_by_its_targeted_inquiry_before_its_deadline(hub: HubClient, clock: None) -> None:
    case_id = hub.create_case([LEAD_DEBTOR])
    lead = post_lead(hub, case_id, agency="bank:ccb", asset_ref=LEAD_ACCOUNT)
    assert lead["status"] == "open" and len(lead["inquiry_ids"]) == 1
    created = dt.datetime.fromisoformat(lead["created_at"])
    assert dt.datetime.fromisoformat(lead["due_at"]) - created == dt.timedelta(days=7)

    headers, body = pushed(hub, case_id, "lead_settled")
    assert headers["X-Hub-Signature-256"] == WebhookDispatcher.signature(WEBHOOK_SECRET, body)
    event = json.loads(body)
    assert event["data"]["lead_id"] == lead["lead_id"] and event["data"]["status"] == "verified"
    assert event["data"]["on_time"] is True
    assert [f["ref"] for f in event["data"]["found"]] == [LEAD_ACCOUNT]
    assert LEAD_DEBTOR["id_number"] not in body.decode()

    # the inquiry went the ordinary way: that agency only, asked by the court's officer
    inquiry = hub.wait_result(lead["inquiry_ids"][0])
    assert list(inquiry["agencies"]) == ["bank:ccb"] and inquiry["requested"]["officer"] == hub.officer()
    (listed,) = hub.court_a.get(f"/v1/cases/{case_id}/leads").json()["items"]
    assert listed["status"] == "verified" and listed["settled_event_id"] == event["event_id"]
    assert dt.datetime.fromisoformat(listed["settled_at"]) <= dt.datetime.fromisoformat(listed["due_at"])
    events = hub.court_a.get(f"/v1/cases/{case_id}/events").json()["items"]
    assert event["event_id"] in [e["event_id"] for e in events if e["type"] == "lead_settled"]
    assert hub.court_b.get(f"/v1/cases/{case_id}/leads").status_code == 404
    loop = hub.anon.get("/healthz").json()["loops"]["leads and payouts"]  # supervised, as the others
    assert loop["state"] == "running" and loop["healthy"] is True and loop["restarts"] == 0


def test_a_lead_still_open_after_its_deadline_is_reported_overdue(hub: HubClient, clock: None) -> None:
    case_id = hub.create_case([LEAD_DEBTOR])
    hub.set_faults("land", outage=True)
    try:
        lead = post_lead(hub, case_id, agency="land", urgent=True)
        (inquiry_id,) = lead["inquiry_ids"]
        result = hub.wait_result(inquiry_id, timeout=90)
        assert result["agencies"]["land"]["status"] == "unavailable"
        # settled without the agency's answer: the lead stays open (only an answer settles it)
        (listed,) = hub.court_a.get(f"/v1/cases/{case_id}/leads").json()["items"]
        assert listed["status"] == "open" and listed["overdue_at"] is None

        set_clock_offset(hub.clock_file, 3 * DAY + 3600)  # past the urgent lead's three days
        headers, body = pushed(hub, case_id, "lead_overdue")
    finally:
        hub.set_faults("land", outage=False)
    assert headers["X-Hub-Signature-256"] == WebhookDispatcher.signature(WEBHOOK_SECRET, body)
    event = json.loads(body)
    assert event["data"]["lead_id"] == lead["lead_id"] and event["data"]["overdue_since"] == lead["due_at"]
    (listed,) = hub.court_a.get(f"/v1/cases/{case_id}/leads").json()["items"]
    assert listed["status"] == "open" and listed["overdue_event_id"] == event["event_id"]
    time.sleep(hub.settings.lead_check_seconds + 1)  # another pass of the loop reports nothing more
    events = hub.court_a.get(f"/v1/cases/{case_id}/events").json()["items"]
    assert [e["event_id"] for e in events if e["type"] == "lead_overdue"] == [event["event_id"]]


def test_payouts_never_exceed_the_deducted_money_and_held_money_is_reminded(
    hub: HubClient, clock: None
) -> None:
    case_id = hub.create_case([PAY_DEBTOR])
    result = hub.wait_result(hub.inquire(case_id, PAY_DEBTOR))
    account = next(a for a in result["assets"] if a["ref"] == PAY_ACCOUNT)
    freeze = hub.order(
        case_id=case_id,
        asset_id=account["asset_id"],
        action="freeze",
        amount="10000.00",
        approved_by=hub.judge(),
    )
    assert hub.wait_order(freeze, SETTLED_ORDER)["status"] == "effective"
    deduct = hub.order(
        case_id=case_id,
        asset_id=account["asset_id"],
        action="deduct",
        amount="6000.00",
        approved_by=hub.judge(),
    )
    state = hub.wait_order(deduct, {"deducted", "rejected", "failed"})
    assert state["status"] == "deducted" and state["amount_deducted"] == "6000.00", state

    funds = hub.court_a.get(f"/v1/cases/{case_id}/funds").json()
    assert (funds["deducted"], funds["paid"], funds["held"]) == ("6000.00", "0.00", "6000.00")
    url = f"/v1/cases/{case_id}/payouts"
    body = {"amount": "6000.01", "payee": "申请人甲", "approved_by": hub.judge()}
    r = hub.court_a.post(url, json=body)
    assert r.status_code == 422, r.text
    assert [(e["loc"], e["type"]) for e in r.json()["errors"]] == [(["body", "amount"], "exceeds_held")]

    key = {"Idempotency-Key": f"payout-{case_id}"}
    r = hub.court_a.post(url, json={**body, "amount": "4000.00"}, headers=key)
    assert r.status_code == 201, r.text
    payout = r.json()
    assert payout["amount"] == "4000.00" and payout["approved_by"] == hub.judge()
    assert hub.court_a.post(url, json={**body, "amount": "4000.00"}, headers=key).json() == payout
    funds = hub.court_a.get(f"/v1/cases/{case_id}/funds").json()
    assert (funds["paid"], funds["held"], funds["payouts"]) == ("4000.00", "2000.00", [payout])
    assert hub.court_a.post(url, json={**body, "amount": "2000.01"}).status_code == 422

    set_clock_offset(hub.clock_file, 31 * DAY)  # the 2,000.00 left is held longer than 30 days
    headers, raw = pushed(hub, case_id, "payout_reminder")
    assert headers["X-Hub-Signature-256"] == WebhookDispatcher.signature(WEBHOOK_SECRET, raw)
    data = json.loads(raw)["data"]
    assert data["order_id"] == deduct and data["held"] == "2000.00" and data["amount_deducted"] == "6000.00"
    (deduction,) = hub.court_a.get(f"/v1/cases/{case_id}/funds").json()["deductions"]
    assert deduction["order_id"] == deduct and deduction["reminded_at"] is not None


def test_concurrent_payouts_never_pay_more_than_was_deducted(db_url: str, tmp_path: Path) -> None:
    """Eight payouts of 1,500.00 at once against 5,000.00 deducted: three are paid, five refused,
    on SQLite and on PostgreSQL (the check and the insert in one transaction, the case row locked)."""
    settings = HubSettings(
        court_tokens="court-a:token-a",
        court_judges="court-a:judge-1",
        court_officers="court-a:officer-1",
        database_url=db_url,
        state_dir=tmp_path,
        ops_token=None,
    )
    app = create_app(settings)
    now = dt.datetime.now(dt.UTC)

    async def go() -> list[int]:
        db = Database(settings.resolved_database_url)
        await db.create_schema()
        app.state.db, app.state.clock = db, ManualClock(now)
        case = {
            "case_id": "case_pay",
            "court_id": "court-a",
            "case_number": "(2026)鄂0111执9号",
            "debtors": [],
        }
        try:
            async with db.engine.begin() as conn:
                await db.insert_case(conn, body=case, idempotency_key=None, request_hash="x")
                for order_id, amount in (("ord_1", "3000.00"), ("ord_2", "2000.00")):
                    state = {"order_id": order_id, "status": "deducted", "amount_deducted": amount}
                    await conn.execute(
                        control_orders.insert().values(
                            order_id=order_id,
                            court_id="court-a",
                            case_id="case_pay",
                            asset_id=f"bank:icbc/deposit/{order_id}",
                            request={},
                            status="deducted",
                            state=state,
                            created_at=now,
                            updated_at=now,
                        )
                    )
            transport = httpx.ASGITransport(app=app)
            auth = {"Authorization": "Bearer token-a"}
            async with httpx.AsyncClient(transport=transport, base_url="http://gw", headers=auth) as client:
                body = {"amount": "1500.00", "payee": "申请人甲", "approved_by": "judge-1"}
                answers = await asyncio.gather(
                    *(client.post("/v1/cases/case_pay/payouts", json=body) for _ in range(8))
                )
                funds = (await client.get("/v1/cases/case_pay/funds")).json()
            assert (funds["paid"], funds["held"]) == ("4500.00", "500.00"), funds
            return sorted(r.status_code for r in answers)
        finally:
            await db.close()

    assert asyncio.run(go()) == [201] * 3 + [422] * 5
