"""Progress versions on the real path: an open inquiry's answers go out paced
(``HUB_PROGRESS_INTERVAL_MS``, 250 ms on the session hub), together in one version, while the
settled result goes out at once; the court's long poll sees the progress before the slow agency
answers."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from schemas.topics import INQUIRY_RESULTS

from .conftest import HubClient, read_topic
from .planted import RICH

pytestmark = pytest.mark.integration

SLOW = "securities"


def _answered(body: dict[str, Any]) -> set[str]:
    return {a for a, v in body["agencies"].items() if v["status"] in ("answered", "no_record")}


def _version_of(value: bytes, inquiry_id: str) -> dict[str, Any] | None:
    """A result version of ``inquiry_id``, or None (another inquiry's, or a malformed message the
    dead-letter tests put on the topic)."""
    try:
        result = json.loads(value)
    except ValueError:
        return None
    return result if isinstance(result, dict) and result.get("inquiry_id") == inquiry_id else None


def test_the_answers_of_an_open_inquiry_go_out_together_and_the_court_sees_them_early(hub: HubClient) -> None:
    hub.set_faults(SLOW, latency_ms="fixed:3000")  # one agency answers 3 s after the others
    try:
        case_id = hub.create_case([RICH])
        inquiry_id = hub.inquire(case_id, RICH)
        # the court's long poll: each answer is a newer version, until it shows the seven fast agencies
        seen: list[dict[str, Any]] = []
        version = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            params: dict[str, Any] = {"wait": 10} | ({"version": version} if version is not None else {})
            body = hub.court_a.get(f"/v1/inquiries/{inquiry_id}", params=params).json()
            seen.append(body)
            version = body.get("version", version)
            if body["status"] != "pending":
                break
        final = seen[-1]
    finally:
        hub.set_faults(SLOW, latency_ms="fixed:0")

    assert final["status"] == "complete", final["agencies"]
    early = [b for b in seen if b["status"] == "pending" and len(_answered(b)) == 7]
    assert early, "the court saw the fast agencies' answers before the slow one's"
    assert all(SLOW not in _answered(b) for b in early)
    assert early[0]["version"] < final["version"]

    versions = read_topic(
        hub.settings.bootstrap,
        INQUIRY_RESULTS,
        select=lambda m: _version_of(m.value, inquiry_id),
        done=lambda kept: any(r["status"] != "pending" for r in kept),
        timeout=30,
    )
    numbers = [r["version"] for r in versions]
    assert numbers == sorted(set(numbers)), f"each version once, in order: {numbers}"
    assert [r["status"] for r in versions].count("complete") == 1 and versions[-1]["status"] == "complete"
    # unpaced, the opened record and each of the 8 answers would each have published a version (9)
    assert len(versions) < 9, [(r["version"], sorted(_answered(r))) for r in versions]
    pending = [r for r in versions if r["status"] == "pending"]
    assert len(_answered(pending[-1])) == 7, "the last progress version carried every fast answer"
    assert any(len(_answered(r)) >= 2 for r in pending), "answers went out together, not one each"
