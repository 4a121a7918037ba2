"""No log written by any hub of this test session holds a planted debtor's identifier or name.

The module's name makes it run after every other integration module, so it reads the logs of every
hub the session started (the session hub and each module's own, all under pytest's base
directory): their services' logs, tracebacks included. It first makes the session hub do the work
whose logs would carry a debtor (registration, an inquiry, a refused request), so that run alone it
still reads real logs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from . import planted, test_reliability
from .conftest import HubClient

pytestmark = pytest.mark.integration


def _planted_people() -> list[dict[str, Any]]:
    people = []
    for module in (planted, test_reliability):
        for value in vars(module).values():
            if isinstance(value, dict) and {"name", "id_number"} <= set(value):
                people.append(value)
    return people


def test_no_log_of_the_session_holds_a_planted_identifier_or_name(
    hub: HubClient, tmp_path_factory: pytest.TempPathFactory
) -> None:
    people = _planted_people()
    assert len(people) >= 10
    debtor = planted.RICH
    case_id = hub.create_case([debtor])
    hub.wait_result(hub.inquire(case_id, debtor))
    wrong = {"id_type": "resident_id", "id_number": debtor["id_number"][:-1]}  # one character short
    refused = hub.court_a.post("/v1/inquiries", json={"case_id": case_id, "debtor": wrong})
    assert refused.status_code == 422

    base = Path(tmp_path_factory.getbasetemp())
    logs = sorted(base.rglob("logs/*.log"))
    assert any(hub.hub.state_dir in log.parents for log in logs), "the session hub's logs are read"
    secrets = {p["id_number"] for p in people} | {p["name"] for p in people}
    secrets |= {planted.LEGACY_ID_15, planted.SLIP_ID, planted.COMPANY_ORG}
    found = {}
    for log in logs:
        text = log.read_text(encoding="utf-8", errors="replace")
        leaked = sorted(s for s in secrets if s and s in text)
        if leaked:
            found[str(log.relative_to(base))] = leaked
    assert not found, f"planted identifiers or names in logs: {found}"
