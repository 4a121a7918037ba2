"""Officers, purpose and the audit trail through the real pipeline: the gateway refuses an inquiry
or order that does not say who asks and why; agencies hear who asks over real HTTP and refuse a
request without it (a pre-upgrade command's agency fails with that reason); every accepted inquiry,
order, read and answer leaves a hash-chained entry, and ``hub audit verify`` names an edited or a
removed one in the hub's own database."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from connectors.registry_adapters import build_adapter
from hub.signing import HUB_SIGNER, Signer, seal_headers, signer_dir
from schemas.codec import encode
from schemas.models import DebtorRef, InquiryRequested
from schemas.topics import COURT_COMMANDS

from .conftest import HubClient
from .planted import RICH

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def _errors(r: httpx.Response) -> list[dict[str, Any]]:
    assert r.status_code == 422, r.text
    body = r.json()
    errors: list[dict[str, Any]] = body["errors"]
    return errors


def _inquiry(case_id: str, **asking: Any) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "debtor": {"id_type": "resident_id", "id_number": RICH["id_number"]},
        **asking,
    }


def test_an_inquiry_or_order_that_does_not_say_who_asks_and_why_is_refused(hub: HubClient) -> None:
    case_id = hub.create_case([RICH])
    asking = hub.asking()
    without = {k: v for k, v in asking.items() if k != "legal_basis"}
    (error,) = _errors(hub.court_a.post("/v1/inquiries", json=_inquiry(case_id, **without)))
    assert error["loc"] == ["body", "legal_basis"] and error["type"] == "missing"

    for officer in ("officer-nobody", hub.officer("court-b")):  # unknown, or another court's
        r = hub.court_a.post("/v1/inquiries", json=_inquiry(case_id, **{**asking, "officer": officer}))
        (error,) = _errors(r)
        assert error["loc"] == ["body", "officer"] and error["type"] == "not_an_officer", error
        assert "court-a" in error["msg"]

    order = {
        "case_id": case_id,
        "asset_id": "bank:icbc/deposit/0",
        "action": "release",
        "approved_by": hub.judge(),
        "purpose": "release",
        "legal_basis": "ruling",
    }
    (error,) = _errors(hub.court_a.post("/v1/control-orders", json=order))
    assert error["loc"] == ["body", "officer"]
    r = hub.court_a.post("/v1/control-orders", json={**order, "officer": "officer-nobody"})
    assert [e["loc"] for e in _errors(r)] == [["body", "officer"]]


def test_each_agency_hears_who_asks_for_which_court_case_and_legal_basis(hub: HubClient) -> None:
    agencies = ["police", "bank:icbc"]
    case_id = hub.create_case([RICH])
    result = hub.wait_result(hub.inquire(case_id, RICH, agencies=agencies), timeout=60)
    assert {a["status"] for a in result["agencies"].values()} == {"answered"}
    expected = {
        "court": "court-a",
        "case": case_id,
        "officer": hub.officer(),
        "legal_basis": hub.asking()["legal_basis"],
        "purpose": hub.asking()["purpose"],
    }
    for agency in agencies:
        seen = [e["requester"] for e in hub.registry_requesters(agency)["requests"]]
        assert expected in seen, (agency, seen[-3:])


def test_a_registry_refuses_a_request_that_does_not_say_who_asks(hub: HubClient) -> None:
    url = hub.settings.registry_url("police")
    credential = build_adapter("police", hub.settings).auth_headers()
    query = {"sfzh": RICH["id_number"], "xm": RICH["name"], "page": 1, "rows": 20}
    refused_before = hub.registry_requesters("police")["refused"]
    bare = httpx.get(f"{url}/api/v2/persons", params=query, headers=credential, timeout=10)
    assert bare.status_code == 403, bare.text
    assert "X-Requesting-Court is missing" in bare.text
    asking = {
        **credential,
        "X-Requesting-Court": "court-a",
        "X-Case": "case-direct",
        "X-Officer": hub.officer(),
        "X-Legal-Basis": "%E6%89%A7%E8%A1%8C%E8%A3%81%E5%AE%9A",  # 执行裁定, percent-encoded
    }
    no_basis = {k: v for k, v in asking.items() if k != "X-Legal-Basis"}
    refused = httpx.get(f"{url}/api/v2/persons", params=query, headers=no_basis, timeout=10)
    assert refused.status_code == 403 and "X-Legal-Basis is missing" in refused.text
    # a request that says who asks is also sealed by the hub (hub/signing.py; tests: test_signatures.py)
    target = httpx.URL(f"{url}/api/v2/persons", params=query).raw_path
    signer = Signer(signer_dir(hub.settings.signing_keys_dir or Path(), HUB_SIGNER))
    sealed = {**asking, **seal_headers(signer, "GET", target, b"", asking)}
    ok = httpx.get(f"{url}/api/v2/persons", params=query, headers=sealed, timeout=10)
    assert ok.status_code == 200, ok.text
    seen = hub.registry_requesters("police")
    assert seen["refused"] >= refused_before + 2
    assert seen["requests"][-1]["requester"]["legal_basis"] == "执行裁定"
    # the admin routes stay open to the credential alone
    assert httpx.get(f"{url}/_admin/stats", headers=credential, timeout=10).status_code == 200


def _produce(bootstrap: str, topic: str, key: bytes, value: bytes) -> None:
    from aiokafka import AIOKafkaProducer

    async def run() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
        await producer.start()
        try:
            await producer.send_and_wait(topic, value, key=key)
        finally:
            await producer.stop()

    asyncio.run(run())


def test_a_command_from_before_officers_fails_at_the_agency_with_the_reason(hub: HubClient) -> None:
    """A redelivered pre-upgrade command is still processed: the connector sends what it has, the
    registry refuses it, and the court reads that agency ``failed`` with the registry's reason."""
    case_id = hub.create_case([RICH])
    hub.wait_result(hub.inquire(case_id, RICH, agencies=["land"]), timeout=60)  # the streams know the case
    inquiry_id = f"inq_old_{uuid.uuid4().hex[:12]}"
    old = InquiryRequested(
        inquiry_id=inquiry_id,
        case_id=case_id,
        court_id="court-a",
        debtor=DebtorRef(id_type="resident_id", id_number=RICH["id_number"]),
        agencies=["police"],
        requested_at=dt.datetime.now(dt.UTC),
        idempotency_key=inquiry_id,
    )
    payload = json.loads(encode(old))
    assert "officer" not in {k for k, v in payload.items() if v is not None}
    _produce(hub.settings.bootstrap, COURT_COMMANDS, case_id.encode(), encode(old))
    deadline = time.monotonic() + 60
    while hub.court_a.get(f"/v1/inquiries/{inquiry_id}").status_code == 404:
        assert time.monotonic() < deadline, "no result reached the read model"
        time.sleep(0.2)
    result = hub.wait_result(inquiry_id, timeout=60)
    police = result["agencies"]["police"]
    assert police["status"] == "failed", police
    assert "403" in police["detail"] and "X-Officer is missing" in police["detail"]


