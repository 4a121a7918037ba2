"""Per-inquiry aggregation, as pure functions over a JSON-able state (the faust table's value).

faust has no stream-stream join, so the responses of the agencies are collected in a table keyed
by inquiry id. The state tolerates any order (a response may arrive before the inquiry's
``opened`` record: they travel on different topics), duplicates (kept once per agency and part) and
late answers (ignored once the result is final, but counted).

Size: an agency's answer may come in several parts (``AgencyResponse.part`` of ``parts``, records
split by size). The state keeps each answer's header and which parts arrived, never the records
themselves for long: a part's records wait under ``state["parts"][part_key]`` until the owner moves
them to a table keyed per inquiry, agency and part (:func:`take_parts`), so that no table value is
larger than the message that brought it. ``build_result`` reads records through ``stored``.

Status rules:
- ``complete``: every agency asked gave an answer (``answered`` or ``no_record``), every part of it;
- ``partial``: every agency is settled but some were ``unavailable`` or ``failed``, or the SLA
  deadline passed first (agencies still pending, or whose answer lacks parts, are then marked
  ``unavailable``; the assets of the parts that did arrive are kept);
- ``pending``: otherwise.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
from collections.abc import Callable
from typing import Any

import orjson
from pydantic import TypeAdapter

from schemas.codec import MESSAGE_BUDGET_BYTES, TooLargeError, encode
from schemas.models import (
    AgencyResponse,
    AgencyResult,
    InquiryAsset,
    InquiryOpened,
    InquiryResult,
    Party,
    RegistryOwner,
)

from .linkage import link

__all__ = [
    "answer_complete",
    "apply_deadline",
    "apply_opened",
    "apply_response",
    "build_result",
    "clone",
    "compact",
    "new_state",
    "part_key",
    "part_keys",
    "result_messages",
    "settles",
    "take_parts",
    "upgrade",
]

_SETTLED = {"answered", "no_record", "unavailable", "failed"}
_ASSET_COMMON = {"agency", "ref", "owner", "value", "controls", "kind"}

State = dict[str, Any]
Records = list[dict[str, Any]]
# Linked assets of one stored part and how many of its records were other people's, by part key.
Linked = dict[str, tuple[list[InquiryAsset], int]]

_ASSETS = TypeAdapter(list[InquiryAsset])


def new_state() -> State:
    return {
        "opened": None,
        "responses": {},
        "parts": {},
        "final": False,
        "timed_out": False,
        "late": 0,
        "version": 0,
    }


def clone(state: State) -> State:
    """A deep copy of a state (JSON-able, as the table holds it), about 8 times cheaper than
    ``copy.deepcopy``; a value orjson refuses is copied by ``copy.deepcopy``."""
    try:
        copied: State = orjson.loads(orjson.dumps(state))
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        copied = copy.deepcopy(state)
    return copied


def part_key(inquiry_id: str, agency: str, part: int) -> str:
    """The key of one answer part's records (``<inquiry id>|<agency>|<part>``)."""
    return f"{inquiry_id}|{agency}|{part}"


def upgrade(state: State) -> State:
    """Bring a state written before answers came in parts (records inline) to this shape, in place."""
    state.setdefault("parts", {})
    inquiry_id = (state.get("opened") or {}).get("inquiry_id")
    for agency, current in state["responses"].items():
        if "received" in current:
            continue
        records = current.pop("records", [])
        current.pop("party_records", None)
        current.update(parts=1, received=[0], stored=[0] if records else [])
        if records:
            key = part_key(inquiry_id or current["inquiry_id"], agency, 0)
            state["parts"][key] = records
    return state


def apply_opened(state: State, opened: InquiryOpened) -> bool:
    if state["opened"] is not None:
        return False
    state["opened"] = opened.model_dump(mode="json")
    state["version"] += 1
    return True


def apply_response(state: State, response: AgencyResponse) -> bool:
    """Record one agency's response (or one part of it); False when it changes nothing (duplicate
    part, late after the agency had answered, or an agency not asked). An answer arriving after the
    SLA settled the inquiry ``partial`` without it is recorded (and counted late). A single-message
    ``failed``/``unavailable`` response replaces an answer whose parts have not all arrived (the
    connector could not publish the rest)."""
    current = state["responses"].get(response.agency)
    if state["final"]:
        state["late"] += 1
        # An answer the SLA gave up on still reaches the court: the result settled ``partial`` at
        # the deadline gets a newer version with it (``complete`` once every agency has answered).
        settled_without = state["timed_out"] and not state.get("compacted") and state["opened"] is not None
        if not (settled_without and (current is None or len(current["received"]) < current["parts"])):
            return False
    if state["opened"] is not None and response.agency not in state["opened"]["agencies"]:
        return False
    kept: list[int] = []  # parts stored before a replacement stay listed (their assets count)
    if current is not None:
        complete = len(current["received"]) >= current["parts"]
        replaces = not complete and response.parts == 1 and response.status in ("failed", "unavailable")
        if replaces:
            kept, current = current["stored"], None
        elif complete or response.part in current["received"] or response.parts != current["parts"]:
            return False
    if current is None:
        header = response.model_dump(mode="json", exclude={"records", "party_records", "part"})
        current = {**header, "received": [], "stored": kept}
        state["responses"][response.agency] = current
    current["received"] = sorted({*current["received"], response.part})
    if response.records:
        key = part_key(response.inquiry_id, response.agency, response.part)
        state["parts"][key] = [r.model_dump(mode="json") for r in response.records]
        current["stored"] = sorted({*current["stored"], response.part})
    state["version"] += 1
    return True


