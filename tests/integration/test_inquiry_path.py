"""The inquiry path end to end on the real embedded broker: gateway → Kafka → connectors → registries
over HTTP → streams → read model → gateway."""

from __future__ import annotations

import time

import pytest

from .conftest import SLA_SECONDS, HubClient
from .planted import POOR, RICH, STRANGER, expected_rich_assets

pytestmark = pytest.mark.integration

# a default inquiry asks every agency: the five kinds and each configured bank
ALL_AGENCIES = {
    "police",
    "commerce",
    "real_estate",
    "land",
    "securities",
    "bank:icbc",
    "bank:ccb",
    "bank:boc",
}


def test_health_reports_every_component(hub: HubClient) -> None:
    r = hub.anon.get("/healthz")
    assert r.status_code == 200
    body = r.json()
    assert body["components"] == {
        "database": "ok",
        "kafka_producer": "ok",
        "broker": "ok",
        "read_model": "ok",
        "loops": "ok",
        "streams": "ok",
        "connectors": "ok",
        "services": "ok",  # the supervisor's services.json: nothing restarting or crash-looping
    }
    assert set(body["loops"]) == {
        "outbox relay",
        "read model",
        "webhooks",
        "reconciler",
        "re-query",
        "leads and payouts",
        "transfer deadlines",
        "watch hits",
        "watch republisher",
        "database probe",
    }
    assert all(loop["healthy"] for loop in body["loops"].values())


def test_debtor_with_assets_everywhere_gets_complete_result_with_exactly_those_assets(hub: HubClient) -> None:
    case_id = hub.create_case([RICH])
    result = hub.wait_result(hub.inquire(case_id, RICH))

    assert result["status"] == "complete"
    assert set(result["agencies"]) == ALL_AGENCIES
    found = {a["ref"]: (a["agency"], a["value"]) for a in result["assets"]}
    assert found == expected_rich_assets()
    for agency in ("police", "commerce", "real_estate", "land", "securities", "bank:icbc", "bank:ccb"):
        assert result["agencies"][agency]["status"] == "answered", agency
    assert result["agencies"]["bank:boc"]["status"] == "no_record"
    for asset in result["assets"]:
        assert asset["linkage"]["decision"] == "match"
        assert asset["linkage"]["evidence"], "every asset states why it was linked"
    # the namesake's account at ICBC came back from the registry but is not the debtor's
    assert result["agencies"]["bank:icbc"]["excluded_non_matches"] == 1
    assert result["excluded_non_matches"] == 1
    # existing controls by other courts are shown
    ccb = next(a for a in result["assets"] if a["agency"] == "bank:ccb")
    assert ccb["controls"][0]["amount"] == "2000.00"

    case = hub.court_a.get(f"/v1/cases/{case_id}").json()
    assert {a["ref"] for a in case["assets"]} == set(expected_rich_assets())
    assert case["inquiries"][0]["status"] == "complete"


def test_debtor_without_assets_gets_complete_with_none(hub: HubClient) -> None:
    case_id = hub.create_case([POOR])
    result = hub.wait_result(hub.inquire(case_id, POOR))
    assert result["status"] == "complete"
    assert result["assets"] == []
    assert {a["status"] for a in result["agencies"].values()} == {"no_record"}


def test_registry_in_outage_gives_partial_within_sla(hub: HubClient) -> None:
    hub.set_faults("land", outage=True)
    try:
        case_id = hub.create_case([RICH])
        started = time.monotonic()
        result = hub.wait_result(hub.inquire(case_id, RICH), timeout=SLA_SECONDS + 10)
        elapsed = time.monotonic() - started
    finally:
        hub.set_faults("land", outage=False)
    assert result["status"] == "partial"
    assert elapsed < SLA_SECONDS + 3, f"partial result took {elapsed:.1f} s"
    assert result["agencies"]["land"]["status"] == "unavailable"
    assert result["agencies"]["land"]["detail"]
    others = {k: v["status"] for k, v in result["agencies"].items() if k != "land"}
    assert set(others.values()) <= {"answered", "no_record"}
    assert "land" not in {a["agency"] for a in result["assets"]}


def test_only_selected_agencies_are_asked(hub: HubClient) -> None:
    case_id = hub.create_case([RICH])
    result = hub.wait_result(hub.inquire(case_id, RICH, agencies=["bank", "police"]))
    assert set(result["agencies"]) == {"police", "bank:icbc", "bank:ccb", "bank:boc"}
    assert result["status"] == "complete"


