"""Control-order rules through the real pipeline (gateway → streams ledger → connector → registry over
HTTP → outcome → gateway): other courts' lapsed controls, over-seizure, equity stakes, periods."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import httpx
import pytest

from .complete import found
from .conftest import HubClient
from .planted import (
    LAPSE_ACCOUNT,
    LAPSE_DEBTOR,
    LAPSE_FLAT,
    LAPSE_FREEZE_AT,
    LAPSE_SEIZURE_AT,
    OVERSEIZE_ACCOUNT,
    OVERSEIZE_DEBTOR,
    OVERSEIZE_FLAT,
    STAKE_ACCOUNT,
    STAKE_COMPANY,
    STAKE_DEBTOR,
)

pytestmark = pytest.mark.integration
SETTLED = {"effective", "waiting", "partial", "rejected", "failed"}


def field_errors(response: httpx.Response) -> list[dict[str, Any]]:
    """The invalid fields of a 422 (RFC 9457 problem details' ``errors``)."""
    body = response.json()
    errors = body["errors"]
    assert isinstance(errors, list), body
    return errors


def test_other_courts_controls_past_their_period_have_lapsed_and_block_nothing(hub: HubClient) -> None:
    case_id, assets = found(hub, LAPSE_DEBTOR, amount_owed="200000.00", costs="0.00")
    account, flat = assets[LAPSE_ACCOUNT], assets[LAPSE_FLAT]
    # registered 2024-03-01 (deposits: 1 year) and 2021-05-01 (real estate: 3 years), never renewed
    freeze_ends = dt.datetime.fromisoformat(LAPSE_FREEZE_AT) + dt.timedelta(days=365)
    seizure_ends = dt.datetime.fromisoformat(LAPSE_SEIZURE_AT) + dt.timedelta(days=1095)
    assert [(c["court"], c["status"]) for c in account["controls"]] == [("court-x", "expired")]
    assert dt.datetime.fromisoformat(account["controls"][0]["expires_at"]) == freeze_ends
    assert [(c["court"], c["status"]) for c in flat["controls"]] == [("court-x", "expired")]
    assert dt.datetime.fromisoformat(flat["controls"][0]["expires_at"]) == seizure_ends
    assert account["details"]["available"] == "50000.00"

    freeze = hub.order(
        case_id=case_id,
        asset_id=account["asset_id"],
        action="freeze",
        amount="30000.00",
        approved_by=hub.judge(),
    )
    frozen = hub.wait_order(freeze, SETTLED)
    assert (frozen["status"], frozen["position"], frozen["amount_controlled"]) == ("effective", 0, "30000.00")
    seize = hub.order(case_id=case_id, asset_id=flat["asset_id"], action="seize", approved_by=hub.judge())
    seized = hub.wait_order(seize, SETTLED)
    assert (seized["status"], seized["position"]) == ("effective", 0)
    # worth 900,000.00 with 170,000.00 of the cap left, and no deposit left to freeze instead
    assert "nothing divisible would do" in seized["reason"] and "170000.00" in seized["reason"]

    _, seen = found(hub, LAPSE_DEBTOR)
    for ref, ends in ((LAPSE_ACCOUNT, freeze_ends), (LAPSE_FLAT, seizure_ends)):
        controls = {c["court"]: c for c in seen[ref]["controls"]}
        assert controls["court-a"]["status"] == "effective"
        assert controls["court-x"]["status"] == "expired"
        assert dt.datetime.fromisoformat(controls["court-x"]["expires_at"]) == ends


def test_a_flat_is_not_seized_beyond_the_cap_while_a_found_deposit_would_do(hub: HubClient) -> None:
    case_id, assets = found(hub, OVERSEIZE_DEBTOR, amount_owed="10000.00", costs="0.00")
    account, flat = assets[OVERSEIZE_ACCOUNT], assets[OVERSEIZE_FLAT]
    seize = hub.order(case_id=case_id, asset_id=flat["asset_id"], action="seize", approved_by=hub.judge())
    refused = hub.wait_order(seize, SETTLED)
    assert refused["status"] == "rejected"
    assert account["asset_id"] in refused["reason"] and "86500.00" in refused["reason"]
    assert "10000.00" in refused["reason"] and "over-seizure" in refused["reason"]

    freeze = hub.order(
        case_id=case_id,
        asset_id=account["asset_id"],
        action="freeze",
        amount="10000.00",
        approved_by=hub.judge(),
    )
    frozen = hub.wait_order(freeze, SETTLED)
    assert (frozen["status"], frozen["amount_controlled"]) == ("effective", "10000.00")
    case = hub.court_a.get(f"/v1/cases/{case_id}").json()
    assert Decimal(case["ledger"]["secured"]) == Decimal("10000.00")


def test_an_equity_freeze_freezes_capital_of_the_stake_up_to_its_subscribed_capital(hub: HubClient) -> None:
    case_id, assets = found(hub, STAKE_DEBTOR, amount_owed="1000000.00")
    stake = assets[STAKE_COMPANY]
    assert stake["details"]["subscribed_capital"] == "300000.00"
    body = {"case_id": case_id, "asset_id": stake["asset_id"], "action": "freeze", "approved_by": hub.judge()}
    body |= hub.asking()
    missing = hub.court_a.post("/v1/control-orders", json=body)
    assert missing.status_code == 422 and "amount is required to freeze" in missing.text
    above = hub.court_a.post("/v1/control-orders", json={**body, "amount": "300000.01"})
    assert above.status_code == 422, above.text
    (error,) = field_errors(above)
    assert error["loc"] == ["body", "amount"] and "subscribed capital 300000.00" in error["msg"]

    frozen = hub.wait_order(hub.order(**body, amount="150000.00"), SETTLED)
    assert frozen["status"] == "effective"
    assert frozen["amount_controlled"] == "150000.00", "the capital frozen, as the registry says"
    assert "150000.00 of the stake's subscribed capital 300000.00 frozen" in frozen["reason"]
    case = hub.court_a.get(f"/v1/cases/{case_id}").json()
    assert Decimal(case["ledger"]["secured"]) == Decimal("200000.00"), "half the capital: half of 400,000.00"
    _, seen = found(hub, STAKE_DEBTOR)
    (control,) = seen[STAKE_COMPANY]["controls"]
    assert (control["court"], control["amount"]) == ("court-a", "150000.00")


def test_periods_beyond_the_legal_maximum_are_refused_and_renewals_are_capped(hub: HubClient) -> None:
    case_id, assets = found(hub, STAKE_DEBTOR)
    account = assets[STAKE_ACCOUNT]
    body = {
        "case_id": case_id,
        "asset_id": account["asset_id"],
        "action": "freeze",
        "amount": "5000.00",
        "approved_by": hub.judge(),
        **hub.asking(),
    }
    too_long = hub.court_a.post("/v1/control-orders", json={**body, "period_days": 366})
    assert too_long.status_code == 422, too_long.text
    (error,) = field_errors(too_long)
    assert error["loc"] == ["body", "period_days"] and "legal maximum of 365 days" in error["msg"]

    freeze = hub.wait_order(hub.order(**body), SETTLED)
    assert freeze["status"] == "effective"
    expires = dt.datetime.fromisoformat(freeze["expires_at"])
    renew = hub.order(case_id=case_id, asset_id=account["asset_id"], action="renew", approved_by=hub.judge())
    renewed = hub.wait_order(renew, {"effective", "rejected", "failed"})
    assert renewed["status"] == "effective", renewed["history"]
    assert "renewal capped" in renewed["reason"] and "365 days" in renewed["reason"]
    # the old expiry + 365 days would leave nearly two years ahead: it ends 365 days after the renewal
    new_expiry = dt.datetime.fromisoformat(renewed["expires_at"])
    decided = dt.datetime.fromisoformat(renewed["history"][-1]["at"])
    assert expires <= new_expiry < expires + dt.timedelta(days=1)
    assert new_expiry <= decided + dt.timedelta(days=365)
    assert (
        hub.court_a.get(f"/v1/control-orders/{freeze['order_id']}").json()["expires_at"]
        == renewed["expires_at"]
    )
