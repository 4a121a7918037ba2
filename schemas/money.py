"""Money: ``Decimal`` yuan, two places, carried as a decimal string on the wire, never a float."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer

__all__ = ["Money", "to_money"]

_CENT = Decimal("0.01")


def to_money(value: Any) -> Decimal:
    if isinstance(value, float):
        raise ValueError('money must be a decimal string such as "100000.00", not a float')
    if isinstance(value, bool):
        raise ValueError("money must be a decimal string")
    try:
        d = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValueError(f"not a decimal amount: {value!r}") from None
    if not d.is_finite():
        raise ValueError("money must be finite")
    if d != d.quantize(_CENT):
        raise ValueError("money has at most two decimal places (fen)")
    return d.quantize(_CENT, rounding=ROUND_HALF_UP)


Money = Annotated[Decimal, BeforeValidator(to_money), PlainSerializer(lambda d: f"{d:.2f}", return_type=str)]
