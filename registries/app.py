"""The FastAPI app of one mocked registry: its API, plus health, fault knobs, admin and stats.

Faults exist so the hub's connectors can be tested against what real agencies do:

- latency drawn per request from ``HUB_REGISTRY_LATENCY_MS`` (``fixed:MS``, ``uniform:LO:HI``,
  ``lognormal:MEDIAN:SIGMA``);
- with probability ``HUB_REGISTRY_ERROR_RATE`` a request gets a random fault: 503, 429 with a
  small ``Retry-After``, or an answer slower than the connector's timeout;
- an agency listed in ``HUB_REGISTRY_OUTAGE`` answers 503 to everything but ``/healthz``.

``POST /_admin/faults`` changes them at run time (tests lift an outage without a restart) and
``GET /_admin/stats`` counts requests and ``GET /_admin/requests`` shows who asked (see
``registries.requester``: a query or control request without its requester headers gets 403);
all need the registry's own credential. ``/healthz`` needs nothing and never fails, so a
supervisor can tell "up but faulty" from "down".
"""

from __future__ import annotations

import asyncio
import importlib
import math
import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException

from hub.clock import clock_from_settings
from hub.errors import ConfigError
from hub.settings import HubSettings
from schemas.agencies import AgencyType, agency_slug, agency_type, class_stem

from .api import BadRequest, RegistryApi
from .changes import ChangeLog, changes_router, plant
from .gate import RegistryGate
from .requester import EXEMPT, RequesterError, Requesters, requester_of
from .signing import RegistrySeal
from .store import RegistryData

__all__ = ["Latency", "create_app", "register_path", "registry_api"]


def registry_api(kind: AgencyType) -> type[RegistryApi]:
    """The API class of an agency type: ``<Type>Api`` in ``registries/<type>.py`` (the one place
    an agency's API shape lives; see ``schemas.agencies``)."""
    module = importlib.import_module(f"{__package__}.{kind}")
    api = getattr(module, f"{class_stem(kind)}Api", None)
    if not (isinstance(api, type) and issubclass(api, RegistryApi)):
        raise TypeError(f"registries.{kind} defines no {class_stem(kind)}Api (a RegistryApi)")
    return api


FaultKind = Literal["unavailable", "throttled", "slow"]
_ALL_FAULTS: tuple[FaultKind, ...] = ("unavailable", "throttled", "slow")


@dataclass(frozen=True)
class Latency:
    """A latency distribution in milliseconds, parsed from its settings spelling."""

    spec: str
    kind: str
    a: float
    b: float = 0.0

    @classmethod
    def parse(cls, spec: str) -> Latency:
        kind, *args = spec.strip().split(":")
        shapes = {"fixed": 1, "uniform": 2, "lognormal": 2}
        try:
            values = [float(x) for x in args]
        except ValueError:
            values = []
        if (
            kind not in shapes
            or len(values) != shapes[kind]
            or any(v < 0 or not math.isfinite(v) for v in values)
        ):
            raise ConfigError(f"latency {spec!r}: expected fixed:MS, uniform:LO:HI or lognormal:MEDIAN:SIGMA")
        if kind == "uniform" and values[0] > values[1]:
            raise ConfigError(f"latency {spec!r}: LO must not exceed HI")
        return cls(spec, kind, *values)

    def seconds(self, rng: random.Random) -> float:
        if self.kind == "fixed":
            ms = self.a
        elif self.kind == "uniform":
            ms = rng.uniform(self.a, self.b)
        else:
            ms = rng.lognormvariate(math.log(self.a), self.b) if self.a > 0 else 0.0
        return ms / 1000


@dataclass
class _Faults:
    outage: bool
    error_rate: float
    latency: Latency
    kinds: tuple[FaultKind, ...]
    slow_seconds: float

    def public(self) -> dict[str, Any]:
        return {
            "outage": self.outage,
            "error_rate": self.error_rate,
            "latency_ms": self.latency.spec,
            "error_kinds": list(self.kinds),
            "slow_seconds": self.slow_seconds,
        }


class FaultUpdate(BaseModel):
    """Body of ``POST /_admin/faults``; omitted fields keep their value."""

    model_config = ConfigDict(extra="forbid")
    outage: bool | None = None
    error_rate: float | None = Field(None, ge=0, le=1)
    latency_ms: str | None = None
    error_kinds: list[FaultKind] | None = Field(None, min_length=1)
    slow_seconds: float | None = Field(None, ge=0)
    bad_signature: bool | None = Field(None, description="sign answers with a broken signature")


def register_path(settings: HubSettings, agency: str) -> Path:
    """Where a registry started by the hub keeps its register: ``<state dir>/registries/<agency>.db``."""
    return settings.state_dir / "registries" / f"{agency_slug(agency)}.db"


