"""The stream worker's root logger keeps the hub's configured level after faust's worker sets up
logging (faust's own worker, for its spinner, sets it to DEBUG: every debug call of faust, mode and
aiokafka then builds a record). Run in a child process: ``streams.app`` patches the Kafka client on
import and the worker reconfigures logging, neither of which may leak into this process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import json, logging, sys
import faust
from streams.app import app

cls = faust.Worker if sys.argv[1] == "faust" else app.conf.Worker
worker = cls(app, loglevel="warn", logging_config=app.conf.logging_config, quiet=True, redirect_stdouts=False)
worker._setup_logging()
print(json.dumps({
    "worker": f"{cls.__module__}.{cls.__qualname__}",
    "root": logging.getLevelName(logging.getLogger().level),
    "faust_debug": logging.getLogger("faust.topics").isEnabledFor(logging.DEBUG),
    "aiokafka_debug": logging.getLogger("aiokafka.producer").isEnabledFor(logging.DEBUG),
    "warning": logging.getLogger("streams").isEnabledFor(logging.WARNING),
}))
"""


def probe(which: str, tmp_path: Path) -> dict[str, object]:
    env = {"PATH": "/usr/bin:/bin", "HUB_STATE_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", PROBE, which], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_worker_keeps_the_configured_level(tmp_path: Path) -> None:
    got = probe("hub", tmp_path)
    assert got["worker"] == "streams.worker.Worker"
    assert got == {**got, "root": "WARNING", "faust_debug": False, "aiokafka_debug": False, "warning": True}


def test_faust_own_worker_would_log_everything_at_debug(tmp_path: Path) -> None:
    # what the hub's worker class prevents (if faust stops doing this, this test says so)
    got = probe("faust", tmp_path)
    assert got["root"] == "DEBUG" and got["faust_debug"] is True
