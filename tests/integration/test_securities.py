"""The securities depository through the real pipeline: a default inquiry asks it and finds a planted
account with its holdings; a court's freeze of part of its market value becomes effective at the
registry, secures that much for the case, shows on the next inquiry, and is released."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from .conftest import HubClient
from .planted_securities import SECURITIES_ACCOUNT, SECURITIES_DEBTOR, SECURITIES_HOLDINGS

pytestmark = pytest.mark.integration
SETTLED = {"effective", "waiting", "partial", "rejected", "failed"}


def _complete(hub: HubClient, case_id: str) -> dict[str, Any]:
    """A default inquiry (no ``agencies``: every agency) every agency answered."""
    for _ in range(6):  # under heavy load an agency can miss the SLA; a new inquiry asks again
        result = hub.wait_result(hub.inquire(case_id, SECURITIES_DEBTOR))
        if result["status"] == "complete":
            return result
    raise AssertionError(f"no complete inquiry: {result['agencies']}")


def _account(result: dict[str, Any]) -> dict[str, Any]:
    (account,) = [a for a in result["assets"] if a["ref"] == SECURITIES_ACCOUNT]
    return account


def _in_force(account: dict[str, Any]) -> list[tuple[str, str, int]]:
    return [
        (c["court"], c["amount"], c["position"])
        for c in account["controls"]
        if c["status"] in ("effective", "waiting")
    ]


def test_a_default_inquiry_finds_the_securities_account_with_its_holdings(hub: HubClient) -> None:
    assert "securities" in hub.settings.agencies
    case_id = hub.create_case([SECURITIES_DEBTOR])
    result = _complete(hub, case_id)

    assert set(result["agencies"]) == set(hub.settings.agencies)
    assert result["agencies"]["securities"]["status"] == "answered"
    assert result["agencies"]["securities"]["assets"] == 1
    linked = {a["agency"] for a in result["assets"] if a["linkage"]["decision"] == "match"}
    assert linked == {"securities"}  # nothing else was planted for the debtor
    account = _account(result)
    assert account["asset_id"] == f"securities/securities/{SECURITIES_ACCOUNT}"
    assert (account["agency"], account["kind"], account["value"]) == ("securities", "securities", "120000.00")
    assert account["linkage"]["decision"] == "match" and account["linkage"]["evidence"]
    assert account["owner"]["id_number"] == SECURITIES_DEBTOR["id_number"]
    assert account["details"]["holdings"] == SECURITIES_HOLDINGS
    assert account["details"]["frozen_value"] == "20000.00"
    assert account["details"]["account_type"] == "人民币普通股票账户"
    (existing,) = account["controls"]  # another court's freeze of part of the market value
    assert (existing["court"], existing["action"], existing["amount"], existing["status"]) == (
        "court-x",
        "freeze",
        "20000.00",
        "effective",
    )
    case = hub.court_a.get(f"/v1/cases/{case_id}").json()
    assert SECURITIES_ACCOUNT in {a["ref"] for a in case["assets"]}


def test_a_freeze_of_market_value_takes_effect_then_is_released(hub: HubClient) -> None:
    case_id = hub.create_case([SECURITIES_DEBTOR])  # owed 100,000.00 + costs 1,500.00
    asset_id = _account(_complete(hub, case_id))["asset_id"]

    too_much = hub.order(
        case_id=case_id, asset_id=asset_id, action="freeze", amount="110000.00", approved_by=hub.judge()
    )
    refused = hub.wait_order(too_much, SETTLED)
    assert refused["status"] == "rejected" and "over the case's cap" in refused["reason"]

    freeze = hub.order(
        case_id=case_id, asset_id=asset_id, action="freeze", amount="60000.00", approved_by=hub.judge()
    )
    state = hub.wait_order(freeze, SETTLED)
    assert (state["status"], state["position"], state["amount_controlled"]) == ("effective", 0, "60000.00")
    assert state["control_id"].startswith("ZQ-")
    effective_at = dt.datetime.fromisoformat(state["effective_at"])
    assert dt.datetime.fromisoformat(state["expires_at"]) - effective_at == dt.timedelta(days=1095)
    case = hub.court_a.get(f"/v1/cases/{case_id}").json()
    assert Decimal(case["ledger"]["secured"]) == Decimal("60000.00")

    seen = _account(_complete(hub, case_id))  # the depository shows both freezes in effect
    assert sorted(_in_force(seen)) == [("court-a", "60000.00", 0), ("court-x", "20000.00", 0)]
    assert seen["details"]["frozen_value"] == "80000.00"

    release = hub.order(case_id=case_id, asset_id=asset_id, action="release", approved_by=hub.judge())
    assert hub.wait_order(release, {"released", "rejected", "failed"})["status"] == "released"
    assert hub.wait_order(freeze, {"released"})["status"] == "released"
    case = hub.court_a.get(f"/v1/cases/{case_id}").json()
    assert Decimal(case["ledger"]["secured"]) == Decimal("0.00")
    after = _account(_complete(hub, case_id))
    assert _in_force(after) == [("court-x", "20000.00", 0)]
    assert after["details"]["frozen_value"] == "20000.00"
