"""Declarations shared by the routes: the problem-details models and the error responses a route
declares, so that the OpenAPI schema lists every status a route answers.

A route declares its answer with ``response_model`` and its errors with :func:`errors`::

    @router.get("/{case_id}", response_model=CaseView, responses=errors(401, 404, 422))

Each error status is declared as ``application/problem+json`` with :class:`ProblemDetails` (or a
subclass carrying extension members, as :class:`CaseNumberConflict`) and an example. ``install``
makes the app's OpenAPI document say ``application/problem+json`` for every error response
(FastAPI writes ``application/json``) and declares 500 on every operation (a failure of the hub
itself, answered in the same shape).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field

from .problems import PROBLEM_MEDIA_TYPE, problem_type

__all__ = [
    "AUTH_READ",
    "CaseNumberConflict",
    "FieldError",
    "ProblemDetails",
    "errors",
    "install",
    "operation_id",
]


class FieldError(BaseModel):
    """One invalid field: where (``["body", "amount_owed"]``), why (a message naming the field) and a
    stable machine-readable ``type`` (``missing``, ``string_too_short``, ``not_a_judge`` ...)."""

    loc: list[str | int]
    msg: str
    type: str


class ProblemDetails(BaseModel):
    """An error (RFC 9457): ``type`` identifies the kind of problem, ``title`` summarises it,
    ``detail`` is a sentence about this occurrence; ``errors`` lists the fields at fault."""

    model_config = ConfigDict(extra="allow")
    type: str = Field(description="a URI identifying the kind of problem")
    title: str
    status: int = Field(ge=400, le=599)
    detail: str = Field(description="what went wrong with this request, as a sentence")
    errors: list[FieldError] = Field(default_factory=list, description="the fields at fault (may be absent)")


class CaseNumberConflict(ProblemDetails):
    """409 on a case number this court registered already: ``case_id`` is that case."""

    case_id: str | None = Field(default=None, description="the case already registered with this number")


_DESCRIPTIONS = {
    400: "Malformed request (a header that cannot be read)",
    401: "Missing or invalid bearer token",
    404: "No such resource of this court (another court's is answered the same)",
    409: "Conflict: the Idempotency-Key came with another body, or the resource's state does not allow it",
    413: "Request body above HUB_MAX_REQUEST_BYTES",
    422: "Invalid request: each field at fault is listed in errors",
    500: "The hub failed to answer (logged)",
    503: "A component of the hub is not running",
}

_EXAMPLES: dict[int, dict[str, Any]] = {
    401: {"detail": "Missing or invalid bearer token."},
    404: {"detail": "Case case_3f2a9c0d1e4b5a6c7d8e not found."},
    409: {"detail": "This Idempotency-Key was used with another body."},
    413: {
        "detail": "body: the request body (2000000 bytes) exceeds the limit of 1048576 bytes.",
        "errors": [
            {"loc": ["body"], "msg": "body: the request body exceeds the limit", "type": "body_too_large"}
        ],
    },
    422: {
        "detail": "amount_owed: money has at most two decimal places (fen).",
        "errors": [
            {
                "loc": ["body", "amount_owed"],
                "msg": "amount_owed: money has at most two decimal places (fen)",
                "type": "value_error",
            }
        ],
    },
}


def _example(status: int) -> dict[str, Any]:
    from .problems import _TYPES

    title = _TYPES[status][1] if status in _TYPES else "Error"
    base = _EXAMPLES.get(status, {"detail": f"{_DESCRIPTIONS.get(status, title)}."})
    return {"type": problem_type(status), "title": title, "status": status, **base}


def errors(
    *statuses: int, models: dict[int, type[ProblemDetails]] | None = None
) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: each of ``statuses`` as problem details (``models`` gives a
    subclass for a status whose body has extension members)."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        model = (models or {}).get(status, ProblemDetails)
        out[status] = {
            "model": model,
            "description": _DESCRIPTIONS.get(status, "Error"),
            "content": {PROBLEM_MEDIA_TYPE: {"example": _example(status)}},
        }
    return out


#: A court's read of one of its own resources: no token, not found, a malformed parameter.
AUTH_READ = (401, 404, 422)


def _problem_media(schema: dict[str, Any]) -> dict[str, Any]:
    """Error responses as application/problem+json (FastAPI put the model's schema under
    application/json); a 500 declared on every operation."""
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            responses = operation.get("responses", {})
            responses.setdefault(
                "500",
                {
                    "description": _DESCRIPTIONS[500],
                    "content": {
                        PROBLEM_MEDIA_TYPE: {
                            "schema": {"$ref": "#/components/schemas/ProblemDetails"},
                            "example": _example(500),
                        }
                    },
                },
            )
            for status, response in responses.items():
                if status[:1] not in ("4", "5"):
                    continue
                content = response.get("content", {})
                if PROBLEM_MEDIA_TYPE not in content:  # not declared by errors(): another body
                    continue
                plain = content.pop("application/json", None)
                if plain is not None:
                    content.setdefault(PROBLEM_MEDIA_TYPE, {}).update(
                        {k: v for k, v in plain.items() if k not in content.get(PROBLEM_MEDIA_TYPE, {})}
                    )
    return schema


def operation_id(route: APIRoute) -> str:
    """An operation's id in the OpenAPI document: its endpoint's name (``create_case``), which a
    client generator turns into the function's name. Names must be unique across the API (the
    contract test checks)."""
    return route.name


def install(app: FastAPI) -> None:
    """The app's OpenAPI document with problem+json error responses (built once, then cached)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                openapi_version=app.openapi_version,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
                servers=app.servers,
            )
            app.openapi_schema = _problem_media(schema)
        return app.openapi_schema

    setattr(app, "openapi", openapi)  # noqa: B010 - FastAPI's documented way to customise the document
