"""Every Kafka topic of the hub, with the one model its messages carry.

Keys: court commands by case id (a case's registration precedes its inquiries and control orders in
one partition); control results, ticks and court outcomes by case id (the case's ledger lives there);
everything about an inquiry by inquiry id, so the streams' per-inquiry table is co-partitioned.
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from .agencies import agency_slug
from .models import (
    AgencyRequest,
    AgencyResponse,
    ControlCommand,
    ControlOutcome,
    ControlTick,
    CourtCommand,
    CourtEvent,
    DeadLetter,
    DeadlineReached,
    InquiryOpened,
    InquiryResult,
)
from .watch import AssetChange, WatchHit, WatchState

__all__ = [
    "AGENCY_RESPONSES",
    "CONTROL_RESULTS",
    "CONTROL_TICKS",
    "COURT_COMMANDS",
    "COURT_OUTCOMES",
    "DEAD_LETTERS",
    "INQUIRY_DEADLINES",
    "INQUIRY_OPENED",
    "INQUIRY_RESULTS",
    "WATCH_CHANGES",
    "WATCH_DEBTORS",
    "WATCH_HITS",
    "agency_controls_topic",
    "agency_requests_topic",
    "model_for_topic",
]

COURT_COMMANDS = "hub.court.commands"
INQUIRY_OPENED = "hub.inquiry.opened"
INQUIRY_DEADLINES = "hub.inquiry.deadlines"
AGENCY_RESPONSES = "hub.agency.responses"
INQUIRY_RESULTS = "hub.inquiry.results"
DEAD_LETTERS = "hub.deadletters"
CONTROL_TICKS = "hub.control.ticks"
CONTROL_RESULTS = "hub.control.results"
COURT_OUTCOMES = "hub.court.outcomes"
# the live new-asset watch (schemas.watch): registries' changes, watched debtors, matches
WATCH_CHANGES = "hub.watch.changes"
WATCH_DEBTORS = "hub.watch.debtors"
WATCH_HITS = "hub.watch.hits"
_AGENCY_REQUESTS_PREFIX = "hub.agency."
_AGENCY_REQUESTS_SUFFIX = ".requests"
_AGENCY_CONTROLS_SUFFIX = ".controls"


def agency_requests_topic(agency: str) -> str:
    return f"{_AGENCY_REQUESTS_PREFIX}{agency_slug(agency)}{_AGENCY_REQUESTS_SUFFIX}"


def agency_controls_topic(agency: str) -> str:
    return f"{_AGENCY_REQUESTS_PREFIX}{agency_slug(agency)}{_AGENCY_CONTROLS_SUFFIX}"


_FIXED: dict[str, Any] = {
    COURT_COMMANDS: TypeAdapter(CourtCommand),
    INQUIRY_OPENED: TypeAdapter(InquiryOpened),
    INQUIRY_DEADLINES: TypeAdapter(DeadlineReached),
    AGENCY_RESPONSES: TypeAdapter(AgencyResponse),
    INQUIRY_RESULTS: TypeAdapter(InquiryResult),
    DEAD_LETTERS: TypeAdapter(DeadLetter),
    CONTROL_RESULTS: TypeAdapter(ControlOutcome),
    CONTROL_TICKS: TypeAdapter(ControlTick),
    COURT_OUTCOMES: TypeAdapter(CourtEvent),
    WATCH_CHANGES: TypeAdapter(AssetChange),
    WATCH_DEBTORS: TypeAdapter(WatchState),
    WATCH_HITS: TypeAdapter(WatchHit),
}
_AGENCY_REQUEST = TypeAdapter(AgencyRequest)
_CONTROL_COMMAND = TypeAdapter(ControlCommand)


def model_for_topic(topic: str) -> TypeAdapter[Any]:
    if topic in _FIXED:
        return _FIXED[topic]
    if topic.startswith(_AGENCY_REQUESTS_PREFIX) and topic.endswith(_AGENCY_REQUESTS_SUFFIX):
        return _AGENCY_REQUEST
    if topic.startswith(_AGENCY_REQUESTS_PREFIX) and topic.endswith(_AGENCY_CONTROLS_SUFFIX):
        return _CONTROL_COMMAND
    raise KeyError(f"no model for topic {topic!r}")
