"""Bad input never reaches a 500: money, names, invalid Unicode, oversized and non-UTF-8 bodies get a
4xx naming the field and the reason, through the gateway's real app (``create_app``) over ASGI.

Only refusals are driven here: a refused body never reaches a route, so the app runs without its
lifespan (no database, no broker); the accepted paths are the integration tests'.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI, Request
from pydantic import ValidationError

from gateway.__main__ import server
from gateway.db import Database
from gateway.guards import RequestGuard
from gateway.main import create_app
from hub.masking import mask_id, setup_logging
from hub.settings import HubSettings
from schemas.identifiers import resident_id_check
from schemas.models import CaseCreate
from schemas.money import MAX_AMOUNT, to_money

ID = "42010619750313041" + resident_id_check("42010619750313041")
CASE: dict[str, Any] = {
    "case_number": "(2026)鄂0111执1234号",
    "applicant": {"name": "甲公司"},
    "debtors": [{"name": "赵德明", "id_type": "resident_id", "id_number": ID}],
    "amount_owed": "100000.00",
}
ORDER = {
    "case_id": "case_x",
    "asset_id": "bank:icbc/deposit/1",
    "action": "freeze",
    "approved_by": "judge-1",
    "officer": "officer-1",
    "purpose": "asset control",
    "legal_basis": "(2026)鄂0111执1234号",
}
LIMIT = 4096


def _post(path: str, **kwargs: Any) -> httpx.Response:
    app = create_app(HubSettings(court_tokens="court-a:token-a", ops_token=None, max_request_bytes=LIMIT))
    # the routes' dependencies read these; a refused body never reaches a route that would use them
    app.state.db = app.state.relay = None

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        auth = {"Authorization": "Bearer token-a"}
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway", headers=auth) as client:
            return await client.post(path, **kwargs)

    return asyncio.run(go())


def _errors(r: httpx.Response, status: int = 422) -> list[dict[str, Any]]:
    assert r.status_code == status, r.text
    detail = r.json()["errors"]
    assert isinstance(detail, list) and detail, detail
    return detail


def _refused_at(r: httpx.Response, loc: list[Any], reason: str) -> None:
    errors = _errors(r)
    assert any(e["loc"] == loc and reason in e["msg"] for e in errors), errors


def test_a_valid_case_body_passes_validation() -> None:
    case = CaseCreate.model_validate(CASE)
    assert case.amount_owed == Decimal("100000.00") and case.costs == Decimal("0.00")
    assert CaseCreate.model_validate({**CASE, "amount_owed": str(MAX_AMOUNT)}).amount_owed == MAX_AMOUNT
    wire = CaseCreate.model_validate({**CASE, "amount_owed": "12.5"}).model_dump(mode="json")
    assert wire["amount_owed"] == "12.50" and wire["costs"] == "0.00"


@pytest.mark.parametrize(
    ("amount", "reason"),
    [
        ("1e400", "plain decimal string"),
        ("1e27", "plain decimal string"),
        ("1" * 28, "at most 999999999999.99"),
        ("9" * 400, "plain decimal string"),
        ("1000000000000.00", "at most 999999999999.99"),
        ("１００", "plain decimal string"),
        ("1_000", "plain decimal string"),
        ("NaN", "plain decimal string"),
        ("Infinity", "plain decimal string"),
        ("0x10", "plain decimal string"),
        ("-5.00", "must not be negative"),
        ("+5.00", "plain decimal string"),
        ("1.001", "at most two decimal places"),
        ("1.000", "at most two decimal places"),
        ("", "plain decimal string"),
        (100, "not a number"),
        (100.5, "not a float"),
        (1e400, "not a float"),
    ],
)
def test_bad_money_gets_422_on_the_field(amount: Any, reason: str) -> None:
    with pytest.raises(ValidationError) as info:
        CaseCreate.model_validate({**CASE, "amount_owed": amount})
    assert any(e["loc"] == ("amount_owed",) and reason in e["msg"] for e in info.value.errors())
    if isinstance(amount, str):  # through the app as the court sends it (a JSON float too large: inf)
        _refused_at(_post("/v1/cases", json={**CASE, "costs": amount}), ["body", "costs"], reason)


def test_a_control_order_amount_is_refused_on_its_field() -> None:
    _refused_at(_post("/v1/control-orders", json={**ORDER, "amount": "1e27"}), ["body", "amount"], "plain")
    _refused_at(_post("/v1/control-orders", json={**ORDER, "amount": "0.00"}), ["body", "amount"], "greater")
    _refused_at(_post("/v1/control-orders", json=ORDER), ["body", "amount"], "amount is required to freeze")
    release = {**ORDER, "action": "release", "amount": "1.00"}
    _refused_at(_post("/v1/control-orders", json=release), ["body", "amount"], "applies to freeze and deduct")


def test_the_hubs_own_money_never_raises_anything_but_a_value_error() -> None:
    assert to_money(Decimal("1.5")) == Decimal("1.50") and to_money("-3") == Decimal("-3.00")
    for bad in ("1e27", Decimal("1e27"), 10**40, "１００", "1_000", Decimal("NaN")):
        with pytest.raises(ValueError):
            to_money(bad)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("\u200b\u200b", "visible character"),  # zero-width spaces
        ("\u3164", "visible character"),  # Hangul filler
        ("\u2800\u200d", "visible character"),  # blank Braille pattern, zero-width joiner
        ("\u0301", "visible character"),  # a combining mark with nothing to combine with
        ("\x00", "control character U+0000"),
        ("张\x00伟", "control character U+0000"),
        ("张\n伟", "control character U+000A"),
        ("\u3000 \u00a0", "at least 1 character"),  # stripped to nothing
    ],
)
def test_names_without_a_visible_character_or_with_controls_get_422(name: str, reason: str) -> None:
    debtor = {**CASE["debtors"][0], "name": name}
    _refused_at(
        _post("/v1/cases", json={**CASE, "applicant": {"name": name}}), ["body", "applicant", "name"], reason
    )
    _refused_at(
        _post("/v1/cases", json={**CASE, "debtors": [debtor]}), ["body", "debtors", 0, "name"], reason
    )


def test_a_judge_id_of_invisible_characters_gets_422() -> None:
    body = {**ORDER, "amount": "1.00", "approved_by": "\u200b"}
    _refused_at(_post("/v1/control-orders", json=body), ["body", "approved_by"], "visible character")


def _raw(text: str) -> dict[str, Any]:
    return {"content": text.encode("utf-8"), "headers": {"Content-Type": "application/json"}}


def test_a_lone_surrogate_anywhere_gets_422_not_500() -> None:
    body = json.dumps(CASE, ensure_ascii=False)
    in_name = body.replace('"赵德明"', '"赵\\ud800"')
    _refused_at(_post("/v1/cases", **_raw(in_name)), ["body", "debtors", 0, "name"], "lone surrogate U+D800")
    in_case_number = body.replace('"(2026)', '"\\udfff(2026)')
    _refused_at(_post("/v1/cases", **_raw(in_case_number)), ["body", "case_number"], "lone surrogate U+DFFF")
    # where no validator of ours runs (an unknown field's name, an enum) the 422 still renders
    for text in (body[:-1] + ', "\\ud800": 1}', body.replace('"resident_id"', '"\\ud800"')):
        r = _post("/v1/cases", **_raw(text))
        assert r.headers["content-type"] == "application/problem+json"
        assert all(e["loc"][0] == "body" and e["msg"] for e in _errors(r)), r.text
    # a surrogate pair is a character like any other
    paired = CaseCreate.model_validate_json(body.replace('"甲公司"', '"\\ud83d\\ude00公司"'))
    assert paired.applicant.name == "😀公司"


def test_a_body_that_is_not_utf8_gets_422_naming_the_byte() -> None:
    r = _post("/v1/cases", content=b'{"case_number": "\xff"}', headers={"Content-Type": "application/json"})
    errors = _errors(r)
    assert errors[0]["loc"] == ["body"] and "not valid UTF-8 (byte 0xff at position 17)" in errors[0]["msg"]


def test_a_body_over_the_limit_gets_413_before_it_is_read() -> None:
    r = _post("/v1/cases", json={**CASE, "applicant": {"name": "甲" * LIMIT}})
    errors = _errors(r, 413)
    assert (
        errors[0]["loc"] == ["body"] and f"limit of {LIMIT} bytes (HUB_MAX_REQUEST_BYTES)" in errors[0]["msg"]
    )


def _echo_app(limit: int) -> tuple[RequestGuard, list[int]]:
    app = FastAPI()
    seen: list[int] = []

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, int]:
        seen.append(len(await request.body()))
        return {"bytes": seen[-1]}

    return RequestGuard(app, max_bytes=limit), seen


def _send(guard: RequestGuard, chunks: list[bytes], **kwargs: Any) -> httpx.Response:
    async def body() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk

    async def go() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=guard), base_url="http://x") as client:
            return await client.post("/echo", content=body(), **kwargs)

    return asyncio.run(go())


def test_a_chunked_body_is_counted_as_it_arrives_and_refused_past_the_limit() -> None:
    guard, seen = _echo_app(1024)
    ok = _send(guard, [b"x" * 512, b"y" * 512])  # no Content-Length: chunked
    assert ok.status_code == 200 and ok.json() == {"bytes": 1024} and seen == [1024]
    too_big = _send(guard, [b"x" * 512, b"y" * 512, b"z"])
    assert too_big.status_code == 413 and too_big.json()["errors"][0]["loc"] == ["body"]
    assert seen == [1024]  # the route never saw the refused body


def test_an_errors_traceback_logged_by_the_gateways_server_is_masked(
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    uvicorn_loggers = [logging.getLogger(n) for n in ("uvicorn", "uvicorn.error", "uvicorn.access")]
    saved_uvicorn = [(lg.handlers[:], lg.propagate, lg.level) for lg in uvicorn_loggers]
    try:
        for lg in uvicorn_loggers:  # as in a fresh gateway process (other tests' servers set their own)
            lg.handlers[:], lg.propagate = [], True
            lg.setLevel(logging.NOTSET)
        setup_logging(service="gateway")
        server(HubSettings(court_tokens="court-a:token-a"))  # configures uvicorn's logging as it runs
        try:
            raise RuntimeError(f"debtor {ID} could not be written")
        except RuntimeError:
            # what uvicorn logs for an unexpected exception in the app: the message and its traceback
            logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
        err = capsys.readouterr().err
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
        for lg, (handlers, propagate, lg_level) in zip(uvicorn_loggers, saved_uvicorn, strict=True):
            lg.handlers[:], lg.propagate = handlers, propagate
            lg.setLevel(lg_level)
    assert "Exception in ASGI application" in err and "Traceback" in err
    assert ID not in err and mask_id(ID) in err


def test_a_failed_statement_does_not_carry_its_parameters_into_the_error(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'hub.db'}")

    async def go() -> str:
        try:
            async with db.engine.begin() as conn:
                await conn.execute(
                    sa.text("INSERT INTO nowhere VALUES (:name, :id)"), {"name": "赵德明", "id": ID}
                )
        except sa.exc.DBAPIError as e:  # no such table: SQLAlchemy's error names the statement
            return str(e)
        finally:
            await db.close()
        raise AssertionError("a table that does not exist was written")

    text = asyncio.run(go())
    assert "parameters hidden" in text and ID not in text and "赵德明" not in text
