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

from .store import RegistryStore

__all__ = ["BadRequest", "RegistryApi", "amount", "iso", "secret_matches", "wire"]


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


def wire(value: Any) -> Any:
    """A free-form recorded value (a planted mortgage, say) as JSON: money and dates as strings."""
    if isinstance(value, Decimal):
        return amount(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


class RegistryApi(ABC):
    """One agency's API shape over one registry store."""

    def __init__(self, agency: str, store: RegistryStore, credential: str) -> None:
        self.agency = agency
        self.store = store
        self.credential = credential

    @abstractmethod
    def authenticated(self, request: Request) -> bool:
        """Whether the request carries this registry's credential in this registry's header(s)."""

    @abstractmethod
    def error(self, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
        """An error reply in this registry's own error format."""

    @abstractmethod
    def router(self) -> APIRouter:
        """The registry's query route(s)."""
