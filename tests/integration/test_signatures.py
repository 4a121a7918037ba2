"""The electronic seal on a running hub (hub/signing.py): registries refuse requests the hub did not
sign, the hub refuses answers the registry did not sign, the seal is kept with the answer and in the
audit trail, and keys rotate without downtime."""

from __future__ import annotations

import asyncio
import base64
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.registry_adapters import build_adapter
from gateway.db import Database
from hub.signing import (
    ANSWER_KEY_HEADER,
    ANSWER_SIGNATURE_HEADER,
    HUB_SIGNER,
    KeyRing,
    SignatureInvalid,
    Signer,
    activate,
    add_key,
    answer_digest,
    retire,
    seal_headers,
    signer_dir,
)

from .conftest import HubClient
from .planted import RICH

pytestmark = pytest.mark.integration


def _keys(hub: HubClient) -> Path:
    root = hub.settings.signing_keys_dir
    assert root is not None, "hub up sets HUB_SIGNING_KEYS_DIR"
    return root


def _police_query(hub: HubClient) -> tuple[str, dict[str, Any], dict[str, str]]:
    """URL, query and headers (credential and requester) of a direct police query."""
    url = f"{hub.settings.registry_url('police')}/api/v2/persons"
    query = {"sfzh": RICH["id_number"], "xm": RICH["name"], "page": 1, "rows": 20}
    headers = {
        **build_adapter("police", hub.settings).auth_headers(),
        "X-Requesting-Court": "court-a",
        "X-Case": "case-sealed",
        "X-Officer": hub.officer(),
        "X-Legal-Basis": "%E6%89%A7%E8%A1%8C%E8%A3%81%E5%AE%9A",
    }
    return url, query, headers


def _signed_get(hub: HubClient, signer: Signer, *, tamper: bool = False) -> httpx.Response:
    url, query, headers = _police_query(hub)
    target = httpx.URL(url, params=query).raw_path
    seal = seal_headers(signer, "GET", target, b"", headers)
    if tamper:  # signed for another case than the one sent
        headers = {**headers, "X-Case": "case-other"}
    return httpx.get(url, params=query, headers={**headers, **seal}, timeout=10)


def _signatures(hub: HubClient, agency: str) -> dict[str, Any]:
    adapter = build_adapter(agency, hub.settings)
    r = httpx.get(
        f"{hub.settings.registry_url(agency)}/_admin/signatures", headers=adapter.auth_headers(), timeout=5
    )
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def _hub_signer(hub: HubClient) -> Signer:
    return Signer(signer_dir(_keys(hub), HUB_SIGNER), refresh=0)


def test_a_registry_refuses_unsigned_and_badly_signed_requests(hub: HubClient) -> None:
    url, query, headers = _police_query(hub)
    before = _signatures(hub, "police")["refused"]

    unsigned = httpx.get(url, params=query, headers=headers, timeout=10)
    assert unsigned.status_code == 401, unsigned.text
    assert "electronic seal refused: signature missing" in unsigned.text

    tampered = _signed_get(hub, _hub_signer(hub), tamper=True)
    assert tampered.status_code == 401, tampered.text
    assert "signature does not verify with key" in tampered.text

    stranger_dir = _keys(hub).parent / "stranger-keys" / "hub"
    add_key(stranger_dir, activate_now=True)
    stranger = _signed_get(hub, Signer(stranger_dir))
    assert stranger.status_code == 401 and "unknown key id" in stranger.text, stranger.text
    assert _signatures(hub, "police")["refused"] == before + 3

    ok = _signed_get(hub, _hub_signer(hub))
    assert ok.status_code == 200, ok.text
    # the answer is sealed by the police registry over its status, our signature and its body
    request_signature = ok.request.headers["X-Hub-Signature"]
    digest = answer_digest(200, request_signature, ok.content)
    police = KeyRing(signer_dir(_keys(hub), "police"))
    police.verify(ok.headers[ANSWER_KEY_HEADER], ok.headers[ANSWER_SIGNATURE_HEADER], digest)
    with pytest.raises(SignatureInvalid):
        police.verify(ok.headers[ANSWER_KEY_HEADER], ok.headers[ANSWER_SIGNATURE_HEADER], digest[::-1])
    # the admin routes take the credential alone
    assert _signatures(hub, "police")["hub_keys"]


def _verify_seal(hub: HubClient, seal: dict[str, Any]) -> None:
    digest = seal["digest"].removeprefix("sha256:")
    raw = base64.urlsafe_b64decode(digest + "=" * (-len(digest) % 4))
    KeyRing(signer_dir(_keys(hub), seal["signer"])).verify(seal["key_id"], seal["signature"], raw)


