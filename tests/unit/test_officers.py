"""Who asks and why: the body fields an inquiry and a control order must carry (422 naming the
field, through the gateway's real app over ASGI), and the requester headers every adapter sends and
every registry decodes (real adapter subclasses, the registries' own decoder)."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import httpx
import pytest
from starlette.requests import Request

from connectors.adapter import AgencyAdapter, InquiryAnswer, encode_header
from connectors.registry_adapters import build_adapter
from gateway.main import create_app
from hub.settings import HubSettings
from registries.requester import RequesterError, requester_of
from schemas.identifiers import resident_id_check
from schemas.models import AgencyRequest, IdentifierForm, InquiryCreate, Party

ID = "42010619750313041" + resident_id_check("42010619750313041")
ASKING = {"officer": "officer-1", "purpose": "查明财产", "legal_basis": "(2026)鄂0111执1234号 执行裁定书"}
INQUIRY = {"case_id": "case_x", "debtor": {"id_type": "resident_id", "id_number": ID}, **ASKING}
ORDER = {
    "case_id": "case_x",
    "asset_id": "bank:icbc/deposit/1",
    "action": "freeze",
    "amount": "1.00",
    "approved_by": "judge-1",
    **ASKING,
}


def _post(path: str, body: dict[str, Any]) -> httpx.Response:
    app = create_app(HubSettings(court_tokens="court-a:token-a", ops_token=None))
    app.state.db = app.state.relay = None  # a refused body never reaches a route that would use them

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        auth = {"Authorization": "Bearer token-a"}
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway", headers=auth) as client:
            return await client.post(path, json=body)

    return asyncio.run(go())


def _locs(r: httpx.Response) -> list[list[Any]]:
    assert r.status_code == 422, r.text
    body = r.json()
    errors = body["errors"]
    return [e["loc"] for e in errors]


@pytest.mark.parametrize("path,body", [("/v1/inquiries", INQUIRY), ("/v1/control-orders", ORDER)])
@pytest.mark.parametrize("field", ["officer", "purpose", "legal_basis"])
def test_a_missing_or_blank_field_gets_422_naming_it(path: str, body: dict[str, Any], field: str) -> None:
    missing = {k: v for k, v in body.items() if k != field}
    assert _locs(_post(path, missing)) == [["body", field]]
    for blank in ("", "   ", "\u200b", "a\nb", "x" * 501 if field != "officer" else "x" * 101):
        assert _locs(_post(path, {**body, field: blank})) == [["body", field]], blank


def test_the_fields_keep_what_the_court_wrote() -> None:
    body = InquiryCreate.model_validate(INQUIRY)
    assert (body.officer, body.purpose, body.legal_basis) == tuple(ASKING.values())


class _Echo(AgencyAdapter):
    agency = "police"

    def auth_headers(self) -> dict[str, str]:
        return {"X-Key": self._credential}

    async def inquire(self, client: httpx.AsyncClient, request: AgencyRequest) -> InquiryAnswer:
        r = await client.get(self.url("/q"), headers=self.auth_headers())
        self.sent = dict(r.request.headers)
        return InquiryAnswer()


def _request(**asking: str) -> AgencyRequest:
    party = Party(name="赵德明", id_type="resident_id", id_number=ID)
    return AgencyRequest(
        request_id="r",
        inquiry_id="inq",
        case_id="case_1",
        court_id="court-a",
        agency="police",
        subject=party,
        identifiers=[IdentifierForm(id_type="resident_id", id_number=ID)],
        deadline=dt.datetime.now(dt.UTC),
        idempotency_key="k",
        **asking,
    )


def _send(adapter: _Echo, request: AgencyRequest) -> dict[str, str]:
    async def go() -> None:
        transport = httpx.MockTransport(lambda req: httpx.Response(200, json={}))
        async with httpx.AsyncClient(transport=transport) as client:
            await adapter.inquire(client, request)

    asyncio.run(go())
    return adapter.sent


def _decoded(headers: dict[str, str]) -> dict[str, str]:
    scope = {"type": "http", "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]}
    return requester_of(Request(scope))


def test_every_adapter_sends_who_asks_and_the_registry_decodes_it() -> None:
    adapter = _Echo("http://registry", "secret")
    sent = _send(adapter, _request(**ASKING))
    assert sent["x-key"] == "secret"
    assert all(ch.isascii() for ch in sent["x-legal-basis"])  # percent-encoded on the wire
    assert _decoded(sent) == {
        "court": "court-a",
        "case": "case_1",
        "officer": "officer-1",
        "legal_basis": ASKING["legal_basis"],
        "purpose": ASKING["purpose"],
    }
    assert "x-officer" not in {k.lower() for k in adapter.auth_headers()}, "only while a call runs"


def test_a_command_from_before_officers_sends_what_it_has_and_is_refused() -> None:
    sent = _send(_Echo("http://registry", "secret"), _request())
    assert "x-officer" not in sent and sent["x-requesting-court"] == "court-a"
    with pytest.raises(RequesterError, match="X-Officer is missing"):
        _decoded(sent)


def test_the_real_adapters_inherit_the_headers() -> None:
    settings = HubSettings()
    for agency in settings.agencies:
        adapter = build_adapter(agency, settings)
        assert type(adapter).auth_headers.__wrapped__  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"X-Requesting-Court": "c", "X-Case": "k", "X-Officer": "o"}, "X-Legal-Basis is missing"),
        ({"X-Requesting-Court": "c", "X-Case": "k", "X-Officer": " ", "X-Legal-Basis": "b"}, "X-Officer"),
        ({"X-Requesting-Court": "c", "X-Case": "k", "X-Officer": "%FF", "X-Legal-Basis": "b"}, "UTF-8"),
        ({"X-Requesting-Court": "c", "X-Case": "k", "X-Officer": "a%0Ab", "X-Legal-Basis": "b"}, "control"),
    ],
)
def test_registries_refuse_missing_or_unusable_requester_headers(
    headers: dict[str, str], reason: str
) -> None:
    with pytest.raises(RequesterError, match=reason):
        _decoded(headers)


def test_percent_encoding_round_trips_percent_signs_and_chinese() -> None:
    text = "100% 执行 (2026)鄂0111执1234号"
    assert (
        _decoded(
            {
                "X-Requesting-Court": encode_header("court-a"),
                "X-Case": "c",
                "X-Officer": encode_header("officer 甲"),
                "X-Legal-Basis": encode_header(text),
            }
        )["legal_basis"]
        == text
    )
