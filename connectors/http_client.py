"""The HTTP client the connectors call registries with: httpx's API on aiohttp's transport.

httpx's own transport (httpcore) costs about fifteen times the CPU of aiohttp's per registry call
at 40 calls in flight (measured: 53 ms vs 3.5 ms of CPU per seven-agency fan-out). Adapters keep
httpx's API (``httpx.AsyncClient``, ``httpx.Response``, ``httpx.Timeout``) and see httpx's exception
classes, as with httpx's own transport:

- nothing accepted the connection (refused, unresolvable) -> ``httpx.ConnectError``;
- the connection was not made in time -> ``httpx.ConnectTimeout``;
- no byte of the reply (or of its body) came within the read timeout -> ``httpx.ReadTimeout``;
- the server closed the connection before answering, or cut the body short ->
  ``httpx.RemoteProtocolError``;
- the connection was reset -> ``httpx.ReadError``;
- any other failure of aiohttp's client -> ``httpx.TransportError``.

``httpx_aiohttp``'s own mapping reports a refused or closed connection as ``ConnectTimeout``,
which would tell the desk "registry timed out" for a registry that is down; this module maps by
the aiohttp exception's class instead.

A request that fails because the registry closed or reset the connection before answering is sent
once more at once (the closed connection is dropped from the pool): a pooled connection the
registry closed for idleness just as the request went out fails that way without the registry
being at fault, and after a quiet spell (a broker outage, a night) a burst would meet several of
them and open the agency's circuit. Registry calls are safe to repeat (queries read; a control is
idempotent by its order id).

Limits: ``max_connections`` bounds the connections
(aiohttp's ``limit``) and ``keepalive_expiry`` their idle life; aiohttp keeps every idle
connection up to ``max_connections`` (``max_keepalive_connections`` has no equivalent).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

__all__ = ["CLOSED_BEFORE_ANSWER", "RegistryTransport", "registry_client", "to_httpx_error"]

#: what a connection closed or reset by the registry before its answer raises: sent once more
CLOSED_BEFORE_ANSWER = (httpx.RemoteProtocolError, httpx.ReadError)


def to_httpx_error(exc: BaseException, request: httpx.Request | None) -> httpx.TransportError:
    """The httpx exception httpx's own transport raises for what ``exc`` (aiohttp's) reports."""
    cause = exc.__cause__ if isinstance(exc, httpx.TransportError) and exc.__cause__ else exc
    message = str(cause) or type(cause).__name__
    kind: type[httpx.TransportError]
    if isinstance(cause, aiohttp.ConnectionTimeoutError):
        kind = httpx.ConnectTimeout
    elif isinstance(cause, aiohttp.ServerTimeoutError | TimeoutError):
        kind = httpx.ReadTimeout
    elif isinstance(cause, aiohttp.ClientConnectorError):
        kind = httpx.ConnectError
    elif isinstance(cause, aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError):
        kind = httpx.RemoteProtocolError
    elif isinstance(cause, aiohttp.ClientOSError | OSError):
        kind = httpx.ReadError
    elif isinstance(exc, httpx.TransportError) and exc.__cause__ is None:
        return exc
    else:
        kind = httpx.TransportError
    err = kind(message, request=request)
    err.__cause__ = cause
    return err


class _MappedStream(httpx.AsyncByteStream):
    """The response body, with a failure while reading it mapped like the request's."""

    def __init__(self, stream: httpx.AsyncByteStream, request: httpx.Request) -> None:
        self._stream = stream
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._stream:
                yield chunk
        except (httpx.TransportError, aiohttp.ClientError, OSError) as e:
            raise to_httpx_error(e, self._request) from None

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        except (httpx.TransportError, aiohttp.ClientError, OSError) as e:
            raise to_httpx_error(e, self._request) from None


class RegistryTransport(AiohttpTransport):
    """``httpx_aiohttp.AiohttpTransport`` raising the exceptions httpx's own transport raises."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = await super().handle_async_request(request)
        except (httpx.TransportError, aiohttp.ClientError, OSError) as e:
            error = to_httpx_error(e, request)
            if not isinstance(error, CLOSED_BEFORE_ANSWER):
                raise error from None
            try:  # once more, on a new connection (the module's docstring says why)
                response = await super().handle_async_request(request)
            except (httpx.TransportError, aiohttp.ClientError, OSError) as again:
                raise to_httpx_error(again, request) from None
        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = _MappedStream(response.stream, request)
        return response


def registry_client(*, limits: httpx.Limits, timeout: httpx.Timeout) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` on ``RegistryTransport`` with httpx's ``limits`` and ``timeout``
    (seconds; connect, read and pool apply; aiohttp has no write timeout). Close it with
    ``aclose()`` or ``async with``; create it inside the event loop it will be used on."""
    return httpx.AsyncClient(transport=RegistryTransport(limits=limits), timeout=timeout)
