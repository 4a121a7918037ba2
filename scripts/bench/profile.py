"""Where each hub process spends its time during a benchmark run: py-spy samples every process
of the hub (``--profile DIR``) and the run ends with each one's heaviest functions and files.

py-spy records in its ``raw`` (collapsed stack) format, one file per process in ``DIR``
(``<service>.txt``; ``py-spy``'s flame-graph tools read it). The summary reads them as shares of
the process's busy samples: *self* is the share of samples whose innermost frame is that
function; *within* is the share of samples that pass through that source file. Threads parked
in ``epoll`` or on a queue are left out (``py-spy`` without ``--idle``), but on some virtual
machines a wait still shows as busy: read the shares against the CPU milliseconds the benchmark
measured with ``/proc``.
"""

from __future__ import annotations

import collections
import re
import shutil
import signal
import subprocess
from pathlib import Path

__all__ = ["Profiler", "summarise"]


class Profiler:
    """``py-spy record`` attached to every process of ``hub`` (``hub.children``) at ``rate`` Hz,
    from ``start()`` to ``stop()``."""

    def __init__(self, hub: object, out_dir: Path, rate: int = 50) -> None:
        exe = shutil.which("py-spy")
        if exe is None:
            raise SystemExit("--profile needs py-spy: pip install py-spy (in the dev extras)")
        self.exe = exe
        self.hub = hub
        self.out_dir = out_dir
        self.rate = rate
        self.recorders: dict[str, subprocess.Popen[bytes]] = {}

    def start(self) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        for child in getattr(self.hub, "children", []):
            if child.name in ("broker", "store"):  # not Python
                continue
            out = self.out_dir / f"{child.name}.txt"
            pid = str(child.proc.pid)
            self.recorders[child.name] = subprocess.Popen(
                [
                    self.exe,
                    "record",
                    "-p",
                    pid,
                    "-r",
                    str(self.rate),
                    "-f",
                    "raw",
                    "-o",
                    str(out),
                    "--nonblocking",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )

    def stop(self) -> dict[str, Path]:
        """Stop every recorder (each writes its file on SIGINT); the files written, by process."""
        for rec in self.recorders.values():
            rec.send_signal(signal.SIGINT)
        for rec in self.recorders.values():
            try:
                rec.wait(timeout=30)
            except subprocess.TimeoutExpired:
                rec.kill()
        return {name: p for name in self.recorders if (p := self.out_dir / f"{name}.txt").exists()}


_FILE = re.compile(r"\(([^)]*?)(?::\d+)?\)$")
# files every stack of a service passes through (interpreter, event loop, entry points): not listed
_ENTRY = re.compile(
    r"^(<frozen runpy>|asyncio/runners\.py|uvloop/__init__\.py|threading\.py|click/.*|mode/worker\.py"
    r"|faust/cli/base\.py|faust/app/base\.py|uvicorn/(server|_compat)\.py|\w+/__main__\.py)$"
)


def _where(frame: str) -> str:
    """The source file of a raw frame ``function (path:line)``, shortened to its package path."""
    m = _FILE.search(frame)
    path = m.group(1) if m else frame
    return re.sub(r"^.*?(site-packages|lib/python3\.\d+)/", "", path)


def summarise(path: Path, top: int = 12) -> str:
    """The heaviest functions (self) and source files (within) of one raw py-spy profile."""
    self_time: collections.Counter[str] = collections.Counter()
    within: collections.Counter[str] = collections.Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = stack.split(";")
        total += n
        self_time[re.sub(r":\d+\)$", ")", frames[-1])] += n
        for where in {_where(f) for f in frames}:
            within[where] += n
    if total == 0:
        return "  (no samples)"
    lines = [f"  {total} samples; self:"]
    lines += [f"    {100 * n / total:5.1f}%  {name[:110]}" for name, n in self_time.most_common(top)]
    lines.append("  within (share of samples passing through the file):")
    heaviest = [(w, n) for w, n in within.most_common() if not _ENTRY.match(w)][:top]
    lines += [f"    {100 * n / total:5.1f}%  {w}" for w, n in heaviest]
    return "\n".join(lines)
