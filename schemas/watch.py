"""Messages and API bodies of the live new-asset watch.

Flow (topics in ``schemas.topics``)::

    registry change feed ─▶ connector ─▶ hub.watch.changes (key: agency/ref) ─▶ streams
    gateway (POST|DELETE /v1/cases/{id}/watch, 终本) ─▶ hub.watch.debtors (key: case id) ─▶ streams
    streams: match each change against the watched debtors (identity linkage) ─▶ hub.watch.hits
        (key: agency/ref) ─▶ gateway: ``new_asset`` event (feed + webhook), namesakes counted

- :class:`AssetChange`: one change a registry published on its feed (an account opened, a balance
  credited, a right, vehicle, stake or securities registered), with the asset as the registry holds
  it now (an :data:`~schemas.models.AssetRecord`). ``change_id`` (``<agency>:<sequence>``) is the
  idempotency key: a feed read again after a connector restart repeats ids, never invents new ones.
- :class:`WatchState`: the whole watch of one case, as the gateway decided it (last one per case
  wins): whether it is ``active``, why (``sources``: ``court``, ``termination``) and the debtors.
- :class:`WatchHit`: a change and the watched debtors its owner was compared with
  (:class:`WatchCandidate`): ``match`` and ``possible`` reach the court as ``new_asset``;
  ``non_match`` (a namesake) is counted, never pushed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .models import AssetRecord, Linkage, Party, _Message, _Strict
from .views import Timestamp

__all__ = [
    "CHANGE_TYPES",
    "AssetChange",
    "ChangeType",
    "WatchCandidate",
    "WatchCreate",
    "WatchHit",
    "WatchSource",
    "WatchState",
    "WatchTotals",
    "WatchView",
]

ChangeType = Literal[
    "account_opened",
    "balance_credited",
    "property_registered",
    "land_right_registered",
    "vehicle_registered",
    "stake_acquired",
    "securities_bought",
]
# the change a newly registered asset of each kind is published as
CHANGE_TYPES: dict[str, ChangeType] = {
    "deposit": "account_opened",
    "real_estate": "property_registered",
    "land_use_right": "land_right_registered",
    "vehicle": "vehicle_registered",
    "equity": "stake_acquired",
    "securities": "securities_bought",
}
WatchSource = Literal["court", "termination"]


class AssetChange(_Message):
    """One change from a registry's change feed (``hub.watch.changes``, keyed ``<agency>/<ref>``)."""

    change_id: str = Field(description="<agency>:<sequence>; the idempotency key")
    agency: str
    sequence: str = Field(min_length=1, description="the registry's own id of the change (its feed order)")
    change_type: ChangeType
    occurred_at: dt.datetime = Field(description="when the registry recorded the change")
    observed_at: dt.datetime = Field(description="when the connector read it from the feed")
    credited: str | None = Field(default=None, description="balance_credited: the amount, yuan")
    asset: AssetRecord


class WatchState(_Message):
    """The watch of one case (``hub.watch.debtors``, keyed by case id): the last message wins."""

    case_id: str
    court_id: str
    case_number: str | None = None
    active: bool
    sources: list[WatchSource] = Field(default_factory=list)
    debtors: list[Party] = Field(default_factory=list)
    started_at: dt.datetime | None = Field(
        default=None, description="when the current watch began: changes registered since are its"
    )
    updated_at: dt.datetime


class WatchCandidate(_Message):
    """One watched debtor (of one case) a change's owner was compared with."""

    case_id: str
    court_id: str
    debtor_index: int = Field(ge=0)
    decision: Literal["match", "possible", "non_match"]
    linkage: Linkage | None = Field(default=None, description="match and possible: the evidence")


class WatchHit(_Message):
    """A change and every watched debtor it was compared with (``hub.watch.hits``, keyed
    ``<agency>/<ref>``): one message per change, however many namesakes share the owner's name.

    A candidate's idempotency key is ``<change_id>|<case_id>|<debtor_index>`` (:meth:`key`)."""

    change: AssetChange
    asset_id: str
    matched_at: dt.datetime
    candidates: list[WatchCandidate]

    def key(self, candidate: WatchCandidate) -> str:
        return f"{self.change.change_id}|{candidate.case_id}|{candidate.debtor_index}"


class WatchCreate(_Strict):
    """Body of ``POST /v1/cases/{case_id}/watch`` (optional): ``note`` is kept in the audit trail."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"note": "the applicant reports a new employer"}]}
    )

    note: str | None = Field(default=None, min_length=1, max_length=500)


class WatchView(BaseModel):
    """A case's watch as ``GET|POST|DELETE /v1/cases/{case_id}/watch`` show it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "case_id": "case_3f2a9c0d1e4b5a6c7d8e",
                    "active": True,
                    "sources": ["court"],
                    "started_at": "2026-11-30T08:00:00+00:00",
                    "updated_at": "2026-11-30T08:00:00+00:00",
                    "new_assets": 0,
                    "namesakes_excluded": 0,
                }
            ]
        }
    )

    case_id: str
    active: bool
    sources: list[WatchSource] = Field(description="why it is watched: court (asked), termination (终本)")
    started_at: Timestamp | None = Field(description="when the current watch began, null when off")
    updated_at: Timestamp | None
    new_assets: int = Field(description="new_asset events pushed for the case")
    namesakes_excluded: int = Field(description="changes of namesakes of its debtors: counted, never pushed")


class WatchTotals(BaseModel):
    """``GET /v1/ops/watch``: cases watched, new_asset events pushed, namesakes' changes excluded;
    each registry's change feed as its connector follows it (``leading``, ``failing``, ``cursor``,
    ``published``, ``dead_lettered``, ``errors``, ``last_error``) and each stream worker's index
    (``loaded``, ``cases``, ``debtors``, ``changes``, ``hits``, ``namesakes``, ``replayed``, ...);
    a process that does not answer shows as ``{"unreachable": reason}``."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"watched": 3, "new_assets": 1, "namesakes_excluded": 2}]}
    )

    watched: int
    new_assets: int
    namesakes_excluded: int
    feeds: dict[str, Any] = Field(default_factory=dict, description="per agency: its change feed's follower")
    streams: list[dict[str, Any]] = Field(default_factory=list, description="per stream worker: its index")
