"""Micro-benchmark of the gateway's data path per inquiry, in one process, without a broker.

For each inquiry it does what the gateway's database sees under ``make bench``: accept the inquiry
(the row, its outbox message, its audit entry), store every result version the stream worker
publishes (the opened inquiry, then one per agency answer) as the read model does (one
transaction per fetched batch), and, for each version, answer one long poll (read, audit the
read, read again when woken). It prints the gateway's CPU milliseconds per inquiry for that work,
which is far less noisy than the whole-hub benchmark on a shared machine.

    python scripts/bench/readmodel.py --n 400 --concurrency 40 --agencies 8 --assets 4
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))

from gateway import audit
from gateway.db import Database
from schemas.topics import COURT_COMMANDS


def result_version(
    inquiry_id: str, agencies: list[str], answered: int, assets: int, version: int
) -> dict[str, Any]:
    """A result as the stream worker publishes it after ``answered`` agencies answered."""
    now = dt.datetime.now(dt.UTC).isoformat()
    found = [
        {
            "asset_id": f"{a}/deposit/62220200{i:08d}",
            "agency": a,
            "kind": "deposit",
            "ref": f"62220200{i:08d}",
            "owner": {"name": "张伟", "id_type": "resident_id", "id_number": "420106197503130491"},
            "value": "80000.00",
            "controls": [],
            "linkage": {"decision": "match", "score": 0.98, "evidence": ["id_number", "name"]},
            "details": {"bank": "icbc"},
        }
        for a in agencies[:answered]
        for i in range(assets)
    ]
    return {
        "inquiry_id": inquiry_id,
        "case_id": "case_" + inquiry_id,
        "court_id": "court-a",
        "status": "complete" if answered == len(agencies) else "pending",
        "agencies": {
            a: {"status": "answered" if j < answered else "pending", "detail": None, "assets": assets}
            for j, a in enumerate(agencies)
        },
        "assets": found,
        "excluded_non_matches": 0,
        "version": version,
        "updated_at": now,
        "completed_at": now if answered == len(agencies) else None,
    }


async def run(n: int, concurrency: int, agencies: int, assets: int, url: str) -> tuple[float, float]:
    db = Database(url)
    await db.create_schema()
    names = [f"agency{i}" for i in range(agencies)]
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    changed: dict[str, asyncio.Event] = {}

    async def read_model() -> None:  # one transaction per fetched batch, as gateway.pipeline.ReadModel
        while True:
            batch = [await queue.get()]
            while not queue.empty():
                batch.append(queue.get_nowait())
            for inquiry_id in await db.store_results(batch):
                changed.pop(inquiry_id, asyncio.Event()).set()

    async def one(i: int, slots: asyncio.Semaphore) -> None:
        async with slots:
            inquiry_id = f"inq_{i}"
            async with db.engine.begin() as conn:
                await db.insert_inquiry(
                    conn,
                    inquiry_id=inquiry_id,
                    court_id="court-a",
                    case_id="case_" + inquiry_id,
                    request={"agencies": names},
                    idempotency_key=None,
                    request_hash="h",
                )
                await db.add_outbox(conn, COURT_COMMANDS, "case_" + inquiry_id, b"x" * 400)
                await audit.record(conn, "inquiry_accepted", "case_" + inquiry_id, "court-a", "officer", {})
            for answered in range(agencies + 1):
                event = changed.setdefault(inquiry_id, asyncio.Event())
                row = await db.get_inquiry(inquiry_id, "court-a")
                await db.append_audit("assets_read", "case_" + inquiry_id, "court-a", "token:x", {})
                await queue.put(result_version(inquiry_id, names, answered, assets, answered + 1))
                await event.wait()
                row = await db.get_inquiry(inquiry_id, "court-a")
                assert row is not None and row.version == answered + 1

    reader = asyncio.create_task(read_model())
    slots = asyncio.Semaphore(concurrency)
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    await asyncio.gather(*(one(i, slots) for i in range(n)))
    elapsed = time.perf_counter() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    reader.cancel()
    await db.close()
    cpu = cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime
    return cpu * 1000 / n, n / elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--concurrency", type=int, default=40)
    ap.add_argument("--agencies", type=int, default=8)
    ap.add_argument("--assets", type=int, default=4, help="assets per agency answer")
    ap.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    args = ap.parse_args()
    url = args.db or f"sqlite:///{tempfile.mkdtemp(prefix='hub-readmodel-')}/hub.db"
    cpu_ms, rate = uvloop.run(run(args.n, args.concurrency, args.agencies, args.assets, url))
    print(
        f"gateway data path: {cpu_ms:.2f} CPU ms per inquiry, {rate:.1f} inquiries/s "
        f"({args.n} inquiries, {args.concurrency} in flight, {args.agencies} agencies, "
        f"{args.assets} assets per answer)"
    )


if __name__ == "__main__":
    main()
