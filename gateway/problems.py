"""Every error answer of the gateway as RFC 9457 problem details (``application/problem+json``).

Body: ``{"type": URI, "title": short summary of the type, "status": HTTP status, "detail": a
sentence about this occurrence, "errors": [{"loc": [...], "msg": str, "type": str}]}``, plus
extension members where a route adds them (a 409 on a case number names the existing ``case_id``).
``errors`` lists invalid fields (422, and 400/409/413 where a field is at fault); every ``msg``
names its field (``amount_owed: money has at most two decimal places (fen)``).

Language: ``title``, ``detail`` and each ``msg`` follow the request's ``Accept-Language`` (``en``
or ``zh-CN``, default ``en``; ``hub.i18n``); the answer says which in ``Content-Language``.
Messages without a translation stay in English. ``loc`` and ``type`` are never translated: a
client matches on those.

Sources, all turned into the one shape here: FastAPI's request validation (pydantic errors),
``HTTPException`` raised by routes and dependencies (``detail`` a sentence, or a list of field
errors), :class:`Problem` (with extension members), Starlette's own 404/405, the request guard's
refusals (``gateway.guards``), and any unexpected exception (500, logged, nothing internal shown).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from hub.i18n import DEFAULT_LANGUAGE, Message, gettext, lookup, negotiate

__all__ = [
    "PROBLEM_MEDIA_TYPE",
    "Problem",
    "field_errors",
    "install",
    "problem_body",
    "problem_response",
    "problem_type",
]

log = logging.getLogger("gateway.problems")

PROBLEM_MEDIA_TYPE = "application/problem+json"
_TYPE_BASE = "urn:enforcement-hub:problem:"


def _pydantic_templates() -> dict[str, str]:
    """pydantic's English message template per error type (the ids of their translations); its
    table lives in a private module of pydantic-core: without it, those messages stay English."""
    try:
        from pydantic_core._pydantic_core import list_all_errors
    except ImportError:  # pragma: no cover - a pydantic-core that moved it
        return {}
    return {e["type"]: e["message_template_python"] for e in list_all_errors()}


# status -> (type slug, English title); a status not listed is "about:blank" with its HTTP phrase
_TYPES: dict[int, tuple[str, str]] = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Unauthorized"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    409: ("conflict", "Conflict"),
    413: ("body-too-large", "Request body too large"),
    422: ("invalid-request", "Invalid request"),
    500: ("internal-error", "Internal error"),
    503: ("unavailable", "Service unavailable"),
}
_PYDANTIC_TEMPLATES = _pydantic_templates()
_VALUE_ERROR = re.compile(r"^(Value error|Assertion failed), ")


def problem_type(status: int) -> str:
    """The ``type`` URI of a problem with this status (``urn:enforcement-hub:problem:<slug>``)."""
    slug = _TYPES.get(status)
    return _TYPE_BASE + slug[0] if slug else "about:blank"


def _title(status: int, locale: str) -> str:
    english = _TYPES[status][1] if status in _TYPES else HTTPStatus(status).phrase
    return gettext(english, locale)


class Problem(StarletteHTTPException):
    """An error answered as problem details: ``detail`` a sentence (a :class:`hub.i18n.Message` to be
    translated), ``errors`` the fields at fault (``{"loc", "msg", "type"}``, ``msg`` str or Message),
    ``extensions`` more members of the body (``case_id=...``)."""

    def __init__(
        self,
        status_code: int,
        detail: str,
        *,
        errors: Sequence[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(status_code, detail, headers)
        self.errors = list(errors or [])
        self.extensions = extensions


def _field(loc: Sequence[Any]) -> str:
    """``["body", "debtors", 0, "id_number"]`` → ``debtors[0].id_number``; ``["body"]`` → ``body``."""
    parts = (
        list(loc[1:])
        if len(loc) > 1 and loc[0] in ("body", "query", "path", "header", "cookie")
        else list(loc)
    )
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "body"


def _sentence_case(text: str) -> str:
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text


def _reason(error: dict[str, Any], locale: str) -> str:
    """The error's reason without pydantic's ``Value error, `` prefix, in ``locale``."""
    msg = error.get("msg", "")
    if isinstance(msg, Message):
        return msg.localize(locale)
    msg = str(msg)
    kind = error.get("type", "")
    stripped = _VALUE_ERROR.sub("", msg)
    if stripped != msg or kind not in _PYDANTIC_TEMPLATES:  # a validator's own message, or a route's
        return gettext(stripped, locale)
    translated = lookup(_PYDANTIC_TEMPLATES[kind], locale)
    if translated is None or locale == DEFAULT_LANGUAGE:
        return msg
    ctx = {k: v for k, v in (error.get("ctx") or {}).items() if isinstance(v, str | int | float)}
    try:
        return translated.format(**ctx)
    except (KeyError, IndexError, ValueError):  # a context pydantic did not give: stay in English
        return msg


def field_errors(errors: Sequence[dict[str, Any]], locale: str) -> list[dict[str, Any]]:
    """``[{"loc", "msg", "type"}]``: each ``msg`` naming its field (``field: reason``) in ``locale``."""
    sep = "：" if locale.startswith("zh") else ": "
    out = []
    for error in errors:
        loc = [p if isinstance(p, int) else str(p) for p in error.get("loc", ())]
        field = _field(loc)
        if error.get("type") == "json_invalid":  # loc ["body", character position]
            field = "body"
            position = loc[-1] if loc and isinstance(loc[-1], int) else "?"
            error = {**error, "msg": Message("not valid JSON (at character {position})", position=position)}
        reason = _sentence_case(_reason(error, locale))
        msg = reason if reason.startswith(field) else f"{field}{sep}{reason}"
        out.append({"loc": loc, "msg": msg, "type": str(error.get("type", "invalid"))})
    return out


def _as_sentence(text: str, locale: str, capitalise: bool = True) -> str:
    text = text.strip()
    if capitalise and text and text[0].islower() and locale == DEFAULT_LANGUAGE:
        text = text[0].upper() + text[1:]
    if text and text[-1] not in ".!?。！？":
        text += "。" if locale.startswith("zh") else "."
    return text


def _summary(errors: list[dict[str, Any]], locale: str) -> str:
    if len(errors) == 1:
        return errors[0]["msg"]
    fields = [_field(e["loc"]) for e in errors]
    return gettext(
        "{count} fields are invalid: {fields}",
        locale,
        count=len(errors),
        fields=("、" if locale.startswith("zh") else ", ").join(dict.fromkeys(fields)),
    )


def problem_body(
    status: int,
    detail: str | None,
    locale: str,
    errors: Sequence[dict[str, Any]] | None = None,
    extensions: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The problem details object (a dict ready for JSON). ``detail`` None: from ``errors``, else
    the status's title."""
    listed = field_errors(errors, locale) if errors else []
    from_fields = detail is None and bool(listed)  # begins with a field's name: keep its case
    if detail is None:
        detail = _summary(listed, locale) if listed else _title(status, locale)
    elif isinstance(detail, Message):
        detail = detail.localize(locale)
    else:
        detail = gettext(detail, locale)
    body: dict[str, Any] = {
        "type": problem_type(status),
        "title": _title(status, locale),
        "status": status,
        "detail": _as_sentence(detail, locale, capitalise=not from_fields),
    }
    if listed:
        body["errors"] = listed
    for key, value in (extensions or {}).items():
        body.setdefault(key, value)
    return body


