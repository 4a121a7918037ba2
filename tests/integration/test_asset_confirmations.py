"""A judge's confirmation of a ``possible`` link is readable on the case and on the asset, through
the real pipeline (the asset found by an inquiry over real HTTP, the confirmation in the gateway's
database); another court reads none of it, and each read of the assets is in the audit trail."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from .complete import found
from .conftest import HubClient
from .planted import SLIP_ACCOUNT, SLIP_DEBTOR

pytestmark = pytest.mark.integration


def test_a_confirmation_is_readable_on_the_case_and_on_the_asset(hub: HubClient) -> None:
    case_id, assets = found(hub, SLIP_DEBTOR)
    account = assets[SLIP_ACCOUNT]
    assert account["linkage"]["decision"] == "possible"
    asset_path = f"/v1/cases/{case_id}/assets/{quote(account['asset_id'], safe='')}"

    before = hub.court_a.get(asset_path)
    assert before.status_code == 200, before.text
    assert before.json()["asset_id"] == account["asset_id"] and before.json()["confirmation"] is None
    listed = hub.court_a.get(f"/v1/cases/{case_id}/asset-confirmations")
    assert listed.status_code == 200 and listed.json() == {"case_id": case_id, "confirmations": []}

    note = "birth date and account opening branch checked"
    made = hub.court_a.post(
        f"/v1/cases/{case_id}/asset-confirmations",
        json={"asset_id": account["asset_id"], "confirmed_by": hub.judge(), "note": note},
    )
    assert made.status_code == 201, made.text

    on_case = hub.court_a.get(f"/v1/cases/{case_id}/asset-confirmations").json()["confirmations"]
    assert [(c["asset_id"], c["confirmed_by"], c["note"]) for c in on_case] == [
        (account["asset_id"], hub.judge(), note)
    ]
    assert on_case[0]["confirmed_at"] == made.json()["confirmed_at"]

    on_asset = hub.court_a.get(asset_path).json()["confirmation"]
    assert on_asset is not None and on_asset["confirmed_by"] == hub.judge() and on_asset["note"] == note
    every = {a["asset_id"]: a for a in hub.court_a.get(f"/v1/cases/{case_id}/assets").json()["assets"]}
    assert every[account["asset_id"]]["confirmation"]["confirmed_by"] == hub.judge()
    assert all(a["confirmation"] is None for i, a in every.items() if i != account["asset_id"])
    assert set(every) == {a["asset_id"] for a in assets.values()}

    # another court sees neither the case's assets nor its confirmations
    for path in (asset_path, f"/v1/cases/{case_id}/asset-confirmations", f"/v1/cases/{case_id}/assets"):
        assert hub.court_b.get(path).status_code == 404
    # an asset no inquiry of the case found
    assert hub.court_a.get(f"/v1/cases/{case_id}/assets/bank%3Aicbc%2Fdeposit%2F0").status_code == 404

    trail = hub.court_a.get(f"/v1/cases/{case_id}/audit").json()
    kinds = [e["kind"] for e in trail["entries"]]
    assert "asset_confirmed" in kinds and kinds.count("assets_read") >= 3
