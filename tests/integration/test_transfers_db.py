"""First-seizure transfers on SQLite and on PostgreSQL (the gateway app over ASGI, a real database,
the hub's clock a manual one): who may call what, the 60- and 15-day rules, one open request at a
time under concurrent requests, and each deadline reported to both courts exactly once, however
many loops look at the same moment. The same rules through the whole pipeline (registries, broker,
streams) are in test_transfers.py."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from gateway.db import Database, control_orders, webhook_deliveries
from gateway.main import create_app
from gateway.transfer_deadlines import TransferDeadlines
from gateway.transfers import register_claim
from hub.clock import ManualClock
from hub.settings import HubSettings

pytestmark = pytest.mark.integration
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)  # the first seizure takes effect
ASSET = "real_estate/鄂(2019)武汉市不动产权第0900001号"
MORTGAGE = {"kind": "mortgage", "reference": "鄂(2019)武汉市不动产证明第0090001号"}


@dataclass
class World:
    db: Database
    settings: HubSettings
    clock: ManualClock
    a: httpx.AsyncClient  # court-a: the first seizure, ord_first of case_a
    b: httpx.AsyncClient  # court-b: ord_wait (mortgage) and ord_plain (no claim), both of case_b

    async def loop_once(self, loops: int = 1) -> None:
        """``loops`` deadline loops looking at the same moment."""
        await asyncio.gather(
            *(TransferDeadlines(self.db, self.settings, self.clock).run_once() for _ in range(loops))
        )

    async def types(self, client: httpx.AsyncClient, case_id: str) -> list[str]:
        r = await client.get(f"/v1/cases/{case_id}/events")
        assert r.status_code == 200, r.text
        return [e["type"] for e in r.json()["items"]]

    async def pushed(self, court_id: str) -> list[dict[str, Any]]:
        async with self.db.engine.connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(webhook_deliveries.c.body).where(webhook_deliveries.c.court_id == court_id)
                )
            ).all()
        return [json.loads(r.body) for r in rows]


def invalid(response: httpx.Response) -> list[str]:
    """The fields a 422 names (RFC 9457 ``errors``, or v1's ``detail`` list)."""
    body = response.json()
    listed = body.get("errors") if isinstance(body.get("errors"), list) else body["detail"]
    return [str(e["loc"][-1]) for e in listed]


def asking(court: str) -> dict[str, str]:
    return {"officer": f"officer-{court}", "approved_by": f"judge-{court}"}


def order_row(order_id: str, court: str, case_id: str, status: str, position: int) -> dict[str, Any]:
    state = {"order_id": order_id, "status": status, "position": position, "action": "seize"}
    state |= {"asset_id": ASSET, "effective_at": T0.isoformat() if position == 0 else None}
    request = {"action": "seize", "command": {"asset": {"asset_id": ASSET, "ref": ASSET.split("/", 1)[1]}}}
    return {
        "order_id": order_id,
        "court_id": f"court-{court}",
        "case_id": case_id,
        "asset_id": ASSET,
        "request": request,
        "status": status,
        "state": state,
        "created_at": T0,
        "updated_at": T0,
    }


def run(db_url: str, tmp_path: Path, scenario: Callable[[World], Coroutine[Any, Any, None]]) -> None:
    settings = HubSettings(
        court_tokens="court-a:token-a,court-b:token-b",
        court_judges="court-a:judge-a,court-b:judge-b",
        court_officers="court-a:officer-a,court-b:officer-b",
        court_webhooks="court-a:http://127.0.0.1:9/a,court-b:http://127.0.0.1:9/b",
        webhook_secrets="court-a:secret-a,court-b:secret-b",
        database_url=db_url,
        state_dir=tmp_path,
        ops_token=None,
    )
    app = create_app(settings)

    async def go() -> None:
        db = Database(settings.resolved_database_url)
        await db.create_schema()
        clock = ManualClock(T0 + dt.timedelta(days=10))
        app.state.db, app.state.clock = db, clock
        try:
            async with db.engine.begin() as conn:
                for case_id, court in (("case_a", "court-a"), ("case_b", "court-b")):
                    body = {
                        "case_id": case_id,
                        "court_id": court,
                        "case_number": f"(2026)鄂0111执{case_id}号",
                    }
                    await db.insert_case(
                        conn, body=body | {"debtors": []}, idempotency_key=None, request_hash="x"
                    )
                await conn.execute(
                    control_orders.insert().values(order_row("ord_first", "a", "case_a", "effective", 0))
                )
                await conn.execute(
                    control_orders.insert().values(order_row("ord_wait", "b", "case_b", "waiting", 1))
                )
                await conn.execute(
                    control_orders.insert().values(order_row("ord_plain", "b", "case_b", "waiting", 2))
                )
                await register_claim(
                    conn,
                    order_id="ord_wait",
                    court_id="court-b",
                    case_id="case_b",
                    asset_id=ASSET,
                    claim=MORTGAGE,
                )
            async with clients() as (a, b):
                await scenario(World(db, settings, clock, a, b))
        finally:
            await db.close()

    def client(token: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app)
        auth = {"Authorization": f"Bearer {token}"}
        return httpx.AsyncClient(transport=transport, base_url="http://gw", headers=auth)

    import contextlib

    @contextlib.asynccontextmanager
    async def clients() -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
        async with client("token-a") as a, client("token-b") as b:
            yield a, b

    asyncio.run(go())


def test_who_may_call_what_and_the_sixty_days(db_url: str, tmp_path: Path) -> None:
    async def body(w: World) -> None:
        ask = "/v1/control-orders/{}/transfer-requests"
        early = await w.b.post(ask.format("ord_wait"), json=asking("b"))
        assert early.status_code == 409, early.text
        assert "60 days" in early.text and (T0 + dt.timedelta(days=60)).isoformat() in early.text
        plain = await w.b.post(ask.format("ord_plain"), json=asking("b"))
        assert plain.status_code == 403 and "priority_claim" in plain.text, plain.text
        first_asks = await w.a.post(ask.format("ord_first"), json=asking("a"))
        assert first_asks.status_code == 403 and "first seizure" in first_asks.text, first_asks.text
        assert (await w.a.post(ask.format("ord_wait"), json=asking("a"))).status_code == 404
        assert (await w.b.get(ask.format("ord_first"))).status_code == 404
        disposal = {**asking("b"), "method": "auction"}
        waiting = await w.b.post("/v1/control-orders/ord_wait/disposal", json=disposal)
        assert waiting.status_code == 403 and "only the first-seizing court" in waiting.text.lower(), (
            waiting.text
        )
        for bad, field in (
            ({"approved_by": "judge-b"}, "officer"),
            ({**asking("b"), "officer": "officer-a"}, "officer"),
            ({**asking("b"), "approved_by": "judge-a"}, "approved_by"),
            ({**asking("b"), "note": " "}, "note"),
            ({**asking("b"), "urgent": True}, "urgent"),
        ):
            r = await w.b.post(ask.format("ord_wait"), json=bad)
            assert r.status_code == 422 and invalid(r) == [field], (bad, r.text)

        w.clock.advance(days=51)  # 61 days after the first seizure took effect
        await w.loop_once(loops=3)
        await w.loop_once()
        assert (await w.types(w.a, "case_a")).count("disposal_deadline_passed") == 1
        assert (await w.types(w.b, "case_b")).count("disposal_deadline_passed") == 1, "ord_plain has no claim"
        (told_b,) = [e for e in await w.pushed("court-b") if e["type"] == "disposal_deadline_passed"]
        assert told_b["data"]["role"] == "priority" and told_b["data"]["first"]["order_id"] == "ord_first"
        assert told_b["data"]["disposal_due_at"] == (T0 + dt.timedelta(days=60)).isoformat()

        # five requests at once: one is made, the others are told it is open
        answers = await asyncio.gather(
            *(w.b.post(ask.format("ord_wait"), json=asking("b")) for _ in range(5))
        )
        assert sorted(r.status_code for r in answers) == [201] + [409] * 4, [r.text for r in answers]
        (made,) = [r.json() for r in answers if r.status_code == 201]
        assert all(r.json()["request_id"] == made["request_id"] for r in answers if r.status_code == 409)
        assert all("still open" in r.json()["detail"] for r in answers if r.status_code == 409)
        assert made["status"] == "open" and made["priority_claim"] == MORTGAGE
        assert made["answer_due_at"] == (w.clock.now() + dt.timedelta(days=15)).isoformat()
        assert (made["first"], made["priority"]) == (
            {"court_id": "court-a", "order_id": "ord_first"},
            {"court_id": "court-b", "order_id": "ord_wait"},
        )
        assert (await w.types(w.a, "case_a"))[-1] == "transfer_requested", "the first court is told"
        listed = (await w.a.get(ask.format("ord_first"))).json()
        assert listed["role"] == "first" and [i["request_id"] for i in listed["items"]] == [
            made["request_id"]
        ]
        mine = (await w.b.get(ask.format("ord_wait"))).json()
        assert mine["role"] == "priority" and mine["first_seizure"]["order_id"] == "ord_first"

        answer = f"/v1/control-orders/{{}}/transfer-requests/{made['request_id']}/answer"
        refuse = {**asking("a"), "decision": "refuse", "reason": "拍卖公告已拟定 (auction being prepared)"}
        by_asker = await w.b.post(answer.format("ord_wait"), json={**refuse, **asking("b")})
        assert by_asker.status_code == 403 and "only the first-seizing court" in by_asker.text.lower(), (
            by_asker.text
        )
        assert (await w.a.post(answer.format("ord_wait"), json=refuse)).status_code == 404
        no_reason = await w.a.post(answer.format("ord_first"), json={**refuse, "reason": ""})
        assert no_reason.status_code == 422 and invalid(no_reason) == ["reason"], no_reason.text
        refused = await w.a.post(answer.format("ord_first"), json=refuse)
        assert refused.status_code == 200, refused.text
        assert refused.json()["status"] == "refused" and refused.json()["answer"]["on_time"] is True
        again = await w.a.post(answer.format("ord_first"), json=refuse)
        assert again.status_code == 200 and again.json() == refused.json()
        other = await w.a.post(answer.format("ord_first"), json={**refuse, "decision": "accept"})
        assert other.status_code == 409 and "answered" in other.text
        for court, case in (("court-a", "case_a"), ("court-b", "case_b")):
            client = w.a if court == "court-a" else w.b
            assert (await w.types(client, case)).count("transfer_answered") == 1
            assert [e["type"] for e in await w.pushed(court)].count("transfer_answered") == 1

    run(db_url, tmp_path, body)


def test_an_unanswered_request_is_reported_to_both_courts_once_and_disposal_ends_transfers(
    db_url: str, tmp_path: Path
) -> None:
    async def body(w: World) -> None:
        ask = "/v1/control-orders/ord_wait/transfer-requests"
        w.clock.advance(days=51)
        key = {"Idempotency-Key": "transfer-1"}
        made = await w.b.post(ask, json=asking("b"), headers=key)
        assert made.status_code == 201, made.text
        repeat = await w.b.post(ask, json=asking("b"), headers=key)
        assert repeat.status_code == 201 and repeat.json() == made.json()
        changed = await w.b.post(ask, json={**asking("b"), "note": "另一份函"}, headers=key)
        assert changed.status_code == 409
        request_id = made.json()["request_id"]

        w.clock.advance(days=14)
        await w.loop_once(loops=2)
        assert "transfer_answer_overdue" not in await w.types(w.a, "case_a"), "not yet 15 days"
        w.clock.advance(days=2)
        await w.loop_once(loops=4)
        await w.loop_once()
        for court, client, case in (("court-a", w.a, "case_a"), ("court-b", w.b, "case_b")):
            assert (await w.types(client, case)).count("transfer_answer_overdue") == 1, court
            (pushed,) = [e for e in await w.pushed(court) if e["type"] == "transfer_answer_overdue"]
            assert pushed["data"]["request_id"] == request_id and pushed["data"]["overdue_at"] is not None
        listed = (await w.b.get(ask)).json()["items"]
        assert listed[0]["status"] == "open" and listed[0]["overdue_at"] == w.clock.now().isoformat()

        disposal = {**asking("a"), "method": "auction", "reference": "(2026)鄂0111执恢1号拍卖公告"}
        started = await w.a.post("/v1/control-orders/ord_first/disposal", json=disposal)
        assert started.status_code == 201, started.text
        assert started.json()["started_at"] == w.clock.now().isoformat()
        same = await w.a.post("/v1/control-orders/ord_first/disposal", json=disposal)
        assert same.status_code == 201 and same.json() == started.json()
        other = await w.a.post("/v1/control-orders/ord_first/disposal", json={**disposal, "method": "sale"})
        assert other.status_code == 409 and "recorded" in other.text
        assert (await w.types(w.b, "case_b"))[-1] == "disposal_started", "the priority court is told"

        late = await w.a.post(
            f"/v1/control-orders/ord_first/transfer-requests/{request_id}/answer",
            json={**asking("a"), "decision": "refuse", "reason": "处置已开始 (disposal started)"},
        )
        assert late.status_code == 200 and late.json()["answer"]["on_time"] is False, late.text
        after = await w.b.post(ask, json=asking("b"))
        assert after.status_code == 409 and "disposal" in after.text and "auction" in after.text

        types_a = await w.types(w.a, "case_a")
        assert types_a == [
            "transfer_requested",
            "transfer_answer_overdue",
            "disposal_started",
            "transfer_answered",
        ]
        audit = (await w.a.get("/v1/cases/case_a/audit")).json()
        kinds = [e["kind"] for e in audit["entries"]]
        assert kinds == ["transfer_request", "transfer_deadline", "disposal", "transfer_answer"], kinds

    run(db_url, tmp_path, body)
