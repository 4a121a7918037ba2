"""hub.client over httpx.MockTransport: bodies validated before sending, both error forms of the
gateway read into one Problem, long polls and cursors followed; the CLI's language and times."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from hub.cli_render import Texts, language, rfc3339
from hub.client import Conflict, HubClient, NotFound, TransportError, Unauthorized, Unprocessable

CASE = {
    "case_number": "(2026)鄂0111执1234号",
    "applicant": {"name": "申请人甲"},
    "debtors": [{"name": "张伟", "id_type": "resident_id", "id_number": "110101198001010010"}],
    "amount_owed": "100000.00",
}


def _client(handler: Callable[[httpx.Request], httpx.Response], **kw: Any) -> HubClient:
    return HubClient("http://hub.test", "tok", transport=httpx.MockTransport(handler), **kw)


def test_register_sends_the_validated_body_with_token_language_and_key() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, json={"case_id": "case_1"})

    with _client(handler, language="zh-CN") as client:
        assert client.register_case(CASE, idempotency_key="k1") == "case_1"
    (request,) = seen
    assert request.headers["authorization"] == "Bearer tok"
    assert request.headers["accept-language"] == "zh-CN"
    assert request.headers["idempotency-key"] == "k1"
    body = json.loads(request.content)
    assert body["costs"] == "0.00" and body["debtors"][0]["id_number"] == "110101198001010010"


def test_an_invalid_body_is_refused_before_sending() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("nothing may be sent")

    bad = {**CASE, "debtors": [{**CASE["debtors"][0], "id_number": "110101198001010011"}]}  # type: ignore[dict-item]
    with _client(handler) as client, pytest.raises(ValidationError, match="check character"):
        client.register_case(bad)


def test_problem_details_and_the_earlier_form_read_alike() -> None:
    problem = {
        "type": "urn:enforcement-hub:problem:invalid-request",
        "title": "Invalid request",
        "status": 422,
        "detail": "1 invalid field: debtor.",
        "errors": [
            {"loc": ["body", "debtor"], "msg": "debtor: not a debtor of case c1", "type": "not_a_debtor"}
        ],
    }
    earlier = {
        "detail": [{"loc": ["body", "debtor"], "msg": "not a debtor of case c1", "type": "not_a_debtor"}]
    }
    for body, media in ((problem, "application/problem+json"), (earlier, "application/json")):

        def handler(request: httpx.Request, body: Any = body, media: str = media) -> httpx.Response:
            return httpx.Response(422, content=json.dumps(body), headers={"content-type": media})

        with _client(handler) as client, pytest.raises(Unprocessable) as caught:
            client.get_inquiry("inq_1")
        err = caught.value
        assert err.status == 422
        assert [(e.field, e.type) for e in err.problem.errors] == [("debtor", "not_a_debtor")]
        assert "not a debtor of case c1" in str(err)


def test_statuses_map_to_exceptions_and_a_conflict_names_the_case() -> None:
    answers = {
        "/v1/cases/a": httpx.Response(401, json={"detail": "missing or invalid bearer token"}),
        "/v1/cases/b": httpx.Response(
            404, json={"title": "Not found", "status": 404, "detail": "case b not found"}
        ),
    }

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(
                409,
                json={"status": 409, "detail": "already registered", "case_id": "case_9", "errors": []},
                headers={"content-type": "application/problem+json"},
            )
        return answers[request.url.path]

    with _client(handler) as client:
        with pytest.raises(Unauthorized):
            client.get_case("a")
        with pytest.raises(NotFound, match="case b not found"):
            client.get_case("b")
        with pytest.raises(Conflict) as caught:
            client.register_case(CASE)
        assert caught.value.case_id == "case_9"


def test_an_unreachable_gateway_is_a_transport_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with _client(handler) as client, pytest.raises(TransportError, match="ConnectError"):
        client.get_case("x")


def test_wait_inquiry_long_polls_with_the_version_seen() -> None:
    versions = iter([0, 1, 2])
    polls: list[dict[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        polls.append(dict(request.url.params))
        v = next(versions)
        status = "complete" if v == 2 else "pending"
        return httpx.Response(200, json={"inquiry_id": "i", "case_id": "c", "status": status, "version": v})

    with _client(handler) as client:
        result = client.wait_inquiry("i", timeout=30)
    assert result.status == "complete" and result.settled
    assert polls[0] == {} and polls[1]["version"] == "0" and polls[2]["version"] == "1"
    assert 0 < float(polls[1]["wait"]) <= 60


def test_events_follow_the_cursor_until_a_short_page() -> None:
    def page(after: int, n: int) -> dict[str, Any]:
        items = [
            {
                "cursor": str(after + i + 1),
                "event_id": f"e{after + i + 1}",
                "type": "t",
                "at": "2026-01-01T00:00:00Z",
            }
            for i in range(n)
        ]
        return {"items": items, "next_cursor": items[-1]["cursor"] if items else str(after)}

    def handler(request: httpx.Request) -> httpx.Response:
        after = int(request.url.params.get("after", "0"))
        return httpx.Response(200, json=page(after, 100 if after < 100 else 3))

    with _client(handler) as client:
        events = list(client.iter_events())
    assert [e.cursor for e in events] == [str(i) for i in range(1, 104)]
    assert events[0].at.tzinfo is not None


def test_cli_language_from_option_then_posix_variables() -> None:
    assert language("zh-CN", {}) == "zh-CN"
    assert language(None, {"LANG": "zh_CN.UTF-8"}) == "zh-CN"
    assert language(None, {"LC_ALL": "en_US.UTF-8", "LANG": "zh_CN.UTF-8"}) == "en"
    assert language(None, {"LC_ALL": "C"}) == "en"
    assert language(None, {}) == "en"
    assert Texts("zh-CN")("case {case_id} registered", case_id="c1") == "案件 c1 已登记"
    assert Texts("en")("case {case_id} registered", case_id="c1") == "case c1 registered"


def test_times_are_rfc3339_in_shanghai() -> None:
    assert rfc3339("2026-03-01T09:30:00+00:00") == "2026-03-01T17:30:00+08:00"
    assert rfc3339(dt.datetime(2026, 12, 31, 20, 0, tzinfo=dt.UTC)) == "2027-01-01T04:00:00+08:00"
    assert rfc3339(dt.datetime(2026, 3, 1, 9, 30)) == "2026-03-01T17:30:00+08:00"  # naive = UTC
    assert rfc3339(None) == "–"
