"""Batches in the benchmark (``--batch N``): the same inquiries submitted as batches of N items
(``POST /v1/inquiry-batches``), each followed with ``GET /v1/inquiry-batches/{batch_id}`` until done.

Figures: per batch, the seconds the gateway took to accept it (one transaction with every inquiry
and its message) and the seconds from submission until its summary was readable (every item
settled); overall, inquiries per second from the first submission to the last batch done.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

__all__ = ["BatchRun", "batch_lines", "drive_batches"]


@dataclass
class BatchRun:
    """``done``: (seconds until the summary, items) per batch; ``accepted``: seconds to a 202."""

    done: list[tuple[float, int]] = field(default_factory=list)
    accepted: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    elapsed: float = 0.0

    def latencies(self) -> list[float]:
        """Per inquiry: its batch's time to the summary (an item is final when its batch's summary is)."""
        return [seconds for seconds, items in self.done for _ in range(items)]


async def drive_batches(
    client: httpx.AsyncClient,
    case_ids: list[str],
    debtors: list[dict[str, str]],
    size: int,
    in_flight: int,
    asking: dict[str, str],
) -> BatchRun:
    """Submit one inquiry per (case, debtor) in batches of ``size`` items, at most ``in_flight``
    batches at a time, each carrying ``asking`` (officer, purpose, legal_basis). Raises httpx errors."""
    slots = asyncio.Semaphore(max(1, in_flight))
    run = BatchRun()

    async def one(items: list[dict[str, Any]]) -> None:
        async with slots:
            t0 = time.perf_counter()
            r = (await client.post("/v1/inquiry-batches", json={"items": items, **asking})).raise_for_status()
            run.accepted.append(time.perf_counter() - t0)
            batch_id = r.json()["batch_id"]
            pause = 0.2
            while True:
                view = (await client.get(f"/v1/inquiry-batches/{batch_id}")).raise_for_status().json()
                if view["status"] == "done":
                    run.done.append((time.perf_counter() - t0, len(items)))
                    for item in view["summary"]:
                        run.statuses[item["status"]] = run.statuses.get(item["status"], 0) + 1
                    return
                await asyncio.sleep(pause)
                pause = min(pause * 1.5, 2.0)

    items = [
        {"case_id": c, "debtor": {"id_type": d["id_type"], "id_number": d["id_number"]}}
        for c, d in zip(case_ids, debtors, strict=True)
    ]
    started = time.perf_counter()
    await asyncio.gather(*(one(items[i : i + size]) for i in range(0, len(items), size)))
    run.elapsed = time.perf_counter() - started
    return run


def _pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(p * len(s)))] if s else float("nan")


def batch_lines(run: BatchRun, size: int, in_flight: int) -> str:
    """The batch figures as printed lines."""
    n = sum(items for _, items in run.done)
    done = [seconds for seconds, _ in run.done]
    return "\n".join(
        [
            f"batches: {len(run.done)} of up to {size} items, {in_flight} in flight; {n} inquiries",
            f"batch throughput: {n / run.elapsed:.1f} inquiries/s, {len(run.done) / run.elapsed:.2f} "
            f"batches/s over {run.elapsed:.1f} s",
            f"batch accepted (202) in: p50 {_pct(run.accepted, 0.5):.2f} s  max {max(run.accepted):.2f} s",
            f"batch done (summary readable) after: p50 {_pct(done, 0.5):.1f} s  "
            f"p95 {_pct(done, 0.95):.1f} s  max {max(done):.1f} s",
        ]
    )
