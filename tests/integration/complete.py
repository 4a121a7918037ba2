"""Finding a debtor's assets from an inquiry every agency answered."""

from __future__ import annotations

from typing import Any

import httpx

from .conftest import HubClient


def found(
    hub: HubClient, debtor: dict[str, str], client: httpx.Client | None = None, **case: str
) -> tuple[str, dict[str, Any]]:
    """A case against ``debtor`` and its assets by registry ref, from an inquiry every agency answered
    (an agency that missed the inquiry's SLA on a loaded machine is asked again by a new inquiry)."""
    case_id = hub.create_case([debtor], client=client, **case)
    for _ in range(6):  # under heavy load an agency can miss the SLA (HUB_INQUIRY_SLA_SECONDS)
        result = hub.wait_result(hub.inquire(case_id, debtor, client=client), client=client)
        if result["status"] == "complete":
            return case_id, {a["ref"]: a for a in result["assets"]}
    raise AssertionError(f"no complete inquiry: {result['agencies']}")
