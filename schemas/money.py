"""Money: ``Decimal`` yuan, two places, carried as a decimal string on the wire, never a float.

``Money`` reads the hub's own messages (tolerant of a sign and of trailing zeros); ``MoneyInput``
reads what a court sends: a plain ASCII decimal string such as ``"100000.00"``, not negative, at most
two decimals and at most :data:`MAX_AMOUNT`. Neither ever raises anything but ``ValueError``, so a
bad amount is a 422 on its field, never a 500.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

__all__ = ["MAX_AMOUNT", "Money", "MoneyInput", "to_money", "to_money_input"]

_CENT = Decimal("0.01")
#: The largest amount a court may state (yuan): just under one trillion (一万亿) yuan.
MAX_AMOUNT = Decimal("999999999999.99")
_PLAIN = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?", re.ASCII)
_INPUT = re.compile(r"(-?)([0-9]+)(?:\.([0-9]+))?", re.ASCII)
_MAX_CHARS = 64  # longer than any amount: refused before it reaches Decimal


def _quantized(d: Decimal) -> Decimal:
    if not d.is_finite():
        raise ValueError("money must be finite")
    try:
        if d != d.quantize(_CENT):
            raise ValueError("money has at most two decimal places (fen)")
        return d.quantize(_CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation:  # more digits than the decimal context holds
        raise ValueError("amount out of range") from None


def to_money(value: Any) -> Decimal:
    if isinstance(value, float):
        raise ValueError('money must be a decimal string such as "100000.00", not a float')
    if isinstance(value, bool):
        raise ValueError("money must be a decimal string")
    if isinstance(value, Decimal):
        return _quantized(value)
    if isinstance(value, int):
        return _quantized(Decimal(value))
    text = str(value).strip()
    if len(text) > _MAX_CHARS or not _PLAIN.fullmatch(text):
        raise ValueError('not a decimal amount: write it plainly, such as "1500.00"')
    return _quantized(Decimal(text))


def to_money_input(value: Any) -> Decimal:
    """An amount a court sends: a plain decimal string (ASCII digits, an optional point and at most
    two decimals), not negative, at most :data:`MAX_AMOUNT`."""
    if isinstance(value, Decimal):  # a model built from another model's values
        d = _quantized(value)
    elif isinstance(value, str):
        text = value.strip()
        m = _INPUT.fullmatch(text) if len(text) <= _MAX_CHARS else None
        if m is None:
            raise ValueError(
                'must be a plain decimal string of ASCII digits with at most two decimals, such as "1500.00"'
            )
        sign, whole, fraction = m.groups()
        if sign:
            raise ValueError("must not be negative")
        if fraction is not None and len(fraction) > 2:
            raise ValueError("money has at most two decimal places (fen)")
        if len(whole.lstrip("0")) > len(str(int(MAX_AMOUNT))):
            raise ValueError(f"must be at most {MAX_AMOUNT} yuan")
        d = _quantized(Decimal(text))
    elif isinstance(value, float):
        raise ValueError('money must be a decimal string such as "100000.00", not a float')
    else:
        raise ValueError('money must be a decimal string such as "100000.00", not a number')
    if d < 0:
        raise ValueError("must not be negative")
    if d > MAX_AMOUNT:
        raise ValueError(f"must be at most {MAX_AMOUNT} yuan")
    return d


def _two_places(d: Decimal) -> str:
    return f"{d:.2f}"


Money = Annotated[Decimal, BeforeValidator(to_money), PlainSerializer(_two_places, return_type=str)]
MoneyInput = Annotated[
    Decimal,
    BeforeValidator(to_money_input),
    PlainSerializer(_two_places, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^[0-9]+(\.[0-9]{1,2})?$",
            "description": f"yuan, a plain decimal string with at most two decimals, at most {MAX_AMOUNT}",
        }
    ),
]
