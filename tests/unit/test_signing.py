"""The electronic seal's keys and digests (hub/signing.py), the registry's check of a request and
seal of its answer (registries/signing.py) and the connectors' transport (connectors/signed_transport.py),
over HTTP faked at the transport."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, Request, Response

from connectors.signed_transport import SignedTransport, collecting_seals
from hub.errors import RegistrySignatureError
from hub.signing import (
    HUB_SIGNER,
    MESSAGE_KEY_HEADER,
    MESSAGE_SIGNATURE_HEADER,
    STREAMS_SIGNER,
    KeyRing,
    SignatureInvalid,
    Signer,
    activate,
    add_key,
    answer_digest,
    ensure_keys,
    hub_signers,
    message_headers,
    request_digest,
    retire,
    signer_dir,
    verify_message,
)
from registries.signing import RegistrySeal


def test_keys_are_generated_once_and_rotation_keeps_the_previous_key_verifiable(tmp_path: Path) -> None:
    first = ensure_keys(tmp_path, [HUB_SIGNER, "bank:icbc"])
    assert ensure_keys(tmp_path, [HUB_SIGNER, "bank:icbc"]) == first  # a second start keeps them
    hub_dir = signer_dir(tmp_path, HUB_SIGNER)
    assert (signer_dir(tmp_path, "bank:icbc") / f"{first['bank:icbc']}.pub").exists()
    assert (hub_dir / f"{first[HUB_SIGNER]}.key").stat().st_mode & 0o777 == 0o600
    signer = Signer(hub_dir, refresh=0)
    ring = KeyRing(hub_dir, refresh=0)
    digest = request_digest("GET", b"/x?a=1", b"", {"X-Case": "c1"})
    old_kid, old_sig = signer.sign(digest)
    assert old_kid == first[HUB_SIGNER]
    ring.verify(old_kid, old_sig, digest)

    new_kid = add_key(hub_dir)
    assert signer.sign(digest)[0] == old_kid  # added, not active yet
    activate(hub_dir, new_kid)
    kid, sig = signer.sign(digest)
    assert kid == new_kid
    ring.verify(kid, sig, digest)  # a key unknown to the ring is looked up at once
    ring.verify(old_kid, old_sig, digest)  # the overlap: the previous key still verifies
    with pytest.raises(ValueError, match="active key"):
        retire(hub_dir, new_kid)
    retire(hub_dir, old_kid)
    with pytest.raises(SignatureInvalid, match="unknown key id"):
        ring.verify(old_kid, old_sig, digest)


def test_a_digest_covers_method_target_body_and_requester(tmp_path: Path) -> None:
    base = request_digest("POST", b"/p", b"{}", {"X-Case": "c1", "X-Officer": "o1"})
    assert base != request_digest("GET", b"/p", b"{}", {"X-Case": "c1", "X-Officer": "o1"})
    assert base != request_digest("POST", b"/q", b"{}", {"X-Case": "c1", "X-Officer": "o1"})
    assert base != request_digest("POST", b"/p", b"[]", {"X-Case": "c1", "X-Officer": "o1"})
    assert base != request_digest("POST", b"/p", b"{}", {"X-Case": "c2", "X-Officer": "o1"})
    # the wire form of a URL may differ from the client's (aiohttp writes %28 as "("): both sign alike
    quoted = request_digest("POST", b"/r/%E9%84%82%282026%29?xm=%E5%BC%A0+%E4%B8%89", b"{}", {})
    assert quoted == request_digest("POST", "/r/鄂(2026)?xm=张 三".encode(), b"{}", {})
    assert quoted != request_digest("POST", "/r/鄂(2027)?xm=张 三".encode(), b"{}", {})
    assert answer_digest(200, "s1", b"x") != answer_digest(200, "s2", b"x") != answer_digest(201, "s2", b"x")
    kid = add_key(tmp_path / "hub", activate_now=True)
    ring = KeyRing(tmp_path / "hub")
    _, sig = Signer(tmp_path / "hub").sign(base)
    for bad_kid, bad_sig, reason in ((None, sig, "missing"), (kid, None, "missing"), (kid, "AAAA", "verify")):
        with pytest.raises(SignatureInvalid, match=reason):
            ring.verify(bad_kid, bad_sig, base)


def _registry_app(root: Path) -> tuple[FastAPI, RegistrySeal]:
    seal = RegistrySeal("police", root)
    app = FastAPI()

    @app.middleware("http")
    async def sealed(request: Request, call_next):  # type: ignore[no-untyped-def]
        refusal = await seal.check(request)
        response = Response(refusal, status_code=401) if refusal else await call_next(request)
        return await seal.seal(request, response)

    @app.post("/api/v2/persons")
    async def persons(body: dict[str, str]) -> dict[str, str]:
        return {"echo": body["q"]}

    return app, seal


def test_the_transport_signs_requests_and_refuses_answers_with_a_broken_seal(tmp_path: Path) -> None:
    ensure_keys(tmp_path, [HUB_SIGNER, "police"])
    app, seal = _registry_app(tmp_path)
    base = "http://police.test"
    netloc = httpx.URL(base).netloc

    async def run() -> None:
        asgi = httpx.ASGITransport(app=app)
        transport = SignedTransport(
            asgi,
            signer=Signer(signer_dir(tmp_path, HUB_SIGNER)),
            registries={netloc: ("police", KeyRing(signer_dir(tmp_path, "police")))},
        )
        async with (
            httpx.AsyncClient(transport=transport, base_url=base) as client,
            httpx.AsyncClient(transport=asgi, base_url=base) as bare,
        ):
            unsigned = await bare.post("/api/v2/persons", json={"q": "1"})
            assert unsigned.status_code == 401 and "signature missing" in unsigned.text
            with collecting_seals() as seals:
                ok = await client.post("/api/v2/persons", json={"q": "1"})
            assert ok.status_code == 200 and ok.json() == {"echo": "1"}
            assert [s["signer"] for s in seals] == ["police"] and seals[0]["digest"].startswith("sha256:")
            assert sum(seal.verified.values()) == 1
            seal.break_signatures = True
            with pytest.raises(RegistrySignatureError, match="signature does not verify"):
                await client.post("/api/v2/persons", json={"q": "2"})

    asyncio.run(run())


def test_a_kafka_message_seal_covers_topic_key_and_value(tmp_path: Path) -> None:
    ensure_keys(tmp_path, [STREAMS_SIGNER])
    signer, ring = Signer(signer_dir(tmp_path, STREAMS_SIGNER)), KeyRing(signer_dir(tmp_path, STREAMS_SIGNER))
    topic, key, value = "hub.agency.police.requests", b"inq_1", b'{"request_id":"inq_1/police"}'
    headers = message_headers(signer, topic, key, value)
    assert [name for name, _ in headers] == [MESSAGE_KEY_HEADER, MESSAGE_SIGNATURE_HEADER]
    assert verify_message(ring, topic, key, value, headers) == signer.key_id
    for other in (
        ("hub.agency.bank-icbc.controls", key, value),  # moved to another agency's topic
        (topic, b"inq_2", value),  # given another key
        (topic, key, value + b" "),  # altered
    ):
        with pytest.raises(SignatureInvalid, match="does not verify"):
            verify_message(ring, *other, headers)
    with pytest.raises(SignatureInvalid, match="missing"):
        verify_message(ring, topic, key, value, [])
    with pytest.raises(SignatureInvalid, match="unknown key id"):
        verify_message(ring, topic, key, value, [(MESSAGE_KEY_HEADER, b"k_x"), headers[1]])
    assert hub_signers(["police"]) == [HUB_SIGNER, STREAMS_SIGNER, "police"]
