"""The operations desk: consumer lag, agency health and dead letters, as JSON, Prometheus text and a page.

- ``GET /v1/ops/lag`` (ops token): the lag sampler's evaluation (``hub.lag``), per group and partition.
- ``GET /v1/ops/agencies`` (ops token): the connectors' ``/stats`` per agency plus the dead letters
  the gateway has recorded, so an agency whose circuit is open or whose requests die is visible.
- ``GET /metrics`` (no token, like any Prometheus target): lag, lag seconds and statuses as gauges,
  dead letters as a counter, and the connectors' own metrics appended (fetched from their /metrics),
  so one scrape of the gateway covers the desk.
- ``GET /ops``: the desk's page (``gateway/static/ops.html``, self-contained: no asset from outside),
  in English or Chinese (``Accept-Language``), times in RFC 3339 at Asia/Shanghai (+08:00).
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from hub.i18n import negotiate, translations
from hub.lag import STATUS_CODES, Status
from hub.lag_sampler import LagSampler
from hub.settings import HubSettings
from schemas.topics import agency_controls_topic, agency_requests_topic
from schemas.views_records import OpsAgencies, OpsLag

from ..deps import Db, OpsRole, Settings
from ..responses import errors
from ..watch import watch_metrics

__all__ = ["router"]

router = APIRouter(tags=["operations desk"])
STATIC = Path(__file__).resolve().parent.parent / "static"
_HTTP_TIMEOUT = 2.0


def _sampler(request: Request) -> LagSampler:
    sampler: LagSampler | None = getattr(request.app.state, "lag_sampler", None)
    if sampler is None:
        raise HTTPException(503, "lag sampler not running")
    return sampler


def _topic_agencies(settings: HubSettings) -> dict[str, str]:
    """Source topic → agency, so dead letters recorded per topic can be shown per agency."""
    out: dict[str, str] = {}
    for agency in settings.agencies:
        out[agency_requests_topic(agency)] = agency
        out[agency_controls_topic(agency)] = agency
    return out


async def _connectors(settings: HubSettings, path: str) -> tuple[httpx.Response | None, str]:
    try:
        async with httpx.AsyncClient(timeout=_HTTP_TIMEOUT) as client:
            r = await client.get(f"{settings.resolved_connectors_url}{path}")
    except httpx.HTTPError as e:
        return None, f"unreachable ({type(e).__name__})"
    if r.status_code != 200:
        return None, f"HTTP {r.status_code}"
    return r, "ok"


@router.get(
    "/v1/ops/lag",
    summary="Consumer lag, lag in seconds and status per group and partition",
    response_model=OpsLag,
    responses=errors(401, 503),
)
async def ops_lag(request: Request, _: OpsRole) -> dict[str, Any]:
    return _sampler(request).snapshot()


@router.get(
    "/v1/ops/agencies",
    summary="Agency health from the connectors, with dead-letter counts",
    response_model=OpsAgencies,
    responses=errors(401),
)
async def ops_agencies(settings: Settings, db: Db, _: OpsRole) -> dict[str, Any]:
    (resp, connectors), dead = await asyncio.gather(_connectors(settings, "/stats"), db.dead_letter_counts())
    stats: dict[str, Any] = resp.json() if resp is not None else {}
    by_topic = _topic_agencies(settings)
    recorded: dict[str, int] = {}
    for row in dead:
        agency = by_topic.get(row["source_topic"])
        if agency is not None:
            recorded[agency] = recorded.get(agency, 0) + int(row["count"])
    agencies: dict[str, Any] = {}
    for agency in settings.agencies:
        entry = dict(stats.get(agency) or {})
        entry["reachable"] = agency in stats
        entry["dead_letters_recorded"] = recorded.get(agency, 0)
        agencies[agency] = entry
    return {
        "connectors": connectors,
        "agencies": agencies,
        "dead_letters": dead,
        "dead_letters_total": sum(int(r["count"]) for r in dead),
    }


class _Families:
    """A one-shot collector: the families built for this scrape."""

    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterator[Metric]:
        yield from self.families


def _lag_families(snapshot: dict[str, Any]) -> list[Metric]:
    plabels = ["group", "topic", "partition"]
    lag = GaugeMetricFamily("hub_consumer_lag_messages", "Messages behind the end offset", labels=plabels)
    secs = GaugeMetricFamily(
        "hub_consumer_lag_seconds", "Estimated age of the oldest unconsumed message", labels=plabels
    )
    pstatus = GaugeMetricFamily(
        "hub_consumer_partition_status",
        "1 for the partition's current status (one-hot)",
        labels=[*plabels, "status"],
    )
    glag = GaugeMetricFamily(
        "hub_consumer_group_lag_messages", "Messages behind, summed over partitions", labels=["group"]
    )
    gsecs = GaugeMetricFamily(
        "hub_consumer_group_lag_seconds", "Largest partition lag in seconds", labels=["group"]
    )
    gstatus = GaugeMetricFamily(
        "hub_consumer_group_status", "1 for the group's current status (one-hot)", labels=["group", "status"]
    )
    gcode = GaugeMetricFamily(
        "hub_consumer_group_status_code",
        "Group status as a number: " + ", ".join(f"{c}={s.value}" for s, c in STATUS_CODES.items()),
        labels=["group"],
    )
    for g in snapshot["groups"]:
        group = g["group"]
        glag.add_metric([group], g["lag"])
        gsecs.add_metric([group], g["lag_seconds"])
        gcode.add_metric([group], STATUS_CODES[Status(g["status"])])
        for s in Status:
            gstatus.add_metric([group, s.value], 1.0 if g["status"] == s.value else 0.0)
        for p in g["partitions"]:
            labels = [group, p["topic"], str(p["partition"])]
            if p["lag"] is not None:
                lag.add_metric(labels, p["lag"])
            if p["lag_seconds"] is not None:
                secs.add_metric(labels, p["lag_seconds"])
            for s in Status:
                pstatus.add_metric([*labels, s.value], 1.0 if p["status"] == s.value else 0.0)
    samples = CounterMetricFamily("hub_lag_samples", "Lag sampling rounds completed")
    samples.add_metric([], snapshot["samples"])
    return [lag, secs, pstatus, glag, gsecs, gstatus, gcode, samples]


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request, settings: Settings, db: Db) -> Response:
    """Prometheus text of the whole desk; the connectors' families are appended as they serve them."""
    snapshot = _sampler(request).snapshot()
    (resp, _status), dead = await asyncio.gather(_connectors(settings, "/metrics"), db.dead_letter_counts())
    dl = CounterMetricFamily(
        "hub_dead_letters", "Dead letters recorded by the gateway", labels=["source_topic", "stage"]
    )
    for row in dead:
        dl.add_metric([row["source_topic"], row["stage"]], int(row["count"]))
    up = GaugeMetricFamily("hub_connectors_metrics_up", "1 if the connectors' /metrics answered")
    up.add_metric([], 1.0 if resp is not None else 0.0)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Families([*_lag_families(snapshot), dl, up, *await watch_metrics(db)]))
    body = generate_latest(registry)
    if resp is not None:
        body += resp.content if resp.content.endswith(b"\n") else resp.content + b"\n"
    return Response(body, media_type=CONTENT_TYPE_LATEST)


@router.get("/ops", include_in_schema=False)
async def ops_page(
    request: Request,
    lang: Annotated[str | None, Query(max_length=35, description="en or zh-CN; else Accept-Language")] = None,
) -> HTMLResponse:
    """The desk's page in the reader's language (``?lang=``, else ``Accept-Language``: ``en`` or
    ``zh-CN``): ``<html lang>`` set and the ``ops`` catalogue of ``hub.i18n`` embedded for the page's
    script, which translates every label and shows every time as RFC 3339 in Asia/Shanghai. It asks
    for the ops token itself and keeps it in the browser's localStorage."""
    locale = negotiate(lang or request.headers.get("accept-language"))
    page = _page_template().replace('<html lang="en">', f'<html lang="{locale}">', 1)
    catalogue = json.dumps(translations("ops", locale), ensure_ascii=False).replace("</", "<\\/")
    page = page.replace("<!--i18n-->", f'<script id="i18n" type="application/json">{catalogue}</script>', 1)
    headers = {"Content-Language": locale, "Vary": "Accept-Language"}
    return HTMLResponse(page, headers=headers)


@functools.cache
def _page_template() -> str:
    return (STATIC / "ops.html").read_text(encoding="utf-8")
