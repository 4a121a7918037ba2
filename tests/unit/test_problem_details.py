"""Every error of the gateway is RFC 9457 problem details in the client's language (``Accept-Language``:
``en`` or ``zh-CN``), with the fields at fault under ``errors`` and messages that name them."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from gateway.main import create_app
from gateway.problems import Problem
from gateway.responses import ProblemDetails
from hub.i18n import Message, gettext, negotiate, register, translations
from hub.settings import HubSettings

CASE = {
    "case_number": "(2026)鄂0111执1234号",
    "applicant": {"name": "甲公司"},
    "debtors": [{"name": "赵德明", "id_type": "resident_id", "id_number": "420106197503130418"}],
    "amount_owed": "100000.00",
}
AUTH = {"Authorization": "Bearer token-a"}


def _app() -> Any:
    app = create_app(HubSettings(court_tokens="court-a:token-a", max_request_bytes=4096))
    app.state.db = app.state.relay = None  # no route that reaches the database is called here

    @app.get("/v1/_test/boom", include_in_schema=False)
    async def boom() -> None:
        raise RuntimeError("secret internals 420106197503130417")

    @app.get("/v1/_test/conflict", include_in_schema=False)
    async def conflict() -> None:
        raise Problem(409, Message("case number {n} is taken", n="X"), case_id="case_1")

    return app


def _call(method: str, path: str, **kwargs: Any) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=_app(), raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            return await client.request(method, path, **kwargs)

    return asyncio.run(go())


def _problem(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = r.json()
    ProblemDetails.model_validate(body)  # the shape the OpenAPI document declares
    assert body["status"] == status and body["type"] and body["title"]
    assert body["detail"].endswith((".", "。")), body["detail"]
    return body


def test_an_invalid_body_lists_each_field_with_a_message_naming_it() -> None:
    r = _call("POST", "/v1/cases", json={**CASE, "amount_owed": "1.555", "costs": 12.5}, headers=AUTH)
    body = _problem(r, 422)
    assert body["type"] == "urn:enforcement-hub:problem:invalid-request"
    assert r.headers["content-language"] == "en"
    by_loc = {tuple(e["loc"]): e for e in body["errors"]}
    assert set(by_loc) == {("body", "amount_owed"), ("body", "costs")}
    assert by_loc[("body", "amount_owed")]["msg"] == "amount_owed: money has at most two decimal places (fen)"
    assert by_loc[("body", "costs")]["msg"].startswith("costs: money must be a decimal string")
    assert all(set(e) == {"loc", "msg", "type"} for e in body["errors"])  # no echoed input
    assert "Value error" not in r.text
    assert body["detail"] == "2 fields are invalid: amount_owed, costs."


def test_a_single_invalid_field_is_the_detail_and_nested_fields_are_named_by_path() -> None:
    debtor = {**CASE["debtors"][0], "id_type": "passport"}  # type: ignore[dict-item]
    body = _problem(_call("POST", "/v1/cases", json={**CASE, "debtors": [debtor]}, headers=AUTH), 422)
    (error,) = body["errors"]
    assert error["loc"] == ["body", "debtors", 0, "id_type"] and error["type"] == "enum"
    assert error["msg"].startswith("debtors[0].id_type: input should be ")
    assert body["detail"] == error["msg"] + "."


def test_chinese_is_answered_to_a_client_that_prefers_it() -> None:
    headers = {**AUTH, "Accept-Language": "en;q=0.3, zh-CN;q=0.9"}
    r = _call("POST", "/v1/cases", json={k: v for k, v in CASE.items() if k != "applicant"}, headers=headers)
    body = _problem(r, 422)
    assert r.headers["content-language"] == "zh-CN" and "Accept-Language" in r.headers["vary"]
    assert body["title"] == "请求无效"
    assert body["errors"] == [{"loc": ["body", "applicant"], "msg": "applicant：必填字段", "type": "missing"}]
    money = _problem(_call("POST", "/v1/cases", json={**CASE, "amount_owed": "-1"}, headers=headers), 422)
    assert money["errors"][0]["msg"] == "amount_owed：不得为负数"


def test_no_token_is_401_with_the_challenge_in_either_language() -> None:
    body = _problem(_call("GET", "/v1/cases/case_1"), 401)
    assert body["detail"] == "Missing or invalid bearer token."
    r = _call("GET", "/v1/cases/case_1", headers={"Authorization": "Bearer wrong", "Accept-Language": "zh"})
    assert _problem(r, 401)["title"] == "未授权" and r.headers["www-authenticate"] == "Bearer"


def test_malformed_json_names_the_body_and_the_character() -> None:
    r = _call(
        "POST", "/v1/cases", content=b'{"case_number": ', headers={**AUTH, "Content-Type": "application/json"}
    )
    body = _problem(r, 422)
    assert body["errors"] == [
        {"loc": ["body", 16], "msg": "body: not valid JSON (at character 16)", "type": "json_invalid"}
    ]


def test_unknown_routes_and_methods_are_problems_too() -> None:
    assert _problem(_call("GET", "/v1/nowhere", headers=AUTH), 404)["detail"] == "No route /v1/nowhere."
    r = _call("DELETE", "/v1/cases", headers=AUTH)
    assert _problem(r, 405)["detail"] == "The method DELETE is not allowed on /v1/cases."
    assert "POST" in r.headers["allow"]


def test_an_unexpected_failure_is_a_500_problem_that_shows_nothing_internal() -> None:
    r = _call("GET", "/v1/_test/boom", headers={"Accept-Language": "zh-CN"})
    body = _problem(r, 500)
    assert body["type"] == "urn:enforcement-hub:problem:internal-error"
    assert "secret" not in r.text and "420106" not in r.text and "RuntimeError" not in r.text


def test_a_problem_carries_its_extension_members() -> None:
    body = _problem(_call("GET", "/v1/_test/conflict"), 409)
    assert body["case_id"] == "case_1" and body["detail"] == "Case number X is taken."


def test_the_guards_refusals_are_problems_in_the_clients_language() -> None:
    big = json.dumps({**CASE, "applicant": {"name": "x" * 5000}})
    headers = {**AUTH, "Content-Type": "application/json", "Accept-Language": "zh-CN"}
    r = _call("POST", "/v1/cases", content=big.encode(), headers=headers)
    body = _problem(r, 413)
    assert body["errors"][0]["loc"] == ["body"] and "超过上限 4096 字节" in body["errors"][0]["msg"]
    bad = _call("POST", "/v1/cases", content=b'{"case_number": "\xff"}', headers={**AUTH, **headers})
    assert _problem(bad, 422)["errors"][0]["type"] == "unicode_error"


@pytest.mark.parametrize(
    "header,language",
    [
        (None, "en"),
        ("", "en"),
        ("zh-CN", "zh-CN"),
        ("zh-cn", "zh-CN"),
        ("zh", "zh-CN"),
        ("zh-Hans-CN", "zh-CN"),
        ("zh-TW,en;q=0.1", "zh-CN"),
        ("en-GB,zh-CN;q=0.8", "en"),
        ("fr-FR, en;q=0.5, zh;q=0.7", "zh-CN"),
        ("fr, de", "en"),
        ("zh-CN;q=0, en", "en"),
        ("*", "en"),
        ("zh-CN;q=abc, en;q=0.5", "en"),
        (";;;,,,", "en"),
    ],
)
def test_accept_language_negotiation(header: str | None, language: str) -> None:
    assert negotiate(header) == language


def test_a_catalogue_is_added_by_registering_it_and_missing_entries_stay_english() -> None:
    register("test-domain", "zh-CN", {"{n} lines read": "已读取 {n} 行"})
    assert gettext("{n} lines read", "zh-CN", "test-domain", n=3) == "已读取 3 行"
    assert gettext("{n} lines read", "en", "test-domain", n=3) == "3 lines read"
    assert gettext("not in any catalogue {x}", "zh-CN", "test-domain", x=1) == "not in any catalogue 1"
    assert translations("test-domain", "zh-CN") == {"{n} lines read": "已读取 {n} 行"}
    with pytest.raises(ValueError, match="placeholders"):
        register("test-domain", "zh-CN", {"{n} lines read": "已读取 {m} 行"})
    with pytest.raises(ValueError, match="unknown locale"):
        register("test-domain", "fr", {"x": "y"})


def test_a_message_is_its_english_text_and_translates_its_parts() -> None:
    message = Message("{what} {ident} not found", what=Message("control order"), ident="ord_1")
    assert message == "control order ord_1 not found" and isinstance(message, str)
    assert message.localize("zh-CN") == "控制令 ord_1 不存在"


def test_every_chinese_entry_keeps_the_placeholders_of_its_english_id() -> None:
    import string

    catalogue = translations("api", "zh-CN")
    assert len(catalogue) > 50
    for english, chinese in catalogue.items():
        fields = {f for _, f, _, _ in string.Formatter().parse(english) if f}
        assert {f for _, f, _, _ in string.Formatter().parse(chinese) if f} <= fields, english
