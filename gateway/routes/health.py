"""``/healthz``: 200 once every component of the hub is up; the body says which is not."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

router = APIRouter(tags=["health"])


async def _probe(client: httpx.AsyncClient, url: str) -> str:
    try:
        r = await client.get(url)
    except httpx.HTTPError as e:
        return f"unreachable ({type(e).__name__})"
    return "ok" if r.status_code == 200 else f"not ready (HTTP {r.status_code})"


@router.get("/healthz", summary="Hub health (no token needed)")
async def healthz(request: Request) -> JSONResponse:
    state = request.app.state
    components: dict[str, Any] = {}
    try:
        await state.db.ping()
        components["database"] = "ok"
    except Exception as e:  # any driver error means the database is not usable
        components["database"] = f"error ({type(e).__name__})"
    components["kafka_producer"] = "ok" if state.relay.started else "starting"
    components["read_model"] = "ok" if state.read_model.assigned else "waiting for partitions"
    settings = state.settings
    async with httpx.AsyncClient(timeout=2.0) as client:
        streams, connectors = await asyncio.gather(
            _probe(client, f"{settings.resolved_streams_url}/healthz"),
            _probe(client, f"{settings.resolved_connectors_url}/healthz"),
        )
    components["streams"] = streams
    components["connectors"] = connectors
    ok = all(v == "ok" for v in components.values())
    return JSONResponse(
        {"status": "ok" if ok else "starting", "components": components}, status_code=200 if ok else 503
    )
