"""Per-inquiry aggregation, as pure functions over a JSON-able state (the faust table's value).

faust has no stream-stream join, so the responses of the agencies are collected in a table keyed
by inquiry id. The state tolerates any order (a response may arrive before the inquiry's
``opened`` record: they travel on different topics), duplicates (kept once per agency) and late
answers (ignored once the result is final, but counted).

Status rules:
- ``complete``: every agency asked gave an answer (``answered`` or ``no_record``);
- ``partial``: every agency is settled but some were ``unavailable`` or ``failed``, or the SLA
  deadline passed first (agencies still pending are then marked ``unavailable``);
- ``pending``: otherwise.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from schemas.models import (
    AgencyResponse,
    AgencyResult,
    InquiryAsset,
    InquiryOpened,
    InquiryResult,
    Party,
)

from .linkage import link

__all__ = ["apply_deadline", "apply_opened", "apply_response", "build_result", "compact", "new_state"]

_SETTLED = {"answered", "no_record", "unavailable", "failed"}
_ASSET_COMMON = {"agency", "ref", "owner", "value", "controls", "kind"}

State = dict[str, Any]


def new_state() -> State:
    return {"opened": None, "responses": {}, "final": False, "timed_out": False, "late": 0, "version": 0}


def apply_opened(state: State, opened: InquiryOpened) -> bool:
    if state["opened"] is not None:
        return False
    state["opened"] = opened.model_dump(mode="json")
    return True


def apply_response(state: State, response: AgencyResponse) -> bool:
    """Record one agency's response; False when it changes nothing (duplicate or late)."""
    if state["final"]:
        state["late"] += 1
        return False
    if response.agency in state["responses"]:
        return False
    if state["opened"] is not None and response.agency not in state["opened"]["agencies"]:
        return False
    state["responses"][response.agency] = response.model_dump(mode="json")
    return True


def compact(state: State) -> State | None:
    """A settled inquiry's tombstone: enough to count late answers, none of the records.

    None when the state must stay as it is (not settled yet, or a tombstone already).
    """
    if not state["final"] or state["opened"] is None:
        return None
    return {
        **new_state(),
        "final": True,
        "late": state["late"],
        "version": state["version"],
        "compacted": True,
    }


def apply_deadline(state: State, now: dt.datetime) -> bool:
    if state["final"] or state["opened"] is None:
        return False
    if now < dt.datetime.fromisoformat(state["opened"]["deadline"]):
        return False
    state["timed_out"] = True
    return True


def _asset(record: dict[str, Any], subject: Party) -> InquiryAsset:
    from schemas.models import RegistryOwner

    owner = RegistryOwner.model_validate(record["owner"])
    return InquiryAsset(
        asset_id=f"{record['agency']}/{record['kind']}/{record['ref']}",
        agency=record["agency"],
        kind=record["kind"],
        ref=record["ref"],
        owner=owner,
        value=record["value"],
        controls=record.get("controls", []),
        linkage=link(subject, owner),
        details={k: v for k, v in record.items() if k not in _ASSET_COMMON and v not in (None, [], {})},
    )


def build_result(state: State, *, court_id: str, now: dt.datetime) -> InquiryResult:
    """The result as it stands; marks the state final once every agency has settled."""
    opened = InquiryOpened.model_validate(state["opened"])
    agencies: dict[str, AgencyResult] = {}
    assets: list[InquiryAsset] = []
    excluded_total = 0
    for agency in opened.agencies:
        raw = state["responses"].get(agency)
        if raw is None:
            if state["timed_out"]:
                agencies[agency] = AgencyResult(
                    status="unavailable", detail="no answer within the inquiry's SLA"
                )
            else:
                agencies[agency] = AgencyResult(status="pending")
            continue
        found, excluded = [], 0
        for record in raw["records"]:
            asset = _asset(record, opened.debtor)
            if asset.linkage.decision == "non_match":
                excluded += 1
            else:
                found.append(asset)
        excluded_total += excluded
        assets += found
        status = raw["status"]
        if status == "answered" and not found:
            status = "no_record"  # only other people's records came back
        agencies[agency] = AgencyResult(
            status=status,
            detail=raw.get("detail"),
            assets=len(found),
            excluded_non_matches=excluded,
            responded_at=raw["responded_at"],
        )
    settled = all(a.status in _SETTLED for a in agencies.values())
    if settled:
        all_answered = all(a.status in ("answered", "no_record") for a in agencies.values())
        status = "complete" if all_answered and not state["timed_out"] else "partial"
        state["final"] = True
    else:
        status = "pending"
    state["version"] += 1
    return InquiryResult(
        inquiry_id=opened.inquiry_id,
        case_id=opened.case_id,
        court_id=court_id,
        status=status,
        agencies=agencies,
        assets=assets,
        excluded_non_matches=excluded_total,
        version=state["version"],
        updated_at=now,
        completed_at=now if settled else None,
    )
