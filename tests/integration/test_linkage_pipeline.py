"""Identity linkage through the real pipeline: records kept under each registry's own spelling of
the debtor are linked to the debtor, and other people's are excluded and counted."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from .conftest import HubClient
from .planted import (
    COMPANY,
    COMPANY_ORG,
    FORM_COMPANY,
    FORM_COMPANY_FLAT,
    HOLDING_ACCOUNT,
    LEGACY_DEBTOR,
    LEGACY_ID_15,
    LING,
    LING_ID_ACCOUNT,
    LING_NO_ID_ACCOUNT,
    MINORITY,
    MINORITY_NAMESAKE_ACCOUNT,
    MINORITY_RECORDS,
    OLD_COMPANY,
    OLD_COMPANY_ACCOUNT,
    PLACEHOLDER_ACCOUNT,
    RICH,
    SIBLING_ACCOUNT,
    SIBLING_DEBTOR,
    UNCHECKED_ACCOUNT,
    UNCHECKED_CODE,
    UNCHECKED_COMPANY,
)

pytestmark = pytest.mark.integration


_FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


def _evidence(asset: dict) -> set[str]:
    return {f"{e['field']}:{e['outcome']}" for e in asset["linkage"]["evidence"]}


def test_legacy_number_and_spelling_variants_link_to_the_person(hub: HubClient) -> None:
    _case_id, assets = hub.find_assets(LEGACY_DEBTOR)
    land = assets["420106-080-0008"]
    assert land["owner"]["id_number"] == LEGACY_ID_15, "the registry's own record is shown as recorded"
    assert land["linkage"]["decision"] == "match"
    assert any("legacy" in e for e in _evidence(land)), _evidence(land)
    vehicle = assets["鄂A80008"]
    assert vehicle["owner"]["name"] == "陈 建国"
    assert vehicle["linkage"]["decision"] == "match"


def test_old_organisation_code_and_legal_form_variant_link_to_the_company(hub: HubClient) -> None:
    _case_id, assets = hub.find_assets(COMPANY)
    account = assets["6222020200800000009"]
    assert account["owner"]["id_number"] == COMPANY_ORG
    assert account["linkage"]["decision"] == "match"
    assert any("org" in e for e in _evidence(account)), _evidence(account)
    assert len([a for a in assets.values() if a["agency"] == "commerce"]) == 1


def test_a_namesakes_assets_are_excluded_but_counted(hub: HubClient) -> None:
    case_id = hub.create_case([RICH])
    result = hub.wait_result(hub.inquire(case_id, RICH, agencies=["bank:icbc"]))
    assert result["excluded_non_matches"] == 1
    assert "6222020200799999999" not in {a["ref"] for a in result["assets"]}


# ---------------------------------------------------------------- issue 8: spelling must not lose records


def _errors(response: httpx.Response) -> list[dict[str, Any]]:
    body = response.json()
    errors = body["errors"]
    assert isinstance(errors, list), body
    return errors


def _found(hub: HubClient, debtor: dict[str, Any], agencies: list[str]) -> tuple[str, dict[str, Any]]:
    """Register a case against ``debtor``, ask ``agencies`` only: (case id, assets by ref). Every
    agency asked must have settled with an answer, so a missing asset is linkage's doing."""
    case_id = hub.create_case([debtor])
    result = hub.wait_result(hub.inquire(case_id, debtor, agencies=agencies))
    assert result["status"] == "complete", result["agencies"]
    return case_id, {a["ref"]: a for a in result["assets"]}


def _linked(asset: dict[str, Any]) -> tuple[str, set[str]]:
    return asset["linkage"]["decision"], _evidence(asset)


def test_minority_name_records_under_other_separators_reach_the_court_as_possible(hub: HubClient) -> None:
    """The registries' name search folds the separator, so records without an identifier spelt
    买买提．吐尔逊 (bank), 买买提吐尔逊 (police) and 买买提・吐尔逊 (land) come back for 买买提·吐尔逊;
    a namesake with another identifier stays excluded and counted."""
    case_id = hub.create_case([MINORITY])
    result = hub.wait_result(hub.inquire(case_id, MINORITY, agencies=["bank", "police", "land"]))
    assert result["status"] == "complete", result["agencies"]
    assets = {a["ref"]: a for a in result["assets"]}
    for ref, (agency, name) in MINORITY_RECORDS.items():
        assert ref in assets, f"{agency} record spelt {name} never reached linkage: {result['agencies']}"
        assert (assets[ref]["agency"], assets[ref]["owner"]["name"]) == (agency, name)
        decision, evidence = _linked(assets[ref])
        assert decision == "possible"
        assert {"identifier:missing", "name:equal"} <= evidence, evidence
    assert MINORITY_NAMESAKE_ACCOUNT not in assets
    assert result["agencies"]["bank:ccb"]["excluded_non_matches"] >= 1


