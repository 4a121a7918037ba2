"""The bare fan-out peer: the project's own adapters (``connectors.registry_adapters.build_adapter``)
called with ``asyncio.gather`` for every agency of every debtor, against the hub's registries, on the
connectors' own HTTP client (``connectors.http_client``), with no Kafka, gateway or database.

This is the least any hub can spend to ask every registry: the benchmark divides the hub's CPU per
inquiry by the peer's (measured in the same run, on the same registries and debtors).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import resource
import time
from dataclasses import dataclass, field

import httpx

from connectors.registry_adapters import build_adapter
from connectors.signed_transport import sealed_registry_client
from hub.settings import HubSettings
from schemas.identifiers import identifier_variants
from schemas.models import AgencyRequest, IdentifierForm, Party


@dataclass
class PeerResult:
    """``cpu_s``: the peer process's user+system CPU seconds; ``elapsed_s``: wall seconds."""

    n: int
    elapsed_s: float
    cpu_s: float
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    answered: int = 0

    @property
    def cpu_ms_per_inquiry(self) -> float:
        return self.cpu_s * 1000 / max(self.n, 1)

    @property
    def throughput(self) -> float:
        return self.n / self.elapsed_s if self.elapsed_s else 0.0


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _request(i: int, debtor: dict[str, str], agency: str, deadline: dt.datetime) -> AgencyRequest:
    forms = [
        IdentifierForm(id_type=t, id_number=n)
        for t, n in identifier_variants(debtor["id_type"], debtor["id_number"])
    ]
    return AgencyRequest(
        request_id=f"peer-{i}/{agency}",
        inquiry_id=f"peer-{i}",
        case_id=f"peer-case-{i}",
        court_id="court-a",
        agency=agency,
        subject=Party(name=debtor["name"], id_type=debtor["id_type"], id_number=debtor["id_number"]),
        identifiers=forms,
        deadline=deadline,
        idempotency_key=f"peer-{i}/{agency}",
        # who asks and why, as the hub's requests carry them (registries refuse a request without)
        officer="officer-court-a-1",
        purpose="benchmark: find the debtor's assets",
        legal_basis="(2026)鄂0111执1号 enforcement ruling",
    )


async def fan_out(settings: HubSettings, debtors: list[dict[str, str]], concurrency: int) -> PeerResult:
    """Ask every agency of ``settings.agencies`` about each debtor, ``concurrency`` debtors at once.

    Requests are built before the clock starts (the hub builds its own in the stream worker, which
    the hub's figure counts); answers are parsed by the adapters into the hub's record models.
    """
    agencies = settings.agencies
    adapters = [build_adapter(a, settings) for a in agencies]
    deadline = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    requests = [[_request(i, d, a, deadline) for a in agencies] for i, d in enumerate(debtors)]
    limits = httpx.Limits(
        max_connections=settings.connector_concurrency * len(agencies),
        max_keepalive_connections=settings.connector_concurrency,
    )
    timeout = httpx.Timeout(settings.connector_timeout_seconds)
    slots = asyncio.Semaphore(concurrency)
    result = PeerResult(n=len(debtors), elapsed_s=0.0, cpu_s=0.0)

    # sealed as the hub's connectors are (the registries refuse unsigned requests; hub/signing.py)
    async with sealed_registry_client(settings, agencies, limits=limits, timeout=timeout) as client:

        async def one(reqs: list[AgencyRequest]) -> None:
            async with slots:
                t0 = time.perf_counter()
                outcomes = await asyncio.gather(
                    *(ad.inquire(client, r) for ad, r in zip(adapters, reqs, strict=True)),
                    return_exceptions=True,
                )
                result.latencies.append(time.perf_counter() - t0)
                for o in outcomes:
                    if isinstance(o, BaseException):
                        name = type(o).__name__
                        result.errors[name] = result.errors.get(name, 0) + 1
                    elif o.records or o.party_records:
                        result.answered += 1

        cpu0, t0 = _cpu(), time.perf_counter()
        await asyncio.gather(*(one(reqs) for reqs in requests))
        result.elapsed_s, result.cpu_s = time.perf_counter() - t0, _cpu() - cpu0
    return result
