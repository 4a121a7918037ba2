"""Every accepted inquiry settles, even one whose messages were lost between the processes: the
gateway's database is the record of what was accepted, and its reconciler re-drives an inquiry
still pending past its SLA, then settles it ``partial`` itself if the hub never answers.

The loss is made real by accepting an inquiry the way the API does (a row in the database) without
its command ever reaching Kafka, as when a command or its fan-out is lost in transit."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import time
import uuid
from typing import Any

import pytest

from .conftest import RECONCILE_GRACE_SECONDS, SLA_SECONDS, HubClient
from .planted import RICH, expected_rich_assets

pytestmark = pytest.mark.integration


def _accepted_but_lost(hub: HubClient, case_id: str, age_seconds: float, debtor: dict[str, Any]) -> str:
    """An inquiry row as ``POST /v1/inquiries`` writes it, accepted ``age_seconds`` ago, whose command
    never reached the broker."""
    inquiry_id = f"inq_{uuid.uuid4().hex[:20]}"
    created = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=age_seconds)).replace(tzinfo=None)
    agencies = sorted(hub.settings.agencies)
    request = {
        "case_id": case_id,
        "debtor": {"id_type": debtor["id_type"], "id_number": debtor["id_number"]},
        **hub.asking(),  # who asks and why, as the route stores them
    }
    db = sqlite3.connect(str(hub.hub.state_dir / "hub.db"), timeout=30)
    try:
        with db:
            db.execute(
                "insert into inquiries (inquiry_id, court_id, case_id, request, status, version, created_at, "
                "updated_at) values (?, 'court-a', ?, json(?), 'pending', 0, ?, ?)",
                (
                    inquiry_id,
                    case_id,
                    json.dumps({**request, "agencies": agencies}, ensure_ascii=False),
                    created.isoformat(sep=" "),
                    created.isoformat(sep=" "),
                ),
            )
    finally:
        db.close()
    return inquiry_id


def _wait_status(hub: HubClient, inquiry_id: str, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = hub.court_a.get(f"/v1/inquiries/{inquiry_id}").json()
        if body["status"] != "pending":
            return body
        assert time.monotonic() < deadline, f"{inquiry_id} still pending"
        time.sleep(0.3)


def test_an_inquiry_lost_in_transit_is_sent_again_and_completes(hub: HubClient) -> None:
    case_id = hub.create_case([RICH])
    inquiry_id = _accepted_but_lost(hub, case_id, SLA_SECONDS + RECONCILE_GRACE_SECONDS + 1, RICH)
    result = _wait_status(hub, inquiry_id, timeout=30)
    assert result["status"] == "complete", result["agencies"]
    assert {a["ref"] for a in result["assets"]} == set(expected_rich_assets())


def test_an_inquiry_the_hub_never_answers_is_settled_partial_by_the_gateway(hub: HubClient) -> None:
    case_id = hub.create_case([RICH])
    # past every re-drive, the partial one's too (SLA + 10 x grace): the gateway settles it at once,
    # and says why, agency by agency, and nothing asks again (a re-drive could complete it first)
    inquiry_id = _accepted_but_lost(hub, case_id, SLA_SECONDS + 11 * RECONCILE_GRACE_SECONDS, RICH)
    result = _wait_status(hub, inquiry_id, timeout=15)
    assert result["status"] == "partial"
    assert {a["status"] for a in result["agencies"].values()} == {"unavailable"}
    assert "no answer from the hub" in result["detail"]


def test_a_partial_inquiry_whose_agencies_never_answered_is_asked_again_and_completes(hub: HubClient) -> None:
    """The SLA settled it ``partial``: some agencies' requests were lost (a connector killed with
    them in hand) and nothing will answer them unless they are asked again."""
    case_id = hub.create_case([RICH])
    inquiry_id = _accepted_but_lost(hub, case_id, SLA_SECONDS + RECONCILE_GRACE_SECONDS + 1, RICH)
    timed_out = {"status": "unavailable", "detail": "no answer within the inquiry's SLA"}
    agencies = {agency: dict(timed_out) for agency in sorted(hub.settings.agencies)}
    result = {"inquiry_id": inquiry_id, "case_id": case_id, "court_id": "court-a", "status": "partial"}
    db = sqlite3.connect(str(hub.hub.state_dir / "hub.db"), timeout=30)
    try:
        with db:  # settled before the reconciler saw it pending
            db.execute(
                "update inquiries set status = 'partial', result = json(?) where inquiry_id = ?",
                (json.dumps({**result, "agencies": agencies, "assets": []}), inquiry_id),
            )
    finally:
        db.close()
    deadline = time.monotonic() + 60
    while (body := hub.court_a.get(f"/v1/inquiries/{inquiry_id}").json())["status"] != "complete":
        assert time.monotonic() < deadline, body["agencies"]
        time.sleep(0.5)
    assert {a["ref"] for a in body["assets"]} == set(expected_rich_assets())
