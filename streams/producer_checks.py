"""Producer checks of the stream agents: may the producer of this message send it?

Anything that can write to a hub topic could otherwise re-register another court's case, answer for
an agency that was not asked, report an outcome of an order the case never placed or settle an
inquiry before its deadline. Each check compares the message with what the streams stored about its
subject (the case's entry and ledger, the inquiry's state) and raises :class:`hub.errors.ForgedMessage`
naming the field and the reason; the agent's ``each`` loop dead-letters the message with it (stage
``streams.<topic>``, ``error_class`` ``ForgedMessage``) and nothing is applied.

Pure functions over the tables' values (dicts as stored), so they cost a few comparisons per message.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

import faust

from hub.errors import ForgedMessage
from hub.masking import mask_text
from schemas.codec import dead_letter, encode
from schemas.models import AgencyResponse, CaseRegistered, ControlOutcome, DeadlineReached
from schemas.topics import AGENCY_RESPONSES

from . import delivery
from .ledger.outcomes import EXPIRE_SUFFIX, STATUS_SUFFIX

log = logging.getLogger(__name__)

__all__ = [
    "DEADLINE_SKEW",
    "check_case_registration",
    "check_control_outcome",
    "check_deadline",
    "check_response",
    "dead_letter_dropped",
    "drop_responses",
    "early_mismatches",
]

# A deadline tick may name an instant at most this far ahead of the worker's clock (two workers'
# clocks read one clock file or the system clock; the timer sends ``at = now``).
DEADLINE_SKEW = dt.timedelta(seconds=30)


def check_case_registration(entry: dict[str, Any] | None, cmd: CaseRegistered) -> None:
    """A case stays its first court's: a registration of a known case id by another court is refused."""
    if entry and entry.get("case") and entry["case"]["court_id"] != cmd.case.court_id:
        raise ForgedMessage(
            f"case.court_id: case {cmd.case.case_id} is registered for another court, not {cmd.case.court_id}"
        )


def _request_id_mismatch(response: AgencyResponse) -> str | None:
    expected = f"{response.inquiry_id}/{response.agency}"
    if response.request_id != expected:
        return f"request_id: {response.request_id!r} is not the hub's request {expected!r}"
    return None


def _opened_mismatch(opened: dict[str, Any], response: AgencyResponse) -> str | None:
    if response.agency not in opened["agencies"]:
        return f"agency: {response.agency} was not asked in inquiry {response.inquiry_id}"
    if response.case_id != opened["case_id"]:
        return f"case_id: {response.case_id} is not the case of inquiry {response.inquiry_id}"
    return None


def check_response(state: dict[str, Any] | None, response: AgencyResponse) -> None:
    """An answer must match a request the streams sent: request id ``<inquiry id>/<agency>``, and,
    once the inquiry is opened, an agency it asked and its case. An answer arriving before the
    opened record is checked then (:func:`early_mismatches`)."""
    reason = _request_id_mismatch(response)
    opened = (state or {}).get("opened")
    if reason is None and opened is not None:
        reason = _opened_mismatch(opened, response)
    if reason is not None:
        raise ForgedMessage(reason)


def early_mismatches(state: dict[str, Any]) -> dict[str, str]:
    """Agencies whose answer, recorded before the inquiry's opened record, does not match it:
    ``{agency: reason}``. The caller removes them from the state and dead-letters them."""
    opened = state.get("opened")
    if opened is None:
        return {}
    found: dict[str, str] = {}
    for agency, header in state["responses"].items():
        if agency not in opened["agencies"]:
            found[agency] = f"agency: {agency} was not asked in inquiry {opened['inquiry_id']}"
        elif header.get("case_id") != opened["case_id"]:
            found[agency] = (
                f"case_id: {header.get('case_id')} is not the case of inquiry {opened['inquiry_id']}"
            )
    return found


def check_control_outcome(entry: dict[str, Any] | None, outcome: ControlOutcome) -> None:
    """An outcome must concern an order of the case's ledger (an expiry notice's or status check's
    order id names it with a suffix), for the same court, agency and asset."""
    base_order_id = outcome.order_id.removesuffix(EXPIRE_SUFFIX).removesuffix(STATUS_SUFFIX)
    if not entry or "ledger" not in entry:
        raise ForgedMessage(f"case_id: no ledger for case {outcome.case_id}")
    order = entry["ledger"]["orders"].get(base_order_id)
    if order is None:
        raise ForgedMessage(f"order_id: case {outcome.case_id} has no order {base_order_id}")
    for field, expected in (
        ("court_id", entry["case"]["court_id"]),
        ("agency", order["agency"]),
        ("asset_ref", order.get("ref")),
    ):
        got = getattr(outcome, field)
        if expected is not None and got != expected:
            raise ForgedMessage(f"{field}: {got!r} does not match order {base_order_id}")


def check_deadline(tick: DeadlineReached, now: dt.datetime) -> None:
    """A deadline tick may not name an instant ahead of the hub's clock (it would settle early)."""
    if tick.at > now + DEADLINE_SKEW:
        raise ForgedMessage(f"at: {tick.at.isoformat()} is ahead of the hub's clock ({now.isoformat()})")


def drop_responses(inquiry_id: str, state: dict[str, Any], agencies: list[str]) -> list[str]:
    """Remove ``agencies``' answers from ``state`` (in place); the keys of their parts already
    written to the parts table, for the caller to delete."""
    keys: list[str] = []
    for agency in agencies:
        header = state["responses"].pop(agency, None) or {}
        prefix = f"{inquiry_id}|{agency}|"
        for key in [k for k in state["parts"] if k.startswith(prefix)]:
            del state["parts"][key]
        keys += [f"{prefix}{part}" for part in header.get("stored", [])]
    return keys


async def dead_letter_dropped(
    dead_letters: faust.TopicT, inquiry_id: str, header: dict[str, Any], reason: str, stage: str
) -> None:
    """Dead-letter an answer dropped after it was recorded (its header as the value: the message
    itself was consumed before the inquiry's opened record could judge it). Never raises."""
    letter = dead_letter(
        topic=AGENCY_RESPONSES,
        value=json.dumps(header, ensure_ascii=False, default=str).encode(),
        stage=stage,
        error=ForgedMessage(reason),
        key=inquiry_id.encode(),
    )
    letter.reason = mask_text(letter.reason)
    log.warning("dead-lettering an answer recorded before its inquiry opened at %s: %s", stage, letter.reason)
    try:
        await delivery.send_acked(dead_letters, inquiry_id.encode(), encode(letter))
    except Exception:
        log.exception("could not dead-letter a dropped answer of inquiry %s", inquiry_id)