def problem_response(
    request: Request,
    status: int,
    detail: str | None,
    *,
    errors: Sequence[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    extensions: dict[str, Any] | None = None,
) -> JSONResponse:
    from .guards import printable  # an echoed lone surrogate must not make the answer unwritable

    locale = negotiate(request.headers.get("accept-language"))
    body = printable(jsonable_encoder(problem_body(status, detail, locale, errors, extensions)))
    return JSONResponse(
        body,
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers={**(headers or {}), "Content-Language": locale, "Vary": "Accept-Language"},
    )


async def _http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail: Any = exc.detail
    errors: list[dict[str, Any]] | None = None
    extensions: dict[str, Any] | None = None
    if isinstance(exc, Problem):
        errors, extensions = exc.errors or None, exc.extensions
    if isinstance(detail, list):  # a route's field errors
        errors, detail = detail, None
    elif isinstance(detail, dict):
        extensions = {**detail, **(extensions or {})}
        detail = str(extensions.pop("detail", "")) or None
    if exc.status_code == 405 and isinstance(detail, str) and detail == "Method Not Allowed":
        detail = Message(
            "the method {method} is not allowed on {path}", method=request.method, path=request.url.path
        )
    elif exc.status_code == 404 and detail == "Not Found":
        detail = Message("no route {path}", path=request.url.path)
    headers = dict(exc.headers) if exc.headers else None
    return problem_response(
        request, exc.status_code, detail, errors=errors, headers=headers, extensions=extensions
    )


async def _invalid_request(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return problem_response(request, 422, None, errors=list(exc.errors()))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path, exc_info=exc)
    detail = Message("the hub could not answer this request; the failure was logged")
    return problem_response(request, 500, detail)


def install(app: FastAPI) -> None:
    """Answer every error of ``app`` with problem details."""
    app.add_exception_handler(StarletteHTTPException, _http_exception)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(Exception, _unexpected)
