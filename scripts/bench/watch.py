"""Benchmark of the live new-asset watch (``make bench BENCH_ARGS="watch ..."``).

1. Matching (in process, ``streams.watch.WatchIndex``): ``--debtors`` watched debtors (one case
   each) drawn from a generated population (real name frequencies, so common names collide);
   ``--changes`` registry changes, a third each of a watched debtor's new account (``match``), a
   namesake's (same name, another identity: ``non_match``) and a stranger's (no candidate). Prints
   the index's build time and the changes matched per second (identity linkage included).
2. Pipeline (``--e2e N``, 0 to skip): starts a hub, loads the same watched debtors into the stream
   workers through ``hub.watch.debtors``, watches ``--cases`` real cases through the API, then
   plants ``N`` new accounts of their debtors one at a time (``POST /_admin/records`` on the banks'
   registries) and measures each one's latency until its ``new_asset`` event is readable on
   ``GET /v1/events``; then plants ``--burst`` at once and measures end-to-end changes per second.

    python scripts/bench_inquiries.py watch --debtors 100000 --changes 30000 --e2e 40 --burst 300
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import random
import resource
import tempfile
import time
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer

from connectors.registry_adapters import build_adapter
from hub.settings import HubSettings
from registries.population import DEFAULT_BANKS, _Generator
from schemas.codec import encode
from schemas.identifiers import resident_id_check
from schemas.models import Party
from schemas.topics import WATCH_DEBTORS
from schemas.watch import AssetChange, WatchState
from streams.watch import WatchIndex

from . import report
from .ports import port_overrides

NOW = dt.datetime.now(dt.UTC)


def _other_id(rng: random.Random, taken: set[str]) -> str:
    while True:
        born = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(365 * 55))
        body = f"420106{born:%Y%m%d}{rng.randrange(1000):03d}"
        number = body + resident_id_check(body)
        if number not in taken:
            return number


def _change(i: int, name: str, number: str, bank: str = "bank:icbc") -> AssetChange:
    ref = f"62229{i:011d}"
    return AssetChange.model_validate(
        {
            "change_id": f"{bank}:{i}",
            "agency": bank,
            "sequence": str(i),
            "change_type": "account_opened",
            "occurred_at": NOW,
            "observed_at": NOW,
            "asset": {
                "kind": "deposit",
                "agency": bank,
                "ref": ref,
                "value": "50000.00",
                "owner": {"name": name, "id_type": "resident_id", "id_number": number},
            },
        }
    )


def watched_states(debtors: int, seed: int) -> tuple[list[WatchState], list[Party], list[Party]]:
    """One watch per debtor drawn from a population; returns (states, the watched, the others)."""
    drawn = _Generator(seed, DEFAULT_BANKS).people(int(debtors * 1.25) + 10)  # the population's names
    people = [Party(name=p.name, id_type="resident_id", id_number=p.resident_id) for p in drawn]
    random.Random(seed).shuffle(people)
    watched, others = people[:debtors], people[debtors:]
    states = [
        WatchState(
            case_id=f"case_bench_{i}",
            court_id="court-bench",
            active=True,
            sources=["court"],
            debtors=[d],
            updated_at=NOW,
        )
        for i, d in enumerate(watched)
    ]
    return states, watched, others


def bench_matching(args: argparse.Namespace) -> list[WatchState]:
    t = time.perf_counter()
    states, watched, others = watched_states(args.debtors, args.seed)
    print(
        f"{len(states)} watched debtors drawn from the population's names in {time.perf_counter() - t:.1f} s"
    )
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    index = WatchIndex()
    t = time.perf_counter()
    for s in states:
        index.apply(s)
    built = time.perf_counter() - t
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        f"index of {len(index)} watched debtors built in {built:.2f} s "
        f"({len(index) / built:,.0f} debtors/s; peak RSS +{(rss1 - rss0) / 1024:.0f} MiB)"
    )
    rng = random.Random(args.seed + 1)
    taken = {d.id_number for d in watched}
    changes = []
    for i in range(args.changes):
        kind = i % 3
        if kind == 0:  # the watched debtor's own new account
            d = rng.choice(watched)
            changes.append(_change(i, d.name, d.id_number))
        elif kind == 1:  # a namesake: same name, another identity
            d = rng.choice(watched)
            changes.append(_change(i, d.name, _other_id(rng, taken)))
        else:  # a stranger (may still share a common name with someone watched)
            d = rng.choice(others)
            changes.append(_change(i, d.name, d.id_number))
    decisions: dict[str, int] = {}
    gc.collect()
    t = time.perf_counter()
    for c in changes:
        hit = index.match(c, NOW)
        for x in hit.candidates if hit else ():
            decisions[x.decision] = decisions.get(x.decision, 0) + 1
    took = time.perf_counter() - t
    print(
        f"matching: {len(changes)} changes against {len(index)} watched debtors in {took:.2f} s: "
        f"{len(changes) / took:,.0f} changes/s ({took / len(changes) * 1e6:.0f} µs per change, "
        f"identity linkage included); hits by decision {dict(sorted(decisions.items()))}"
    )
    return states


async def _load_states(settings: HubSettings, states: list[WatchState]) -> float:
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap, linger_ms=5, max_batch_size=1 << 20)
    await producer.start()
    t = time.perf_counter()
    try:
        futures = [await producer.send(WATCH_DEBTORS, encode(s), key=s.case_id.encode()) for s in states]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return time.perf_counter() - t


async def _plant(client: httpx.AsyncClient, settings: HubSettings, bank: str, owner: Party, ref: str) -> None:
    adapter = build_adapter(bank, settings)
    line = {
        "registry": bank,
        "owner": {"name": owner.name, "id_type": owner.id_type, "id_number": owner.id_number},
        "asset": {"kind": "deposit", "ref": ref, "value": "50000.00"},
    }
    r = await client.post(
        f"{settings.registry_url(bank)}/_admin/records", json=line, headers=adapter.auth_headers()
    )
    r.raise_for_status()


class _Feed:
    """Reads the court's event feed and notes when each new_asset's ref was first seen."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.cursor: str | None = None
        self.seen: dict[str, float] = {}

    async def follow(self) -> None:
        while True:
            params: dict[str, Any] = {"limit": 500}
            if self.cursor:
                params["after"] = self.cursor
            body = (await self.client.get("/v1/events", params=params)).json()
            now = time.perf_counter()
            for e in body["items"]:
                if e["type"] == "new_asset":
                    self.seen.setdefault(e["data"]["ref"], now)
            self.cursor = body["next_cursor"] or self.cursor
            if len(body["items"]) < 500:
                await asyncio.sleep(0.02)

    async def wait(self, refs: list[str], timeout: float) -> None:
        end = time.perf_counter() + timeout
        while not all(r in self.seen for r in refs):
            if time.perf_counter() > end:
                missing = [r for r in refs if r not in self.seen]
                raise TimeoutError(f"{len(missing)} new_asset events never arrived")
            await asyncio.sleep(0.01)


