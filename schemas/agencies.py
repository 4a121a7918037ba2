"""Agency names, the asset kinds each one holds and the controls it executes.

Agency names are part of the court-facing contract: ``police``, ``commerce``, ``real_estate``,
``land`` and ``bank:<code>`` for each bank. ``bank`` alone in an inquiry means every configured bank.
"""

from __future__ import annotations

import re
from enum import StrEnum

__all__ = [
    "ASSET_KIND_BY_AGENCY_TYPE",
    "CONTROL_ACTIONS_BY_KIND",
    "FIXED_AGENCIES",
    "MAX_PERIOD_DAYS",
    "AgencyType",
    "AssetKind",
    "agency_slug",
    "agency_type",
    "expand_agencies",
    "is_agency_name",
]


class AgencyType(StrEnum):
    police = "police"
    commerce = "commerce"
    real_estate = "real_estate"
    land = "land"
    bank = "bank"


class AssetKind(StrEnum):
    deposit = "deposit"
    real_estate = "real_estate"
    land_use_right = "land_use_right"
    vehicle = "vehicle"
    equity = "equity"


FIXED_AGENCIES = ("police", "commerce", "real_estate", "land")
ASSET_KIND_BY_AGENCY_TYPE = {
    AgencyType.police: AssetKind.vehicle,
    AgencyType.commerce: AssetKind.equity,
    AgencyType.real_estate: AssetKind.real_estate,
    AgencyType.land: AssetKind.land_use_right,
    AgencyType.bank: AssetKind.deposit,
}
CONTROL_ACTIONS_BY_KIND = {
    AssetKind.deposit: ("freeze", "deduct", "renew", "release"),
    AssetKind.equity: ("freeze", "renew", "release"),
    AssetKind.real_estate: ("seize", "renew", "release"),
    AssetKind.land_use_right: ("seize", "renew", "release"),
    AssetKind.vehicle: ("seize", "renew", "release"),
}
# legal maximum period of a control, in days (deposits 1 year, vehicles 2, other property 3)
MAX_PERIOD_DAYS = {
    AssetKind.deposit: 365,
    AssetKind.vehicle: 730,
    AssetKind.real_estate: 1095,
    AssetKind.land_use_right: 1095,
    AssetKind.equity: 1095,
}

_BANK_RE = re.compile(r"^bank:([a-z][a-z0-9_]{1,15})$")


def is_agency_name(name: str) -> bool:
    return name in FIXED_AGENCIES or bool(_BANK_RE.match(name))


def agency_type(name: str) -> AgencyType:
    if name in FIXED_AGENCIES:
        return AgencyType(name)
    if _BANK_RE.match(name):
        return AgencyType.bank
    raise ValueError(f"unknown agency {name!r}")


def agency_slug(name: str) -> str:
    """A form of the agency name that is legal in Kafka topic and consumer group names."""
    agency_type(name)
    return name.replace(":", ".")


def expand_agencies(requested: list[str] | None, banks: list[str]) -> list[str]:
    """Resolve an inquiry's ``agencies`` list against the configured banks.

    ``None`` means all; ``bank`` means every configured bank; ``bank:<code>`` must be configured.
    Raises ``ValueError`` naming the first name that is not an agency of this hub.
    """
    all_banks = [f"bank:{b}" for b in banks]
    if requested is None:
        return [*FIXED_AGENCIES, *all_banks]
    out: list[str] = []
    for name in requested:
        names = all_banks if name == "bank" else [name]
        for n in names:
            if n not in FIXED_AGENCIES and n not in all_banks:
                known = ", ".join([*FIXED_AGENCIES, "bank", *all_banks])
                raise ValueError(f"unknown agency {name!r}; known: {known}")
            if n not in out:
                out.append(n)
    if not out:
        raise ValueError("at least one agency is required")
    return out
