"""What a registry's control register is made of: orders, controls, decisions, legal periods.

Plain dataclasses (the register holds one per control, and persists them as JSON rows).
Money is :class:`~decimal.Decimal` yuan; times are timezone-aware datetimes (registry clock).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from schemas.agencies import DIVISIBLE_KINDS
from schemas.agencies import MAX_PERIOD_DAYS as _KIND_PERIODS
from schemas.agencies import REGISTER_ACTION as _REGISTER_ACTION

from ..records import Holding

__all__ = [
    "CENT",
    "DIVISIBLE",
    "MAX_PERIOD_DAYS",
    "REGISTER_ACTION",
    "ZERO",
    "Asset",
    "Decision",
    "Order",
    "Promoted",
    "RegControl",
    "UnknownAsset",
    "money",
    "when",
]

# legal maximum period of a control, in days, by asset kind (DOMAIN.md rule 2); the action that
# registers a control on each kind; the kinds a freeze blocks a stated amount of (schemas.agencies)
MAX_PERIOD_DAYS: dict[str, int] = {str(k): v for k, v in _KIND_PERIODS.items()}
REGISTER_ACTION: dict[str, str] = {str(k): v for k, v in _REGISTER_ACTION.items()}
DIVISIBLE: frozenset[str] = frozenset(str(k) for k in DIVISIBLE_KINDS)
ZERO = Decimal("0.00")
CENT = Decimal("0.01")


class UnknownAsset(LookupError):
    """No asset with this reference in this registry (the API answers 404)."""


@dataclass(frozen=True, slots=True)
class Order:
    """A control order as the registry understood its own request shape.

    ``action``: freeze | seize | deduct | renew | release | expire | status (``status`` only reads
    the control ``control_id`` and is not remembered). ``amount`` in yuan; ``period_days`` in days.
    """

    order_id: str
    action: str
    asset_ref: str
    court: str
    case_id: str | None = None
    case_number: str | None = None
    amount: Decimal | None = None
    control_id: str | None = None
    period_days: int | None = None
    approved_by: str | None = None
    owner_id: str | None = None  # the owner's identifier as recorded, when several records share a ref


@dataclass(frozen=True, slots=True)
class Promoted:
    """A waiting control that took effect at ``effective_at`` (a release, a lapse, money freed)."""

    control_id: str
    order_id: str | None
    case_id: str | None
    court: str
    amount: Decimal | None
    effective_at: dt.datetime
    expires_at: dt.datetime | None


@dataclass(slots=True)
class RegControl:
    """One control in the register.

    ``amount``: frozen now (in effect) or asked (waiting) on a deposit; the subscribed capital frozen
    on an equity freeze; ``None`` on seizures. ``status``: effective | waiting | released |
    expired | executed. ``lapsed``: it expired by itself at ``expires_at`` (no notice needed);
    ``lapse_promoted``: what that lapse promoted, until an expiry notice has reported it.
    """

    control_id: str
    court: str
    action: str
    amount: Decimal | None
    registered_at: dt.datetime | None
    effective_at: dt.datetime | None
    expires_at: dt.datetime | None
    period_days: int
    status: str
    seq: int
    order_id: str | None = None
    case_id: str | None = None
    case_number: str | None = None
    position: int | None = None
    ended_at: dt.datetime | None = None
    lapsed: bool = False
    lapse_promoted: tuple[Promoted, ...] = ()


@dataclass(frozen=True, slots=True)
class Decision:
    """What the registry did with one order (remembered by ``order_id``, except ``status`` reads).

    ``outcome``: effective | waiting | partial | rejected | renewed | released | deducted | expired.
    ``ahead_expires_at``: for a waiting control, when the control ahead of it ends unless renewed
    (on a deposit: the earliest end of a freeze in effect), so the court knows when to look again.
    """

    order_id: str
    action: str
    outcome: str
    decided_at: dt.datetime
    control_id: str | None = None
    position: int | None = None
    amount_controlled: Decimal | None = None
    amount_deducted: Decimal | None = None
    effective_at: dt.datetime | None = None
    expires_at: dt.datetime | None = None
    reason: str | None = None
    promoted: tuple[Promoted, ...] = ()
    ahead_expires_at: dt.datetime | None = None


@dataclass(slots=True)
class Asset:
    """One asset's state in the register: its balance (deposits) or value, and its controls."""

    holding: Holding
    kind: str
    balance: Decimal
    controls: list[RegControl] = field(default_factory=list)

    def active(self, status: str) -> list[RegControl]:
        return sorted((c for c in self.controls if c.status == status), key=lambda c: c.seq)

    def held(self) -> Decimal:
        return sum((c.amount or ZERO for c in self.controls if c.status == "effective"), ZERO)

    def available(self) -> Decimal:
        return max(self.balance - self.held(), ZERO)

    def ahead_until(self) -> dt.datetime | None:
        """When the first control in effect ends (the earliest, on a deposit), or None."""
        ends = [c.expires_at for c in self.controls if c.status == "effective" and c.expires_at]
        return min(ends) if ends else None


def money(value: Decimal) -> str:
    return f"{value:.2f}"


def when(value: dt.datetime | None) -> str:
    return value.isoformat() if value is not None else "?"
