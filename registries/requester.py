"""Who asks: every query and control request to a registry must say so, as a provider that checks
access would require.

A request names the requesting court (``X-Requesting-Court``), the case (``X-Case``), the officer
(``X-Officer``) and the legal basis (``X-Legal-Basis``); ``X-Purpose`` is taken when given. Values
are UTF-8, percent-encoded (RFC 3986). A request without one of the required headers, or with one
that is empty or not decodable, is refused with 403 and the header named in the reason. The app
(``registries.app``) checks this in its one middleware for every agency's API; ``/_admin/*`` and
``/healthz`` are exempt. The last requests' requesters are kept (``GET /_admin/requests``), so
tests and operators can see what an agency was told.
"""

from __future__ import annotations

from collections import deque
from typing import Any
from urllib.parse import unquote

from starlette.requests import Request

__all__ = ["EXEMPT", "OPTIONAL", "REQUIRED", "RequesterError", "Requesters", "requester_of"]

# paths of an agency's API that query nobody and so need no requester (``/_admin/*`` and
# ``/healthz`` never reach the check); a registry route that asks about no one goes here
EXEMPT: frozenset[str] = frozenset(
    {  # the change feeds (registries.changes.FEEDS) name nobody: they list what changed
        "/api/v2/changes",
        "/open/v1/equity/changes",
        "/rest/v1/changes",
        "/landreg/changes",
        "/fi/v1/account-events",
        "/csdc/v3/changes",
    }
)

# header -> key in the recorded requester
REQUIRED = {
    "X-Requesting-Court": "court",
    "X-Case": "case",
    "X-Officer": "officer",
    "X-Legal-Basis": "legal_basis",
}
OPTIONAL = {"X-Purpose": "purpose"}
_MAX = 1000


class RequesterError(ValueError):
    """A required requester header is missing or unusable; the message names it."""


def _decode(header: str, raw: str) -> str:
    try:
        value = unquote(raw, encoding="utf-8", errors="strict").strip()
    except UnicodeDecodeError:
        raise RequesterError(f"{header} is not percent-encoded UTF-8") from None
    if len(value) > _MAX:
        raise RequesterError(f"{header} is longer than {_MAX} characters")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise RequesterError(f"{header} contains a control character")
    return value


def requester_of(request: Request) -> dict[str, str]:
    """The decoded requester of ``request``; :class:`RequesterError` naming the first required
    header that is missing, empty or undecodable."""
    out: dict[str, str] = {}
    for header, key in REQUIRED.items():
        raw = request.headers.get(header)
        if raw is None or not raw.strip():
            raise RequesterError(
                f"access refused: {header} is missing; every query and control request must state "
                "the requesting court, the case, the officer and the legal basis"
            )
        value = _decode(header, raw)
        if not value:
            raise RequesterError(f"access refused: {header} is empty")
        out[key] = value
    for header, key in OPTIONAL.items():
        raw = request.headers.get(header)
        if raw:
            out[key] = _decode(header, raw)
    return out


class Requesters:
    """The requesters of the last ``size`` requests this registry served (or refused)."""

    def __init__(self, size: int = 200) -> None:
        self._recent: deque[dict[str, Any]] = deque(maxlen=size)
        self.refused = 0

    def add(self, method: str, status: int, requester: dict[str, str] | None, reason: str | None) -> None:
        """One request: its method, the status answered, its requester (``None``: refused)."""
        if requester is None:
            self.refused += 1
        self._recent.append({"method": method, "status": status, "requester": requester, "refused": reason})

    def recent(self) -> dict[str, Any]:
        return {"refused": self.refused, "requests": list(self._recent)}