def test_ling_written_o_or_zero_links(hub: HubClient) -> None:
    _case_id, assets = _found(hub, LING, ["bank:icbc", "bank:boc"])
    assert _linked(assets[LING_NO_ID_ACCOUNT]) == ("possible", {"identifier:missing", "name:equal"})
    assert _linked(assets[LING_ID_ACCOUNT]) == ("match", {"identifier:exact", "name:equal"})


def test_legal_form_spelling_without_identifier_and_a_holding_companys_record(hub: HubClient) -> None:
    """The debtor's identifier typed with spaces is cleaned; a record spelt 有限责任公司 without an
    identifier is possible; the holding company's record carrying the debtor's code is possible."""
    spaced = dict(
        FORM_COMPANY,
        id_number=f"{FORM_COMPANY['id_number'][:2]} {FORM_COMPANY['id_number'][2:8]} "
        f"{FORM_COMPANY['id_number'][8:]}",
    )
    case_id, assets = _found(hub, spaced, ["real_estate", "bank:icbc"])
    case = hub.court_a.get(f"/v1/cases/{case_id}").json()
    assert case["debtors"][0]["id_number"] == FORM_COMPANY["id_number"]
    assert _linked(assets[FORM_COMPANY_FLAT]) == ("possible", {"identifier:missing", "name:org_form"})
    decision, evidence = _linked(assets[HOLDING_ACCOUNT])
    assert decision == "possible" and "identifier:exact" in evidence, evidence


def test_a_siblings_name_on_the_debtors_id_and_a_placeholder_id(hub: HubClient) -> None:
    full_width = dict(SIBLING_DEBTOR, id_number=SIBLING_DEBTOR["id_number"].translate(_FULL_WIDTH))
    _case_id, assets = _found(hub, full_width, ["bank:ccb", "bank:boc"])
    decision, evidence = _linked(assets[SIBLING_ACCOUNT])
    assert decision == "possible" and "identifier:exact" in evidence, evidence
    assert _linked(assets[PLACEHOLDER_ACCOUNT]) == ("possible", {"identifier:missing", "name:equal"})


def test_a_company_known_by_its_old_business_registration_number(hub: HubClient) -> None:
    _case_id, assets = _found(hub, OLD_COMPANY, ["bank:icbc"])
    assert _linked(assets[OLD_COMPANY_ACCOUNT]) == ("match", {"identifier:exact", "name:equal"})


def test_an_issued_code_failing_its_check_is_registered_with_an_override(hub: HubClient) -> None:
    without = {k: v for k, v in UNCHECKED_COMPANY.items() if k != "check_override"}
    body = {"case_number": "(2026)鄂0111执1234号", "applicant": {"name": "申请人甲"}, "amount_owed": "100.00"}
    refused = hub.court_a.post("/v1/cases", json={**body, "debtors": [without]})
    assert refused.status_code == 422
    (error,) = _errors(refused)
    assert error["loc"][-3:] == ["debtors", 0, "id_number"] and "check character mismatch" in error["msg"]
    needless = hub.court_a.post(
        "/v1/cases", json={**body, "debtors": [{**FORM_COMPANY, "check_override": "x"}]}
    )
    assert needless.status_code == 422
    assert _errors(needless)[0]["loc"][-3:] == ["debtors", 0, "check_override"]

    case_id, assets = _found(hub, UNCHECKED_COMPANY, ["bank:icbc"])
    case = hub.court_a.get(f"/v1/cases/{case_id}").json()
    assert case["debtors"][0]["check_override"] == UNCHECKED_COMPANY["check_override"]
    assert _linked(assets[UNCHECKED_ACCOUNT]) == ("match", {"identifier:exact", "name:equal"})

    other_case = hub.create_case([LING])
    asked = hub.court_a.post(
        "/v1/inquiries",
        json={
            "case_id": other_case,
            "debtor": {"id_type": "uscc", "id_number": UNCHECKED_CODE},
            **hub.asking(),
        },
    )
    assert asked.status_code == 422
    (error,) = _errors(asked)
    assert error["loc"][-2:] == ["debtor", "id_number"]
    assert "check character mismatch" in error["msg"]
