"""Leads and payouts through the gateway's real app and a real SQLite database, without a broker: a
lead's targeted inquiries go through the ordinary inquiry route (their outbox rows are the
commands), their results are stored as the read model stores them (``Database.store_results``) and
the leads-and-payouts loop settles them, reports the overdue ones and reminds of held money by a
``ManualClock``. Deductions are control orders in state ``deducted`` as the read model keeps them."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from gateway.audit import audit_log
from gateway.db import control_orders, court_events, inquiries, webhook_deliveries
from gateway.feed import case_events
from gateway.routes.leads import follow_up_loop

from .test_termination_api import DAY, DEBTORS, Hub, deposit, rows, run

WHO = {"officer": "officer-1", "purpose": "核查财产线索", "legal_basis": "(2026)鄂0111执1234号执行裁定书"}
ICBC_REF = "6222020200900000001"


def lead(agency: str, **extra: Any) -> dict[str, Any]:
    return {"agency": agency, "description": "申请人称被执行人在该行开有账户", **WHO, **extra}


async def answer(
    hub: Hub,
    inquiry_id: str,
    case_id: str,
    statuses: dict[str, str],
    assets: list[dict[str, Any]],
    version: int,
) -> None:
    now = hub.clock.now().isoformat()
    stored = await hub.db.store_results(
        [
            {
                "inquiry_id": inquiry_id,
                "case_id": case_id,
                "court_id": "court-a",
                "status": "complete"
                if all(s in ("answered", "no_record") for s in statuses.values())
                else "partial",
                "agencies": {a: {"status": s, "responded_at": now} for a, s in statuses.items()},
                "assets": assets,
                "version": version,
                "updated_at": now,
                "completed_at": now,
            }
        ]
    )
    assert stored == [inquiry_id]


async def events(hub: Hub, case_id: str, kind: str) -> list[Any]:
    return await rows(
        hub.db, sa.select(case_events).where(case_events.c.case_id == case_id, case_events.c.type == kind)
    )


def test_a_lead_is_checked_by_a_targeted_inquiry_verified_or_reported_overdue_once(tmp_path: Path) -> None:
    async def scenario(hub: Hub) -> None:
        case_id = await hub.case()
        loop = follow_up_loop(hub.app)
        created = hub.clock.now()
        r = await hub.client.post(
            f"/v1/cases/{case_id}/leads",
            json=lead("bank:icbc", asset_ref=ICBC_REF),
            headers={"Idempotency-Key": "l1"},
        )
        assert r.status_code == 201, r.text
        first = r.json()
        assert first["status"] == "open" and first["urgent"] is False and first["found"] == []
        assert first["due_at"] == (created + 7 * DAY).isoformat()
        assert len(first["inquiry_ids"]) == len(DEBTORS)
        asked = await rows(
            hub.db, sa.select(inquiries).where(inquiries.c.inquiry_id.in_(first["inquiry_ids"]))
        )
        assert sorted(r.request["debtor"]["id_number"] for r in asked) == sorted(
            d["id_number"] for d in DEBTORS
        )
        assert all(
            r.request["agencies"] == ["bank:icbc"] and r.request["officer"] == "officer-1" for r in asked
        )
        again = await hub.client.post(
            f"/v1/cases/{case_id}/leads",
            json=lead("bank:icbc", asset_ref=ICBC_REF),
            headers={"Idempotency-Key": "l1"},
        )
        assert again.status_code == 201 and again.json() == first
        assert len(await rows(hub.db, sa.select(inquiries.c.inquiry_id))) == len(DEBTORS)  # no second inquiry
        other = await hub.client.post(
            f"/v1/cases/{case_id}/leads", json=lead("bank:ccb"), headers={"Idempotency-Key": "l1"}
        )
        assert other.status_code == 409

        hub.clock.advance(minutes=1)  # leads are listed oldest first
        urgent = (
            await hub.client.post(f"/v1/cases/{case_id}/leads", json=lead("real_estate", urgent=True))
        ).json()
        assert urgent["due_at"] == (hub.clock.now() + 3 * DAY).isoformat()
        hub.clock.advance(minutes=1)
        wrong_ref = (
            await hub.client.post(f"/v1/cases/{case_id}/leads", json=lead("bank:ccb", asset_ref="x-1"))
        ).json()

        # the loop settles nothing before an answer
        await loop.run_once()
        assert not await events(hub, case_id, "lead_settled")

        # the ICBC account, with white space in its number as the registry spells it, for debtor 0
        account = {**deposit("bank:icbc", ICBC_REF[:4] + " " + ICBC_REF[4:], "900.00")}
        await answer(hub, first["inquiry_ids"][0], case_id, {"bank:icbc": "answered"}, [account], 1)
        # a namesake's ccb account with another ref, and no_record for the other debtor
        namesake = {**deposit("bank:ccb", "x-1", "5.00"), "linkage": {"decision": "non_match", "score": 0.1}}
        await answer(hub, wrong_ref["inquiry_ids"][0], case_id, {"bank:ccb": "answered"}, [namesake], 1)
        await answer(hub, wrong_ref["inquiry_ids"][1], case_id, {"bank:ccb": "no_record"}, [], 1)
        # real estate: one debtor answered, the other's registry unavailable: stays open
        await answer(hub, urgent["inquiry_ids"][0], case_id, {"real_estate": "no_record"}, [], 1)
        await answer(hub, urgent["inquiry_ids"][1], case_id, {"real_estate": "unavailable"}, [], 1)
        hub.clock.advance(days=1)
        await loop.run_once()
        listed = (await hub.client.get(f"/v1/cases/{case_id}/leads")).json()["items"]
        by_id = {x["lead_id"]: x for x in listed}
        assert [x["lead_id"] for x in listed] == [first["lead_id"], urgent["lead_id"], wrong_ref["lead_id"]]
        verified = by_id[first["lead_id"]]
        assert verified["status"] == "verified" and verified["settled_at"] == hub.clock.now().isoformat()
        assert [(f["ref"], f["inquiry_id"]) for f in verified["found"]] == [
            (account["ref"], first["inquiry_ids"][0])
        ]
        assert by_id[wrong_ref["lead_id"]]["status"] == "not_found"
        assert by_id[urgent["lead_id"]]["status"] == "open"
        settled = {e.payload["lead_id"]: e for e in await events(hub, case_id, "lead_settled")}
        assert set(settled) == {first["lead_id"], wrong_ref["lead_id"]}
        assert settled[first["lead_id"]].payload["on_time"] is True
        assert settled[first["lead_id"]].event_id == verified["settled_event_id"]
        pushed = await rows(hub.db, sa.select(webhook_deliveries.c.event_id))
        assert verified["settled_event_id"] in {p.event_id for p in pushed}  # the court's webhook too

        # three days on, the urgent lead is still open: reported once
        due = dt.datetime.fromisoformat(urgent["due_at"])
        hub.clock.advance(seconds=(due - hub.clock.now()).total_seconds())  # due now: not yet overdue
        await loop.run_once()
        assert not await events(hub, case_id, "lead_overdue")
        hub.clock.advance(seconds=1)
        await loop.run_once()
        await loop.run_once()
        (overdue,) = await events(hub, case_id, "lead_overdue")
        assert overdue.payload["lead_id"] == urgent["lead_id"] and overdue.payload["status"] == "open"
        # the registry answers late: settled, not on time
        await answer(hub, urgent["inquiry_ids"][1], case_id, {"real_estate": "no_record"}, [], 2)
        await loop.run_once()
        late = [
            e for e in await events(hub, case_id, "lead_settled") if e.payload["lead_id"] == urgent["lead_id"]
        ]
        assert (
            len(late) == 1
            and late[0].payload["status"] == "not_found"
            and late[0].payload["on_time"] is False
        )
        assert len(await events(hub, case_id, "lead_overdue")) == 1
        trail = await rows(
            hub.db, sa.select(audit_log).where(audit_log.c.case_id == case_id, audit_log.c.kind == "lead")
        )
        assert len(trail) == 3 and DEBTORS[0]["id_number"] not in "".join(e.details for e in trail)

    run(tmp_path, scenario)


def test_a_lead_names_a_known_agency_and_an_officer_of_the_court(tmp_path: Path) -> None:
    async def scenario(hub: Hub) -> None:
        case_id = await hub.case()
        r = await hub.client.post(f"/v1/cases/{case_id}/leads", json=lead("bank:nowhere"))
        assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "agency"], r.text
        r = await hub.client.post(f"/v1/cases/{case_id}/leads", json=lead("moon"))
        assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "agency"], r.text
        r = await hub.client.post(f"/v1/cases/{case_id}/leads", json=lead("police", officer="officer-9"))
        assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "officer"], r.text
        r = await hub.client.post(f"/v1/cases/{case_id}/leads", json=lead("police", urgent="yes"))
        assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "urgent"], r.text
        r = await hub.client.post(f"/v1/cases/{case_id}/leads", json=lead("police", description=" "))
        assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "description"], r.text
        other = await hub.case(court_id="court-b")
        assert (await hub.client.post(f"/v1/cases/{other}/leads", json=lead("police"))).status_code == 404
        assert (await hub.client.get(f"/v1/cases/{other}/leads")).status_code == 404
        assert not await rows(hub.db, sa.select(inquiries.c.inquiry_id))

    run(tmp_path, scenario)


async def deducted(hub: Hub, case_id: str, order_id: str, amount: str, at: dt.datetime) -> None:
    """A deduct order as the read model keeps it once the ledger reported it deducted."""
    state = {"order_id": order_id, "case_id": case_id, "status": "deducted", "amount_deducted": amount}
    async with hub.db.engine.begin() as conn:
        await conn.execute(
            control_orders.insert().values(
                order_id=order_id,
                court_id="court-a",
                case_id=case_id,
                asset_id=f"bank:icbc/deposit/{order_id}",
                request={},
                status="deducted",
                state=state,
                created_at=at,
                updated_at=dt.datetime.now(dt.UTC),
            )
        )
        await conn.execute(
            court_events.insert().values(
                event_id=f"evt_{order_id}",
                order_id=order_id,
                court_id="court-a",
                case_id=case_id,
                kind="deducted",
                body={"order": state, "at": at.isoformat()},
                seq=0,
                received_at=dt.datetime.now(dt.UTC),
            )
        )


def test_payouts_never_exceed_what_was_deducted_and_held_money_is_reminded_once(tmp_path: Path) -> None:
    async def scenario(hub: Hub) -> None:
        case_id = await hub.case()
        start = hub.clock.now()
        await deducted(hub, case_id, "ord_d1", "3000.00", start)
        await deducted(hub, case_id, "ord_d2", "2000.00", start + 10 * DAY)
        funds = (await hub.client.get(f"/v1/cases/{case_id}/funds")).json()
        assert (funds["deducted"], funds["paid"], funds["held"], funds["payouts"]) == (
            "5000.00",
            "0.00",
            "5000.00",
            [],
        )
        url = f"/v1/cases/{case_id}/payouts"
        body = {"amount": "5000.01", "payee": "申请人甲", "approved_by": "judge-1"}
        r = await hub.client.post(url, json=body)
        assert r.status_code == 422, r.text
        (error,) = r.json()["errors"]
        assert (
            error["loc"] == ["body", "amount"]
            and error["type"] == "exceeds_held"
            and "5000.00" in error["msg"]
        )
        for bad in ("0", "-1.00", "1.001", 12.5, "abc"):
            r = await hub.client.post(url, json={**body, "amount": bad})
            assert r.status_code == 422 and r.json()["errors"][0]["loc"][:2] == ["body", "amount"], (
                bad,
                r.text,
            )
        r = await hub.client.post(url, json={**body, "amount": "10.00", "approved_by": "judge-9"})
        assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "approved_by"]

        key = {"Idempotency-Key": "pay-1"}
        r = await hub.client.post(url, json={**body, "amount": "2500.00"}, headers=key)
        assert r.status_code == 201, r.text
        paid = r.json()
        assert paid["amount"] == "2500.00" and paid["paid_at"] == start.isoformat()
        again = await hub.client.post(url, json={**body, "amount": "2500.00"}, headers=key)
        assert again.status_code == 201 and again.json() == paid
        assert (await hub.client.post(url, json={**body, "amount": "2.00"}, headers=key)).status_code == 409
        funds = (await hub.client.get(f"/v1/cases/{case_id}/funds")).json()
        assert (funds["paid"], funds["held"]) == ("2500.00", "2500.00") and funds["payouts"] == [paid]
        assert [(d["order_id"], d["held"]) for d in funds["deductions"]] == [
            ("ord_d1", "500.00"),
            ("ord_d2", "2000.00"),
        ]
        r = await hub.client.post(url, json={**body, "amount": "2500.01"})
        assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "amount"]

        # two payouts at once that together exceed what is held: one is paid, the other refused
        both = await asyncio.gather(
            *(hub.client.post(url, json={**body, "amount": "1500.00"}) for _ in range(2))
        )
        assert sorted(r.status_code for r in both) == [201, 422], [r.text for r in both]
        funds = (await hub.client.get(f"/v1/cases/{case_id}/funds")).json()
        assert (funds["paid"], funds["held"]) == ("4000.00", "1000.00")
        assert [(d["order_id"], d["held"]) for d in funds["deductions"]] == [
            ("ord_d1", "0.00"),
            ("ord_d2", "1000.00"),
        ]

        # reminders: the second deduction's 1,000.00 is held 30 days after it was made; the first is paid
        loop = follow_up_loop(hub.app)
        hub.clock.advance(days=39)
        await loop.run_once()
        assert not await events(hub, case_id, "payout_reminder")
        hub.clock.advance(days=1)
        await loop.run_once()
        await loop.run_once()
        (reminder,) = await events(hub, case_id, "payout_reminder")
        assert reminder.payload["order_id"] == "ord_d2" and reminder.payload["held"] == "1000.00"
        assert reminder.payload["held_since_days"] == 30 and reminder.payload["case_held"] == "1000.00"
        funds = (await hub.client.get(f"/v1/cases/{case_id}/funds")).json()
        assert [d["reminded_at"] for d in funds["deductions"]] == [None, hub.clock.now().isoformat()]
        trail = await rows(
            hub.db, sa.select(audit_log).where(audit_log.c.case_id == case_id, audit_log.c.kind == "payout")
        )
        assert [e.actor for e in trail] == ["judge-1", "judge-1"]
        other = await hub.case(court_id="court-b")
        assert (await hub.client.post(f"/v1/cases/{other}/payouts", json=body)).status_code == 404
        assert (await hub.client.get(f"/v1/cases/{other}/funds")).status_code == 404

    run(tmp_path, scenario)