def _audit_answers(hub: HubClient, case_id: str, inquiry_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        r = hub.court_a.get(f"/v1/cases/{case_id}/audit", params={"limit": 500})
        assert r.status_code == 200, r.text
        answers = [
            e
            for e in r.json()["entries"]
            if e["kind"] == "agency_answers"
            and e["details"]["inquiry_id"] == inquiry_id
            and e["details"]["status"] != "pending"
        ]
        if answers:
            agencies: dict[str, Any] = answers[-1]["details"]["agencies"]
            return agencies
        assert time.monotonic() < deadline, "no audited answer"
        time.sleep(0.3)


def test_each_answer_keeps_the_registrys_seal_and_the_audit_trail_records_it(hub: HubClient) -> None:
    case_id = hub.create_case([RICH])
    inquiry_id = hub.inquire(case_id, RICH, agencies=["police", "bank:icbc"])
    result = hub.wait_result(inquiry_id, timeout=60)
    assert result["status"] == "complete", result["agencies"]
    for agency in ("police", "bank:icbc"):
        seals = result["agencies"][agency]["seals"]
        assert seals, agency
        active = _signatures(hub, agency)["signing_key"]
        for seal in seals:
            assert seal["signer"] == agency and seal["key_id"] == active
            _verify_seal(hub, seal)
    audited = _audit_answers(hub, case_id, inquiry_id)
    for agency in ("police", "bank:icbc"):
        assert audited[agency]["digest"].startswith("sha256:")
        assert audited[agency]["seals"] == result["agencies"][agency]["seals"]


def _dead_letters(hub: HubClient) -> list[dict[str, Any]]:
    async def read() -> list[dict[str, Any]]:
        db = Database(hub.settings.resolved_database_url)
        try:
            return await db.recent_dead_letters(limit=1000)
        finally:
            await db.close()

    return asyncio.run(read())


def test_an_answer_with_a_broken_signature_is_dead_lettered_and_the_agency_failed(hub: HubClient) -> None:
    case_id = hub.create_case([RICH])
    hub.set_faults("land", bad_signature=True)
    try:
        assert _signatures(hub, "land")["bad_signature"] is True
        inquiry_id = hub.inquire(case_id, RICH, agencies=["land", "police"])
        result = hub.wait_result(inquiry_id, timeout=60)
    finally:
        hub.set_faults("land", bad_signature=False)
    land = result["agencies"]["land"]
    assert result["status"] == "partial"
    assert land["status"] == "failed", land
    assert "signature does not verify" in land["detail"] and not land["seals"], land
    assert result["agencies"]["police"]["status"] in ("answered", "no_record")
    assert not any(a["agency"] == "land" for a in result["assets"])
    deadline = time.monotonic() + 30
    while True:
        letters = [
            x for x in _dead_letters(hub) if inquiry_id in x["value"] and x["stage"] == "connector.registry"
        ]
        if letters:
            break
        assert time.monotonic() < deadline, "the refused answer was not dead-lettered"
        time.sleep(0.5)
    assert letters[0]["error_class"] == "RegistrySignatureError"
    assert "signature does not verify" in letters[0]["reason"]
    # the switch is off again: land answers sealed
    again = hub.wait_result(hub.inquire(case_id, RICH, agencies=["land"]), timeout=60)
    assert (
        again["agencies"]["land"]["status"] in ("answered", "no_record")
        and again["agencies"]["land"]["seals"]
    )


def test_keys_rotate_without_downtime(hub: HubClient) -> None:
    hub_dir = signer_dir(_keys(hub), HUB_SIGNER)
    old_kid = _hub_signer(hub).key_id
    old = Signer(hub_dir, key_id=old_kid)  # a client still signing with the previous key
    # 1. the hub's new key is added and signing switches to it
    new_kid = add_key(hub_dir)
    activate(hub_dir, new_kid)
    case_id = hub.create_case([RICH])
    deadline = time.monotonic() + 30
    while new_kid not in _signatures(hub, "police")["verified"]:  # the connectors follow `active`
        result = hub.wait_result(hub.inquire(case_id, RICH, agencies=["police"]), timeout=60)
        assert result["status"] == "complete", result["agencies"]
        assert time.monotonic() < deadline, _signatures(hub, "police")
    # 2. during the overlap a request signed with the previous key is still accepted
    assert old.key_id == old_kid
    assert _signed_get(hub, old).status_code == 200
    # 3. a registry rotates its key: the hub accepts the new one at once
    land_dir = signer_dir(_keys(hub), "land")
    land_kid = add_key(land_dir, activate_now=True)
    deadline = time.monotonic() + 30
    while True:
        result = hub.wait_result(hub.inquire(case_id, RICH, agencies=["land"]), timeout=60)
        land = result["agencies"]["land"]
        assert land["status"] in ("answered", "no_record"), land
        if land["seals"][-1]["key_id"] == land_kid:
            break
        assert time.monotonic() < deadline, land
    _verify_seal(hub, land["seals"][-1])
    # 4. the overlap ends: the previous hub key is retired and refused
    retire(hub_dir, old_kid)
    deadline = time.monotonic() + 30
    while (r := _signed_get(hub, old)).status_code != 401:
        assert time.monotonic() < deadline, r.text
        time.sleep(0.3)
    assert f"unknown key id {old_kid!r}" in r.text
    final = hub.wait_result(hub.inquire(case_id, RICH, agencies=["police"]), timeout=60)
    assert final["status"] == "complete", final["agencies"]
