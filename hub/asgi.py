"""ASGI helpers shared by the hub's web servers and the mocked registries."""

from __future__ import annotations

from starlette.types import Message, Receive

__all__ = ["replay_body"]


def replay_body(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the app a request body already read by a middleware, whole, then
    passes on what the client sends next (a disconnect)."""
    given = False

    async def receive_again() -> Message:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return receive_again
