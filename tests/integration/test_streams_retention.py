"""The stream worker keeps a settled inquiry's full state only for HUB_INQUIRY_RETENTION_SECONDS,
then compacts it to a tombstone (in its table and so in the table's changelog topic)."""

from __future__ import annotations

import json

import pytest

from .conftest import RETENTION_SECONDS, HubClient, read_topic
from .planted import RICH

pytestmark = pytest.mark.integration
CHANGELOG = "hub-streams-inquiries-changelog"


def test_a_settled_inquiry_is_compacted_after_retention_and_its_result_stays_readable(hub: HubClient) -> None:
    case_id = hub.create_case([RICH])
    inquiry_id = hub.inquire(case_id, RICH, agencies=["police"])
    result = hub.wait_result(inquiry_id)
    assert result["status"] == "complete"

    states = read_topic(
        hub.settings.bootstrap,
        CHANGELOG,
        select=lambda m: json.loads(m.value) if m.key and json.loads(m.key) == inquiry_id else None,
        done=lambda kept: any(s.get("compacted") for s in kept),
        timeout=RETENTION_SECONDS + 40,
    )
    assert any(s["final"] and s["responses"] for s in states), "the settled state held the answers"
    tomb = states[-1]
    assert tomb.get("compacted") and tomb["responses"] == {} and tomb["final"]
    assert hub.court_a.get(f"/v1/inquiries/{inquiry_id}").json()["assets"] == result["assets"]
