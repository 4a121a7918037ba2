"""Benchmark: drive N inquiries through a hub and print throughput and latency percentiles.

By default it starts its own hub (embedded broker, registries, connectors, streams, gateway) with a
realistic registry latency distribution and a population of ``--scale`` people, registers one
case per debtor, then submits the inquiries ``--concurrency`` at a time and measures, per inquiry,
the time from submission until the court can read a final (complete or partial) result.

    python scripts/bench_inquiries.py --n 1000 --concurrency 100 --scale 100000
    python scripts/bench_inquiries.py --gateway http://127.0.0.1:8000 --token ... --scale 2000

With ``--gateway`` it uses a running hub; its population must have been generated with the same
``--seed`` and ``--scale`` (HUB_REGISTRY_SEED, HUB_REGISTRY_SCALE) so the debtors exist.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hub.settings import HubSettings
from registries.population import generate, pick_people


class ProcessSampler:
    """Samples each hub process's resident memory and CPU time once a second from ``/proc``, by
    service name (a restarted service keeps its name), for the memory and CPU figures."""

    def __init__(self, hub: object) -> None:
        import threading

        self.hub = hub
        self.rss: dict[str, list[int]] = {}
        self.cpu: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    @staticmethod
    def _pids(pid: int) -> list[int]:
        """The process and its descendants (a service may fork)."""
        out, todo = [], [pid]
        while todo:
            p = todo.pop()
            out.append(p)
            try:
                kids = Path(f"/proc/{p}/task/{p}/children").read_text().split()
            except OSError:
                kids = []
            todo += [int(k) for k in kids]
        return out

    def sample(self) -> None:
        tick = os.sysconf("SC_CLK_TCK")
        for child in list(getattr(self.hub, "children", [])):
            rss, cpu = 0, 0.0
            for pid in self._pids(child.proc.pid):
                try:
                    status = Path(f"/proc/{pid}/status").read_text()
                    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                rss += next(int(x.split()[1]) for x in status.splitlines() if x.startswith("VmRSS:"))
                cpu += (int(stat[11]) + int(stat[12])) / tick
            self.rss.setdefault(child.name, []).append(rss)
            self.cpu[child.name] = cpu

    def _loop(self) -> None:
        while not self._stop.wait(1.0):
            self.sample()

    def start(self) -> dict[str, float]:
        self.sample()
        self._thread.start()
        return dict(self.cpu)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sample()


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(p * len(s)))]


async def drive(
    gateway: str, token: str, debtors: list[dict[str, str]], concurrency: int, poll_wait: float
) -> tuple[list[float], dict[str, int], float]:
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=concurrency * 2)
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    async with httpx.AsyncClient(base_url=gateway, headers=headers, timeout=60, limits=limits) as client:
        case_ids: list[str] = []
        for d in debtors:
            r = await client.post(
                "/v1/cases",
                json={
                    "case_number": "(2026)鄂0111执1号",
                    "applicant": {"name": "申请人"},
                    "debtors": [d],
                    "amount_owed": "100000.00",
                },
            )
            r.raise_for_status()
            case_ids.append(r.json()["case_id"])
        slots = asyncio.Semaphore(concurrency)

        async def one(case_id: str, d: dict[str, str]) -> None:
            async with slots:
                t0 = time.perf_counter()
                r = await client.post(
                    "/v1/inquiries",
                    json={
                        "case_id": case_id,
                        "debtor": {"id_type": d["id_type"], "id_number": d["id_number"]},
                    },
                )
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
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=500, help="inquiries to submit")
    ap.add_argument("--concurrency", type=int, default=50, help="inquiries in flight from the client")
    ap.add_argument("--scale", type=int, default=20000, help="people in the registries' population")
    ap.add_argument("--seed", type=int, default=HubSettings().registry_seed)
    ap.add_argument("--latency", default="lognormal:120:0.6", help="registry latency distribution")
    ap.add_argument("--wait", type=float, default=20, help="long-poll wait of each result request (s)")
    ap.add_argument("--gateway", help="use a running hub at this URL")
    ap.add_argument("--token", help="court bearer token for --gateway")
    args = ap.parse_args()

    t = time.perf_counter()
    pop = generate(args.seed, args.scale)
    people = pick_people(pop, args.n, seed=1)
    debtors = [{"name": p.name, "id_type": "resident_id", "id_number": p.resident_id} for p in people]
    print(
        f"population of {args.scale} people generated in {time.perf_counter() - t:.1f} s; "
        f"{len(debtors)} debtors picked"
    )

    hub = None
    if args.gateway:
        gateway, token = args.gateway, args.token or ""
    else:
        from hub.supervisor import Hub

        state = tempfile.mkdtemp(prefix="hub-bench-")
        hub = Hub(
            {
                "HUB_STATE_DIR": state,
                "HUB_REGISTRY_SCALE": str(args.scale),
                "HUB_REGISTRY_SEED": str(args.seed),
                "HUB_REGISTRY_LATENCY_MS": args.latency,
                "HUB_INQUIRY_SLA_SECONDS": "60",
                "HUB_REGISTRY_FIXTURES": os.devnull,
            }
        )
        t = time.perf_counter()
        hub.start(timeout=300)
        print(f"hub started in {time.perf_counter() - t:.1f} s (registry latency {args.latency} ms)")
        gateway = hub.gateway_url
        token = next(iter(hub.settings.tokens_by_court.values()))
    sampler = ProcessSampler(hub) if hub is not None else None
    cpu_before = sampler.start() if sampler is not None else {}
    try:
        latencies, statuses, elapsed = asyncio.run(
            drive(gateway, token, debtors, args.concurrency, args.wait)
        )
    finally:
        if sampler is not None:
            sampler.stop()
        if hub is not None:
            hub.stop()
    n = len(latencies)
    print(f"\ninquiries: {n}  concurrency: {args.concurrency}  agencies per inquiry: 7")
    print(f"results:   {statuses}")
    print(
        f"throughput: {n / elapsed:.1f} inquiries/s ({n * 7 / elapsed:.0f} registry calls/s) "
        f"over {elapsed:.1f} s"
    )
    print(
        f"latency s: p50 {pct(latencies, 0.5):.3f}  p95 {pct(latencies, 0.95):.3f}  "
        f"p99 {pct(latencies, 0.99):.3f}  max {max(latencies):.3f}  mean {statistics.fmean(latencies):.3f}"
    )
    print(f"bench client peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    if sampler is not None:
        print("\nprocess       RSS start → peak → end (MiB)   CPU ms per inquiry")
        total = 0.0
        for name, series in sampler.rss.items():
            cpu_ms = (sampler.cpu.get(name, 0.0) - cpu_before.get(name, 0.0)) * 1000 / max(n, 1)
            total += cpu_ms
            print(
                f"{name:<13} {series[0] / 1024:7.0f} → {max(series) / 1024:5.0f} → {series[-1] / 1024:5.0f}"
                f"          {cpu_ms:7.2f}"
            )
        print(f"{'total':<13} {'':31} {total:7.2f}")


if __name__ == "__main__":
    main()
