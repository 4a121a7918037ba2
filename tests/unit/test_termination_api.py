"""终本 through the gateway's real app and a real SQLite database, without a broker: the check and the
termination routes, and the re-query loop submitting through the ordinary inquiry route (its
outbox rows are the commands) and reporting what changed. Results are stored as the read model
stores them (``Database.store_results``); the hub's clock is a ``ManualClock``."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import sqlalchemy as sa

from gateway.audit import audit_log
from gateway.db import Database, cases, inquiries, outbox, webhook_deliveries
from gateway.feed import case_events
from gateway.main import create_app
from gateway.requery import Requery
from gateway.routes.termination import requery_loop
from gateway.termination import requeries, required_agencies
from hub.clock import ManualClock
from hub.settings import HubSettings
from schemas.identifiers import resident_id_check
from schemas.models import Case

START = dt.datetime(2026, 1, 10, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
ID = "42010619750313041" + resident_id_check("42010619750313041")
ID2 = "42010619900707123" + resident_id_check("42010619900707123")
DEBTORS = [
    {"name": "赵德明", "id_type": "resident_id", "id_number": ID},
    {"name": "钱无产", "id_type": "resident_id", "id_number": ID2},
]
WHO = {"officer": "officer-1", "purpose": "财产调查", "legal_basis": "(2026)鄂0111执1234号执行裁定书"}
BODY = {"approved_by": "judge-1", "reason": "经网络查控未发现可供执行的财产"}
# deposits at every bank, vehicles, real estate, securities: as this hub's agencies name them
REQUIRED = required_agencies(HubSettings(court_tokens="court-a:token-a").agencies)


class Hub:
    def __init__(self, app: Any, db: Database, clock: ManualClock, client: httpx.AsyncClient) -> None:
        self.app, self.db, self.clock, self.client = app, db, clock, client
        self.n = 0

    async def case(self, court_id: str = "court-a") -> str:
        self.n += 1
        body = Case.model_validate(
            {
                "case_number": f"(2026)鄂0111执{self.n}号",
                "applicant": {"name": "申请人甲"},
                "debtors": DEBTORS,
                "amount_owed": "100000.00",
                "case_id": f"case_{self.n}",
                "court_id": court_id,
                "created_at": self.clock.now(),
            }
        ).model_dump(mode="json")
        async with self.db.engine.begin() as conn:
            await self.db.insert_case(conn, body=body, idempotency_key=None, request_hash="x")
        return str(body["case_id"])

    async def answered(
        self, case_id: str, debtor: int, statuses: dict[str, str], assets: list[dict[str, Any]] | None = None
    ) -> str:
        """An inquiry of the debtor answered now (by the clock) with ``statuses`` per agency."""
        self.n += 1
        inquiry_id = f"inq_{self.n}"
        ref = {k: DEBTORS[debtor][k] for k in ("id_type", "id_number")}
        async with self.db.engine.begin() as conn:
            await self.db.insert_inquiry(
                conn,
                inquiry_id=inquiry_id,
                court_id="court-a",
                case_id=case_id,
                request={"case_id": case_id, "debtor": ref, "agencies": list(statuses), **WHO},
                idempotency_key=None,
                request_hash="x",
            )
        await self.settle(inquiry_id, case_id, statuses, assets or [])
        return inquiry_id

    async def settle(
        self,
        inquiry_id: str,
        case_id: str,
        statuses: dict[str, str],
        assets: list[dict[str, Any]],
        status: str = "complete",
    ) -> None:
        now = self.clock.now().isoformat()
        await self.db.store_results(
            [
                {
                    "inquiry_id": inquiry_id,
                    "case_id": case_id,
                    "court_id": "court-a",
                    "status": status,
                    "agencies": {a: {"status": s, "responded_at": now} for a, s in statuses.items()},
                    "assets": assets,
                    "version": 1,
                    "updated_at": now,
                    "completed_at": now,
                }
            ]
        )


def deposit(bank: str, ref: str, value: str) -> dict[str, Any]:
    return {
        "asset_id": f"{bank}/deposit/{ref}",
        "agency": bank,
        "kind": "deposit",
        "ref": ref,
        "value": value,
        "owner": {},
        "linkage": {"decision": "match", "score": 1.0},
        "details": {"available": value},
    }


def run(tmp_path: Path, scenario: Callable[[Hub], Awaitable[None]]) -> None:
    settings = HubSettings(
        court_tokens="court-a:token-a,court-b:token-b",
        court_judges="court-a:judge-1,court-b:judge-9",
        court_officers="court-a:officer-1,court-b:officer-9",
        court_webhooks="court-a:http://127.0.0.1:9/hook",
        webhook_secrets="court-a:secret",
        database_url=f"sqlite:///{tmp_path / 'hub.db'}",
        state_dir=tmp_path,
        ops_token=None,
    )
    app = create_app(settings)

    async def go() -> None:
        db = Database(settings.resolved_database_url)
        await db.create_schema()
        db.webhooks = settings.webhooks_by_court
        clock = ManualClock(START)
        app.state.db, app.state.clock = db, clock
        app.state.relay = SimpleNamespace(wake=asyncio.Event())
        app.state.read_model = SimpleNamespace(events_stored=asyncio.Event())
        transport = httpx.ASGITransport(app=app)
        auth = {"Authorization": "Bearer token-a"}
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://gw", headers=auth) as client:
                await scenario(Hub(app, db, clock, client))
        finally:
            await db.close()

    asyncio.run(go())


async def rows(db: Database, query: Any) -> list[Any]:
    async with db.engine.connect() as conn:
        return list((await conn.execute(query)).all())


def test_check_lists_what_is_missing_and_termination_is_refused_then_accepted(tmp_path: Path) -> None:
    async def scenario(hub: Hub) -> None:
        case_id = await hub.case()
        check = (await hub.client.get(f"/v1/cases/{case_id}/termination-check")).json()
        assert check["eligible"] is False and check["rules"]["required_agencies"] == REQUIRED
        reasons = {(m.get("debtor_index"), m.get("agency")): m["reason"] for m in check["missing"]}
        assert reasons[(None, None)] == "case_too_young"
        assert {k: v for k, v in reasons.items() if k[0] is not None} == {
            (d, a): "never_asked" for d in (0, 1) for a in REQUIRED
        }

        hub.clock.advance(days=91)
        for debtor in (0, 1):
            await hub.answered(case_id, debtor, {a: "no_record" for a in REQUIRED if a != "bank:boc"})
        await hub.answered(case_id, 1, {"bank:boc": "unavailable"})
        r = await hub.client.post(f"/v1/cases/{case_id}/termination", json=BODY)
        assert r.status_code == 422, r.text
        assert sorted((e["loc"], e["type"]) for e in r.json()["errors"]) == [
            (["termination_check", "debtors", 0, "agencies", "bank:boc"], "never_asked"),
            (["termination_check", "debtors", 1, "agencies", "bank:boc"], "not_answered"),
        ]
        assert not await rows(hub.db, sa.select(requeries))

        r = await hub.client.post(f"/v1/cases/{case_id}/termination", json={**BODY, "approved_by": "judge-9"})
        assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "approved_by"]
        r = await hub.client.post(f"/v1/cases/{case_id}/termination", json={**BODY, "reason": " \n "})
        assert r.status_code == 422 and r.json()["errors"][0]["loc"][-1] == "reason"

        for debtor in (0, 1):
            await hub.answered(case_id, debtor, {"bank:boc": "answered"})
        r = await hub.client.post(f"/v1/cases/{case_id}/termination", json=BODY)
        assert r.status_code == 201, r.text
        term = r.json()
        assert term["status"] == "terminated" and term["approved_by"] == "judge-1"
        assert term["terminated_at"] == hub.clock.now().isoformat()
        assert term["requery"]["next_due_at"] == (hub.clock.now() + 182 * DAY).isoformat()
        again = await hub.client.post(f"/v1/cases/{case_id}/termination", json={**BODY, "reason": "再次"})
        assert again.status_code == 200 and again.json() == term
        (status,) = await rows(hub.db, sa.select(cases.c.status).where(cases.c.case_id == case_id))
        assert status.status == "terminated"
        read = (await hub.client.get(f"/v1/cases/{case_id}")).json()
        assert (
            read["status"] == "terminated" and read["termination"]["termination_id"] == term["termination_id"]
        )

        # another court's case does not exist for court-a; court-b cannot see court-a's
        other = await hub.case(court_id="court-b")
        for path in ("termination-check", "termination", "resumption"):
            call = hub.client.get if path == "termination-check" else hub.client.post
            kwargs = {} if path == "termination-check" else {"json": BODY}
            assert (await call(f"/v1/cases/{other}/{path}", **kwargs)).status_code == 404  # type: ignore[operator]
        b = {"Authorization": "Bearer token-b"}
        assert (await hub.client.get(f"/v1/cases/{case_id}/termination-check", headers=b)).status_code == 404

        r = await hub.client.post(f"/v1/cases/{case_id}/resumption", json={**BODY, "reason": "发现新财产"})
        assert r.status_code == 200, r.text
        resumed = r.json()
        assert resumed["status"] == "resumed" and resumed["resume_reason"] == "发现新财产"
        assert resumed["requery"]["next_due_at"] is None
        assert (await hub.client.post(f"/v1/cases/{case_id}/resumption", json=BODY)).json() == resumed
        (status,) = await rows(hub.db, sa.select(cases.c.status).where(cases.c.case_id == case_id))
        assert status.status == "active"
        trail = await rows(hub.db, sa.select(audit_log).where(audit_log.c.case_id == case_id))
        steps = [(e.kind, e.actor) for e in trail if e.kind in ("termination", "resumption")]
        assert steps == [("termination", "judge-1"), ("resumption", "judge-1")]  # each once
        never = await hub.case()
        r = await hub.client.post(f"/v1/cases/{never}/resumption", json=BODY)
        assert r.status_code == 409 and r.json()["errors"][0]["type"] == "not_terminated"

    run(tmp_path, scenario)


def test_an_answer_older_than_the_limit_no_longer_counts(tmp_path: Path) -> None:
    async def scenario(hub: Hub) -> None:
        case_id = await hub.case()
        for debtor in (0, 1):
            await hub.answered(case_id, debtor, {a: "answered" for a in REQUIRED})
        hub.clock.advance(days=90)
        assert (await hub.client.get(f"/v1/cases/{case_id}/termination-check")).json()["eligible"] is True
        hub.clock.advance(days=1)
        check = (await hub.client.get(f"/v1/cases/{case_id}/termination-check")).json()
        assert {m["reason"] for m in check["missing"]} == {"answer_too_old"} and len(
            check["missing"]
        ) == 2 * len(REQUIRED)

    run(tmp_path, scenario)


async def terminated_case(hub: Hub) -> tuple[str, dict[str, Any]]:
    case_id = await hub.case()
    hub.clock.advance(days=91)
    await hub.answered(case_id, 0, {a: "answered" for a in REQUIRED}, [deposit("bank:icbc", "1", "100.00")])
    await hub.answered(case_id, 1, {a: "no_record" for a in REQUIRED})
    r = await hub.client.post(f"/v1/cases/{case_id}/termination", json=BODY)
    assert r.status_code == 201, r.text
    return case_id, r.json()


def test_requery_every_interval_once_per_debtor_and_period_with_the_difference_pushed(tmp_path: Path) -> None:
    async def scenario(hub: Hub) -> None:
        case_id, term = await terminated_case(hub)
        first, second = requery_loop(hub.app), requery_loop(hub.app)  # two gateways
        await first.run_once()
        assert not await rows(hub.db, sa.select(requeries))  # nothing due yet

        hub.clock.advance(days=182)
        await asyncio.gather(first.run_once(), second.run_once())
        await first.run_once()
        done = await rows(hub.db, sa.select(requeries).order_by(requeries.c.debtor_index))
        assert [(r.period, r.debtor_index, r.refused) for r in done] == [(1, 0, None), (1, 1, None)]
        asked = await rows(
            hub.db, sa.select(inquiries).where(inquiries.c.inquiry_id.in_([r.inquiry_id for r in done]))
        )
        assert len(asked) == 2
        for row in asked:  # the ordinary path: all agencies, the officer and legal basis carried over
            assert (
                row.request["officer"] == WHO["officer"] and row.request["legal_basis"] == WHO["legal_basis"]
            )
            assert "period 1" in row.request["purpose"] and row.idempotency_key.startswith(
                f"requery:{case_id}:"
            )
            assert set(REQUIRED) <= set(row.request["agencies"])
        commands = [json.loads(r.value) for r in await rows(hub.db, sa.select(outbox))]
        sent = {c["inquiry_id"] for c in commands if c.get("type") == "inquiry_requested"}
        assert {r.inquiry_id for r in asked} <= sent
        read = (await hub.client.get(f"/v1/cases/{case_id}")).json()
        assert (
            read["termination"]["requery"]["next_due_at"]
            == (dt.datetime.fromisoformat(term["terminated_at"]) + 364 * DAY).isoformat()
        )
        assert [q["period"] for q in read["requeries"]] == [1, 1]

        # results settle: debtor 0's balance changed and a new account appeared
        statuses = {a: "answered" for a in REQUIRED}
        await hub.settle(
            done[0].inquiry_id,
            case_id,
            statuses,
            [deposit("bank:icbc", "1", "250.00"), deposit("bank:ccb", "7", "9.00")],
        )
        await hub.settle(done[1].inquiry_id, case_id, {a: "no_record" for a in REQUIRED}, [])
        await asyncio.gather(first.run_once(), second.run_once())
        events = await rows(
            hub.db,
            sa.select(case_events).where(case_events.c.type == "requery_result").order_by(case_events.c.seq),
        )
        assert len(events) == 2
        data = {e.payload["debtor"]["index"]: e.payload for e in events}
        assert [a["ref"] for a in data[0]["changes"]["new"]] == ["7"]
        assert data[0]["changes"]["changed"][0]["changes"]["value"] == {"before": "100.00", "after": "250.00"}
        assert data[1]["changes"] == {
            "new": [],
            "gone": [],
            "changed": [],
            "unchanged": 0,
            "not_compared": [],
        }
        assert ID not in json.dumps([e.payload for e in events])  # no identity number in the event
        pushed = await rows(
            hub.db,
            sa.select(webhook_deliveries).where(
                webhook_deliveries.c.event_id.in_([e.event_id for e in events])
            ),
        )
        assert len(pushed) == 2 and json.loads(pushed[0].body)["type"] == "requery_result"
        served = (await hub.client.get(f"/v1/cases/{case_id}/events")).json()
        assert [e["event_id"] for e in served["items"] if e["type"] == "requery_result"] == [
            e.event_id for e in events
        ]

        # resumed: no more re-queries
        await hub.client.post(f"/v1/cases/{case_id}/resumption", json=BODY)
        hub.clock.advance(days=400)
        await first.run_once()
        assert len(await rows(hub.db, sa.select(requeries))) == 2

    run(tmp_path, scenario)


def test_a_requery_the_route_refuses_is_recorded_and_the_schedule_moves_on(tmp_path: Path) -> None:
    async def scenario(hub: Hub) -> None:
        case_id, _ = await terminated_case(hub)
        hub.app.state.settings = hub.app.state.settings.model_copy(
            update={"court_officers": "court-a:officer-2"}
        )
        loop: Requery = requery_loop(hub.app)
        hub.clock.advance(days=182 * 3 + 1)  # three periods passed: one re-query, for the newest
        await loop.run_once()
        done = await rows(hub.db, sa.select(requeries))
        assert {r.period for r in done} == {3} and all(r.inquiry_id is None for r in done)
        assert all("officer-1" in r.refused and "not an officer" in r.refused for r in done)
        read = (await hub.client.get(f"/v1/cases/{case_id}")).json()
        assert read["termination"]["requery"]["next_period"] == 4

    run(tmp_path, scenario)


def test_a_partial_requery_is_reported_once_it_stayed_partial_as_long_as_the_reconciler_waits(
    tmp_path: Path,
) -> None:
    async def scenario(hub: Hub) -> None:
        case_id, _ = await terminated_case(hub)
        loop = requery_loop(hub.app)
        hub.clock.advance(days=183)
        await loop.run_once()
        done = await rows(hub.db, sa.select(requeries).order_by(requeries.c.debtor_index))
        statuses = {a: "answered" for a in REQUIRED} | {"bank:icbc": "unavailable"}
        for r in done:
            await hub.settle(r.inquiry_id, case_id, statuses, [], status="partial")
        await loop.run_once()
        assert not await rows(hub.db, sa.select(case_events).where(case_events.c.type == "requery_result"))

        long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(
            seconds=4 * hub.app.state.settings.reconcile_grace_seconds
        )
        async with hub.db.engine.begin() as conn:
            await conn.execute(
                inquiries.update().where(inquiries.c.case_id == case_id).values(updated_at=long_ago)
            )
        await loop.run_once()
        events = await rows(hub.db, sa.select(case_events).where(case_events.c.type == "requery_result"))
        assert len(events) == 2
        first = next(e.payload for e in events if e.payload["debtor"]["index"] == 0)
        assert first["inquiry_status"] == "partial"
        # bank:icbc did not answer: its account is not reported gone, the agency is named instead
        assert first["changes"]["gone"] == [] and first["changes"]["not_compared"] == ["bank:icbc"]

    run(tmp_path, scenario)
