"""The contract between the connector runtime and one agency's registry API.

An adapter knows one registry's API shape (paths, auth header, paging, error format, field names)
and nothing about Kafka. The runtime (``connectors.runtime``) owns retries, concurrency and
dead-lettering; ``classify_response`` is the single place deciding retriable vs fatal.
"""

from __future__ import annotations

import email.utils
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import httpx

from hub.errors import (
    PermanentRegistryError,
    RegistryAuthError,
    RegistryUnavailable,
    TransientRegistryError,
)
from schemas.models import AgencyRequest, AssetRecord, ControlCommand, ControlOutcome, PartyRecord

__all__ = ["AgencyAdapter", "InquiryAnswer", "parse_retry_after"]


@dataclass
class InquiryAnswer:
    records: list[AssetRecord] = field(default_factory=list)
    party_records: list[PartyRecord] = field(default_factory=list)


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class AgencyAdapter(ABC):
    """Subclass per agency: set ``agency`` (an agency name) and implement ``inquire``."""

    agency: str

    def __init__(self, base_url: str, credential: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._credential = credential

    @abstractmethod
    def auth_headers(self) -> dict[str, str]:
        """The registry's own credential header(s)."""

    @abstractmethod
    async def inquire(self, client: httpx.AsyncClient, request: AgencyRequest) -> InquiryAnswer:
        """Ask the registry what the subject holds; follow its paging; map records to schemas.

        Use ``self.classify_response`` on every reply; raise ``PermanentRegistryError`` for a reply
        that cannot be parsed. Do not retry here: the runtime retries the whole call.
        """

    async def execute_control(self, client: httpx.AsyncClient, command: ControlCommand) -> ControlOutcome:
        """Execute one control order through the registry's API and report what it did.

        An agency's refusal (already released, amount above the frozen sum, …) is not an error:
        it is an outcome ``rejected`` with the agency's reason. Replies are classified as for
        ``inquire``. The registry is idempotent by ``command.order_id``: a repeat returns the
        first outcome and changes nothing.
        """
        raise NotImplementedError(f"{self.agency} does not execute control orders")

    def error_message(self, response: httpx.Response) -> str:
        """Extract the registry's error text from its own error format (override per agency)."""
        return response.text[:300]

    def classify_response(self, response: httpx.Response) -> None:
        """Raise the right ``RegistryError`` for a reply that is not a success."""
        code = response.status_code
        if code < 400:
            return
        msg = f"HTTP {code}: {self.error_message(response)}"
        if code == 429:
            raise TransientRegistryError(
                self.agency,
                msg,
                status_code=code,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
        if code == 503:
            raise RegistryUnavailable(
                self.agency,
                msg,
                status_code=code,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
        if code >= 500 or code == 408:
            raise TransientRegistryError(self.agency, msg, status_code=code)
        if code in (401, 403):
            raise RegistryAuthError(self.agency, msg, status_code=code)
        raise PermanentRegistryError(self.agency, msg, status_code=code)

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"
