"""The supervisor revives a service that exited on its own, with backoff; a service crashing in a
loop is retried and reported, and never stops the others."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from hub.supervisor import Child, Hub
from hub.watchdog import RestartPolicy, read_status


def _child(hub: Hub, name: str, argv: list[str]) -> Child:
    return hub._start(name, argv)


def _sleeper() -> list[str]:
    return [sys.executable, "-c", "import time; time.sleep(30)"]


def test_a_crashed_service_is_restarted_with_its_command(tmp_path: Path) -> None:
    hub = Hub({"HUB_STATE_DIR": str(tmp_path)})
    crashed = _child(hub, "svc", [sys.executable, "-c", "raise SystemExit(3)"])
    crashed.proc.wait(10)
    crashed.argv = _sleeper()  # what it runs when revived
    try:
        assert hub.revive_crashed() == []  # exit noticed: the first backoff (0.5 s) starts
        status = read_status(tmp_path / "services.json")
        assert status is not None and status["services"]["svc"]["state"] == "restarting"
        assert hub.revive_crashed(now=time.monotonic() + 1) == ["svc"]
        revived = hub.child("svc")
        assert revived.proc.poll() is None and len(revived.restarts) == 1
        assert hub.revive_crashed() == []  # a running service is left alone
        status = read_status(tmp_path / "services.json")
        assert status is not None and status["services"]["svc"]["state"] == "running"
        assert status["services"]["svc"]["restarts"] == 1
    finally:
        hub.stop()


def test_a_service_crashing_in_a_loop_is_retried_reported_and_stops_nothing(tmp_path: Path) -> None:
    hub = Hub({"HUB_STATE_DIR": str(tmp_path)})
    healthy = _child(hub, "healthy", _sleeper())
    looping = _child(hub, "looping", [sys.executable, "-c", "raise SystemExit(1)"])
    looping.proc.wait(10)
    now = time.monotonic()
    looping.restarts = [now - 60 + i for i in range(5)]  # five restarts within the last minute
    try:
        assert hub.revive_crashed(now=now) == []  # waits for the longest backoff instead
        status = read_status(tmp_path / "services.json")
        assert status is not None
        svc = status["services"]["looping"]
        assert svc["state"] == "crash_looping" and svc["last_exit_code"] == 1
        assert svc["next_restart_in"] == hub.policy.maximum
        assert status["services"]["healthy"]["state"] == "running"
        assert healthy.proc.poll() is None  # the others go on
        # once the backoff has passed it is tried again, still reported as crash-looping
        assert hub.revive_crashed(now=now + hub.policy.maximum + 0.1) == ["looping"]
        status = read_status(tmp_path / "services.json")
        assert status is not None and status["services"]["looping"]["state"] == "crash_looping"
    finally:
        hub.stop()
    status = read_status(tmp_path / "services.json")
    assert status is not None and {s["state"] for s in status["services"].values()} == {"stopped"}


def test_backoff_doubles_with_recent_restarts_and_forgets_old_ones() -> None:
    policy = RestartPolicy(initial=0.5, maximum=30.0, loop_restarts=5, window=600.0)
    now = 10_000.0
    assert policy.delay([], now) == 0.5
    assert policy.delay([now - 1, now - 2], now) == 2.0
    assert policy.delay([now - i for i in range(1, 4)], now) == 4.0
    assert policy.delay([now - i for i in range(1, 10)], now) == 30.0  # crash-looping: the longest
    assert policy.delay([now - 700, now - 800], now) == 0.5  # outside the window
    assert not policy.crash_looping([now - 1] * 4, now)
    assert policy.crash_looping([now - 1] * 5, now)


def test_the_status_file_is_valid_json_after_every_change(tmp_path: Path) -> None:
    hub = Hub({"HUB_STATE_DIR": str(tmp_path)})
    try:
        _child(hub, "a", _sleeper())
        data = json.loads((tmp_path / "services.json").read_text())
        assert data["services"]["a"]["pid"] == hub.child("a").proc.pid
    finally:
        hub.stop()


def test_a_port_conflict_names_the_setting_to_change(tmp_path: Path) -> None:
    import socket

    import pytest

    from hub.errors import ConfigError

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        hub = Hub({"HUB_STATE_DIR": str(tmp_path), "HUB_GATEWAY_PORT": str(port)})
        with pytest.raises(ConfigError, match="HUB_GATEWAY_PORT"):
            hub._check_ports()


def test_liveness_restarts_only_after_the_health_check_failed_without_a_break() -> None:
    from hub.watchdog import Liveness

    live = Liveness(limit=90)
    assert not live.observe("streams", False, 0)
    assert not live.observe("streams", False, 60)
    assert not live.observe("streams", True, 70)  # a pass resets the clock
    assert not live.observe("streams", False, 100)
    assert live.observe("streams", False, 190)


def test_liveness_spares_a_service_that_is_not_ready_but_makes_progress() -> None:
    from hub.watchdog import Liveness

    live = Liveness(limit=90)
    assert not live.observe("streams", False, 0, progress=10)
    assert not live.observe("streams", False, 80, progress=500)  # recovering: the clock starts again
    assert not live.observe("streams", False, 160, progress=900)
    assert not live.observe("streams", False, 200, progress=900)
    assert live.observe("streams", False, 250, progress=900)  # stood still for 90 s: hung
    live.forget("streams")
    assert not live.observe("streams", False, 300)
    assert live.observe("streams", False, 390)  # no progress reported: failing 90 s is enough


def test_a_service_that_runs_but_never_gets_healthy_is_restarted(tmp_path: Path) -> None:
    import http.server
    import threading

    class Unhealthy(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(503)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Unhealthy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    hub = Hub({"HUB_STATE_DIR": str(tmp_path), "HUB_LIVENESS_SECONDS": "1"})
    try:
        hung = hub._start("streams", _sleeper(), health_url=f"http://127.0.0.1:{server.server_address[1]}/")
        assert hub.restart_unresponsive(every=0) == []  # failing since now: not yet
        time.sleep(1.1)
        assert hub.restart_unresponsive(every=0) == ["streams"]
        assert hung.proc.poll() is not None  # the hung process was killed
        revived = hub.child("streams")
        assert revived.proc.poll() is None and revived.health_url == hung.health_url
    finally:
        hub.stop()
        server.shutdown()
        server.server_close()


def test_a_cold_start_forgets_group_membership_and_keeps_committed_offsets(tmp_path: Path) -> None:
    from hub.supervisor import forget_group_membership

    groups = tmp_path / "tansu" / "clusters" / "tansu_cluster" / "groups" / "consumers"
    offsets = groups / "hub-streams" / "offsets" / "hub.court.commands" / "partitions"
    offsets.mkdir(parents=True)
    kept = offsets / "0000000000.json._S3rver_object"
    kept.write_text('{"offset": 41}')
    for suffix in ("_S3rver_object", "_S3rver_metadata.json", "_S3rver_object.md5"):
        (groups / f"hub-streams.json.{suffix}").write_text("{}")
    assert forget_group_membership(tmp_path) == 3
    assert not list(groups.glob("hub-streams.json.*"))
    assert kept.read_text() == '{"offset": 41}'
    assert forget_group_membership(tmp_path) == 0
