"""Agency names, the asset kinds each one holds and the controls it executes: one table.

Agency names are part of the court-facing contract: ``police``, ``commerce``, ``real_estate``,
``land``, ``securities`` (the securities depository) and ``bank:<code>`` for each bank. ``bank``
alone in an inquiry means every configured bank.

Everything that differs between agencies or asset kinds and is not an API shape is declared here,
in :data:`AGENCY_TYPES` and :data:`KIND_RULES`; every other list (the default inquiry, the legal
periods, the registry ports, which kinds a freeze blocks part of) is derived from them. An agency
type's registry API is the module ``registries/<type>.py`` (class ``<Type>Api``) and its
connector adapter ``connectors/<type>.py`` (class ``<Type>Adapter``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

__all__ = [
    "AGENCY_TYPES",
    "ASSET_KIND_BY_AGENCY_TYPE",
    "CONTROL_ACTIONS_BY_KIND",
    "DIVISIBLE_KINDS",
    "FIXED_AGENCIES",
    "KIND_RULES",
    "MAX_PERIOD_DAYS",
    "REGISTER_ACTION",
    "AgencyType",
    "AgencyTypeSpec",
    "AssetKind",
    "KindRules",
    "agency_slug",
    "agency_type",
    "class_stem",
    "expand_agencies",
    "is_agency_name",
]


class AgencyType(StrEnum):
    police = "police"
    commerce = "commerce"
    real_estate = "real_estate"
    land = "land"
    securities = "securities"
    bank = "bank"


class AssetKind(StrEnum):
    deposit = "deposit"
    real_estate = "real_estate"
    land_use_right = "land_use_right"
    vehicle = "vehicle"
    equity = "equity"
    securities = "securities"


@dataclass(frozen=True)
class KindRules:
    """How controls work on one asset kind.

    ``actions``: the control actions a court may order on it. ``registers_with``: the action that
    registers a new control (``freeze`` or ``seize``). ``max_period_days``: the legal maximum period
    of one control (DOMAIN.md rule 2: deposits 1 year, movables 2, other property 3). ``divisible``:
    a freeze states an amount (yuan) and blocks at most that much of the balance or market value,
    leaving the rest free, so several courts' freezes can be in effect at once; otherwise one
    control takes the whole asset and later ones queue behind it.
    """

    actions: tuple[str, ...]
    registers_with: Literal["freeze", "seize"]
    max_period_days: int
    divisible: bool


KIND_RULES: dict[AssetKind, KindRules] = {
    AssetKind.deposit: KindRules(("freeze", "deduct", "renew", "release"), "freeze", 365, True),
    AssetKind.vehicle: KindRules(("seize", "renew", "release"), "seize", 730, False),
    AssetKind.real_estate: KindRules(("seize", "renew", "release"), "seize", 1095, False),
    AssetKind.land_use_right: KindRules(("seize", "renew", "release"), "seize", 1095, False),
    AssetKind.equity: KindRules(("freeze", "renew", "release"), "freeze", 1095, False),
    # a securities account: a freeze states the market value to block; 3 years as other property
    AssetKind.securities: KindRules(("freeze", "renew", "release"), "freeze", 1095, True),
}


@dataclass(frozen=True)
class AgencyTypeSpec:
    """One kind of agency: the asset kind its registry holds and where its mocked registry listens
    (``HUB_REGISTRY_BASE_PORT`` + ``port_offset``; banks: + ``port_offset`` + the bank's index)."""

    asset_kind: AssetKind
    port_offset: int


# in the order of an inquiry's default agency list; ``bank`` (one agency per configured bank) last
AGENCY_TYPES: dict[AgencyType, AgencyTypeSpec] = {
    AgencyType.police: AgencyTypeSpec(AssetKind.vehicle, 1),
    AgencyType.commerce: AgencyTypeSpec(AssetKind.equity, 2),
    AgencyType.real_estate: AgencyTypeSpec(AssetKind.real_estate, 3),
    AgencyType.land: AgencyTypeSpec(AssetKind.land_use_right, 4),
    AgencyType.securities: AgencyTypeSpec(AssetKind.securities, 5),
    AgencyType.bank: AgencyTypeSpec(AssetKind.deposit, 11),
}

# derived lists
FIXED_AGENCIES = tuple(str(t) for t in AGENCY_TYPES if t is not AgencyType.bank)
ASSET_KIND_BY_AGENCY_TYPE = {t: spec.asset_kind for t, spec in AGENCY_TYPES.items()}
CONTROL_ACTIONS_BY_KIND = {k: r.actions for k, r in KIND_RULES.items()}
MAX_PERIOD_DAYS = {k: r.max_period_days for k, r in KIND_RULES.items()}
REGISTER_ACTION = {k: r.registers_with for k, r in KIND_RULES.items()}
DIVISIBLE_KINDS = frozenset(k for k, r in KIND_RULES.items() if r.divisible)


def class_stem(kind: AgencyType) -> str:
    """The stem of the class names that implement an agency type (``real_estate`` -> ``RealEstate``)."""
    return "".join(part.capitalize() for part in str(kind).split("_"))


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
