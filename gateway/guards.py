"""What stands between a client's bytes and the routes: a body size limit, a body that must be UTF-8,
and 422 answers that can always be written (an error echoing a lone surrogate could not be encoded,
and the 422 turned into a 500).

Every refusal keeps the API's error shape, problem details (``gateway.problems``) whose ``errors``
name where the problem is.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from hub.asgi import replay_body
from hub.i18n import Message as I18nMessage
from hub.i18n import negotiate

__all__ = ["RequestGuard", "install", "printable"]


def printable(value: Any) -> Any:
    """``value`` with every string encodable as UTF-8 (a lone surrogate becomes ``\\udXXX`` text)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value.encode("utf-8", "backslashreplace").decode("utf-8")
        return value
    if isinstance(value, dict):
        return {printable(k): printable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [printable(v) for v in value]
    return value


class RequestGuard:
    """Refuses a body above ``max_bytes`` with 413 (by its Content-Length before reading it, or while
    reading a body sent without one) and a body that is not UTF-8 with 422; passes the rest on."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def _refuse(
        self,
        send: Send,
        status: int,
        loc: list[str],
        msg: str,
        type_: str,
        accept_language: str | None = None,
    ) -> None:
        from .problems import PROBLEM_MEDIA_TYPE, problem_body

        locale = negotiate(accept_language)
        problem = problem_body(status, None, locale, [{"loc": loc, "msg": msg, "type": type_}])
        body = json.dumps(problem, ensure_ascii=False).encode()
        headers = [
            (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
            (b"content-length", str(len(body)).encode()),
            (b"content-language", locale.encode()),
        ]
        if status == 413:
            headers.append((b"connection", b"close"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _too_large(self, size: int | None) -> str:
        if size is None:
            return I18nMessage(
                "the request body exceeds the limit of {limit} bytes (HUB_MAX_REQUEST_BYTES)",
                limit=self.max_bytes,
            )
        return I18nMessage(
            "the request body ({size} bytes) exceeds the limit of {limit} bytes (HUB_MAX_REQUEST_BYTES)",
            size=size,
            limit=self.max_bytes,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        language = headers.get(b"accept-language", b"").decode("latin-1") or None
        declared = headers.get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                msg = "not a number of bytes"
                await self._refuse(send, 400, ["header", "content-length"], msg, "invalid_header", language)
                return
            if int(declared) > self.max_bytes:
                await self._refuse(
                    send, 413, ["body"], self._too_large(int(declared)), "body_too_large", language
                )
                return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(send, 413, ["body"], self._too_large(None), "body_too_large", language)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        content_type = headers.get(b"content-type", b"application/json").lower()
        if body and b"json" in content_type:
            try:
                body.decode("utf-8")
            except UnicodeDecodeError as e:
                msg = I18nMessage(
                    "the body is not valid UTF-8 (byte 0x{byte} at position {position})",
                    byte=f"{body[e.start]:02x}",
                    position=e.start,
                )
                await self._refuse(send, 422, ["body"], msg, "unicode_error", language)
                return
        await self.app(scope, replay_body(body, receive), send)


def install(app: FastAPI, max_bytes: int) -> None:
    app.add_middleware(RequestGuard, max_bytes=max_bytes)
