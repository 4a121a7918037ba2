"""The records a registry holds, as plain slotted dataclasses.

Not pydantic models: a 100,000-person population holds several hundred thousand records and
building them must take seconds. Registries serialise these into their own API shapes; the
connectors turn those into the schemas' models.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from schemas.names import search_key

__all__ = ["Control", "Holding", "Household", "Owner", "normalise_name"]


def normalise_name(name: str) -> str:
    """The key a registry's name search compares: how real registries fold a name they look up.

    NFKC (full-width forms, ``（）``), no whitespace, the minority-name separator in any of its
    typed forms dropped (``买买提．吐尔逊``, ``买买提・吐尔逊`` and ``买买提吐尔逊`` are one key), ``〇``
    in its typed forms, and ``有限责任公司`` = ``有限公司``; no traditional -> simplified conversion
    (:func:`schemas.names.search_key`). The records themselves keep the name as recorded.
    """
    return search_key(name)


@dataclass(slots=True)
class Owner:
    """The owner exactly as the registry recorded them (nothing validated)."""

    name: str
    id_type: str | None
    id_number: str | None
    birth_date: dt.date | None = None
    address: str | None = None


@dataclass(slots=True)
class Control:
    """A control already registered on an asset by some court."""

    court: str
    action: str
    amount: Decimal | None = None
    registered_at: dt.datetime | None = None
    expires_at: dt.datetime | None = None
    position: int | None = 0
    status: str = "effective"


@dataclass(slots=True)
class Holding:
    """One asset record of one registry.

    ``truth_owner`` is the population key of who really owns it (``None`` for planted fixture
    lines, whose truth nobody knows); ``anomaly`` names the hard case applied to the recorded owner.
    Neither is ever served over HTTP.
    """

    registry: str
    kind: str
    ref: str
    value: Decimal
    owner: Owner
    details: dict[str, Any] = field(default_factory=dict)
    controls: list[Control] = field(default_factory=list)
    truth_owner: str | None = None
    anomaly: str | None = None


@dataclass(slots=True)
class Household:
    """A police household-registration record (户籍), the non-asset record police return."""

    owner: Owner
    truth_owner: str | None = None
    anomaly: str | None = None
