"""The hub's exception tree. Every error the hub raises on purpose derives from :class:`HubError`.

    HubError
    ├── ConfigError                 settings that cannot work
    ├── ForgedMessage               a message its producer may not send  (producer checks)
    └── RegistryError               a call to an agency registry went wrong   (connectors.base)
        ├── TransientRegistryError  worth retrying: timeout, connection error, 5xx, 429
        │   └── RegistryUnavailable   the registry answers 503 / is in outage
        └── PermanentRegistryError  never succeeds on retry: other 4xx, unparseable reply
            ├── RegistryAuthError     401/403: the hub's credential was refused
            └── RegistrySignatureError  an answer whose electronic seal is missing or broken

Errors carry structured fields (agency, status code) and never an identity number in clear.
What the gateway answers a client is another matter: every 4xx and 5xx is an RFC 9457 problem
(``gateway/problems.py``; raise ``gateway.problems.Problem`` or FastAPI's ``HTTPException`` there).
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "ForgedMessage",
    "HubError",
    "PermanentRegistryError",
    "RegistryAuthError",
    "RegistryError",
    "RegistrySignatureError",
    "RegistryUnavailable",
    "TransientRegistryError",
]


class HubError(Exception):
    pass


class ConfigError(HubError):
    pass


class ForgedMessage(HubError):
    """A message that disagrees with what the hub stored about its subject (another court's case
    or order, an agency that was not asked): dead-lettered with this reason, never applied."""


class RegistryError(HubError):
    def __init__(self, agency: str, message: str, *, status_code: int | None = None) -> None:
        super().__init__(f"{agency}: {message}")
        self.agency = agency
        self.status_code = status_code
        self.message = message


class TransientRegistryError(RegistryError):
    def __init__(
        self, agency: str, message: str, *, status_code: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(agency, message, status_code=status_code)
        self.retry_after = retry_after


class RegistryUnavailable(TransientRegistryError):
    pass


class PermanentRegistryError(RegistryError):
    pass


class RegistryAuthError(PermanentRegistryError):
    pass


class RegistrySignatureError(PermanentRegistryError):
    """The registry's answer carries no valid signature (hub/signing.py): never read, never retried."""
