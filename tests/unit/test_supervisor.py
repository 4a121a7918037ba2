"""The supervisor revives a service that exited on its own, but not one crashing in a loop."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from hub.supervisor import Child, Hub, HubStartError


def _child(hub: Hub, argv: list[str]) -> Child:
    child = hub._spawn("svc", argv)
    hub.children.append(child)
    return child


def test_a_crashed_service_is_restarted_with_its_command(tmp_path: Path) -> None:
    hub = Hub({"HUB_STATE_DIR": str(tmp_path)})
    crashed = _child(hub, [sys.executable, "-c", "raise SystemExit(3)"])
    crashed.proc.wait(10)
    crashed.argv = [sys.executable, "-c", "import time; time.sleep(30)"]  # what it runs when revived
    try:
        assert hub.revive_crashed() == ["svc"]
        revived = hub.child("svc")
        assert revived.proc.poll() is None and len(revived.restarts) == 1
        assert hub.revive_crashed() == []  # a running service is left alone
    finally:
        hub.stop()


def test_a_service_crashing_in_a_loop_is_given_up(tmp_path: Path) -> None:
    hub = Hub({"HUB_STATE_DIR": str(tmp_path)})
    child = _child(hub, [sys.executable, "-c", "raise SystemExit(1)"])
    child.proc.wait(10)
    child.restarts = [time.monotonic()] * 5
    try:
        with pytest.raises(HubStartError, match="exited 6 times"):
            hub.revive_crashed(max_restarts=5)
    finally:
        hub.stop()