def test_idempotency_key_repeat_returns_the_first_inquiry(hub: HubClient) -> None:
    case_id = hub.create_case([RICH])
    body = {"case_id": case_id, "debtor": {"id_type": "resident_id", "id_number": RICH["id_number"]}}
    body |= hub.asking()
    first = hub.court_a.post("/v1/inquiries", json=body, headers={"Idempotency-Key": f"k-{case_id}"})
    again = hub.court_a.post("/v1/inquiries", json=body, headers={"Idempotency-Key": f"k-{case_id}"})
    assert first.status_code == again.status_code == 202
    assert first.json()["inquiry_id"] == again.json()["inquiry_id"]
    case = hub.court_a.get(f"/v1/cases/{case_id}").json()
    assert len(case["inquiries"]) == 1
    other = hub.court_a.post(
        "/v1/inquiries", json={**body, "agencies": ["land"]}, headers={"Idempotency-Key": f"k-{case_id}"}
    )
    assert other.status_code == 409


def test_another_court_cannot_see_the_case_or_inquiry(hub: HubClient) -> None:
    case_id = hub.create_case([RICH])
    inquiry_id = hub.inquire(case_id, RICH)
    assert hub.court_b.get(f"/v1/cases/{case_id}").status_code == 404
    assert hub.court_b.get(f"/v1/inquiries/{inquiry_id}").status_code == 404
    missing = hub.court_b.get("/v1/cases/case_doesnotexist")
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json() == {
        "type": "urn:enforcement-hub:problem:not-found",
        "title": "Not found",
        "status": 404,
        "detail": "Case case_doesnotexist not found.",
    }
    r = hub.court_b.post(
        "/v1/inquiries",
        json={
            "case_id": case_id,
            "debtor": {"id_type": "resident_id", "id_number": RICH["id_number"]},
            **hub.asking(hub.court_b),
        },
    )
    assert r.status_code == 404
    assert hub.anon.get(f"/v1/cases/{case_id}").status_code == 401
    bad = hub.anon.get(f"/v1/cases/{case_id}", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401


def test_inquiry_about_someone_not_a_debtor_is_refused_with_reason(hub: HubClient) -> None:
    case_id = hub.create_case([RICH])
    r = hub.court_a.post(
        "/v1/inquiries",
        json={
            "case_id": case_id,
            "debtor": {"id_type": "resident_id", "id_number": STRANGER["id_number"]},
            **hub.asking(),
        },
    )
    assert r.status_code == 422
    detail = r.json()["errors"][0]
    assert detail["loc"] == ["body", "debtor"]
    assert "not a debtor" in detail["msg"]


@pytest.mark.parametrize(
    ("body_change", "loc", "reason"),
    [
        (
            {"debtors": [{"name": "张伟", "id_type": "resident_id", "id_number": "110101198001010011"}]},
            ["body", "debtors", 0, "id_number"],
            "check character mismatch",
        ),
        (
            {"debtors": [{"name": "张伟", "id_type": "resident_id", "id_number": "110101190002290012"}]},
            ["body", "debtors", 0, "id_number"],
            "impossible birth date",
        ),
        ({"amount_owed": 100.5}, ["body", "amount_owed"], "not a float"),
        ({"case_number": "2026 case 1234"}, ["body", "case_number"], "enforcement case number"),
        ({"debtors": []}, ["body", "debtors"], "at least 1"),
    ],
)
def test_bad_case_bodies_get_422_naming_field_and_reason(
    hub: HubClient, body_change: dict[str, object], loc: list[object], reason: str
) -> None:
    body = {
        "case_number": "(2026)鄂0111执1234号",
        "applicant": {"name": "甲"},
        "debtors": [RICH],
        "amount_owed": "100.00",
        **body_change,
    }
    r = hub.court_a.post("/v1/cases", json=body)
    assert r.status_code == 422, r.text
    errors = r.json()["errors"]
    assert any(e["loc"] == loc and reason in e["msg"] for e in errors), errors


def test_unknown_agency_and_malformed_json_are_4xx(hub: HubClient) -> None:
    case_id = hub.create_case([RICH])
    r = hub.court_a.post(
        "/v1/inquiries",
        json={
            "case_id": case_id,
            "debtor": {"id_type": "resident_id", "id_number": RICH["id_number"]},
            "agencies": ["bank:nosuch"],
            **hub.asking(),
        },
    )
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "agencies"]
    r = hub.court_a.post("/v1/inquiries", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 422
