"""The 终本 exit (终结本次执行程序, DOMAIN.md rule 8): the termination check, the termination record
and the six-monthly re-query schedule that follows it.

**The check** (:func:`termination_check`, a pure function of the case, its inquiries and the hub's
clock): for every debtor, every agency holding a *required* kind of asset — deposits (every
configured bank), vehicles, real estate and securities, :data:`REQUIRED_KINDS`, mapped to this hub's
agencies through ``schemas.agencies``, so an agency type added there is required by its kind — must
have answered (``answered`` or ``no_record``) an inquiry of the case about that debtor within
``HUB_TERMINATION_INQUIRY_MAX_AGE_DAYS`` (an agency's answer is dated by its ``responded_at``, the
hub's clock at the connector); and the case must have been registered at least
``HUB_TERMINATION_MIN_CASE_AGE_DAYS`` before now.

**The record**: one row of ``terminations`` per termination; ``active_case_id`` holds the case id
while it is in force (NULL once resumed), and is unique, so a case has at most one termination in
force even when two requests race. The case's ``status`` (``cases.status``) is ``terminated`` while
one is in force, ``active`` otherwise.

**The schedule**: re-query period ``k`` (1, 2, ...) is due at ``terminated_at + k ×
HUB_REQUERY_INTERVAL_DAYS`` while that is no later than ``terminated_at + HUB_REQUERY_YEARS``
(calendar years); ``next_requery_at`` / ``next_period`` say which comes next (NULL: none). Each
re-query of a debtor is one row of ``requeries`` (see ``gateway/requery.py``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from schemas.agencies import ASSET_KIND_BY_AGENCY_TYPE, agency_type

from .db import metadata
from .tables import utc as _utc

__all__ = [
    "ANSWERED",
    "REQUIRED_KINDS",
    "debtor_key",
    "due_at",
    "period_due",
    "requeries",
    "requery_ends_at",
    "required_agencies",
    "termination_check",
    "termination_view",
    "terminations",
]

terminations = sa.Table(
    "terminations",
    metadata,
    sa.Column("termination_id", sa.String(64), primary_key=True),
    sa.Column("case_id", sa.String(64), nullable=False, index=True),
    sa.Column("court_id", sa.String(64), nullable=False),
    # the case id while this termination is in force, NULL once resumed: one in force per case
    sa.Column("active_case_id", sa.String(64)),
    sa.Column("approved_by", sa.String(100), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("terminated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("check_result", sa.JSON, nullable=False),
    # officer and legal basis the re-queries carry (from the case's last inquiry before termination)
    sa.Column("requery_fields", sa.JSON, nullable=False),
    sa.Column("requery_ends_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("next_period", sa.Integer, nullable=False),
    sa.Column("next_requery_at", sa.DateTime(timezone=True), index=True),
    sa.Column("resumed_by", sa.String(100)),
    sa.Column("resume_reason", sa.Text),
    sa.Column("resumed_at", sa.DateTime(timezone=True)),
    sa.UniqueConstraint("active_case_id", name="uq_terminations_active_case"),
)

requeries = sa.Table(
    "requeries",
    metadata,
    sa.Column("termination_id", sa.String(64), primary_key=True),
    sa.Column("period", sa.Integer, primary_key=True),
    sa.Column("debtor_key", sa.String(32), primary_key=True),
    sa.Column("case_id", sa.String(64), nullable=False, index=True),
    sa.Column("court_id", sa.String(64), nullable=False),
    sa.Column("debtor_index", sa.Integer, nullable=False),
    sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("inquiry_id", sa.String(64)),  # NULL: the inquiry was refused (``refused`` says why)
    sa.Column("refused", sa.Text),
    sa.Column("reported_at", sa.DateTime(timezone=True), index=True),  # the requery_result event recorded
    sa.Column("event_id", sa.String(64)),
)

# asset kinds whose investigation 终本 requires (DOMAIN.md rule 8)
REQUIRED_KINDS = frozenset({"deposit", "vehicle", "real_estate", "securities"})
# an agency's answer that counts for the check
ANSWERED = frozenset({"answered", "no_record"})
DAY = dt.timedelta(days=1)


def required_agencies(agencies: Iterable[str]) -> list[str]:
    """The agencies of this hub (``HubSettings.agencies``) whose asset kind 终本 requires."""
    return [a for a in agencies if str(ASSET_KIND_BY_AGENCY_TYPE[agency_type(a)]) in REQUIRED_KINDS]


def debtor_key(id_type: str, id_number: str) -> str:
    """A short stable key of a debtor (no identity number in idempotency keys or event keys)."""
    return hashlib.sha256(f"{id_type}:{id_number}".encode()).hexdigest()[:16]


def _add_years(when: dt.datetime, years: int) -> dt.datetime:
    try:
        return when.replace(year=when.year + years)
    except ValueError:  # 29 February in a year that has none
        return when.replace(year=when.year + years, day=28)


def requery_ends_at(terminated_at: dt.datetime, years: int) -> dt.datetime:
    return _add_years(terminated_at, years)


def due_at(terminated_at: dt.datetime, period: int, interval_days: float) -> dt.datetime:
    """When re-query ``period`` (1-based) of a termination is due."""
    return terminated_at + period * interval_days * DAY


def period_due(
    terminated_at: dt.datetime, ends_at: dt.datetime, interval_days: float, now: dt.datetime
) -> int:
    """The newest period due by ``now`` within the schedule (0: none yet). A hub that was down, or a
    clock moved by years, re-queries once for the newest period, not once per period missed."""
    if now < terminated_at:
        return 0
    k = int((min(now, ends_at) - terminated_at) / (interval_days * DAY))
    while k > 0 and due_at(terminated_at, k, interval_days) > min(now, ends_at):
        k -= 1
    return k


def _when(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return _utc(value)
    try:
        return _utc(dt.datetime.fromisoformat(str(value)))
    except ValueError:
        return None


def _debtor_inquiries(rows: Sequence[Any], debtor: dict[str, Any]) -> list[Any]:
    ident = (debtor["id_type"], debtor["id_number"])
    return [
        r
        for r in rows
        if ((r.request or {}).get("debtor") or {}).get("id_type") == ident[0]
        and ((r.request or {}).get("debtor") or {}).get("id_number") == ident[1]
    ]


def _agency_state(agency: str, rows: list[Any], now: dt.datetime, max_age: dt.timedelta) -> dict[str, Any]:
    """Whether ``agency`` answered about the debtor within ``max_age``; if not, why not."""
    answers: list[tuple[dt.datetime, str, str]] = []  # (answered at, status, inquiry id)
    attempts: list[tuple[dt.datetime, str, str]] = []  # asked, no answer: (asked at, status, inquiry id)
    for row in rows:
        asked = agency in ((row.request or {}).get("agencies") or [])
        result = row.result or {}
        got = (result.get("agencies") or {}).get(agency)
        if not asked and got is None:
            continue
        status = (got or {}).get("status") or (
            "rejected" if result.get("status") == "rejected" else "pending"
        )
        if status in ANSWERED:
            at = _when((got or {}).get("responded_at")) or _when(result.get("completed_at"))
            answers.append((at or _utc(row.created_at), status, row.inquiry_id))
        else:
            attempts.append((_when(result.get("updated_at")) or _utc(row.created_at), status, row.inquiry_id))
    newest = max(answers, default=None)
    if newest is not None and now - newest[0] <= max_age:
        at, status, inquiry_id = newest
        return {
            "ok": True,
            "status": status,
            "inquiry_id": inquiry_id,
            "answered_at": at.isoformat(),
            "valid_until": (at + max_age).isoformat(),
        }
    state: dict[str, Any] = {"ok": False}
    if newest is not None:
        state |= {"last_answered_at": newest[0].isoformat(), "last_answer_inquiry_id": newest[2]}
    later = [a for a in attempts if newest is None or a[0] > newest[0]]
    if later:
        at, status, inquiry_id = max(later)
        state |= {"reason": "not_answered", "status": status, "inquiry_id": inquiry_id}
        state["detail"] = f"asked by inquiry {inquiry_id}, which got no answer from {agency} ({status})"
    elif newest is not None:
        age = (now - newest[0]) / DAY
        state["reason"] = "answer_too_old"
        state["detail"] = (
            f"last answered {age:.0f} days ago (inquiry {newest[2]}); an answer must be at most "
            f"{max_age / DAY:g} days old"
        )
    else:
        state |= {"reason": "never_asked", "detail": f"{agency} was never asked about this debtor"}
    return state


def termination_check(
    case: dict[str, Any],
    inquiries: Sequence[Any],
    agencies: Iterable[str],
    now: dt.datetime,
    *,
    min_case_age_days: float,
    inquiry_max_age_days: float,
) -> dict[str, Any]:
    """Whether the case may be terminated for now (DOMAIN.md rule 8), by the hub's clock ``now``.

    ``case``: the case body (``created_at``, ``debtors``); ``inquiries``: the case's inquiry rows
    (``inquiry_id``, ``request``, ``result``, ``created_at``); ``agencies``: this hub's agencies.

    Returns ``{"case_id", "eligible": bool, "checked_at", "rules": {"min_case_age_days",
    "inquiry_max_age_days", "required_agencies"}, "case_age": {"ok", "filed_at", "age_days",
    "eligible_from"}, "debtors": [{"index", "name", "id_type", "id_number", "ok", "agencies":
    {agency: state}}], "missing": [...]}``. An agency's state is ``{"ok": true, "status",
    "inquiry_id", "answered_at", "valid_until"}`` or ``{"ok": false, "reason": "never_asked" |
    "not_answered" | "answer_too_old", "detail", ...}``. ``missing`` lists each unmet condition once:
    ``{"what": "case_age", "reason": "case_too_young", "detail", "eligible_from"}`` or ``{"what":
    "agency", "debtor_index", "debtor_name", "agency", "reason", "detail", ...}``.
    """
    required = required_agencies(agencies)
    max_age = inquiry_max_age_days * DAY
    filed = _when(case["created_at"]) or now
    eligible_from = filed + min_case_age_days * DAY
    case_ok = now >= eligible_from
    missing: list[dict[str, Any]] = []
    if not case_ok:
        missing.append(
            {
                "what": "case_age",
                "reason": "case_too_young",
                "detail": f"the case was registered {(now - filed) / DAY:.0f} days ago; termination "
                f"needs at least {min_case_age_days:g} days (from {eligible_from.date().isoformat()})",
                "eligible_from": eligible_from.isoformat(),
            }
        )
    debtors = []
    for index, debtor in enumerate(case["debtors"]):
        rows = _debtor_inquiries(inquiries, debtor)
        states = {agency: _agency_state(agency, rows, now, max_age) for agency in required}
        for agency, state in states.items():
            if not state["ok"]:
                missing.append(
                    {
                        "what": "agency",
                        "debtor_index": index,
                        "debtor_name": debtor["name"],
                        "agency": agency,
                        **{k: v for k, v in state.items() if k != "ok"},
                    }
                )
        debtors.append(
            {
                "index": index,
                "name": debtor["name"],
                "id_type": debtor["id_type"],
                "id_number": debtor["id_number"],
                "ok": all(s["ok"] for s in states.values()),
                "agencies": states,
            }
        )
    return {
        "case_id": case["case_id"],
        "eligible": not missing,
        "checked_at": now.isoformat(),
        "rules": {
            "min_case_age_days": min_case_age_days,
            "inquiry_max_age_days": inquiry_max_age_days,
            "required_agencies": required,
        },
        "case_age": {
            "ok": case_ok,
            "filed_at": filed.isoformat(),
            "age_days": round((now - filed) / DAY, 2),
            "eligible_from": eligible_from.isoformat(),
        },
        "debtors": debtors,
        "missing": missing,
    }


def termination_view(row: Any) -> dict[str, Any]:
    """A ``terminations`` row as the API shows it: ``termination_id``, ``case_id``, ``status``
    (``terminated`` while in force, ``resumed`` after), ``approved_by``, ``reason``,
    ``terminated_at``, ``resumed_by``, ``resume_reason``, ``resumed_at`` (hub clock, ISO 8601),
    and ``requery``: ``{"ends_at", "next_period", "next_due_at"}`` (null once the schedule ended or
    the case was resumed)."""

    def iso(value: dt.datetime | None) -> str | None:
        return _utc(value).isoformat() if value is not None else None

    in_force = row.active_case_id is not None
    return {
        "termination_id": row.termination_id,
        "case_id": row.case_id,
        "status": "terminated" if in_force else "resumed",
        "approved_by": row.approved_by,
        "reason": row.reason,
        "terminated_at": iso(row.terminated_at),
        "resumed_by": row.resumed_by,
        "resume_reason": row.resume_reason,
        "resumed_at": iso(row.resumed_at),
        "requery": {
            "ends_at": iso(row.requery_ends_at),
            "next_period": row.next_period if in_force and row.next_requery_at is not None else None,
            "next_due_at": iso(row.next_requery_at) if in_force else None,
        },
    }
