"""Control orders through the real pipeline: gateway → streams (case ledger) → connector → registry
over HTTP → outcome → streams → gateway read model and the court's webhook."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from aiokafka import AIOKafkaProducer

from schemas.codec import encode
from schemas.models import AssetRef, ControlOrderRequested
from schemas.topics import COURT_COMMANDS

from .complete import found
from .conftest import WEBHOOK_SECRET, HubClient
from .planted import (
    CAP_ACCOUNTS,
    CAP_DEBTOR,
    DEDUCT_ACCOUNT,
    DEDUCT_DEBTOR,
    FLAT_OWNER,
    FLAT_REF,
    SLIP_ACCOUNT,
    SLIP_DEBTOR,
    THIN_ACCOUNT,
    THIN_DEBTOR,
)

pytestmark = pytest.mark.integration
SETTLED = {"effective", "waiting", "partial", "rejected", "failed"}


def test_second_court_waits_then_takes_effect_when_the_first_releases(hub: HubClient) -> None:
    case_a, assets_a = found(hub, FLAT_OWNER)
    case_b, assets_b = found(hub, FLAT_OWNER, client=hub.court_b)
    flat_a, flat_b = assets_a[FLAT_REF], assets_b[FLAT_REF]
    assert flat_a["asset_id"] == flat_b["asset_id"]

    first = hub.order(case_id=case_a, asset_id=flat_a["asset_id"], action="seize", approved_by=hub.judge())
    first_state = hub.wait_order(first, SETTLED)
    assert first_state["status"] == "effective" and first_state["position"] == 0
    effective_at = dt.datetime.fromisoformat(first_state["effective_at"])
    assert dt.datetime.fromisoformat(first_state["expires_at"]) - effective_at == dt.timedelta(days=1095)

    second = hub.order(
        hub.court_b,
        case_id=case_b,
        asset_id=flat_b["asset_id"],
        action="seize",
        approved_by=hub.judge("court-b"),
    )
    second_state = hub.wait_order(second, SETTLED, client=hub.court_b)
    assert second_state["status"] == "waiting" and second_state["position"] == 1
    assert second_state["effective_at"] is None

    # a later inquiry shows both controls on the flat, in their queue order
    _, seen = found(hub, FLAT_OWNER)
    positions = sorted(
        c["position"] for c in seen[FLAT_REF]["controls"] if c.get("status") in ("effective", "waiting")
    )
    assert positions[:2] == [0, 1]

    released_before = dt.datetime.now(dt.UTC)
    release = hub.order(
        case_id=case_a, asset_id=flat_a["asset_id"], action="release", approved_by=hub.judge()
    )
    assert hub.wait_order(release, {"released", "rejected", "failed"})["status"] == "released"
    assert hub.wait_order(first, {"released"})["status"] == "released"

    promoted = hub.wait_order(second, {"effective"}, client=hub.court_b)
    assert [h["event"] for h in promoted["history"]][-1] == "promoted"
    starts = dt.datetime.fromisoformat(promoted["effective_at"])
    assert starts >= released_before - dt.timedelta(seconds=1), "its period starts at the promotion"
    assert dt.datetime.fromisoformat(promoted["expires_at"]) - starts == dt.timedelta(days=1095)
    # the other court cannot see or touch court-b's order
    assert hub.court_a.get(f"/v1/control-orders/{second}").status_code == 404


def test_freezes_at_three_banks_at_once_never_exceed_the_cap(hub: HubClient) -> None:
    case_id, assets = found(hub, CAP_DEBTOR)  # owed 100,000 + costs 1,500
    bodies = [
        {
            "case_id": case_id,
            "asset_id": assets[ref]["asset_id"],
            "action": "freeze",
            "amount": "60000.00",
            "approved_by": hub.judge(),
        }
        for ref in CAP_ACCOUNTS.values()
    ]
    with ThreadPoolExecutor(3) as pool:
        order_ids = list(pool.map(lambda b: hub.order(**b), bodies))
    states = [hub.wait_order(o, SETTLED) for o in order_ids]

    frozen = sum(
        Decimal(s["amount_controlled"] or "0") for s in states if s["status"] in ("effective", "partial")
    )
    assert frozen <= Decimal("101500.00")
    assert sorted(s["status"] for s in states) == ["effective", "rejected", "rejected"]
    for s in states:
        if s["status"] == "rejected":
            assert "over the case's cap" in s["reason"]
    case = hub.court_a.get(f"/v1/cases/{case_id}").json()
    assert Decimal(case["ledger"]["secured"]) == Decimal("60000.00")
    assert case["ledger"]["cap"] == "101500.00"


def test_freeze_on_an_account_holding_less_is_partial_with_the_real_amount(hub: HubClient) -> None:
    case_id, assets = found(hub, THIN_DEBTOR)
    order = hub.order(
        case_id=case_id,
        asset_id=assets[THIN_ACCOUNT]["asset_id"],
        action="freeze",
        amount="5000.00",
        approved_by=hub.judge(),
    )
    state = hub.wait_order(order, SETTLED)
    assert state["status"] == "partial"
    assert state["amount_controlled"] == "3000.00"
    assert "3000.00" in state["reason"]


async def _publish_twice(bootstrap: str, message: ControlOrderRequested) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for _ in range(2):
            await producer.send_and_wait(COURT_COMMANDS, encode(message), key=message.case_id.encode())
    finally:
        await producer.stop()


def test_deduction_is_applied_once_when_the_order_is_delivered_twice(hub: HubClient) -> None:
    case_id, assets = found(hub, DEDUCT_DEBTOR)
    account = assets[DEDUCT_ACCOUNT]
    freeze = hub.order(
        case_id=case_id,
        asset_id=account["asset_id"],
        action="freeze",
        amount="20000.00",
        approved_by=hub.judge(),
    )
    assert hub.wait_order(freeze, SETTLED)["status"] == "effective"

    deduct = ControlOrderRequested(
        order_id=f"ord_twice_{uuid.uuid4().hex[:10]}",
        case_id=case_id,
        court_id="court-a",
        asset=AssetRef(
            asset_id=account["asset_id"],
            agency=account["agency"],
            kind="deposit",
            ref=DEDUCT_ACCOUNT,
            value=account["value"],
        ),
        action="deduct",
        amount="5000.00",
        approved_by=hub.judge(),
        requested_at=dt.datetime.now(dt.UTC),
        idempotency_key="deduct-once",
        **hub.asking(),
    )
    asyncio.run(_publish_twice(hub.settings.bootstrap, deduct))
    state = hub.wait_order(deduct.order_id, {"deducted", "rejected", "failed"}, missing_ok=True)
    assert state["status"] == "deducted" and state["amount_deducted"] == "5000.00"
    time.sleep(2)  # let a duplicate, were there one, reach the ledger and the registry
    state = hub.court_a.get(f"/v1/control-orders/{deduct.order_id}").json()
    assert [h["event"] for h in state["history"]].count("deducted") == 1
    case = hub.court_a.get(f"/v1/cases/{case_id}").json()
    assert case["ledger"]["deducted"] == "5000.00"
    freeze_state = hub.court_a.get(f"/v1/control-orders/{freeze}").json()
    assert freeze_state["amount_controlled"] == "15000.00"
    _, after = found(hub, DEDUCT_DEBTOR)
    assert after[DEDUCT_ACCOUNT]["value"] == "45000.00", "the registry moved the money once"


def test_possible_link_cannot_be_frozen_until_a_judge_confirms_it(hub: HubClient) -> None:
    case_id, assets = found(hub, SLIP_DEBTOR)
    account = assets[SLIP_ACCOUNT]
    assert account["linkage"]["decision"] == "possible"
    body = {
        "case_id": case_id,
        "asset_id": account["asset_id"],
        "action": "freeze",
        "amount": "1000.00",
        "approved_by": hub.judge(),
        **hub.asking(),
    }
    refused = hub.court_a.post("/v1/control-orders", json=body)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["type"] == "linkage_not_confirmed"

    not_a_judge = hub.court_a.post(
        f"/v1/cases/{case_id}/asset-confirmations",
        json={"asset_id": account["asset_id"], "confirmed_by": "clerk-7"},
    )
    assert not_a_judge.status_code == 422 and not_a_judge.json()["errors"][0]["loc"] == [
        "body",
        "confirmed_by",
    ]
    confirmed = hub.court_a.post(
        f"/v1/cases/{case_id}/asset-confirmations",
        json={
            "asset_id": account["asset_id"],
            "confirmed_by": hub.judge(),
            "note": "birth date and account opening branch checked",
        },
    )
    assert confirmed.status_code == 201 and confirmed.json()["confirmed_by"] == hub.judge()
    order = hub.order(**body)
    assert hub.wait_order(order, SETTLED)["status"] == "effective"


def test_bad_orders_get_4xx_naming_the_field(hub: HubClient) -> None:
    case_id, assets = found(hub, THIN_DEBTOR)
    asset_id = assets[THIN_ACCOUNT]["asset_id"]
    cases = [
        ({"action": "freeze", "approved_by": hub.judge()}, 422, "amount is required"),
        ({"action": "seize", "approved_by": hub.judge()}, 422, "does not apply to deposit"),
        ({"action": "freeze", "amount": "10.00", "approved_by": "judge-nobody"}, 422, "not a judge"),
        (
            {
                "action": "freeze",
                "amount": "10.00",
                "approved_by": hub.judge(),
                "asset_id": "bank:icbc/deposit/0",
            },
            422,
            "no inquiry of case",
        ),
        ({"action": "burn", "approved_by": hub.judge()}, 422, "action: input should be"),
    ]
    for extra, code, words in cases:
        body = {"case_id": case_id, "asset_id": asset_id, **hub.asking(), **extra}
        r = hub.court_a.post("/v1/control-orders", json=body)
        assert r.status_code == code, r.text
        assert words in json.dumps(r.json(), ensure_ascii=False), r.text
    other = hub.court_b.post(
        "/v1/control-orders",
        json={
            "case_id": case_id,
            "asset_id": asset_id,
            "action": "release",
            "approved_by": hub.judge("court-b"),
            **hub.asking(hub.court_b),
        },
    )
    assert other.status_code == 404


def test_every_outcome_reaches_the_court_webhook_signed_and_deduplicable(hub: HubClient) -> None:
    case_id, assets = found(hub, THIN_DEBTOR)
    order = hub.order(
        case_id=case_id,
        asset_id=assets[THIN_ACCOUNT]["asset_id"],
        action="freeze",
        amount="100.00",
        approved_by=hub.judge(),
    )
    state = hub.wait_order(order, SETTLED)
    event_ids = {h["event_id"] for h in state["history"] if "event_id" in h}
    deadline = time.monotonic() + 30
    while not event_ids <= {e["event_id"] for e in hub.webhook.events()}:
        assert time.monotonic() < deadline, "webhook not delivered"
        time.sleep(0.2)
    assert hub.webhook.refused_ids, "the receiver refused the first attempts"
    delivered = {e["event_id"] for e in hub.webhook.events()}
    assert set(hub.webhook.refused_ids) <= delivered, "a retried delivery carries the same event id"
    for headers, body in hub.webhook.received:
        expected = hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert headers["X-Hub-Signature-256"] == f"sha256={expected}"
        assert headers["X-Hub-Event-Id"] == json.loads(body)["event_id"]
