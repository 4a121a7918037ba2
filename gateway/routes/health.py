"""``/healthz``: 200 only while every component of the hub works; the body says which does not.

Components (each ``"ok"`` or a sentence saying what is wrong):

- ``database``: the gateway's database probe committed a write within the last few seconds (a
  locked or unreachable database stops results from being stored, so a read alone would not tell;
  the probe runs in the background, so ``/healthz`` never waits on the database itself);
- ``kafka_producer``: the outbox relay's producer started;
- ``broker``: the lag sampler read the consumer offsets from the broker within the last
  ``max(3 × HUB_LAG_SAMPLE_SECONDS, 10)`` seconds;
- ``read_model``: partitions assigned to the results consumer;
- ``loops``: every supervised background loop (outbox relay, read model, webhooks) runs and has
  not failed within its grace period, and the lag sampler's thread is alive;
- ``streams`` / ``connectors``: every stream worker's and connector process's ``/healthz``;
- ``services``: under ``hub up``, no service is restarting or crash-looping (from the
  supervisor's ``services.json``; absent in deployments without that supervisor).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from hub.watchdog import read_status
from schemas.views_records import Health

router = APIRouter(tags=["health"])


async def _probe(client: httpx.AsyncClient, url: str) -> str:
    try:
        r = await client.get(url)
    except httpx.HTTPError as e:
        return f"unreachable ({type(e).__name__})"
    return "ok" if r.status_code == 200 else f"not ready (HTTP {r.status_code})"


async def _probe_all(client: httpx.AsyncClient, urls: list[str]) -> str:
    answers = await asyncio.gather(*(_probe(client, f"{u}/healthz") for u in urls))
    bad = [f"{u}: {a}" for u, a in zip(urls, answers, strict=True) if a != "ok"]
    return "ok" if not bad else "; ".join(bad)


def _database(state: Any) -> str:
    return str(state.db_probe.status())


def _broker(state: Any) -> str:
    sampler = state.lag_sampler
    limit = max(3 * sampler.interval, 10.0)
    if sampler.last_error:
        return f"unreachable ({sampler.last_error[:120]})"
    if sampler.last_sample_at is None:
        return "no offsets read yet"
    age = time.time() - sampler.last_sample_at
    return "ok" if age <= limit else f"no offsets read for {age:.0f} s"


def _loops(state: Any) -> str:
    bad = [f"{loop.name} {loop.state} ({loop.last_error})" for loop in state.loops if not loop.healthy]
    if not state.lag_sampler.alive:
        bad.append("lag sampler thread dead")
    return "ok" if not bad else "; ".join(bad)


def _services(state: Any) -> str | None:
    status = read_status(state.settings.state_dir / "services.json")
    if status is None:
        return None
    bad = [
        f"{name} {s['state']}"
        for name, s in status.get("services", {}).items()
        if s.get("state") in ("restarting", "crash_looping")
    ]
    return "ok" if not bad else "; ".join(bad)


@router.get(
    "/healthz",
    summary="Hub health (no token needed)",
    response_model=Health,
    responses={503: {"model": Health, "description": "A component is not working: the body says which"}},
)
async def healthz(request: Request) -> JSONResponse:
    state = request.app.state
    settings = state.settings
    components: dict[str, Any] = {"database": _database(state)}
    components["kafka_producer"] = "ok" if state.relay.started else "starting"
    components["broker"] = _broker(state)
    components["read_model"] = "ok" if state.read_model.assigned else "waiting for partitions"
    components["loops"] = _loops(state)
    async with httpx.AsyncClient(timeout=2.0) as client:
        streams, connectors = await asyncio.gather(
            _probe_all(client, settings.streams_urls), _probe_all(client, settings.connectors_urls)
        )
    components["streams"] = streams
    components["connectors"] = connectors
    services = _services(state)
    if services is not None:
        components["services"] = services
    ok = all(v == "ok" for v in components.values())
    body = {
        "status": "ok" if ok else "degraded",
        "components": components,
        "loops": {loop.name: loop.health() for loop in state.loops},
    }
    return JSONResponse(body, status_code=200 if ok else 503)
