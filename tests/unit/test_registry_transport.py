"""The connectors' HTTP client (httpx's API on aiohttp's transport) against real local TCP servers
that answer, stay silent, close, reset or cut a body short: it raises the same kind of httpx
exception as httpx's own transport, so retries, circuit and reasons (``connectors.retry``,
``ConnectorRunner._reason``) treat a failure the same way whichever transport runs."""

from __future__ import annotations

import asyncio
import json
import socket
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpx
import pytest

from connectors.http_client import registry_client
from connectors.retry import is_transient
from connectors.runtime import ConnectorRunner

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    body = await reader.readexactly(length) if length else b""
    return body


async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while True:
        try:
            body = await _read_request(reader)
        except (asyncio.IncompleteReadError, ConnectionError):
            break
        payload = json.dumps({"echo": body.decode(), "n": 1}).encode()
        writer.write(
            b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nX-Registry: test\r\n"
            b"Content-Length: " + str(len(payload)).encode() + b"\r\n\r\n" + payload
        )
        await writer.drain()
    writer.close()


async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await _read_request(reader)
    await asyncio.sleep(30)


async def close_without_reply(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await _read_request(reader)
    writer.close()


async def reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await _read_request(reader)
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close sends RST
    writer.transport.abort()


async def cut_body(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await _read_request(reader)
    writer.write(b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":')
    await writer.drain()
    writer.close()


async def slow_body(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await _read_request(reader)
    writer.write(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"a":')
    await writer.drain()
    await asyncio.sleep(30)


@asynccontextmanager
async def server(handler: Handler) -> AsyncIterator[str]:
    tasks: set[asyncio.Task[None]] = set()

    async def run(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        tasks.add(task)
        try:
            await handler(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            tasks.discard(task)
            writer.close()

    srv = await asyncio.start_server(run, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        for t in list(tasks):
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        srv.close()
        await srv.wait_closed()


def _clients() -> dict[str, httpx.AsyncClient]:
    limits = httpx.Limits(max_connections=10, max_keepalive_connections=5)
    timeout = httpx.Timeout(0.5)
    return {
        "httpx": httpx.AsyncClient(limits=limits, timeout=timeout),
        "aiohttp": registry_client(limits=limits, timeout=timeout),
    }


def kind(e: BaseException) -> str:
    """What the runtime distinguishes: a timeout, an unreachable registry, another transport error."""
    if isinstance(e, httpx.TimeoutException):
        return "timeout"
    if isinstance(e, httpx.ConnectError):
        return "connect"
    if isinstance(e, httpx.TransportError):
        return "transport"
    return f"not an httpx transport error: {type(e).__module__}.{type(e).__name__}"


async def _failure(client: httpx.AsyncClient, url: str) -> BaseException:
    with pytest.raises(Exception) as info:
        await client.post(f"{url}/v1/query", json={"id": "x"})
    return info.value


@pytest.mark.parametrize(
    ("handler", "expected"),
    [
        (silent, "timeout"),
        (slow_body, "timeout"),
        (close_without_reply, "transport"),
        (reset, "transport"),
        (cut_body, "transport"),
    ],
    ids=["silent", "slow-body", "closed", "reset", "cut-body"],
)
def test_failures_raise_the_same_httpx_errors_as_httpx_transport(handler: Handler, expected: str) -> None:
    async def main() -> dict[str, BaseException]:
        out = {}
        async with server(handler) as url:
            for name, client in _clients().items():
                async with client:
                    out[name] = await _failure(client, url)
        return out

    errors = asyncio.run(main())
    assert {name: kind(e) for name, e in errors.items()} == {"httpx": expected, "aiohttp": expected}
    for e in errors.values():
        assert is_transient(e)
        assert isinstance(e, httpx.TransportError) and e.request.url.path == "/v1/query"
    reason = ConnectorRunner._reason(errors["aiohttp"], 1)
    assert reason == ConnectorRunner._reason(errors["httpx"], 1)
    if handler is close_without_reply:  # the most common failure of a restarting registry
        assert isinstance(errors["aiohttp"], httpx.RemoteProtocolError)


def test_refused_connection_is_a_connect_error() -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    async def main() -> dict[str, BaseException]:
        out = {}
        for name, client in _clients().items():
            async with client:
                out[name] = await _failure(client, f"http://127.0.0.1:{port}")
        return out

    errors = asyncio.run(main())
    assert {n: kind(e) for n, e in errors.items()} == {"httpx": "connect", "aiohttp": "connect"}
    reason = ConnectorRunner._reason(errors["aiohttp"], 2)
    assert reason == "registry unreachable (ConnectError) after 2 attempts"


def test_answers_keep_httpx_api_and_reuse_the_connection() -> None:
    connections = 0

    async def counting(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await answer(reader, writer)

    async def main() -> list[httpx.Response]:
        async with server(counting) as url, _clients()["aiohttp"] as client:
            return [
                await client.post(f"{url}/v1/query", json={"id": "身份证"}, headers={"X-Key": "k"})
                for _ in range(3)
            ]

    responses = asyncio.run(main())
    for r in responses:
        assert r.status_code == 201 and r.reason_phrase == "Created"
        assert r.headers["x-registry"] == "test" and r.headers["content-type"] == "application/json"
        assert json.loads(r.json()["echo"]) == {"id": "身份证"}
    assert connections == 1  # keep-alive: one connection for sequential calls


def test_connection_limit_bounds_connections() -> None:
    peak = 0
    open_now = 0

    async def slow_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal peak, open_now
        open_now += 1
        peak = max(peak, open_now)
        try:
            await _read_request(reader)
            await asyncio.sleep(0.05)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
            await writer.drain()
            writer.close()
        finally:
            open_now -= 1

    async def main() -> list[int]:
        limits = httpx.Limits(max_connections=3)
        async with (
            server(slow_answer) as url,
            registry_client(limits=limits, timeout=httpx.Timeout(10)) as client,
        ):
            rs = await asyncio.gather(*(client.get(f"{url}/x") for _ in range(12)))
            return [r.status_code for r in rs]

    assert asyncio.run(main()) == [200] * 12
    assert 1 <= peak <= 3


def test_a_connection_the_registry_closed_for_idleness_is_not_a_failure() -> None:
    """A registry that answers once per connection and closes it when the next request arrives (its
    idle timeout firing as the request goes out): every call still gets its answer, each repeated
    once on a new connection, so a burst after a quiet spell does not open the agency's circuit."""
    connections = 0

    async def one_answer_per_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await _read_request(reader)
        payload = b'{"n": 1}'
        head = b"HTTP/1.1 200 OK\r\nContent-Length: " + str(len(payload)).encode() + b"\r\n\r\n"
        writer.write(head + payload)
        await writer.drain()
        await _read_request(reader)  # the next request on the kept-alive connection: closed unanswered
        writer.close()

    async def main() -> list[int]:
        async with server(one_answer_per_connection) as url, _clients()["aiohttp"] as client:
            return [(await client.post(f"{url}/v1/query", json={"id": "x"})).status_code for _ in range(5)]

    assert asyncio.run(main()) == [200] * 5
    assert connections == 5


def test_the_connectors_keep_idle_registry_connections_shorter_than_registries_do() -> None:
    from hub.settings import HubSettings

    assert HubSettings().connector_keepalive_seconds < 5  # uvicorn's and Apache's idle timeout
