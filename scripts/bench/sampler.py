"""Per-process memory and CPU of a running hub, sampled from ``/proc``."""

from __future__ import annotations

import os
import threading
from pathlib import Path


class ProcessSampler:
    """Samples each hub process's resident memory and CPU time once a second from ``/proc``, by
    service name (a restarted service keeps its name), for the memory and CPU figures."""

    def __init__(self, hub: object) -> None:
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

    def cpu_now(self) -> dict[str, float]:
        """CPU seconds so far per service (samples memory too)."""
        self.sample()
        return dict(self.cpu)
