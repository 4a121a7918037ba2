"""The contract between the connector runtime and one agency's registry API.

An adapter knows one registry's API shape (paths, auth header, paging, error format, field names)
and nothing about Kafka. The runtime (``connectors.runtime``) owns retries, concurrency and
dead-lettering; ``classify_response`` is the single place deciding retriable vs fatal.

Who asks, for which court and case, on what legal basis and for what purpose travels with every
call an adapter makes, in the same headers for every agency (:data:`REQUESTER_HEADERS`): the base
class adds them to whatever ``auth_headers()`` returns while ``inquire`` or ``execute_control``
runs, taken from the :class:`AgencyRequest` or :class:`ControlCommand` at hand. An adapter need do
nothing for it. Values are UTF-8, percent-encoded (RFC 3986) so that names in Chinese survive
HTTP/1.1 headers; a field the command lacks (a command from before officers existed) is left
out, and the registry then refuses the call with its reason.
"""

from __future__ import annotations

import contextlib
import email.utils
import functools
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from hub.errors import (
    PermanentRegistryError,
    RegistryAuthError,
    RegistryUnavailable,
    TransientRegistryError,
)
from hub.masking import mask_text
from schemas.models import AgencyRequest, AssetRecord, ControlCommand, ControlOutcome, PartyRecord

__all__ = [
    "REQUESTER_HEADERS",
    "AgencyAdapter",
    "InquiryAnswer",
    "encode_header",
    "parse_retry_after",
    "requester_headers",
]

# header -> field of the request or command it carries
REQUESTER_HEADERS = {
    "X-Requesting-Court": "court_id",
    "X-Case": "case_id",
    "X-Officer": "officer",
    "X-Legal-Basis": "legal_basis",
    "X-Purpose": "purpose",
}
# the requester headers of the call being made (set by the base class around inquire/execute_control)
_REQUESTER: ContextVar[dict[str, str] | None] = ContextVar("requester", default=None)


def encode_header(value: str) -> str:
    """A header value as visible ASCII: UTF-8 percent-encoded, keeping ASCII punctuation and spaces
    readable (``%`` itself is encoded, so decoding is unambiguous)."""
    return quote(value, safe=" !#$&'()*+,/:;=?@[]~")


def requester_headers(source: AgencyRequest | ControlCommand) -> dict[str, str]:
    """The requester headers for a request or command: each field it has, percent-encoded."""
    out: dict[str, str] = {}
    for header, name in REQUESTER_HEADERS.items():
        value = getattr(source, name, None)
        if value:
            out[header] = encode_header(str(value))
    return out


def _with_requester(call: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(call)
    async def wrapped(self: AgencyAdapter, client: httpx.AsyncClient, source: Any) -> Any:
        token = _REQUESTER.set(requester_headers(source))
        try:
            return await call(self, client, source)
        finally:
            _REQUESTER.reset(token)

    return wrapped


def _plus_requester(auth: Callable[[Any], dict[str, str]]) -> Callable[[Any], dict[str, str]]:
    @functools.wraps(auth)
    def wrapped(self: AgencyAdapter) -> dict[str, str]:
        return {**auth(self), **(_REQUESTER.get() or {})}

    return wrapped


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

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Every adapter sends the requester headers: its ``auth_headers`` gains them while its
        ``inquire``/``execute_control`` runs (see the module's docstring)."""
        super().__init_subclass__(**kwargs)
        own = cls.__dict__
        if "auth_headers" in own:
            setattr(cls, "auth_headers", _plus_requester(own["auth_headers"]))  # noqa: B010
        for name in ("inquire", "execute_control"):
            if name in own:
                setattr(cls, name, _with_requester(own[name]))

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

    @contextlib.contextmanager
    def reading_reply(self) -> Iterator[None]:
        """Read a success reply inside this block: a reply that does not have the registry's shape
        (ValueError, KeyError, TypeError, ArithmeticError) becomes PermanentRegistryError, with the
        reason masked (a reply may hold personal data) and cut to 300 characters."""
        try:
            yield
        except (ValueError, KeyError, TypeError, ArithmeticError) as e:
            raise PermanentRegistryError(self.agency, f"unparseable reply: {mask_text(str(e))[:300]}") from e

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
