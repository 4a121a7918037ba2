"""Schemathesis against the live gateway, with a court's token: generated requests (valid and
invalid by the schema, and the documented examples) never get a 5xx, and every answer conforms to
the OpenAPI document (a declared status, the declared content type, a body valid by its schema).

Bounded and reproducible: a fixed seed, deterministic generation, a few examples per operation.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest

from .conftest import HubClient
from .planted import RICH

pytestmark = pytest.mark.integration

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


def _known_resources(hub: HubClient) -> str:
    """Court-b's own case (the debtor with many assets, an inquiry settled), control order and
    batch, as the path parameters of every operation: the fuzzing reaches past "404 not found" into
    each route's own checks and its answers with real data."""
    court = hub.court_b
    case_id, assets = hub.find_assets(RICH, client=court)
    deposit = next(
        a for a in assets.values() if a["kind"] == "deposit" and a["linkage"]["decision"] == "match"
    )
    order_id = hub.order(
        client=court,
        case_id=case_id,
        asset_id=deposit["asset_id"],
        action="freeze",
        amount="100.00",
        approved_by=hub.judge("court-b"),
    )
    hub.wait_order(order_id, {"effective", "waiting", "partial", "rejected", "failed"}, client=court)
    inquiry_id = court.get(f"/v1/cases/{case_id}/inquiries").json()["items"][0]["inquiry_id"]
    debtor = {k: RICH[k] for k in ("id_type", "id_number")}
    batch = court.post(
        "/v1/inquiry-batches",
        json={"items": [{"case_id": case_id, "debtor": debtor, "agencies": ["police"]}], **hub.asking(court)},
    )
    assert batch.status_code == 202, batch.text
    known = {
        "path.case_id": case_id,
        "path.order_id": order_id,
        "path.inquiry_id": inquiry_id,
        "path.batch_id": batch.json()["batch_id"],
        "path.asset_id": deposit["asset_id"],
    }
    return "[parameters]\n" + "".join(f'"{k}" = {json.dumps(v)}\n' for k, v in known.items())


def test_fuzzing_the_api_finds_no_server_error_and_no_answer_outside_the_schema(
    hub: HubClient, tmp_path: Path
) -> None:
    token = hub.settings.tokens_by_court["court-b"]  # court-a's feed and webhooks stay the other tests'
    report = tmp_path / "schemathesis.xml"
    config = tmp_path / "schemathesis.toml"
    config.write_text(_known_resources(hub), encoding="utf-8")
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file",
        str(config),
        "run",
        f"{hub.hub.gateway_url}/openapi.json",
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        CHECKS,
        "--phases",
        "examples,coverage,fuzzing",
        "--mode",
        "all",
        "--max-examples",
        "8",
        "--seed",
        "20261130",
        "--generation-deterministic",
        "--workers",
        "1",  # several workers compile hypothesis strategies concurrently: CPython 3.11 can fail there
        "--request-timeout",
        "30",
        "--exclude-path-regex",
        "^/v1/ops/",  # the ops desk's token is not a court's (its 401 is checked by the unit tests)
        "--report",
        "junit",
        "--report-junit-path",
        str(report),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=240, cwd=tmp_path)
    (tmp_path / "schemathesis.out").write_text(done.stdout + done.stderr, encoding="utf-8")
    output = done.stdout[-12000:] + done.stderr[-4000:]
    assert done.returncode == 0, output
    # it did test the API: every court-facing operation ran cases, and none failed
    suites = ElementTree.parse(report).getroot()
    cases = suites.findall(".//testcase")
    operations = {c.get("name", "") for c in cases}
    court_facing = {o for o in operations if " /v1/" in o}
    assert len(court_facing) >= 30, sorted(operations)
    faults = [c.get("name") for c in cases if c.find("failure") is not None or c.find("error") is not None]
    assert not faults, output
    generated = re.search(r"(\d+) generated, (\d+) passed", output)
    assert generated and int(generated.group(1)) >= 500 and generated.group(1) == generated.group(2), output
