"""The people and companies of the synthetic population, and the drawing helpers shared by its
generator (``registries.population``) and its asset drawing (``registries.population_assets``)."""

from __future__ import annotations

import bisect
import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from .population_tables import Region

__all__ = ["AS_OF", "CST", "Company", "Person", "draw", "luhn", "money"]

CST = dt.timezone(dt.timedelta(hours=8))
# Fixed "now" of the generated data, so that the same seed gives the same controls every day.
AS_OF = dt.datetime(2026, 11, 1, 9, 0, tzinfo=CST)


@dataclass(slots=True)
class Person:
    key: str
    name: str
    resident_id: str
    birth_date: dt.date
    region: Region
    address: str


@dataclass(slots=True)
class Company:
    key: str
    name: str
    uscc: str
    region: Region
    address: str
    registered_capital: Decimal
    parent: str | None = None  # the head office's key when this is a branch (分公司)
    shareholders: list[tuple[str, int]] = field(default_factory=list)  # (key, basis points)
    business_reg_no: str | None = None  # registered before 2016: its old 15-digit number
    check_override: str | None = None  # its issued credit code fails the check character: why


def draw(rng: random.Random, cum_weights: Sequence[int]) -> int:
    """Index drawn by cumulative weights (``random.choices`` costs several times more per draw)."""
    return bisect.bisect(cum_weights, rng.random() * cum_weights[-1])


def money(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def luhn(digits: str) -> str:
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return str((10 - total % 10) % 10)
