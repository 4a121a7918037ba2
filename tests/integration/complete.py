"""Finding a debtor's assets from an inquiry every agency answered."""

from __future__ import annotations

from typing import Any

from .conftest import HubClient


def found(hub: HubClient, debtor: dict[str, str], **case: str) -> tuple[str, dict[str, Any]]:
    """A case against ``debtor`` and its assets by registry ref, from an inquiry every agency answered
    (an agency still warming up when the hub has just started is asked again by a new inquiry)."""
    case_id = hub.create_case([debtor], **case)
    for _ in range(6):  # under heavy load an agency can miss the SLA (HUB_INQUIRY_SLA_SECONDS)
        result = hub.wait_result(hub.inquire(case_id, debtor))
        if result["status"] == "complete":
            return case_id, {a["ref"]: a for a in result["assets"]}
    raise AssertionError(f"no complete inquiry: {result['agencies']}")
