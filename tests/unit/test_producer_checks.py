"""Producer checks (streams/producer_checks.py, gateway/producer_checks.py): a message that disagrees
with what the hub stored about its subject is refused with the field and the reason."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from gateway.db import Database, control_orders, inquiries
from gateway.producer_checks import screen
from hub.errors import ForgedMessage
from schemas.models import (
    AgencyResponse,
    Applicant,
    Case,
    CaseRegistered,
    ControlOutcome,
    DeadlineReached,
    Party,
)
from streams import producer_checks as checks

NOW = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)
DEBTOR = Party(name="张三", id_type="resident_id", id_number="110101198001010010")


def _case(court: str) -> Case:
    return Case(
        case_id="case_1",
        court_id=court,
        created_at=NOW,
        case_number="(2026)鄂0111执1号",
        applicant=Applicant(name="甲"),
        debtors=[DEBTOR],
        amount_owed="100.00",
        costs="0.00",
    )


def _response(**change: Any) -> AgencyResponse:
    fields: dict[str, Any] = {
        "request_id": "inq_1/police",
        "inquiry_id": "inq_1",
        "case_id": "case_1",
        "agency": "police",
        "status": "no_record",
        "responded_at": NOW,
        "idempotency_key": "k",
    }
    return AgencyResponse(**{**fields, **change})


def test_stream_checks_refuse_what_disagrees_with_the_tables() -> None:
    entry = {"case": _case("court-a").model_dump(mode="json")}
    checks.check_case_registration(entry, CaseRegistered(case=_case("court-a"), idempotency_key="k"))
    with pytest.raises(ForgedMessage, match=r"^case\.court_id: case case_1 is registered for another court"):
        checks.check_case_registration(entry, CaseRegistered(case=_case("court-b"), idempotency_key="k"))

    state = {"opened": {"inquiry_id": "inq_1", "case_id": "case_1", "agencies": ["police"]}, "responses": {}}
    checks.check_response(state, _response())
    checks.check_response(None, _response())  # before the opened record: judged when it arrives
    for change, reason in (
        ({"request_id": "inq_9/police"}, "^request_id: "),
        ({"agency": "land", "request_id": "inq_1/land"}, "^agency: land was not asked"),
        ({"case_id": "case_9"}, "^case_id: case_9 is not the case"),
    ):
        with pytest.raises(ForgedMessage, match=reason):
            checks.check_response(state, _response(**change))

    early = {
        **state,
        "responses": {"police": {"case_id": "case_9", "stored": [0]}, "land": {"case_id": "case_1"}},
        "parts": {"inq_1|police|1": []},
    }
    found = checks.early_mismatches(early)
    assert set(found) == {"police", "land"} and found["land"].startswith("agency: land was not asked")
    assert checks.drop_responses("inq_1", early, list(found)) == ["inq_1|police|0"]
    assert early["responses"] == {} and early["parts"] == {}

    ledger_entry = {
        "case": entry["case"],
        "ledger": {"orders": {"ord_1": {"agency": "bank:icbc", "ref": "6222"}}},
    }
    outcome = ControlOutcome(
        order_id="ord_1:expire",
        case_id="case_1",
        court_id="court-a",
        agency="bank:icbc",
        asset_ref="6222",
        action="freeze",
        outcome="expired",
        decided_at=NOW,
        idempotency_key="k",
    )
    checks.check_control_outcome(ledger_entry, outcome)
    for change, reason in (
        ({"order_id": "ord_2"}, "^order_id: case case_1 has no order ord_2"),
        ({"court_id": "court-b"}, "^court_id: "),
        ({"agency": "bank:boc"}, "^agency: "),
        ({"asset_ref": "9999"}, "^asset_ref: "),
    ):
        with pytest.raises(ForgedMessage, match=reason):
            checks.check_control_outcome(ledger_entry, outcome.model_copy(update=change))
    with pytest.raises(ForgedMessage, match=r"^case_id: no ledger"):
        checks.check_control_outcome(None, outcome)

    checks.check_deadline(DeadlineReached(inquiry_id="inq_1", at=NOW), NOW)
    with pytest.raises(ForgedMessage, match=r"^at: "):
        checks.check_deadline(DeadlineReached(inquiry_id="inq_1", at=NOW + dt.timedelta(hours=1)), NOW)


def test_the_read_model_screen_keeps_what_matches_the_stored_inquiry_order_and_case(tmp_path: Path) -> None:
    async def run() -> None:
        db = Database(f"sqlite:///{tmp_path / 'hub.db'}")
        await db.create_schema()
        try:
            async with db.engine.begin() as conn:
                await db.insert_case(
                    conn,
                    body={
                        "case_id": "case_a",
                        "court_id": "court-a",
                        "case_number": "(2026)1号",
                        "debtors": [],
                    },
                    idempotency_key=None,
                    request_hash="x",
                )
                for table, values in (
                    (inquiries, {"inquiry_id": "inq_a", "request": {}, "status": "pending", "version": 0}),
                    (
                        control_orders,
                        {
                            "order_id": "ord_a",
                            "asset_id": "bank:icbc/deposit/1",
                            "request": {},
                            "status": "pending",
                        },
                    ),
                ):
                    await conn.execute(
                        table.insert().values(
                            court_id="court-a", case_id="case_a", created_at=NOW, updated_at=NOW, **values
                        )
                    )

            def result(**change: Any) -> dict[str, Any]:
                return {"inquiry_id": "inq_a", "case_id": "case_a", "court_id": "court-a", **change}

            def event(**change: Any) -> dict[str, Any]:
                order = {
                    "order_id": "ord_a",
                    "case_id": "case_a",
                    "court_id": "court-a",
                    "asset_id": "bank:icbc/deposit/1",
                }
                order.update(change.pop("order", {}))
                return {
                    "event_id": "e",
                    "order_id": "ord_a",
                    "case_id": "case_a",
                    "court_id": "court-a",
                    "order": order,
                    **change,
                }

            results = [
                ("ok", result()),
                ("other court", result(court_id="court-b")),
                ("other case", result(case_id="case_b")),
                ("unknown inquiry, own case", result(inquiry_id="inq_new")),
                ("unknown inquiry, another court's case", result(inquiry_id="inq_new", court_id="court-b")),
            ]
            events = [
                ("ok", event()),
                ("other court", event(court_id="court-b", order={"court_id": "court-b"})),
                ("other asset", event(order={"asset_id": "bank:icbc/deposit/2"})),
                ("state disagrees", event(order={"case_id": "case_b"})),
                (
                    "unknown order, another court's case",
                    event(
                        order_id="ord_new",
                        court_id="court-b",
                        order={"order_id": "ord_new", "court_id": "court-b"},
                    ),
                ),
            ]
            kept_r, kept_e, refused = await screen(db, results, events)
            assert [m for m, _ in kept_r] == ["ok", "unknown inquiry, own case"]
            assert [m for m, _ in kept_e] == ["ok"]
            reasons = {m: str(e) for m, e in refused}
            assert len(refused) == 7
            assert reasons["other court"].startswith("court_id: 'court-b' is not the court_id of")
            assert reasons["other asset"].startswith("order.asset_id: ")
            assert reasons["state disagrees"].startswith("order.case_id: ")
            assert (
                "is unknown and case case_a is not a case of court court-b"
                in reasons["unknown order, another court's case"]
            )
        finally:
            await db.close()

    asyncio.run(run())