def create_app(
    agency: str, data: RegistryData, settings: HubSettings, register_file: Path | None = None
) -> FastAPI:
    """The registry of ``agency`` over what ``data`` holds for it, with the faults ``settings`` set.

    ``register_file``: the SQLite file its control register persists in (``None``: memory only).
    """
    api_class = registry_api(agency_type(agency))
    api = api_class(
        agency,
        data.store(agency, register_file, api_class.control_prefix(agency)),
        settings.registry_credential(agency),
        clock_from_settings(settings),
    )
    faults = _Faults(
        outage=agency in settings.outage_agencies,
        error_rate=settings.registry_error_rate,
        latency=Latency.parse(settings.registry_latency_ms),
        kinds=_ALL_FAULTS,
        # long enough that the connector's own timeout fires first
        slow_seconds=settings.connector_timeout_seconds + 1.0,
    )
    rng = random.Random(f"{settings.registry_seed}:{agency}")
    stats: Counter[str] = Counter()
    requesters = Requesters()
    # the electronic seal (registries/signing.py): on when the registry has a keys root
    seal = RegistrySeal(agency, settings.signing_keys_dir) if settings.signing_keys_dir else None
    app = FastAPI(title=f"mock registry {agency}", docs_url=None, redoc_url=None, openapi_url=None)
    app.include_router(api.router())
    # the change feed (registries.changes) and POST /_admin/records; planted lines kept beside the register
    changes = ChangeLog(register_file.with_suffix(".changes.db") if register_file else None)
    threshold = settings.registry_credit_threshold
    for line in changes.lines:  # records planted before a restart, in order
        plant(api, None, line, threshold)
    app.include_router(changes_router(api, changes, threshold))

    @app.exception_handler(BadRequest)
    async def _bad_request(request: Request, exc: BadRequest) -> Response:
        return api.error(exc.status, exc.message)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(x) for x in first.get("loc", ()))
        return api.error(400, f"invalid request: {where}: {first.get('msg', 'invalid')}")

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        return api.error(exc.status_code, str(exc.detail), dict(exc.headers or {}))

    async def guarded(request: Request) -> Response | None:
        """Before the route (``registries.gate``): None lets the call through, else its answer."""
        await asyncio.sleep(faults.latency.seconds(rng))
        if faults.outage:
            return api.error(503, f"{agency} registry is unavailable (outage)")
        if not api.authenticated(request):
            return api.error(401, "credential refused")
        requester = None
        if request.url.path not in EXEMPT:  # who asks, for which court and case, on what basis
            try:
                requester = requester_of(request)
            except RequesterError as e:
                requesters.add(request.method, 403, None, str(e))
                return api.error(403, str(e))
        # the hub's electronic seal over the request, requester headers included (registries/signing.py)
        if seal is not None and (refusal := await seal.check(request)) is not None:
            return api.error(401, refusal)
        if requester is not None:
            requesters.add(request.method, 200, requester, None)
        if faults.error_rate and rng.random() < faults.error_rate:
            fault = rng.choice(faults.kinds)
            if fault == "unavailable":
                return api.error(503, "temporarily unavailable", {"Retry-After": str(rng.randint(0, 2))})
            if fault == "throttled":
                return api.error(429, "too many requests", {"Retry-After": str(rng.randint(0, 2))})
            await asyncio.sleep(faults.slow_seconds)
        return None

    # plain ASGI (registries/gate.py): the guard before every API call, the seal and stats after it
    app.add_middleware(RegistryGate, api=api, guard=guarded, seal=seal, stats=stats)

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        return {"status": "ok", "agency": agency, "records": len(api.store)}

    @app.post("/_admin/faults")
    async def set_faults(update: FaultUpdate) -> dict[str, Any]:
        if update.outage is not None:
            faults.outage = update.outage
        if update.error_rate is not None:
            faults.error_rate = update.error_rate
        if update.latency_ms is not None:
            try:
                faults.latency = Latency.parse(update.latency_ms)
            except ConfigError as e:
                raise BadRequest(str(e)) from None
        if update.error_kinds is not None:
            faults.kinds = tuple(update.error_kinds)
        if update.slow_seconds is not None:
            faults.slow_seconds = update.slow_seconds
        if update.bad_signature is not None and seal is not None:
            seal.break_signatures = update.bad_signature
        return faults.public()

    @app.get("/_admin/requests")
    async def get_requests() -> dict[str, Any]:
        """Who asked: the requester headers (decoded) of the last requests, and how many were
        refused for lacking them."""
        return {"agency": agency, **requesters.recent()}

    @app.get("/_admin/signatures")
    async def get_signatures() -> dict[str, Any]:
        """The electronic seal: the hub's keys held, requests verified per key, refusals."""
        return seal.snapshot() if seal is not None else {"agency": agency, "sealed": False}

    @app.get("/_admin/stats")
    async def get_stats() -> dict[str, Any]:
        return {
            "agency": agency,
            "requests": stats["requests"],
            "feed_requests": stats["feed_requests"],
            "by_status": {k.removeprefix("status:"): v for k, v in stats.items() if k.startswith("status:")},
            "by_path": {k.removeprefix("path:"): v for k, v in stats.items() if k.startswith("path:")},
            "faults": faults.public(),
        }

    return app
