"""One contract suite, run against every agency: the real registry app served by uvicorn on a free
localhost port, driven by that agency's real adapter over real HTTP.

Each registry has its own API shape; this suite proves every adapter speaks its registry's shape:
finding planted records (including ones keyed by a legacy 15-digit id or an organisation code,
found only through ``identifier_variants``), nothing for an unknown subject, paging to the end,
and the error mapping (401 → auth error, outage → unavailable, 429 → transient with Retry-After).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from connectors.adapter import AgencyAdapter, InquiryAnswer
from connectors.registry_adapters import build_adapter
from hub.errors import RegistryAuthError, RegistryUnavailable, TransientRegistryError
from hub.settings import HubSettings
from registries.app import create_app
from registries.fixtures import load_fixtures
from registries.population import generate, pick_people
from registries.records import normalise_name
from registries.store import RegistryData
from schemas.agencies import ASSET_KIND_BY_AGENCY_TYPE, REGISTER_ACTION, agency_type
from schemas.identifiers import IdType, identifier_variants, org_code_check, resident_id_check, uscc_check
from schemas.models import AgencyRequest, IdentifierForm, Party, utcnow

pytestmark = pytest.mark.integration

BANKS = "icbc,ccb,boc"
AGENCIES = HubSettings(banks=BANKS).agencies
HOMONYMS = 45  # more than any registry's page (20 or 25)


def _rid(first17: str) -> str:
    return first17 + resident_id_check(first17)


def _uscc(prefix8: str, org8: str) -> str:
    first17 = prefix8 + org8 + org_code_check(org8)
    return first17 + uscc_check(first17)


SUBJECT = Party(name="契约甲", id_type=IdType.resident_id, id_number=_rid("42010619760214033"))
COMPANY = Party(name="契约科技有限公司", id_type=IdType.uscc, id_number=_uscc("91420111", "MA4LQ2R8"))
UNKNOWN = Party(name="契约无名", id_type=IdType.resident_id, id_number=_rid("42010619800101555"))
HOMONYM_NAME = "契约同名"
HOMONYM_PROBE = Party(name=HOMONYM_NAME, id_type=IdType.resident_id, id_number=_rid("11010119700101001"))
LEGACY_ID = SUBJECT.id_number[:6] + SUBJECT.id_number[8:17]
ORG_CODE = f"{COMPANY.id_number[8:16]}-{COMPANY.id_number[16]}"


def _line(agency: str, owner: dict[str, Any], ref: str, value: str, controls: bool = False) -> dict[str, Any]:
    kind = ASSET_KIND_BY_AGENCY_TYPE[agency_type(agency)]
    line: dict[str, Any] = {
        "registry": agency,
        "owner": owner,
        "asset": {"kind": kind, "ref": ref, "value": value},
    }
    if controls:
        action = REGISTER_ACTION[kind]
        line["controls"] = [
            {
                "court": "court-x",
                "action": action,
                "amount": "2000.00",
                "registered_at": "2026-01-05T10:00:00+08:00",
            }
        ]
    return line


def _planted(agency: str) -> list[dict[str, Any]]:
    tag = agency.replace(":", "-")
    lines = [
        _line(
            agency,
            {"name": SUBJECT.name, "id_type": "resident_id", "id_number": SUBJECT.id_number},
            f"{tag}-canonical",
            "80000.00",
            controls=True,
        ),
        # an old record: another spelling of the name, keyed by the legacy number
        _line(
            agency,
            {"name": "契约旧名", "id_type": "resident_id", "id_number": LEGACY_ID},
            f"{tag}-legacy",
            "1500.50",
        ),
        # a company recorded under its former name and its organisation code
        _line(
            agency,
            {"name": "契约旧称有限公司", "id_type": "org_code", "id_number": ORG_CODE},
            f"{tag}-org",
            "990000.00",
        ),
    ]
    for i in range(HOMONYMS):
        other = _rid(f"4201021985{i // 28 + 1:02d}{i % 28 + 1:02d}{i:03d}")
        lines.append(
            _line(
                agency,
                {"name": HOMONYM_NAME, "id_type": "resident_id", "id_number": other},
                f"{tag}-homonym-{i:02d}",
                f"{i + 1}.00",
            )
        )
    return lines


@dataclass
class Registry:
    agency: str
    url: str
    settings: HubSettings
    adapter: AgencyAdapter

    def admin(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        r = httpx.request(
            method, f"{self.url}{path}", json=body, headers=self.adapter.auth_headers(), timeout=5
        )
        assert r.status_code == 200, r.text
        result: dict[str, Any] = r.json()
        return result


def _settings(**extra: Any) -> HubSettings:
    base: dict[str, Any] = {
        "banks": BANKS,
        "registry_latency_ms": "fixed:0",
        "registry_error_rate": 0.0,
        "registry_outage": "",
        "agency_credentials": {},
        "registry_seed": 7,
    }
    return HubSettings(**(base | extra))


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> RegistryData:
    path = Path(tmp_path_factory.mktemp("planted")) / "planted.jsonl"
    lines = [line for agency in AGENCIES for line in _planted(agency)]
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n", encoding="utf-8")
    return RegistryData.build(
        generate(7, 60, bank_codes=BANKS.split(",")), load_fixtures(path, agencies=AGENCIES)
    )


@pytest.fixture(scope="module", params=AGENCIES)
def registry(request: pytest.FixtureRequest, data: RegistryData) -> Iterator[Registry]:
    agency: str = request.param
    settings = _settings()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(agency, data, settings),
            log_level="warning",
            access_log=False,
            ws="none",
            lifespan="off",
        )
    )
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, f"registry {agency} did not start"
        time.sleep(0.01)
    try:
        wired = _settings(agency_urls={agency: url})
        yield Registry(agency, url, wired, build_adapter(agency, wired))
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def _request(agency: str, party: Party, *, variants: bool = True) -> AgencyRequest:
    forms = (
        identifier_variants(party.id_type, party.id_number)
        if variants
        else [(party.id_type, party.id_number)]
    )
    return AgencyRequest(
        request_id="req-1",
        inquiry_id="inq-1",
        case_id="case-1",
        court_id="court-a",
        agency=agency,
        subject=party,
        identifiers=[IdentifierForm(id_type=t, id_number=n) for t, n in forms],
        deadline=utcnow() + dt.timedelta(seconds=30),
        idempotency_key="idem-1",
        officer="officer-court-a-1",
        purpose="asset investigation",
        legal_basis="(2026)鄂0111执1234号 执行裁定书",
    )


def _inquire(adapter: AgencyAdapter, request: AgencyRequest) -> InquiryAnswer:
    async def run() -> InquiryAnswer:
        async with httpx.AsyncClient(timeout=5) as client:
            return await adapter.inquire(client, request)

    return asyncio.run(run())


def _by_ref(answer: InquiryAnswer) -> dict[str, Any]:
    return {r.ref: r for r in answer.records}


def test_finds_planted_records_with_the_owner_as_recorded(registry: Registry) -> None:
    answer = _inquire(registry.adapter, _request(registry.agency, SUBJECT))
    tag = registry.agency.replace(":", "-")
    found = _by_ref(answer)
    assert set(found) == {f"{tag}-canonical", f"{tag}-legacy"}
    kind = ASSET_KIND_BY_AGENCY_TYPE[agency_type(registry.agency)]
    assert all(r.agency == registry.agency and r.kind == kind for r in answer.records)
    canonical, legacy = found[f"{tag}-canonical"], found[f"{tag}-legacy"]
    assert (canonical.owner.name, canonical.owner.id_number) == (SUBJECT.name, SUBJECT.id_number)
    assert canonical.value == Decimal("80000.00")
    (control,) = canonical.controls
    assert control.court == "court-x" and control.position == 0
    assert control.registered_at == dt.datetime(2026, 1, 5, 2, 0, tzinfo=dt.UTC)
    if REGISTER_ACTION[kind] == "freeze":
        assert control.amount == Decimal("2000.00")
    assert (legacy.owner.name, legacy.owner.id_type, legacy.owner.id_number) == (
        "契约旧名",
        "resident_id",
        LEGACY_ID,
    )
    assert legacy.value == Decimal("1500.50")


def test_legacy_record_is_found_only_through_identifier_variants(registry: Registry) -> None:
    answer = _inquire(registry.adapter, _request(registry.agency, SUBJECT, variants=False))
    assert {r.owner.id_number for r in answer.records} == {SUBJECT.id_number}


def test_finds_organisation_code_keyed_record_of_a_company(registry: Registry) -> None:
    answer = _inquire(registry.adapter, _request(registry.agency, COMPANY))
    (record,) = answer.records
    assert record.owner.name == "契约旧称有限公司"
    assert (record.owner.id_type, record.owner.id_number) == ("org_code", ORG_CODE)
    assert record.value == Decimal("990000.00")


def test_unknown_subject_gets_nothing(registry: Registry) -> None:
    answer = _inquire(registry.adapter, _request(registry.agency, UNKNOWN))
    assert answer.records == [] and answer.party_records == []


def test_follows_paging_to_the_end(registry: Registry) -> None:
    before = registry.admin("GET", "/_admin/stats")["requests"]
    answer = _inquire(registry.adapter, _request(registry.agency, HOMONYM_PROBE))
    homonyms = [r for r in answer.records if r.owner.name == HOMONYM_NAME]
    assert len(homonyms) == HOMONYMS and len({r.ref for r in homonyms}) == HOMONYMS
    assert registry.admin("GET", "/_admin/stats")["requests"] - before >= 2


def test_household_records_come_from_police_only(registry: Registry) -> None:
    person = pick_people(generate(7, 60, bank_codes=BANKS.split(",")), 1, seed=1, with_assets=False)[0]
    party = Party(name=person.name, id_type=IdType.resident_id, id_number=person.resident_id)
    answer = _inquire(registry.adapter, _request(registry.agency, party))
    if registry.agency != "police":
        assert answer.party_records == []
        return
    forms = {n for _, n in identifier_variants("resident_id", person.resident_id)}
    households = [p for p in answer.party_records if p.kind == "household"]
    assert any(p.owner.id_number in forms or normalise_name(p.owner.name) == person.name for p in households)
    assert all(p.owner.address and p.owner.birth_date for p in households)


def test_wrong_credential_is_an_auth_error(registry: Registry) -> None:
    wrong = build_adapter(
        registry.agency,
        _settings(
            agency_urls={registry.agency: registry.url},
            agency_credentials={registry.agency: "not-the-secret"},
        ),
    )
    with pytest.raises(RegistryAuthError) as info:
        _inquire(wrong, _request(registry.agency, SUBJECT))
    assert info.value.status_code == 401
    assert "credential refused" in info.value.message  # parsed from the registry's own error format
    assert httpx.get(f"{registry.url}/_admin/stats", timeout=5).status_code == 401


def test_outage_is_unavailable_and_health_stays_up(registry: Registry) -> None:
    registry.admin("POST", "/_admin/faults", {"outage": True})
    try:
        with pytest.raises(RegistryUnavailable) as info:
            _inquire(registry.adapter, _request(registry.agency, SUBJECT))
        assert info.value.status_code == 503 and "outage" in info.value.message
        assert httpx.get(f"{registry.url}/healthz", timeout=5).status_code == 200
    finally:
        registry.admin("POST", "/_admin/faults", {"outage": False})
    assert _inquire(registry.adapter, _request(registry.agency, SUBJECT)).records


def test_throttling_is_transient_with_retry_after(registry: Registry) -> None:
    registry.admin("POST", "/_admin/faults", {"error_rate": 1.0, "error_kinds": ["throttled"]})
    try:
        with pytest.raises(TransientRegistryError) as info:
            _inquire(registry.adapter, _request(registry.agency, SUBJECT))
        assert not isinstance(info.value, RegistryUnavailable)
        assert info.value.status_code == 429
        assert info.value.retry_after is not None and 0 <= info.value.retry_after <= 2
    finally:
        registry.admin(
            "POST", "/_admin/faults", {"error_rate": 0.0, "error_kinds": ["unavailable", "throttled", "slow"]}
        )


def test_latency_knob_delays_answers(registry: Registry) -> None:
    faults = registry.admin("POST", "/_admin/faults", {"latency_ms": "fixed:150"})
    assert faults["latency_ms"] == "fixed:150"
    try:
        started = time.perf_counter()
        _inquire(registry.adapter, _request(registry.agency, UNKNOWN))
        assert time.perf_counter() - started >= 0.15
    finally:
        registry.admin("POST", "/_admin/faults", {"latency_ms": "fixed:0"})


@pytest.mark.parametrize("agency", AGENCIES)
def test_outage_from_settings_at_start(agency: str, data: RegistryData) -> None:
    app = create_app(agency, data, _settings(registry_outage=f"{agency},land"))
    adapter = build_adapter(agency, _settings(agency_urls={agency: "http://registry.test"}))

    async def run() -> None:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), timeout=5) as client:
            assert (await client.get("http://registry.test/healthz")).status_code == 200
            with pytest.raises(RegistryUnavailable):
                await adapter.inquire(client, _request(agency, SUBJECT))

    asyncio.run(run())


def test_a_request_that_does_not_say_who_asks_is_refused_and_one_that_does_is_heard(
    registry: Registry,
) -> None:
    """Every agency, through its own adapter and API shape: the registry refuses a request whose
    command lacks the officer (a command from before officers), and records who asked otherwise."""
    old = _request(registry.agency, SUBJECT).model_copy(update={"officer": None, "legal_basis": None})
    with pytest.raises(RegistryAuthError) as info:
        _inquire(registry.adapter, old)
    assert info.value.status_code == 403 and "X-Officer is missing" in info.value.message
    answer = _inquire(registry.adapter, _request(registry.agency, SUBJECT))
    assert answer.records
    seen = registry.admin("GET", "/_admin/requests")
    assert seen["refused"] >= 1
    assert seen["requests"][-1]["requester"] == {
        "court": "court-a",
        "case": "case-1",
        "officer": "officer-court-a-1",
        "legal_basis": "(2026)鄂0111执1234号 执行裁定书",
        "purpose": "asset investigation",
    }