async def _pipeline(args: argparse.Namespace, hub: Any, states: list[WatchState]) -> None:
    settings: HubSettings = hub.settings
    token = next(iter(settings.tokens_by_court.values()))
    loaded = await _load_states(settings, states)
    print(f"{len(states)} watched debtors published to {WATCH_DEBTORS} in {loaded:.1f} s")
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=hub.gateway_url, headers=headers, timeout=30) as client:
        streams = f"http://127.0.0.1:{settings.streams_port}/watch"
        t = time.perf_counter()
        while True:  # the stream worker's index holds them all
            page = (await client.get(streams)).json()
            if page["loaded"] and page["debtors"] >= len(states):
                break
            await asyncio.sleep(0.2)
        print(f"stream worker's index: {page['debtors']} debtors ({time.perf_counter() - t:.1f} s to load)")
        rng = random.Random(args.seed + 2)
        debtors = []
        for i in range(args.cases):
            body = f"420106{1960 + i % 40}{1 + i % 12:02d}{1 + i % 28:02d}{i % 1000:03d}"
            debtor = Party(
                name=f"监测{i:05d}", id_type="resident_id", id_number=body + resident_id_check(body)
            )
            r = await client.post(
                "/v1/cases",
                json={
                    "case_number": f"(2026)鄂0111执监{rng.randrange(10**9)}号",
                    "applicant": {"name": "申请人"},
                    "debtors": [debtor.model_dump(exclude_none=True)],
                    "amount_owed": "100000.00",
                },
            )
            r.raise_for_status()
            (await client.post(f"/v1/cases/{r.json()['case_id']}/watch")).raise_for_status()
            debtors.append(debtor)
        feed = _Feed(client)
        follower = asyncio.create_task(feed.follow())
        banks = [a for a in settings.agencies if a.startswith("bank:")]
        async with httpx.AsyncClient(timeout=30) as registries:
            await asyncio.sleep(3)  # the watches reached the stream worker (outbox, topic)
            latencies = []
            for i in range(args.e2e):
                ref = f"62228{i:011d}"
                t0 = time.perf_counter()
                await _plant(registries, settings, banks[i % len(banks)], debtors[i % len(debtors)], ref)
                await feed.wait([ref], timeout=60)
                latencies.append(feed.seen[ref] - t0)
            print(
                f"\nnew account planted -> new_asset readable by the court ({args.e2e} one at a time): "
                + report.latency_line(latencies)
            )
            refs = [f"62227{i:011d}" for i in range(args.burst)]
            t0 = time.perf_counter()
            await asyncio.gather(
                *(
                    _plant(registries, settings, banks[i % len(banks)], debtors[i % len(debtors)], ref)
                    for i, ref in enumerate(refs)
                )
            )
            planted = time.perf_counter() - t0
            await feed.wait(refs, timeout=300)
            took = max(feed.seen[r] for r in refs) - t0
            burst = [feed.seen[r] - t0 for r in refs]
            print(
                f"burst of {args.burst} new accounts (planted in {planted:.1f} s): all pushed after "
                f"{took:.1f} s = {args.burst / took:.0f} changes/s end to end; " + report.latency_line(burst)
            )
        follower.cancel()
        page = (await client.get(streams)).json()
        print(f"stream worker: {page}")


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(
        prog="bench watch", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--debtors", type=int, default=100_000, help="watched debtors")
    ap.add_argument("--changes", type=int, default=30_000, help="changes to match in process")
    ap.add_argument(
        "--e2e", type=int, default=40, help="changes planted one at a time through a hub (0: skip)"
    )
    ap.add_argument("--burst", type=int, default=300, help="changes planted at once through the hub")
    ap.add_argument("--cases", type=int, default=20, help="cases watched through the API")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--latency", default="lognormal:40:0.5", help="registry latency distribution")
    args = ap.parse_args(argv)
    print(f"machine: {report.machine()}")
    states = bench_matching(args)
    if args.e2e <= 0:
        return
    from hub.supervisor import Hub

    overrides = {
        "HUB_STATE_DIR": tempfile.mkdtemp(prefix="hub-bench-watch-"),
        "HUB_REGISTRY_SCALE": "2000",
        "HUB_REGISTRY_LATENCY_MS": args.latency,
        "HUB_REGISTRY_FIXTURES": "/dev/null",
        **port_overrides(),
    }
    hub = Hub(overrides)
    t = time.perf_counter()
    hub.start(timeout=300)
    print(f"hub started in {time.perf_counter() - t:.1f} s (registry latency {args.latency} ms)")
    try:
        asyncio.run(_pipeline(args, hub, states))
    finally:
        hub.stop()
