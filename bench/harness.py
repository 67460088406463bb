"""What the benchmarks share: timing, free ports, peak memory, and the servers they start and stop."""
from __future__ import annotations

import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_chroma(path: Path, log: Path) -> tuple[subprocess.Popen, int]:
    """`chroma run` on a free port; returns (process, port) once the heartbeat answers."""
    port = free_port()
    exe = Path(sys.executable).with_name("chroma")
    proc = subprocess.Popen([str(exe), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=open(log, "wb"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"chroma server exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1):
                return proc, port
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise TimeoutError("chroma server did not start")


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


def start_ui(seeds: Path, db: Path, port: int, log_path: Path, env: dict | None = None) -> subprocess.Popen:
    """`python -m ui` in its own process group, output to `log_path`."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("QA_")} | (env or {})
    cmd = [sys.executable, "-m", "ui", "--port", str(port), "--seeds", str(seeds), "--db", str(db)]
    with open(log_path, "w") as log:
        return subprocess.Popen(cmd, cwd=REPO, env=clean, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)


def wait_until_up(url: str, proc: subprocess.Popen, log_path: Path, timeout: float = 900) -> None:
    """Return once `url` answers 200; raise with the log's tail if `proc` exits or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"server not up after {timeout}s:\n{log_path.read_text()[-3000:]}")


def stop_server(proc: subprocess.Popen) -> None:
    """SIGTERM the process group started by `start_ui`, SIGKILL after 30 s."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
