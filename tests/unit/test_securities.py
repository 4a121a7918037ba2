"""The securities depository: its registry's own API shape (paths, Bearer credential, keyset paging,
error format), its freezes of a stated market value with their legal period and lapse, and the
connector adapter that speaks it. The real registry app, reached through httpx's ASGI transport."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any, TypeVar

import httpx
import pytest

from connectors.registry_adapters import build_adapter
from connectors.securities import SecuritiesAdapter
from hub.errors import PermanentRegistryError, RegistryAuthError
from hub.settings import HubSettings
from registries.app import create_app
from registries.fixtures import parse_fixture_line
from registries.store import RegistryData
from schemas.agencies import MAX_PERIOD_DAYS, AssetKind
from schemas.identifiers import IdType, resident_id_check
from schemas.models import AgencyRequest, ControlCommand, IdentifierForm, Party, SecuritiesAsset, utcnow

URL = "http://securities.test"
ID = "42010619850312041" + resident_id_check("42010619850312041")
OTHER = "42010219700101002" + resident_id_check("42010219700101002")
OWNER = {"name": "证券甲", "id_type": "resident_id", "id_number": ID}
HOMONYM = "证券同名"
HOMONYMS = 23
# who asks (every query and control request names the court, case, officer and legal basis)
REQUESTER = {
    "X-Requesting-Court": "court-a",
    "X-Case": "case-1",
    "X-Officer": "officer-1",
    "X-Legal-Basis": "ruling-1",
    "X-Purpose": "asset investigation",
}
T = TypeVar("T")


def _line(ref: str, owner: dict[str, Any], value: str, **extra: Any) -> str:
    asset = {"kind": "securities", "ref": ref, "value": value, **extra.pop("asset", {})}
    return json.dumps({"registry": "securities", "owner": owner, "asset": asset, **extra}, ensure_ascii=False)


HOLDINGS = [
    {"code": "600519", "name": "贵州茅台", "quantity": 100, "market_value": "150000.00"},
    {"code": "000001", "name": "平安银行", "quantity": 5000, "market_value": "55000.00"},
]
LINES = [
    _line(
        "180000000001", OWNER, "205000.00", asset={"holdings": HOLDINGS, "account_type": "人民币普通股票账户"}
    ),
    # another court's freeze of 2,000.00 of market value, in effect far beyond this test
    _line(
        "180000000002",
        OWNER,
        "10000.00",
        controls=[
            {
                "court": "court-x",
                "action": "freeze",
                "amount": "2000.00",
                "registered_at": "2026-01-05T10:00:00+08:00",
                "expires_at": "2031-01-05T10:00:00+08:00",
            }
        ],
    ),
    # a freeze registered in 2021 and never renewed: lapsed after 3 years (1095 days)
    _line(
        "180000000003",
        {**OWNER, "id_number": ID[:6] + ID[8:17]},  # an old record under the 15-digit number
        "3000.00",
        controls=[
            {
                "court": "court-x",
                "action": "freeze",
                "amount": "3000.00",
                "registered_at": "2021-05-01T09:00:00+08:00",
            }
        ],
    ),
    *(
        _line(
            f"1800000001{i:02d}",
            {"name": HOMONYM, "id_type": "resident_id", "id_number": OTHER},
            f"{i + 1}.00",
        )
        for i in reversed(range(HOMONYMS))  # planted out of account order
    ),
]


def _settings(**extra: Any) -> HubSettings:
    base: dict[str, Any] = {
        "registry_latency_ms": "fixed:0",
        "registry_error_rate": 0.0,
        "registry_outage": "",
        "agency_credentials": {},
        "agency_urls": {"securities": URL},
    }
    return HubSettings(**(base | extra))


def _run(call: Callable[[httpx.AsyncClient], Awaitable[T]]) -> T:
    data = RegistryData(holdings=[parse_fixture_line(x, n) for n, x in enumerate(LINES, 1)])
    app = create_app("securities", data, _settings())

    async def go() -> T:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=URL) as client:
            return await call(client)

    return asyncio.run(go())


def _token() -> dict[str, str]:
    return {"Authorization": f"Bearer {_settings().registry_credential('securities')}", **REQUESTER}


def _request(party: Party, ids: list[str]) -> AgencyRequest:
    return AgencyRequest(
        request_id="req-1",
        inquiry_id="inq-1",
        case_id="case-1",
        court_id="court-a",
        agency="securities",
        subject=party,
        identifiers=[IdentifierForm(id_type="resident_id", id_number=n) for n in ids],
        deadline=utcnow() + dt.timedelta(seconds=30),
        idempotency_key="idem-1",
        officer="officer-1",
        purpose="asset investigation",
        legal_basis="ruling-1",
    )


def _command(action: str, ref: str, **kw: Any) -> ControlCommand:
    return ControlCommand.model_validate(
        {
            "order_id": kw.pop("order_id", f"ord-{action}-{ref}-{kw.get('court_id', 'court-a')}"),
            "case_id": "case-1",
            "court_id": "court-a",
            "case_number": "(2026)鄂0111执1234号",
            "agency": "securities",
            "asset_kind": "securities",
            "asset_ref": ref,
            "action": action,
            "approved_by": "judge-1",
            "officer": "officer-1",
            "purpose": "control of the debtor's asset",
            "legal_basis": "ruling-1",
            "requested_at": utcnow(),
            "idempotency_key": f"idem-{action}-{ref}",
            **kw,
        }
    )


# ---------------------------------------------------------------- the registry's API shape


def test_accounts_list_holdings_market_value_and_freezes_in_the_depository_shape() -> None:
    async def call(client: httpx.AsyncClient) -> httpx.Response:
        return await client.get("/csdc/v3/accounts", params={"certNo": ID}, headers=_token())

    r = _run(call)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["retCode"], body["data"]["hasMore"]) == ("0000", False)
    accounts = {a["acctNo"]: a for a in body["data"]["accounts"]}
    assert list(accounts) == ["180000000001", "180000000002"]  # the 15-digit record needs its own form
    first = accounts["180000000001"]
    assert first["holder"] == {"holderName": "证券甲", "certType": "01", "certNo": ID}
    assert (first["marketValue"], first["frozenValue"], first["acctType"]) == (
        "205000.00",
        "0.00",
        "人民币普通股票账户",
    )
    assert first["positions"] == [
        {"secCode": "600519", "secName": "贵州茅台", "qty": 100, "mktValue": "150000.00"},
        {"secCode": "000001", "secName": "平安银行", "qty": 5000, "mktValue": "55000.00"},
    ]
    frozen = accounts["180000000002"]
    assert frozen["frozenValue"] == "2000.00"
    (freeze,) = frozen["freezes"]
    assert (
        freeze["court"],
        freeze["measure"],
        freeze["frozenValue"],
        freeze["queueNo"],
        freeze["state"],
    ) == (
        "court-x",
        "freeze",
        "2000.00",
        0,
        "effective",
    )
    assert freeze["freezeNo"].startswith("ZQ-")


@pytest.mark.parametrize(
    "auth",
    [
        None,
        "Bearer wrong-token",
        "Basic " + "ZW5mb3JjZW1lbnQtaHViOmRldi1zZWN1cml0aWVzLXNlY3JldA==",
        "dev-securities-secret",
    ],
)
def test_a_request_without_the_depositorys_bearer_token_is_refused(auth: str | None) -> None:
    headers = dict(REQUESTER) | ({"Authorization": auth} if auth else {})

    async def call(client: httpx.AsyncClient) -> list[httpx.Response]:
        return [
            await client.get("/csdc/v3/accounts", params={"certNo": ID}, headers=headers),
            await client.get("/_admin/stats", headers=headers),
            await client.put(
                "/csdc/v3/judicial-freezes/r1", json={"acctNo": "180000000001", "court": "c"}, headers=headers
            ),
        ]

    for r in _run(call):
        assert r.status_code == 401 and r.json() == {"retCode": "1002", "retMsg": "credential refused"}


def test_keyset_paging_in_account_order_at_most_ten_a_page() -> None:
    async def call(client: httpx.AsyncClient) -> list[dict[str, Any]]:
        pages, after = [], None
        while True:
            params: dict[str, Any] = {"holderName": HOMONYM, "size": 50}
            if after is not None:
                params["after"] = after
            r = await client.get("/csdc/v3/accounts", params=params, headers=_token())
            assert r.status_code == 200, r.text
            pages.append(r.json()["data"])
            if not pages[-1]["hasMore"]:
                return pages
            after = pages[-1]["lastAcctNo"]

    pages = _run(call)
    assert [len(p["accounts"]) for p in pages] == [10, 10, 3]  # size is capped at 10
    numbers = [a["acctNo"] for p in pages for a in p["accounts"]]
    assert numbers == sorted(numbers) and len(set(numbers)) == HOMONYMS
    assert [p["lastAcctNo"] for p in pages] == [numbers[9], numbers[19], numbers[22]]


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({}, "holderName or certNo"),
        ({"certNo": ID, "size": "0"}, "size"),
        ({"certNo": " "}, "holderName or certNo"),
    ],
)
def test_a_query_it_cannot_answer_is_a_400_in_its_format(params: dict[str, str], reason: str) -> None:
    async def call(client: httpx.AsyncClient) -> httpx.Response:
        return await client.get("/csdc/v3/accounts", params=params, headers=_token())

    r = _run(call)
    assert r.status_code == 400 and r.json()["retCode"] == "1001" and reason in r.json()["retMsg"]


def test_a_freeze_blocks_the_market_value_asked_or_what_is_free_and_others_queue() -> None:
    ref = "180000000002"  # 10,000.00, of which court-x froze 2,000.00

    async def call(client: httpx.AsyncClient) -> list[dict[str, Any]]:
        out = []
        for request_no, court, value in (("r-a", "court-a", "9000.00"), ("r-b", "court-b", "500.00")):
            body = {
                "acctNo": ref,
                "court": court,
                "caseId": f"case-{court}",
                "freezeValue": value,
                "days": 400,
            }
            r = await client.put(f"/csdc/v3/judicial-freezes/{request_no}", json=body, headers=_token())
            assert r.status_code == 200, r.text
            out.append(r.json()["data"])
        again = await client.put(
            "/csdc/v3/judicial-freezes/r-a", json={"acctNo": ref, "court": "court-a"}, headers=_token()
        )
        out.append(again.json()["data"])
        release = {"requestNo": "r-a-release", "acctNo": ref, "court": "court-a", "operation": "UNFREEZE"}
        r = await client.patch(
            f"/csdc/v3/judicial-freezes/{out[0]['freezeNo']}", json=release, headers=_token()
        )
        out.append(r.json()["data"])
        wrong = {"requestNo": "r-x", "acctNo": ref, "court": "court-a", "operation": "SELL"}
        r = await client.patch(
            f"/csdc/v3/judicial-freezes/{out[0]['freezeNo']}", json=wrong, headers=_token()
        )
        assert r.status_code == 400 and r.json()["retCode"] == "1001" and "operation" in r.json()["retMsg"]
        r = await client.put(
            "/csdc/v3/judicial-freezes/r-n", json={"acctNo": "18-none", "court": "c"}, headers=_token()
        )
        assert r.status_code == 404 and r.json()["retCode"] == "1004"
        return out

    partial, queued, again, released = _run(call)
    assert (partial["result"], partial["frozenValue"], partial["queueNo"]) == ("PARTIAL", "8000.00", 0)
    assert "8000.00 of 9000.00" in partial["remark"]
    start = dt.datetime.fromisoformat(partial["startTime"])
    assert dt.datetime.fromisoformat(partial["endTime"]) == start + dt.timedelta(days=400)
    assert (queued["result"], queued["queueNo"], queued["frozenValue"]) == ("QUEUED", 1, None)
    assert again == partial  # the request number is the idempotency key
    assert released["result"] == "UNFROZEN"
    (promoted,) = released["promoted"]
    assert (promoted["requestNo"], promoted["court"], promoted["frozenValue"]) == ("r-b", "court-b", "500.00")


def test_a_freeze_period_is_capped_at_three_years_and_an_unrenewed_one_lapses() -> None:
    assert MAX_PERIOD_DAYS[AssetKind.securities] == 1095

    async def call(client: httpx.AsyncClient) -> tuple[dict[str, Any], dict[str, Any]]:
        r = await client.get("/csdc/v3/accounts", params={"certNo": ID[:6] + ID[8:17]}, headers=_token())
        (account,) = r.json()["data"]["accounts"]
        body = {"acctNo": "180000000003", "court": "court-a", "freezeValue": "3000.00", "days": 5000}
        r = await client.put("/csdc/v3/judicial-freezes/r-long", json=body, headers=_token())
        return account, r.json()["data"]

    account, fresh = _run(call)
    (old,) = account["freezes"]  # court-x's 2021 freeze ended by itself and blocks nothing
    assert (old["state"], old["queueNo"]) == ("expired", None)
    assert dt.datetime.fromisoformat(old["endTime"]) == dt.datetime.fromisoformat(
        "2021-05-01T09:00:00+08:00"
    ) + dt.timedelta(days=1095)
    assert account["frozenValue"] == "0.00"
    assert (fresh["result"], fresh["frozenValue"]) == ("FROZEN", "3000.00")
    start, end = (dt.datetime.fromisoformat(fresh[k]) for k in ("startTime", "endTime"))
    assert end - start == dt.timedelta(days=1095) and "1095" in fresh["remark"]


# ---------------------------------------------------------------- the connector adapter


def test_the_adapter_follows_the_keyset_pages_and_reads_holdings() -> None:
    adapter = build_adapter("securities", _settings())
    assert isinstance(adapter, SecuritiesAdapter)
    party = Party(name=OWNER["name"], id_type=IdType.resident_id, id_number=ID)

    async def call(client: httpx.AsyncClient) -> tuple[Any, Any]:
        mine = await adapter.inquire(client, _request(party, [ID, ID[:6] + ID[8:17]]))
        homonyms = await adapter.inquire(
            client, _request(party.model_copy(update={"name": HOMONYM}), [OTHER])
        )
        return mine, homonyms

    mine, homonyms = _run(call)
    assert len(homonyms.records) == HOMONYMS and len({r.ref for r in homonyms.records}) == HOMONYMS
    found = {r.ref: r for r in mine.records}
    assert set(found) == {"180000000001", "180000000002", "180000000003"}
    account = found["180000000001"]
    assert (
        isinstance(account, SecuritiesAsset)
        and account.kind == "securities"
        and account.agency == "securities"
    )
    assert (account.owner.name, account.owner.id_type, account.owner.id_number) == (
        "证券甲",
        "resident_id",
        ID,
    )
    assert account.value == Decimal("205000.00") and account.frozen_value == Decimal("0.00")
    assert [(h.code, h.name, h.quantity, h.market_value) for h in account.holdings] == [
        ("600519", "贵州茅台", 100, Decimal("150000.00")),
        ("000001", "平安银行", 5000, Decimal("55000.00")),
    ]
    (control,) = found["180000000002"].controls
    assert (control.court, control.amount, control.position, control.status) == (
        "court-x",
        Decimal("2000.00"),
        0,
        "effective",
    )


def test_the_adapter_executes_freeze_renew_release_and_the_depository_refuses_deduct() -> None:
    adapter = build_adapter("securities", _settings())

    async def call(client: httpx.AsyncClient) -> list[Any]:
        freeze = await adapter.execute_control(
            client, _command("freeze", "180000000001", amount="50000.00", period_days=100)
        )
        renew = await adapter.execute_control(
            client, _command("renew", "180000000001", control_id=freeze.control_id, period_days=30)
        )
        deduct = await adapter.execute_control(
            client, _command("deduct", "180000000001", control_id=freeze.control_id, amount="1.00")
        )
        release = await adapter.execute_control(
            client, _command("release", "180000000001", control_id=freeze.control_id)
        )
        return [freeze, renew, deduct, release]

    freeze, renew, deduct, release = _run(call)
    assert (freeze.outcome, freeze.amount_controlled, freeze.position) == (
        "effective",
        Decimal("50000.00"),
        0,
    )
    assert freeze.control_id and freeze.expires_at == freeze.effective_at + dt.timedelta(days=100)  # type: ignore[operator]
    assert renew.outcome == "renewed" and renew.expires_at == freeze.expires_at + dt.timedelta(days=30)  # type: ignore[operator]
    assert deduct.outcome == "rejected" and "deposits only" in (deduct.reason or "")
    assert (release.outcome, release.control_id) == ("released", freeze.control_id)


def test_the_adapter_maps_the_depositorys_errors() -> None:
    wrong = build_adapter("securities", _settings(agency_credentials={"securities": "not-it"}))
    party = Party(name="证券甲", id_type=IdType.resident_id, id_number=ID)

    async def refused(client: httpx.AsyncClient) -> None:
        await wrong.inquire(client, _request(party, [ID]))

    with pytest.raises(RegistryAuthError) as auth:
        _run(refused)
    assert auth.value.status_code == 401 and "1002: credential refused" in auth.value.message

    adapter = build_adapter("securities", _settings())

    def reply(body: dict[str, Any]) -> httpx.MockTransport:
        return httpx.MockTransport(lambda request: httpx.Response(200, json=body))

    async def with_reply(body: dict[str, Any]) -> None:
        async with httpx.AsyncClient(transport=reply(body), base_url=URL) as client:
            await adapter.inquire(client, _request(party, [ID]))

    with pytest.raises(PermanentRegistryError, match="9001: busy"):  # a failure code with HTTP 200
        asyncio.run(with_reply({"retCode": "9001", "retMsg": "busy"}))
    with pytest.raises(PermanentRegistryError, match="lastAcctNo"):  # more pages but no key to ask by
        account = {"acctNo": "1", "holder": {"holderName": "证券甲"}, "marketValue": "1.00"}
        asyncio.run(with_reply({"retCode": "0000", "data": {"accounts": [account], "hasMore": True}}))
