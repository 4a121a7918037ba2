"""The connectors service: one runner per agency in one process, sharing an HTTP client and a
producer, with ``/healthz`` and ``/stats`` for the hub's health check and the operations desk."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import httpx
import uvicorn
from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from hub.kafka import make_producer
from hub.settings import HubSettings

from .controls import ControlRunner
from .runtime import METRICS_REGISTRY, ConnectorRunner, circuit_for
from .signed_transport import sealed_registry_client
from .watch import CursorStore, FeedFollower

__all__ = ["run_connectors"]

log = logging.getLogger(__name__)


def _health_app(runners: list[ConnectorRunner], followers: list[FeedFollower] | None = None) -> FastAPI:
    app = FastAPI(title="hub connectors", docs_url=None, redoc_url=None)

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        waiting = [r.agency for r in runners if not r.assigned.is_set()]
        ok = not waiting
        # a failing change feed is its registry's trouble (retried with backoff), not the connectors'
        failing = [f.agency for f in followers or [] if f.failing]
        body = {"ok": ok, "waiting_for_partitions": waiting, "change_feeds_failing": failing}
        return JSONResponse(body, status_code=200 if ok else 503)

    @app.get("/stats")
    async def stats() -> dict[str, dict[str, object]]:
        """Per agency: the inquiry counters, with the control-order counters under ``controls``."""
        out: dict[str, dict[str, object]] = {}
        for r in runners:
            entry = out.setdefault(r.agency, {})
            if isinstance(r, ControlRunner):
                entry["controls"] = r.snapshot()
            else:
                entry.update(r.snapshot())
        return out

    @app.get("/watch")
    async def watch_feeds() -> dict[str, dict[str, object]]:
        """Per agency: its change feed's follower (``leading``, ``cursor``, ``published``,
        ``dead_lettered``, ``errors``, ``last_error``)."""
        return {f.agency: f.snapshot() for f in followers or []}

    @app.get("/in-flight")
    async def in_flight() -> dict[str, list[dict[str, object]]]:
        """Per consumer group: the oldest message in flight on each partition that has one
        (``topic``, ``partition``, ``offset``, ``age_seconds``); the lag sampler reads this."""
        return {r.group_id: r.in_flight_report() for r in runners}

    @app.get("/metrics")
    async def metrics() -> Response:
        """Prometheus text: request outcomes, retries, dead letters, latency histogram, in flight."""
        return Response(generate_latest(METRICS_REGISTRY), media_type=CONTENT_TYPE_LATEST)

    return app


async def run_connectors(settings: HubSettings, agencies: list[str] | None = None) -> None:
    from .registry_adapters import build_adapter

    agencies = agencies or settings.agencies
    limits = httpx.Limits(
        max_connections=settings.connector_concurrency * len(agencies),
        max_keepalive_connections=settings.connector_concurrency,
        keepalive_expiry=settings.connector_keepalive_seconds,
    )
    timeout = httpx.Timeout(settings.connector_timeout_seconds)
    producer = make_producer(settings)
    await producer.start()
    # every call sealed and every answer verified when the hub has signing keys (hub/signing.py)
    sealed = sealed_registry_client(settings, settings.agencies, limits=limits, timeout=timeout)
    async with sealed as client:
        # one breaker per agency, shared by its inquiry and control runners (same registry)
        circuits = {a: circuit_for(a, settings) for a in agencies}
        runners = [
            ConnectorRunner(
                build_adapter(a, settings), settings, producer=producer, client=client, circuit=circuits[a]
            )
            for a in agencies
        ]
        runners += [
            ControlRunner(
                build_adapter(a, settings), settings, producer=producer, client=client, circuit=circuits[a]
            )
            for a in agencies
        ]
        # the live new-asset watch: every registry's change feed into hub.watch.changes
        cursors = CursorStore(settings.state_dir / "connectors" / "feeds.db")
        followers = [
            FeedFollower(
                build_adapter(a, settings), settings, producer=producer, client=client, cursors=cursors
            )
            for a in agencies
        ]
        server = uvicorn.Server(
            uvicorn.Config(
                _health_app(runners, followers),
                host=settings.service_host,
                port=settings.connectors_port,
                log_level="warning",
                log_config=None,  # tracebacks through the hub's masking handler, not uvicorn's own
            )
        )
        tasks = [asyncio.create_task(r.run(), name=f"connector-{r.group_id}") for r in runners]
        tasks += [asyncio.create_task(f.run(), name=f"change-feed-{f.agency}") for f in followers]
        tasks.append(asyncio.create_task(server.serve(), name="connectors-http"))
        log.info("connectors for %s started", ", ".join(agencies))
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for t in done:
                t.result()
        finally:
            server.should_exit = True
            for t in tasks:
                t.cancel()
            with contextlib.suppress(BaseException):
                await asyncio.gather(*tasks, return_exceptions=True)
            await producer.stop()
