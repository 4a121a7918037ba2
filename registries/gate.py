"""The registry's gate: what every API call of a mocked registry passes before and after its route,
as plain ASGI middleware.

Before the route: the registry's latency, an outage, its credential, the requester headers, the
hub's electronic seal over the request, and the random faults (see ``registries.app``). After it:
the registry's seal over the answer and the call counted in the stats. ``/healthz`` passes
untouched; ``/_admin/*`` needs the registry's credential only.

Plain ASGI rather than Starlette's ``BaseHTTPMiddleware`` (``@app.middleware("http")``): that one
runs the route in a task of its own behind a memory stream per call, which was about half of the
registries' CPU per inquiry. Here the request body read for the seal check is handed on to the
route as it was received, and the answer is sealed as it is sent.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.asgi import replay_body
from hub.signing import REQUEST_SIGNATURE_HEADER

from .api import RegistryApi
from .requester import EXEMPT
from .signing import RegistrySeal

__all__ = ["RegistryGate"]

# what a call must pass before its route: None lets it through, a Response answers it instead
Guard = Callable[[Request], Awaitable[Response | None]]


class RegistryGate:
    """ASGI middleware of one registry: ``guard`` before the route, the seal and stats after it.

    ``stats`` counts ``requests`` (query and control API) and ``feed_requests`` (the change feeds,
    ``registries.requester.EXEMPT``) apart, ``status:<code>`` and ``path:<path>``.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        api: RegistryApi,
        guard: Guard,
        seal: RegistrySeal | None,
        stats: Counter[str],
    ) -> None:
        self.app = app
        self.api = api
        self.guard = guard
        self.seal = seal
        self.stats = stats

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path == "/healthz":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        if path.startswith("/_admin/"):  # exempt from faults (so an outage can be lifted) and from stats
            if self.api.authenticated(request):
                await self.app(scope, receive, send)
            else:
                await self.api.error(401, "credential refused")(scope, receive, send)
            return
        refusal = await self.guard(request)
        if self.seal is not None:  # the guard read the body to check the seal: the route gets it too
            receive = replay_body(await request.body(), receive)
        status = 0
        answer = (
            send
            if self.seal is None
            else self._sealing(send, request.headers.get(REQUEST_SIGNATURE_HEADER, ""))
        )

        async def counting(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await answer(message)

        await (refusal or self.app)(scope, receive, counting)
        # the query and control API's calls; the change feeds (EXEMPT) are counted apart (a follower
        # polls the feed all the time, and the circuit tests count what the breaker lets through)
        self.stats["feed_requests" if path in EXEMPT else "requests"] += 1
        self.stats[f"status:{status}"] += 1
        self.stats[f"path:{path}"] += 1

    def _sealing(self, send: Send, request_signature: str) -> Send:
        """A ``send`` that holds the answer until its body is whole, then sends it with the
        registry's seal over status, the request's signature and body (refusals and faults too)."""
        assert self.seal is not None
        seal = self.seal
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def sealed(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            headers += seal.answer_headers(start["status"], request_signature, body)
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body, "more_body": False})

        return sealed
