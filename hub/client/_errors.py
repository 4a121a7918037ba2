"""Errors of the court client and the problem details they carry (see ``hub.client``)."""

from __future__ import annotations

import httpx
from pydantic import BaseModel, ConfigDict, Field

from ..errors import HubError

__all__ = [
    "ApiError",
    "ClientError",
    "Conflict",
    "FieldError",
    "NotFound",
    "Problem",
    "TransportError",
    "Unauthorized",
    "Unprocessable",
    "error_for",
]


class _Answer(BaseModel):
    model_config = ConfigDict(extra="allow")


class FieldError(_Answer):
    loc: list[str | int] = Field(default_factory=list)
    msg: str
    type: str = ""

    @property
    def field(self) -> str:
        """``["body", "debtors", 0, "id_number"]`` → ``debtors[0].id_number``."""
        parts = self.loc[1:] if self.loc and self.loc[0] in ("body", "query", "path", "header") else self.loc
        out = ""
        for p in parts:
            out += f"[{p}]" if isinstance(p, int) else ("." if out else "") + str(p)
        return out or "body"


class Problem(_Answer):
    """An error answer, whichever form the gateway used."""

    type: str = "about:blank"
    title: str | None = None
    status: int
    detail: str | None = None
    errors: list[FieldError] = Field(default_factory=list)

    @classmethod
    def from_response(cls, response: httpx.Response) -> Problem:
        try:
            body = response.json()
        except ValueError:
            return cls(status=response.status_code, detail=response.text[:500] or response.reason_phrase)
        if not isinstance(body, dict):
            return cls(status=response.status_code, detail=str(body)[:500])
        body = {**body, "status": response.status_code}
        detail = body.get("detail")
        if isinstance(detail, list):  # the earlier form: the field errors in "detail"
            body["errors"] = [*body.get("errors", []), *detail]
            body["detail"] = "; ".join(
                f"{e.get('loc')}: {e.get('msg')}" for e in detail if isinstance(e, dict)
            )
        elif detail is not None and not isinstance(detail, str):
            body["detail"] = str(detail)
        return cls.model_validate(body)

    def __str__(self) -> str:
        text = self.detail or self.title or f"HTTP {self.status}"
        fields = [f"{e.field}: {e.msg}" for e in self.errors if e.msg not in text]
        return "; ".join([text, *fields])


class ClientError(HubError):
    """Anything the court client raises on purpose."""


class TransportError(ClientError):
    """The gateway could not be reached, or did not answer within the timeout."""


class ApiError(ClientError):
    """The gateway refused the request: ``status`` and ``problem`` say why."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(f"HTTP {problem.status}: {problem}")
        self.status = problem.status
        self.problem = problem


class Unauthorized(ApiError):
    pass


class NotFound(ApiError):
    pass


class Conflict(ApiError):
    @property
    def case_id(self) -> str | None:
        """The existing case, when the conflict is a case number already registered."""
        value = (self.problem.model_extra or {}).get("case_id")
        return str(value) if value is not None else None


class Unprocessable(ApiError):
    pass


_BY_STATUS: dict[int, type[ApiError]] = {401: Unauthorized, 404: NotFound, 409: Conflict, 422: Unprocessable}


def error_for(response: httpx.Response) -> ApiError:
    """The exception for an error answer (4xx/5xx), with its problem details read."""
    return _BY_STATUS.get(response.status_code, ApiError)(Problem.from_response(response))