def _audit(hub: HubClient, case_id: str, client: httpx.Client | None = None, **params: Any) -> httpx.Response:
    return (client or hub.court_a).get(f"/v1/cases/{case_id}/audit", params=params)


def _wait_kinds(hub: HubClient, case_id: str, kinds: set[str]) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 30
    while True:
        r = _audit(hub, case_id, limit=500)
        assert r.status_code == 200, r.text
        entries: list[dict[str, Any]] = r.json()["entries"]
        if kinds <= {e["kind"] for e in entries}:
            return entries
        assert time.monotonic() < deadline, [e["kind"] for e in entries]
        time.sleep(0.2)


def test_a_case_audit_trail_records_who_did_and_read_what(hub: HubClient) -> None:
    case_id = hub.create_case([RICH])
    inquiry_id = hub.inquire(case_id, RICH, agencies=["police", "bank:icbc"])
    result = hub.wait_result(inquiry_id, timeout=60)
    assert result["status"] == "complete"
    asset = next(a for a in result["assets"] if a["linkage"]["decision"] == "match")
    hub.order(case_id=case_id, asset_id=asset["asset_id"], action="release", approved_by=hub.judge())
    assert hub.court_a.get(f"/v1/cases/{case_id}").status_code == 200
    entries = _wait_kinds(
        hub, case_id, {"inquiry_accepted", "assets_read", "agency_answers", "control_order"}
    )

    accepted = next(e for e in entries if e["kind"] == "inquiry_accepted")
    assert accepted["actor"] == hub.officer() and accepted["court_id"] == "court-a"
    assert accepted["details"]["inquiry_id"] == inquiry_id
    assert accepted["details"]["legal_basis"].startswith("sha256:")
    reads = [e for e in entries if e["kind"] == "assets_read"]
    assert any(e["details"] == {"inquiry_id": inquiry_id} for e in reads), "the inquiry's result was read"
    assert any(e["details"] == {} for e in reads), "the case was read"
    assert all(e["actor"].startswith("token:") for e in reads)
    answers = [e for e in entries if e["kind"] == "agency_answers" and e["details"]["status"] == "complete"]
    assert answers and set(answers[-1]["details"]["agencies"]) == {"police", "bank:icbc"}
    assert all(a["digest"].startswith("sha256:") for a in answers[-1]["details"]["agencies"].values())
    order = next(e for e in entries if e["kind"] == "control_order")
    assert order["details"]["approved_by"] == hub.judge() and order["actor"] == hub.officer()
    seqs = [e["seq"] for e in entries]
    assert seqs == sorted(seqs) and all(e["at"].endswith("+00:00") for e in entries)

    text = json.dumps(entries, ensure_ascii=False)
    for secret in (RICH["id_number"], RICH["name"], asset["ref"]):
        assert secret not in text, "the trail holds ids and digests, not personal data"

    paged: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = _audit(hub, case_id, **params).json()
        paged += page["entries"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [e["seq"] for e in paged][: len(entries)] == seqs
    assert _audit(hub, case_id, client=hub.court_b).status_code == 404
    assert _audit(hub, "case_doesnotexist").status_code == 404
    assert _audit(hub, case_id, cursor="not-a-cursor").status_code == 422


def _verify(url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hub.cli", "audit", "verify", "--database", url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _engine(url: str) -> sa.Engine:
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url.removeprefix(prefix)
    return sa.create_engine(url)


def test_hub_audit_verify_names_an_edited_and_a_removed_entry(hub: HubClient) -> None:
    case_id = hub.create_case([RICH])
    inquiry_id = hub.inquire(case_id, RICH, agencies=["police"])
    hub.wait_result(inquiry_id, timeout=60)
    entry = next(
        e for e in _wait_kinds(hub, case_id, {"inquiry_accepted"}) if e["kind"] == "inquiry_accepted"
    )
    seq = entry["seq"]
    url = hub.settings.resolved_database_url
    intact = _verify(url)
    assert intact.returncode == 0, intact.stdout + intact.stderr
    assert "audit chain intact" in intact.stdout

    engine = _engine(url)
    log = sa.table("audit_log", sa.column("seq"), sa.column("actor"))
    try:
        with engine.begin() as conn:
            conn.execute(sa.update(log).where(log.c.seq == seq).values(actor="officer-forged"))
        edited = _verify(url)
        assert edited.returncode == 1, edited.stdout + edited.stderr
        assert f"entry {seq} altered" in edited.stdout, edited.stdout
        with engine.begin() as conn:
            conn.execute(sa.update(log).where(log.c.seq == seq).values(actor=entry["actor"]))
        assert _verify(url).returncode == 0, "restored: intact again"

        with engine.begin() as conn:
            row = conn.execute(sa.text("SELECT * FROM audit_log WHERE seq = :s"), {"s": seq}).mappings().one()
            saved = dict(row)
            conn.execute(sa.text("DELETE FROM audit_log WHERE seq = :s"), {"s": seq})
        removed = _verify(url)
        assert removed.returncode == 1, removed.stdout + removed.stderr
        assert f"entry {seq} removed" in removed.stdout, removed.stdout
        with engine.begin() as conn:
            columns = ", ".join(saved)
            conn.execute(
                sa.text(f"INSERT INTO audit_log ({columns}) VALUES ({', '.join(':' + c for c in saved)})"),
                saved,
            )
        again = _verify(url)
        assert again.returncode == 0, again.stdout
    finally:
        engine.dispose()
