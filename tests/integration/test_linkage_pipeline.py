"""Identity linkage through the real pipeline: records kept under each registry's own spelling of
the debtor are linked to the debtor, and other people's are excluded and counted."""

from __future__ import annotations

import pytest

from .conftest import HubClient
from .planted import COMPANY, COMPANY_ORG, LEGACY_DEBTOR, LEGACY_ID_15, RICH

pytestmark = pytest.mark.integration


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
