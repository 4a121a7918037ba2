"""Dependencies of the API routes: settings, database, the caller's identity."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hub.i18n import Message
from hub.settings import HubSettings

from .db import Database
from .pipeline import OutboxRelay

__all__ = ["CourtId", "Db", "OpsRole", "Relay", "Settings"]

_bearer = HTTPBearer(auto_error=False)


def _settings(request: Request) -> HubSettings:
    return request.app.state.settings


def _db(request: Request) -> Database:
    return request.app.state.db


def _relay(request: Request) -> OutboxRelay:
    return request.app.state.relay


Settings = Annotated[HubSettings, Depends(_settings)]
Db = Annotated[Database, Depends(_db)]
Relay = Annotated[OutboxRelay, Depends(_relay)]

_UNAUTHORIZED = HTTPException(
    status.HTTP_401_UNAUTHORIZED,
    Message("missing or invalid bearer token"),
    headers={"WWW-Authenticate": "Bearer"},
)


def _court(
    settings: Settings, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> str:
    if creds is None:
        raise _UNAUTHORIZED
    for court_id, token in settings.tokens_by_court.items():
        if secrets.compare_digest(token.encode(), creds.credentials.encode()):
            return court_id
    raise _UNAUTHORIZED


def _ops(settings: Settings, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> str:
    expected = settings.ops_token.get_secret_value() if settings.ops_token else None
    if (
        creds is None
        or expected is None
        or not secrets.compare_digest(expected.encode(), creds.credentials.encode())
    ):
        raise _UNAUTHORIZED
    return "ops"


CourtId = Annotated[str, Depends(_court)]
OpsRole = Annotated[str, Depends(_ops)]