def answer_complete(state: State, agency: str) -> bool:
    """Whether every part of ``agency``'s answer has arrived."""
    current = state["responses"].get(agency)
    return current is not None and len(current["received"]) >= current["parts"]


def take_parts(state: State) -> dict[str, Records]:
    """Remove and return the records waiting in the state, by :func:`part_key`."""
    parts: dict[str, Records] = state["parts"]
    state["parts"] = {}
    return parts


def part_keys(inquiry_id: str, state: State) -> list[str]:
    """Every part key whose records were stored for this inquiry (to delete them on compaction)."""
    return [
        part_key(inquiry_id, agency, part)
        for agency, current in state["responses"].items()
        for part in current.get("stored", [])
    ]


def compact(state: State) -> State | None:
    """A settled inquiry's tombstone: enough to count late answers, none of the records.

    None when the state must stay as it is (not settled yet, or a tombstone already). The caller
    deletes the records under :func:`part_keys` (taken before compacting).
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
    state["version"] += 1
    return True


def settles(state: State) -> bool:
    """Whether the result :func:`build_result` would build now is settled (``complete`` or
    ``partial``), without building it: every agency asked has the whole of an answer (every
    :data:`AgencyStatus` settles it), or the SLA passed (what is missing is then ``unavailable``)."""
    if state["opened"] is None:
        return False
    if state["final"] or state["timed_out"]:
        return True
    return all(answer_complete(state, agency) for agency in state["opened"]["agencies"])


def _asset(record: dict[str, Any], subject: Party) -> InquiryAsset:
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


def _no_store(key: str) -> Records | None:
    return None


def build_result(
    state: State,
    *,
    court_id: str,
    now: dt.datetime,
    stored: Callable[[str], Records | None] = _no_store,
    linked: Linked | None = None,
) -> InquiryResult:
    """The result as it stands, at the state's version (each change the ``apply_*`` functions
    accept advances it, whether or not a result is published for it: a result built twice from one
    state carries one version, so a repeated publish is a duplicate the read model ignores); marks
    the state final once every agency has settled.

    ``stored(part_key)`` returns the records of a part moved out of the state (None: none stored).
    ``linked``, when given, caches each part's linked assets by part key (a part never changes), so
    that a result republished as the other agencies answer does not link 10,000 records again.
    """
    cache: Linked = {} if linked is None else linked
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
        found: list[InquiryAsset] = []
        excluded = 0
        for part in raw["stored"]:
            key = part_key(opened.inquiry_id, agency, part)
            if key not in cache:
                records = state["parts"].get(key)
                linked_part = [
                    _asset(r, opened.debtor) for r in (records if records is not None else stored(key) or [])
                ]
                mine = [a for a in linked_part if a.linkage.decision != "non_match"]
                cache[key] = (mine, len(linked_part) - len(mine))
            found += cache[key][0]
            excluded += cache[key][1]
        excluded_total += excluded
        assets += found
        status, detail = raw["status"], raw.get("detail")
        missing = raw["parts"] - len(raw["received"])
        if missing:
            status = "unavailable" if state["timed_out"] else "pending"
            detail = f"{len(raw['received'])} of {raw['parts']} parts of the answer received"
        elif status == "answered" and not found:
            status = "no_record"  # only other people's records came back
        agencies[agency] = AgencyResult(
            status=status,
            detail=detail,
            assets=len(found),
            excluded_non_matches=excluded,
            responded_at=raw["responded_at"],
            seals=raw.get("seals") or [],  # the registry's signed replies, kept with the answer
        )
    settled = all(a.status in _SETTLED for a in agencies.values())
    if settled:
        all_answered = all(a.status in ("answered", "no_record") for a in agencies.values())
        status = "complete" if all_answered else "partial"
        state["final"] = True
    else:
        status = "pending"
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


def result_messages(result: InquiryResult, budget: int = MESSAGE_BUDGET_BYTES) -> list[bytes]:
    """The encoded messages that carry ``result``: one when it fits in ``budget`` bytes; else parts
    that each repeat the header (status, agencies, counts, version) with a consecutive slice of
    ``assets``, each under ``budget`` bytes, numbered ``part`` of ``parts``.

    Raises ``schemas.codec.TooLargeError`` when the header with one asset does not fit.
    """
    whole = encode(result)
    if len(whole) <= budget:  # the usual case: one message, serialised once
        return [whole]
    assets = result.assets
    header = result.model_copy(update={"assets": []})
    room = budget - len(encode(header)) - 32  # the part numbers grow by a few digits at most
    sample = assets[:200]
    average = len(_ASSETS.dump_json(sample)) / len(sample) if sample else 0
    # an even cut by the sampled size first; a slice still too large is halved (and all renumbered)
    estimate = len(assets) * average
    if estimate <= room:
        n = 1
    else:
        n = max(1, math.ceil(estimate / (room * 0.85))) if room > 0 else max(1, len(assets))
    step = max(1, math.ceil(len(assets) / n))
    chunks = [assets[i : i + step] for i in range(0, len(assets), step)] or [[]]
    while True:
        if len(chunks) == 1:
            messages = [whole]
        else:
            messages = [
                encode(header.model_copy(update={"assets": chunk, "part": i, "parts": len(chunks)}))
                for i, chunk in enumerate(chunks)
            ]
        too_big = [i for i, m in enumerate(messages) if len(m) > budget]
        if not too_big:
            return messages
        i = too_big[0]
        if len(chunks[i]) <= 1:
            raise TooLargeError(f"result {result.inquiry_id}: one asset does not fit in a message")
        half = len(chunks[i]) // 2
        chunks[i : i + 1] = [chunks[i][:half], chunks[i][half:]]
