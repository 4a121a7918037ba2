"""The records a registry holds, as plain slotted dataclasses.

Not pydantic models: a 100,000-person population holds several hundred thousand records and
building them must take seconds. Registries serialise these into their own API shapes; the
connectors turn those into the schemas' models.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

__all__ = ["Control", "Holding", "Household", "Owner", "normalise_name"]


def normalise_name(name: str) -> str:
    """A registry's own light normalisation: NFKC (full-width forms, ``（）``) and no whitespace.

    Deliberately light: middle-dot variants and 有限公司/有限责任公司 stay different, as they do
    in real registries' exact-name lookups; linkage downstream deals with those.
    """
    return "".join(unicodedata.normalize("NFKC", name).split())


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
