"""The gateway: the court-facing HTTP API (``/v1``), health, and the operations views."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from hub.clock import clock_from_settings
from hub.errors import ConfigError
from hub.lag_sampler import LagSampler
from hub.settings import HubSettings, get_settings

from . import guards, problems, responses
from .db import Database
from .findback import prepare_index
from .pipeline import OutboxRelay, ReadModel, WebhookDispatcher
from .reconciler import Reconciler
from .routes import assets as asset_routes
from .routes import audit as audit_routes
from .routes import batches, cases, control_orders, events, health, inquiries, listing, ops
from .routes import leads as leads_routes
from .routes import termination as termination_routes
from .routes import transfers as transfer_routes
from .routes import watch as watch_routes
from .supervision import DatabaseProbe, Supervised
from .watch import WatchHits, WatchRepublisher

__all__ = ["create_app"]


def create_app(settings: HubSettings | None = None) -> FastAPI:
    settings = settings or get_settings()
    if not settings.tokens_by_court:
        raise ConfigError("HUB_COURT_TOKENS is empty: give court_id:token pairs (hub up generates them)")

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.state_dir.mkdir(parents=True, exist_ok=True)
        db = Database(settings.resolved_database_url)
        await db.create_schema()
        db.webhooks = settings.webhooks_by_court  # the feed pushes inquiry_settled and lifecycle events
        app.state.id_index_key = await prepare_index(db)  # GET /v1/cases?id_number=
        relay, read_model = OutboxRelay(db, settings), ReadModel(db, settings)
        app.state.db, app.state.relay, app.state.read_model = db, relay, read_model
        await relay.start()
        await read_model.start()
        watch_hits = WatchHits(db, settings, wake=read_model.events_stored)
        await watch_hits.start()
        app.state.watch_hits = watch_hits
        webhooks = WebhookDispatcher(db, settings, read_model.events_stored)
        app.state.webhooks = webhooks
        loops = [
            Supervised("outbox relay", relay.run),
            Supervised("read model", read_model.run, recover=read_model.rewind),
            Supervised("webhooks", webhooks.run),
            Supervised("reconciler", Reconciler(db, relay, settings).run),
            Supervised("re-query", termination_routes.requery_loop(app).run),  # after 终本
            Supervised("leads and payouts", leads_routes.follow_up_loop(app).run),  # and reminders
            Supervised("transfer deadlines", transfer_routes.transfer_loop(app).run),  # first seizure
            # the new-asset watch: matches into new_asset events; active watches kept on their topic
            Supervised("watch hits", watch_hits.run, recover=watch_hits.rewind),
            Supervised("watch republisher", WatchRepublisher(db, settings, relay.wake).run),
        ]
        app.state.db_probe = DatabaseProbe(db.write_probe)
        loops.append(Supervised("database probe", app.state.db_probe.run))
        app.state.loops = loops
        for loop in loops:
            loop.start()
        lag_sampler = LagSampler.from_settings(settings)
        app.state.lag_sampler = lag_sampler
        lag_sampler.start()
        try:
            yield
        finally:
            await asyncio.to_thread(lag_sampler.stop)
            for loop in loops:
                await loop.stop()
            await watch_hits.stop()
            await read_model.stop()
            await relay.stop()
            await db.close()

    # /docs (Swagger UI) and /redoc with their scripts and styles served by the gateway itself
    # (fastapi-offline), not from a CDN: court networks are usually isolated
    app = FastAPIOffline(
        title="Enforcement data-linkage hub",
        version="1",
        description="Courts register enforcement cases, inquire about debtors' assets across agencies, "
        "and read linked results.",
        lifespan=lifespan,
        generate_unique_id_function=responses.operation_id,  # create_case, get_inquiry, ...
    )
    app.state.settings = settings
    app.state.clock = clock_from_settings(settings)  # the hub's clock (time-dependent rules)
    guards.install(app, settings.max_request_bytes)
    problems.install(app)  # every 4xx and 5xx as RFC 9457 problem details, in the client's language
    responses.install(app)  # the OpenAPI document declares them as application/problem+json
    app.include_router(health.router)
    app.include_router(cases.router)
    app.include_router(inquiries.router)
    app.include_router(control_orders.router)
    app.include_router(ops.router)
    app.include_router(listing.router)  # GET /v1/cases, /v1/cases/{id}/inquiries|control-orders
    app.include_router(events.router)  # GET /v1/events, /v1/cases/{id}/events
    app.include_router(batches.router)  # /v1/inquiry-batches
    app.include_router(audit_routes.router)
    app.include_router(asset_routes.router)  # the case's assets and the judges' confirmations
    app.include_router(termination_routes.router)  # 终本: termination check, termination, resumption
    app.include_router(leads_routes.router)  # leads (财产线索), payouts and the fund ledger
    app.include_router(transfer_routes.router)  # first seizure: disposal, transfer requests
    app.include_router(watch_routes.router)  # the new-asset watch: /v1/cases/{id}/watch, /v1/ops/watch
    return app
