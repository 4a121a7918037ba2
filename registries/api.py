"""What every registry's API module provides: its credential check, its error format, its routes.

The app (``registries.app``) adds what is common (health, faults, admin, stats) around one
:class:`RegistryApi`; each agency module says only how that agency's API looks.
"""

from __future__ import annotations

import datetime as dt
import hmac
from abc import ABC, abstractmethod
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request, Response

from hub.clock import Clock, HubClock

from .controls import Decision, Order, RegControl, UnknownAsset
from .records import Holding
from .store import RegistryStore

__all__ = [
    "BadRequest",
    "RegistryApi",
    "amount",
    "iso",
    "parse_amount",
    "parse_int",
    "secret_matches",
    "wire",
]


class BadRequest(Exception):
    """A request the registry refuses; the app answers it in the registry's own error format."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def secret_matches(given: str | None, expected: str) -> bool:
    """Constant-time comparison, so that timing does not leak how much of a credential was right."""
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def iso(value: dt.date | dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def amount(value: Decimal | None) -> str | None:
    """Money on the wire: a decimal string with two places, never a JSON float."""
    return f"{value:.2f}" if value is not None else None


def parse_amount(value: Any, name: str) -> Decimal | None:
    """A money field of a request (string or number) as a Decimal; ``BadRequest`` when not one."""
    if value is None or value == "":
        return None
    try:
        result = Decimal(str(value))
    except ArithmeticError:
        raise BadRequest(f"{name} must be a decimal amount") from None
    if not result.is_finite():
        raise BadRequest(f"{name} must be a decimal amount")
    return result


def parse_int(value: Any, name: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise BadRequest(f"{name} must be an integer") from None


def wire(value: Any) -> Any:
    """A free-form recorded value (a planted mortgage, say) as JSON: money and dates as strings."""
    if isinstance(value, Decimal):
        return amount(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


class RegistryApi(ABC):
    """One agency's API shape over one registry store.

    ``CONTROL_PREFIX``: how the control ids its register issues start (``None``: the agency name
    without ``bank:``, upper-case).
    """

    CONTROL_PREFIX: str | None = None

    @classmethod
    def control_prefix(cls, agency: str) -> str:
        return cls.CONTROL_PREFIX or agency.removeprefix("bank:").upper()

    def __init__(
        self, agency: str, store: RegistryStore, credential: str, clock: Clock | None = None
    ) -> None:
        self.agency = agency
        self.store = store
        self.credential = credential
        self.clock: Clock = clock or HubClock()

    def execute(self, order: Order) -> Decision:
        """Run a control order against this registry's register at the registry's time.

        An unknown asset is a 404 in the registry's own error format.
        """
        if not order.order_id:
            raise BadRequest("the order id (idempotency key) is required")
        if not order.court:
            raise BadRequest("the ordering court is required")
        try:
            return self.store.controls.execute(order, self.clock.now())
        except UnknownAsset:
            raise BadRequest(f"no asset {order.asset_ref} in the {self.agency} registry", 404) from None

    def current_controls(self, holding: Holding) -> tuple[Decimal, list[RegControl]]:
        """The balance and the controls on ``holding`` at the registry's time, from the register
        (in effect or waiting, then lapsed ones as ``expired``)."""
        return self.store.controls.current(holding, self.clock.now())

    @abstractmethod
    def authenticated(self, request: Request) -> bool:
        """Whether the request carries this registry's credential in this registry's header(s)."""

    @abstractmethod
    def error(self, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
        """An error reply in this registry's own error format."""

    @abstractmethod
    def router(self) -> APIRouter:
        """The registry's query route(s)."""
