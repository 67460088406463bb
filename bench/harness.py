"""What the benchmarks share: timing and peak memory. Servers and ports come from `testkit.servers`."""
from __future__ import annotations

import resource
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the benchmarks run as scripts from a checkout


def timed_ms(fn, items) -> list[float]:
    """Milliseconds per call of `fn` over `items`."""
    out = []
    for item in items:
        started = time.perf_counter()
        fn(item)
        out.append((time.perf_counter() - started) * 1000)
    return out


class PeakRSS:
    """Samples the resident set size of some processes (and their children) in a background thread."""

    def __init__(self, pids: list[int], with_children: list[bool]):
        import psutil

        self.procs = [psutil.Process(p) for p in pids]
        self.with_children = with_children
        self.peaks = [0] * len(pids)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _rss(self, proc, children: bool) -> int:
        try:
            kids = proc.children(recursive=True) if children else []
            return proc.memory_info().rss + sum(c.memory_info().rss for c in kids)
        except Exception:
            return 0

    def _run(self) -> None:
        while not self._stop.is_set():
            for n, proc in enumerate(self.procs):
                self.peaks[n] = max(self.peaks[n], self._rss(proc, self.with_children[n]))
            self._stop.wait(0.2)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def mb(self, n: int) -> float:
        return self.peaks[n] / 2**20


def high_water_mb() -> float:
    """This process's peak resident set size in MB, from /proc/self/status (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class Run:
    """One fresh process, timed from outside: wall seconds, CPU seconds (user + system, its children
    included), exit code and output."""

    wall: float
    cpu: float
    code: int
    out: str
    err: str


def run_process(cmd: list[str], env: dict | None = None, cwd: Path | None = None) -> Run:
    """Run `cmd` to the end; CPU time comes from the kernel's accounting of that process (wait4), which a
    busy machine inflates far less than wall time."""
    import os
    import subprocess
    import tempfile

    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0), err.seek(0)
        return Run(wall, usage.ru_utime + usage.ru_stime, proc.returncode, out.read(), err.read())


def median(values) -> float:
    """The median of `values`."""
    import statistics

    return statistics.median(values)



def live_collection(settings):
    """The Chroma collection of the index's live generation, opened directly: the bare look-up the peers time."""
    from index.generations import generation
    from index.vectorstore.chroma import ChromaGeneration

    return ChromaGeneration(settings, generation.read(settings).live, reading=True).collection()
