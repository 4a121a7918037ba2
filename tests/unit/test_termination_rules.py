"""The 终本 rules as pure functions: the termination check, the re-query schedule and what changed
between two results of a debtor."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

from gateway.requery import asset_changes
from gateway.termination import due_at, period_due, requery_ends_at, required_agencies, termination_check
from schemas.identifiers import resident_id_check

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
AGENCIES = ["police", "commerce", "real_estate", "land", "bank:icbc", "bank:ccb"]
REQUIRED = ["police", "real_estate", "bank:icbc", "bank:ccb"]
ID = "42010619750313041" + resident_id_check("42010619750313041")
OTHER_ID = "42010619900707123" + resident_id_check("42010619900707123")
DEBTOR = {"name": "赵德明", "id_type": "resident_id", "id_number": ID}
OTHER = {"name": "钱无产", "id_type": "resident_id", "id_number": OTHER_ID}


def case(
    created: dt.datetime = NOW - 100 * DAY, debtors: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    return {"case_id": "case_1", "created_at": created.isoformat(), "debtors": debtors or [DEBTOR]}


def inquiry(
    inquiry_id: str,
    answered_at: dt.datetime,
    statuses: dict[str, str],
    debtor: dict[str, str] = DEBTOR,
) -> Any:
    return SimpleNamespace(
        inquiry_id=inquiry_id,
        created_at=answered_at,
        request={
            "debtor": {"id_type": debtor["id_type"], "id_number": debtor["id_number"]},
            "agencies": list(statuses),
        },
        result={
            "status": "complete",
            "updated_at": answered_at.isoformat(),
            "completed_at": answered_at.isoformat(),
            "agencies": {
                a: {"status": s, "responded_at": answered_at.isoformat()} for a, s in statuses.items()
            },
        },
    )


def check(the_case: dict[str, Any], rows: list[Any]) -> dict[str, Any]:
    return termination_check(the_case, rows, AGENCIES, NOW, min_case_age_days=90, inquiry_max_age_days=90)


def missing(result: dict[str, Any]) -> dict[tuple[Any, ...], str]:
    return {
        ("case",) if m["what"] == "case_age" else (m["debtor_index"], m["agency"]): m["reason"]
        for m in result["missing"]
    }


def test_required_agencies_are_those_holding_deposits_vehicles_real_estate_securities() -> None:
    assert required_agencies(AGENCIES) == REQUIRED


def test_every_required_agency_answered_recently_and_an_old_case_is_eligible() -> None:
    rows = [
        inquiry(
            "inq_1",
            NOW - 10 * DAY,
            {"police": "answered", "real_estate": "no_record", "bank:icbc": "answered"},
        ),
        inquiry(
            "inq_2", NOW - 2 * DAY, {"bank:ccb": "no_record", "land": "unavailable"}
        ),  # land is not required
    ]
    result = check(case(), rows)
    assert result["eligible"] and result["missing"] == []
    states = result["debtors"][0]["agencies"]
    assert set(states) == set(REQUIRED)
    assert states["bank:ccb"]["inquiry_id"] == "inq_2" and states["bank:ccb"]["status"] == "no_record"
    assert states["police"]["valid_until"] == (NOW - 10 * DAY + 90 * DAY).isoformat()
    assert result["case_age"]["ok"] and result["rules"]["required_agencies"] == REQUIRED


def test_what_is_missing_and_why() -> None:
    rows = [
        inquiry("inq_old", NOW - 120 * DAY, {"police": "answered", "real_estate": "answered"}),
        inquiry("inq_new", NOW - 5 * DAY, {"real_estate": "unavailable", "bank:icbc": "answered"}),
    ]
    result = check(case(created=NOW - 30 * DAY), rows)
    assert not result["eligible"]
    assert missing(result) == {
        ("case",): "case_too_young",
        (0, "police"): "answer_too_old",
        (0, "real_estate"): "not_answered",  # asked again after the old answer, no answer this time
        (0, "bank:ccb"): "never_asked",
    }
    by_agency = {m.get("agency"): m for m in result["missing"]}
    assert (
        by_agency["real_estate"]["status"] == "unavailable"
        and by_agency["real_estate"]["inquiry_id"] == "inq_new"
    )
    assert by_agency["police"]["last_answered_at"] == (NOW - 120 * DAY).isoformat()
    assert "120 days ago" in by_agency["police"]["detail"]
    assert result["case_age"]["eligible_from"] == (NOW + 60 * DAY).isoformat()


def test_each_debtor_needs_its_own_answers_and_a_pending_agency_is_not_an_answer() -> None:
    full = {a: "answered" for a in REQUIRED}
    rows = [
        inquiry("inq_a", NOW - DAY, full),
        inquiry("inq_b", NOW - DAY, {**full, "bank:ccb": "pending"}, debtor=OTHER),
    ]
    result = check(case(debtors=[DEBTOR, OTHER]), rows)
    assert missing(result) == {(1, "bank:ccb"): "not_answered"}
    assert result["debtors"][0]["ok"] and not result["debtors"][1]["ok"]


def test_an_inquiry_asked_but_not_yet_answered_counts_as_asked() -> None:
    pending = SimpleNamespace(
        inquiry_id="inq_p",
        created_at=NOW - DAY,
        request={"debtor": {"id_type": "resident_id", "id_number": ID}, "agencies": REQUIRED},
        result=None,
    )
    result = check(case(), [pending])
    assert set(missing(result).values()) == {"not_answered"}
    assert {m["status"] for m in result["missing"]} == {"pending"}
    rejected = SimpleNamespace(**{**vars(pending), "result": {"status": "rejected", "agencies": {}}})
    assert {m["status"] for m in check(case(), [rejected])["missing"]} == {"rejected"}


def test_the_schedule_runs_every_interval_for_the_years_and_catches_up_once() -> None:
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    ends = requery_ends_at(start, 5)
    assert ends == dt.datetime(2031, 1, 1, tzinfo=dt.UTC)
    assert due_at(start, 1, 182) == start + 182 * DAY
    assert period_due(start, ends, 182, start + 181 * DAY) == 0
    assert period_due(start, ends, 182, start + 182 * DAY) == 1
    assert period_due(start, ends, 182, start + 400 * DAY) == 2  # one re-query for the newest period
    assert period_due(start, ends, 182, start + 20 * 365 * DAY) == 10  # 10 × 182 days fit in 5 years
    assert period_due(start, ends, 182, start - DAY) == 0
    leap = dt.datetime(2028, 2, 29, tzinfo=dt.UTC)
    assert requery_ends_at(leap, 5) == dt.datetime(2033, 2, 28, tzinfo=dt.UTC)


def asset(agency: str, ref: str, value: str, **extra: Any) -> dict[str, Any]:
    kind = "deposit" if agency.startswith("bank:") else "vehicle"
    return {
        "asset_id": f"{agency}/{kind}/{ref}",
        "agency": agency,
        "kind": kind,
        "ref": ref,
        "value": value,
        "linkage": {"decision": "match"},
        **extra,
    }


def result(assets: list[dict[str, Any]], **statuses: str) -> dict[str, Any]:
    agencies = {
        a.replace("_", ":", 1) if a.startswith("bank_") else a: {"status": s} for a, s in statuses.items()
    }
    return {"assets": assets, "agencies": agencies}


def test_changes_by_asset_new_gone_and_changed_balances_and_controls() -> None:
    freeze = {"court": "court-x", "action": "freeze", "status": "effective", "amount": "2000.00"}
    before = result(
        [
            asset("bank:icbc", "1", "100.00", details={"available": "100.00"}),
            asset("bank:ccb", "2", "500.00", details={"available": "0.00"}, controls=[freeze]),
            asset("police", "A1", "90000.00"),
            asset("bank:boc", "3", "7.00"),
        ],
        bank_icbc="answered",
        bank_ccb="answered",
        police="answered",
        bank_boc="answered",
    )
    after = result(
        [
            asset("bank:icbc", "1", "150.00", details={"available": "150.00"}),
            asset(
                "bank:ccb",
                "2",
                "500.00",
                details={"available": "500.00"},
                controls=[{**freeze, "status": "expired"}],
            ),
            asset("police", "A1", "90000.00"),
            asset("bank:icbc", "9", "42.00"),
        ],
        bank_icbc="answered",
        bank_ccb="answered",
        police="answered",
        bank_boc="unavailable",
    )
    changes = asset_changes(before, after)
    assert [a["ref"] for a in changes["new"]] == ["9"]
    assert changes["gone"] == []  # bank:boc did not answer: its account is not known to be gone
    assert changes["not_compared"] == ["bank:boc"]
    assert changes["unchanged"] == 1
    changed = {c["ref"]: c["changes"] for c in changes["changed"]}
    assert changed["1"] == {
        "value": {"before": "100.00", "after": "150.00"},
        "available": {"before": "100.00", "after": "150.00"},
    }
    assert set(changed["2"]) == {"available", "controls"}
    assert changed["2"]["controls"]["after"][0]["status"] == "expired"

    after_all = {**after, "agencies": {**after["agencies"], "bank:boc": {"status": "no_record"}}}
    assert [a["ref"] for a in asset_changes(before, after_all)["gone"]] == ["3"]


def test_without_a_previous_result_everything_is_new() -> None:
    now = result([asset("police", "A1", "1.00")], police="answered")
    changes = asset_changes(None, now)
    assert [a["asset_id"] for a in changes["new"]] == ["police/vehicle/A1"]
    assert changes["new"][0] == {
        "asset_id": "police/vehicle/A1",
        "ref": "A1",
        "agency": "police",
        "kind": "vehicle",
        "value": "1.00",
        "linkage": "match",
    }
