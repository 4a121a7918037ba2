"""Benchmark: drive N inquiries through a hub and print throughput, latency percentiles, memory and
CPU per inquiry of every process, then the same figures for a bare fan-out peer (the project's own
adapters with ``asyncio.gather``, no Kafka, gateway or database) on the same registries and debtors,
and the ratio of the hub's CPU per inquiry to the peer's.

By default it starts its own hub (embedded broker, registries, connectors, streams, gateway) with a
realistic registry latency distribution and a population of ``--scale`` people, registers one
case per debtor, then submits the inquiries ``--concurrency`` at a time and measures, per inquiry,
the time from submission until the court can read a final (complete or partial) result.

    python scripts/bench_inquiries.py --n 1000 --concurrency 100 --scale 100000
    python scripts/bench_inquiries.py --n 400 --concurrency 40 --latency lognormal:120:0.5 \
        --scale 20000 --storage memory --stream-workers 2 --connector-processes 2
    python scripts/bench_inquiries.py --gateway http://127.0.0.1:8000 --token ... --scale 2000
    python scripts/bench_inquiries.py --n 1000 --batch 100 --concurrency 300 --peer off

With ``--batch N`` the inquiries go as batches of N items (``POST /v1/inquiry-batches``,
``--concurrency // N`` batches in flight) and it also prints batch throughput, the time to accept a
batch and the time until each batch's summary is readable.

``python scripts/bench_inquiries.py watch ...`` (``make bench BENCH_ARGS="watch ..."``) runs the
new-asset watch's benchmark instead (``scripts/bench/watch.py``).

With ``--gateway`` it uses a running hub; its population must have been generated with the same
``--seed`` and ``--scale`` (HUB_REGISTRY_SEED, HUB_REGISTRY_SCALE) so the debtors exist.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import httpx
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import report, traffic  # scripts/bench/
from bench.batches import batch_lines, drive_batches
from bench.peer import PeerResult, fan_out
from bench.ports import port_overrides
from bench.profile import Profiler, summarise
from bench.sampler import ProcessSampler

from connectors.http_client import RegistryTransport
from hub.settings import HubSettings
from registries.population import generate, pick_people


async def drive(
    gateway: str,
    token: str,
    debtors: list[dict[str, str]],
    concurrency: int,
    poll_wait: float,
    officer: str,
    batch: int = 0,
) -> tuple[list[float], dict[str, int], float]:
    """Register one case per debtor, then inquire about each: one by one, ``concurrency`` in
    flight, or (``batch`` > 0) in batches of ``batch`` items. Returns (seconds from each inquiry's
    submission to its final result (with batches: to its batch's summary), statuses counted, seconds
    of the whole run)."""
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=concurrency * 2)
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    # the load generator shares the machine: aiohttp's transport leaves the hub more of its cores
    transport = RegistryTransport(limits=limits)
    client = httpx.AsyncClient(base_url=gateway, headers=headers, timeout=60, transport=transport)
    async with client:
        case_ids: list[str] = []
        tag = os.urandom(3).hex()  # a court's case numbers are unique: another run against a hub differs
        for i, d in enumerate(debtors):
            r = await client.post(
                "/v1/cases",
                json={
                    "case_number": f"(2026)鄂0111{tag}执{i + 1}号",
                    "applicant": {"name": "申请人"},
                    "debtors": [d],
                    "amount_owed": "100000.00",
                },
            )
            r.raise_for_status()
            case_ids.append(r.json()["case_id"])
        if batch > 0:
            asking = {"officer": officer, "purpose": "benchmark: find the debtors' assets"}
            asking["legal_basis"] = "(2026)鄂0111执1号 enforcement ruling"
            in_flight = max(1, concurrency // batch)
            run = await drive_batches(client, case_ids, debtors, batch, in_flight, asking)
            print(batch_lines(run, batch, in_flight))
            return run.latencies(), run.statuses, run.elapsed
        slots = asyncio.Semaphore(concurrency)
        # who asks and why; a hub from before officers refuses these fields (422 extra_forbidden)
        asker = {
            "officer": officer,
            "purpose": "benchmark: find the debtor's assets",
            "legal_basis": "(2026)鄂0111执1号 enforcement ruling",
        }

        async def one(case_id: str, d: dict[str, str]) -> None:
            async with slots:
                t0 = time.perf_counter()
                debtor = {"id_type": d["id_type"], "id_number": d["id_number"]}
                r = await client.post("/v1/inquiries", json={"case_id": case_id, "debtor": debtor, **asker})
                if r.status_code == 422 and "extra_forbidden" in r.text:
                    asker.clear()
                    r = await client.post("/v1/inquiries", json={"case_id": case_id, "debtor": debtor})
                r.raise_for_status()
                inquiry_id = r.json()["inquiry_id"]
                while True:
                    body = (
                        await client.get(f"/v1/inquiries/{inquiry_id}", params={"wait": poll_wait})
                    ).json()
                    if body["status"] != "pending":
                        latencies.append(time.perf_counter() - t0)
                        statuses[body["status"]] = statuses.get(body["status"], 0) + 1
                        return

        started = time.perf_counter()
        await asyncio.gather(*(one(c, d) for c, d in zip(case_ids, debtors, strict=True)))
        elapsed = time.perf_counter() - started
    return latencies, statuses, elapsed


def main() -> None:
    if sys.argv[1:2] == ["watch"]:  # the new-asset watch's benchmark: scripts/bench/watch.py
        from bench.watch import main as bench_watch

        bench_watch(sys.argv[2:])
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=500, help="inquiries to submit")
    ap.add_argument("--concurrency", type=int, default=50, help="inquiries in flight from the client")
    ap.add_argument("--scale", type=int, default=20000, help="people in the registries' population")
    ap.add_argument("--seed", type=int, default=HubSettings().registry_seed)
    ap.add_argument("--latency", default="lognormal:120:0.6", help="registry latency distribution")
    ap.add_argument("--wait", type=float, default=20, help="long-poll wait of each result request (s)")
    ap.add_argument("--stream-workers", type=int, default=1, help="HUB_STREAM_WORKERS")
    ap.add_argument("--connector-processes", type=int, default=1, help="HUB_CONNECTOR_PROCESSES")
    ap.add_argument(
        "--storage",
        choices=["s3", "memory"],
        help="HUB_EMBEDDED_BROKER_STORAGE (default: the hub's, s3: durable)",
    )
    ap.add_argument("--peer", choices=["after", "before", "off"], default="after", help="bare fan-out peer")
    ap.add_argument("--idle", type=float, default=5.0, help="seconds of idle CPU sampling before the run")
    ap.add_argument("--gateway", help="use a running hub at this URL")
    ap.add_argument("--token", help="court bearer token for --gateway")
    ap.add_argument(
        "--batch",
        type=int,
        default=0,
        help="submit the inquiries as batches of this many items (POST /v1/inquiry-batches, at most 1000); "
        "--concurrency // batch batches in flight; prints batch throughput",
    )
    ap.add_argument("--officer", default="officer-court-a-1", help="officer id of --token's court")
    ap.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="sample every hub process with py-spy during the run; raw profiles into DIR, a summary printed",
    )
    args = ap.parse_args()
    if not 0 <= args.batch <= 1000:
        ap.error("--batch: 1 to 1000 items (0: no batches)")

    t = time.perf_counter()
    pop = generate(args.seed, args.scale)
    people = pick_people(pop, args.n, seed=1)
    debtors = [{"name": p.name, "id_type": "resident_id", "id_number": p.resident_id} for p in people]
    del pop
    gc.collect()
    gc.freeze()  # the population is not the load generator's or the peer's garbage to scan
    print(
        f"population of {args.scale} people generated in {time.perf_counter() - t:.1f} s; "
        f"{len(debtors)} debtors picked; machine: {report.machine()}"
    )

    hub = None
    if args.gateway:
        gateway, token = args.gateway, args.token or ""
        settings = HubSettings()
    else:
        from hub.supervisor import Hub

        state = tempfile.mkdtemp(prefix="hub-bench-")
        overrides = {
            "HUB_STATE_DIR": state,
            "HUB_REGISTRY_SCALE": str(args.scale),
            "HUB_REGISTRY_SEED": str(args.seed),
            "HUB_REGISTRY_LATENCY_MS": args.latency,
            "HUB_INQUIRY_SLA_SECONDS": "60",
            "HUB_REGISTRY_FIXTURES": os.devnull,
            "HUB_STREAM_WORKERS": str(args.stream_workers),
            "HUB_CONNECTOR_PROCESSES": str(args.connector_processes),
        }
        if args.storage:
            overrides["HUB_EMBEDDED_BROKER_STORAGE"] = args.storage
        overrides.update(port_overrides())  # beside any other hub on this machine
        hub = Hub(overrides)
        settings = hub.settings
        t = time.perf_counter()
        hub.start(timeout=300)
        print(
            f"hub started in {time.perf_counter() - t:.1f} s (registry latency {args.latency} ms, "
            f"broker storage {settings.embedded_broker_storage}, {settings.stream_workers} stream "
            f"worker(s), {settings.connector_processes} connector process(es))"
        )
        gateway = hub.gateway_url
        court, token = next(iter(hub.settings.tokens_by_court.items()))
        officers = getattr(hub.settings, "officers_by_court", {})  # absent before officers
        args.officer = sorted(officers.get(court, {args.officer}))[0]
    sampler = ProcessSampler(hub) if hub is not None else None
    profiler = Profiler(hub, args.profile) if hub is not None and args.profile else None
    profiles: dict[str, Path] = {}
    peer_result: PeerResult | None = None
    peer_registries: float | None = None

    def run_peer() -> None:
        nonlocal peer_result, peer_registries
        before = sampler.cpu_now() if sampler is not None else {}
        peer_result = uvloop.run(fan_out(settings, debtors, args.concurrency))  # as the connectors
        if sampler is not None:
            after = sampler.cpu_now()
            peer_registries = sum(
                (after.get(k, 0.0) - before.get(k, 0.0)) * 1000 / max(peer_result.n, 1)
                for k in report.NOT_HUB
            )

    idle: dict[str, float] = {}
    offsets_before: dict[str, int] = {}
    offsets_after: dict[str, int] = {}
    try:
        if sampler is not None and args.idle > 0:  # what each process spends with nothing to do
            idle0 = sampler.cpu_now()
            time.sleep(args.idle)
            idle1 = sampler.cpu_now()
            idle = {k: (idle1[k] - idle0.get(k, 0.0)) * 1000 / args.idle for k in idle1}
        if args.peer == "before":
            run_peer()
        offsets_before = traffic.end_offsets(settings) if hub is not None else {}
        cpu_before = sampler.start() if sampler is not None else {}
        if profiler is not None:
            profiler.start()
        bench_cpu0 = resource.getrusage(resource.RUSAGE_SELF)
        latencies, statuses, elapsed = uvloop.run(
            drive(gateway, token, debtors, args.concurrency, args.wait, args.officer, args.batch)
        )
        bench_cpu1 = resource.getrusage(resource.RUSAGE_SELF)
        if profiler is not None:
            profiles = profiler.stop()
        if sampler is not None:
            sampler.stop()
        cpu_after = dict(sampler.cpu) if sampler is not None else {}
        offsets_after = traffic.end_offsets(settings) if offsets_before else {}
        if args.peer == "after":
            run_peer()
    finally:
        if sampler is not None:
            sampler.stop()
        if profiler is not None and not profiles:  # the run failed: no recorder outlives it
            profiler.stop()
        if hub is not None:
            hub.stop()
    n = len(latencies)
    agencies = len(settings.agencies)
    print(f"\ninquiries: {n}  concurrency: {args.concurrency}  agencies per inquiry: {agencies}")
    print(f"results:   {statuses}")
    print(
        f"throughput: {n / elapsed:.1f} inquiries/s ({n * agencies / elapsed:.0f} registry "
        f"calls/s) over {elapsed:.1f} s"
    )
    print(report.latency_line(latencies))
    load_cpu = (bench_cpu1.ru_utime + bench_cpu1.ru_stime - bench_cpu0.ru_utime - bench_cpu0.ru_stime) * 1000
    print(
        f"load generator: {load_cpu / max(n, 1):.2f} CPU ms per inquiry, peak RSS "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB"
    )
    hub_total = None
    if sampler is not None:
        hub_total, registries = report.processes(sampler, cpu_before, cpu_after, n, idle, elapsed)
        print(f"{'registries':<13} {'':37} {registries:8.2f}   (the mocked agencies)")
    for line in traffic.lines(traffic.per_inquiry(offsets_before, offsets_after, n)):
        print(line)
    if peer_result is not None:
        report.peer(peer_result, peer_registries, hub_total)
    for name, path in profiles.items():  # --profile: where each process spent the run
        print(
            f"\nprofile of {name} ({path}; py-spy, the hub's run only; "
            "the profiler's own cost inflates the CPU figures above)"
        )
        print(summarise(path))


if __name__ == "__main__":
    main()
