"""Printing the benchmark's figures."""

from __future__ import annotations

import os
import platform
import statistics
from pathlib import Path

from .peer import PeerResult
from .sampler import ProcessSampler

NOT_HUB = {"registries"}  # the mocked agencies: not the hub's own cost


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(p * len(s)))] if s else float("nan")


def machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{cores} cores ({model or platform.processor()}), Python {platform.python_version()}"


def latency_line(latencies: list[float]) -> str:
    if not latencies:
        return "latency s: (none)"
    return (
        f"latency s: p50 {pct(latencies, 0.5):.3f}  p95 {pct(latencies, 0.95):.3f}  "
        f"p99 {pct(latencies, 0.99):.3f}  max {max(latencies):.3f}  mean {statistics.fmean(latencies):.3f}"
    )


def processes(
    sampler: ProcessSampler,
    cpu_before: dict[str, float],
    cpu_after: dict[str, float],
    n: int,
    idle: dict[str, float],
    elapsed: float,
) -> tuple[float, float]:
    """Print RSS start → middle → peak → end, CPU ms per inquiry, and idle CPU ms per second (with
    the share of the per-inquiry figure it explains at this run's duration) per process; return the
    hub's total (every process but the registries) and the registries' CPU ms per inquiry."""
    print(
        "\nprocess       RSS MiB: start →  mid → peak →  end    CPU ms per inquiry   idle CPU ms/s "
        "(of which idle)"
    )
    hub_total = registries = 0.0
    for name, series in sampler.rss.items():
        cpu_ms = (cpu_after.get(name, 0.0) - cpu_before.get(name, 0.0)) * 1000 / max(n, 1)
        if name in NOT_HUB:
            registries += cpu_ms
        else:
            hub_total += cpu_ms
        mid = series[len(series) // 2]
        print(
            f"{name:<13} {series[0] / 1024:14.0f} → {mid / 1024:4.0f} → {max(series) / 1024:4.0f} → "
            f"{series[-1] / 1024:4.0f}    {cpu_ms:8.2f}"
            + (
                f"            {idle[name]:6.1f} ({idle[name] * elapsed / max(n, 1):.2f})"
                if name in idle
                else ""
            )
        )
    print(f"{'hub total':<13} {'':37} {hub_total:8.2f}   (every process but the registries)")
    return hub_total, registries


def peer(result: PeerResult, registries_cpu_ms: float | None, hub_total: float | None) -> None:
    print(
        "\nbare fan-out peer (adapters + asyncio.gather on uvloop, no Kafka/gateway/database), "
        f"{result.n} inquiries"
    )
    print(
        f"throughput: {result.throughput:.1f} inquiries/s over {result.elapsed_s:.1f} s; "
        f"agencies answered with records: {result.answered}; errors: {result.errors or 'none'}"
    )
    print(latency_line(result.latencies))
    print(f"CPU ms per inquiry: {result.cpu_ms_per_inquiry:.2f} (the peer process)")
    if registries_cpu_ms is not None:
        print(f"registries' CPU ms per inquiry during the peer: {registries_cpu_ms:.2f}")
    if hub_total is not None and result.cpu_ms_per_inquiry > 0:
        print(f"\nratio hub / peer CPU per inquiry: {hub_total / result.cpu_ms_per_inquiry:.1f}×")
