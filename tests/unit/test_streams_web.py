"""The stream worker's web server serves health only: faust's own views (tables, router, graph,
statistics) are not there, and it binds HUB_SERVICE_HOST, not every interface.

The worker's real faust app (``streams.app``) starts its real aiohttp server in a child process (the
module patches the Kafka client on import, which must not leak into this one); the child asks it over
HTTP and reports what it answered and where it listened. No broker is needed to serve the web views.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import asyncio, json, sys
import aiohttp
from streams.app import app

async def main() -> None:
    web = app.web
    web.init_server()
    await web.start_server()
    out = {
        "listening": [list(a)[:2] for a in web._runner.addresses],
        "routes": sorted({r.canonical for r in web.web_app.router.resources()}),
        "answers": {},
    }
    try:
        async with aiohttp.ClientSession() as session:
            for path in sys.argv[1:]:
                async with session.get(f"http://127.0.0.1:{app.conf.web_port}{path}") as r:
                    out["answers"][path] = [r.status, await r.text()]
    finally:
        await web.stop_server()
    print(json.dumps(out))

asyncio.run(main())
"""
CLOSED = ["/table/cases/case_1/", "/table/inquiries/inq_1/", "/table/", "/router/", "/graph/", "/stats/"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_stream_workers_web_server_serves_health_and_no_table(tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update(
        HUB_STATE_DIR=str(tmp_path),
        HUB_STREAMS_PORT=str(port),
        HUB_KAFKA_BOOTSTRAP="127.0.0.1:1",  # never contacted: only the web server starts
        HUB_SERVICE_HOST="127.0.0.1",
        PYTHONPATH=str(ROOT),
    )
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "/healthz", *CLOSED],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["listening"] == [["127.0.0.1", port]]
    # /healthz answers (503: no partitions assigned without a broker); faust's index says only "OK"
    assert out["answers"]["/healthz"] == [503, '{"ok":false,"progress":0}']
    # /watch: the new-asset watch's counters (numbers only, as metrics are)
    assert out["routes"] == ["/", "/healthz", "/watch"]
    for path in CLOSED:
        assert out["answers"][path][0] == 404, (path, out["answers"][path])
