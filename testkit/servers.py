"""Running the product for tests and benchmarks: free ports, the web app or a Chroma server in their own
processes, and Debian's chromium for Playwright. Shared by `tests/` and `bench/` (neither imports the other).
"""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"
EVALSETS = REPO / "qa" / "evalsets"
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags chromium tries to reach Google's hosts at start.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-quic", "--disable-sync"]
XI_QUESTION = "What did Xi herald during his call with Putin?"
XI_QUOTE = "Xi heralded a new year of growing coordination with Russia"
OFF_TOPIC = "What is the tallest mountain in Africa?"


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_env(env: dict | None = None) -> dict:
    """This process's environment without any QA_* variable, plus `env`."""
    return {k: v for k, v in os.environ.items() if not k.startswith("QA_")} | (env or {})


def launch_chromium(playwright):
    """Debian's headless chromium with the flags that keep it offline and quiet."""
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


def start_ui(seeds: Path, db: Path, port: int, log_path: Path, env: dict | None = None) -> subprocess.Popen:
    """`python -m ui` in its own process group (QA_* cleared, then `env`), output to `log_path`."""
    cmd = [sys.executable, "-m", "ui", "--port", str(port), "--seeds", str(seeds), "--db", str(db)]
    with open(log_path, "w") as log:
        return subprocess.Popen(cmd, cwd=REPO, env=clean_env(env), stdout=log, stderr=subprocess.STDOUT,
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
    """SIGTERM the process group started by `start_ui` or `start_chroma`, SIGKILL after 30 s."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def start_chroma(path: Path, log: Path) -> tuple[subprocess.Popen, int]:
    """`chroma run` on a free port; returns (process, port) once the heartbeat answers."""
    port = free_port()
    exe = Path(sys.executable).with_name("chroma")
    proc = subprocess.Popen([str(exe), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=open(log, "wb"), stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"chroma server exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1):
                return proc, port
        except OSError:
            time.sleep(0.2)
    stop_server(proc)
    raise TimeoutError("chroma server did not start")


@dataclass
class Server:
    """A running app: its URL, its (temporary) seeds and index folders, its log file, its process."""

    url: str
    seeds: Path
    db: Path
    log: Path
    proc: subprocess.Popen | None = None

    def output(self) -> str:
        """What the server printed so far."""
        return self.log.read_text("utf-8", errors="replace")


@contextlib.contextmanager
def running_server(root: Path, **env: str) -> Iterator[Server]:
    """`python -m ui` on a copy of the seeds and a fresh index under `root`, with extra QA_* `env`."""
    seeds, db, log = root / "seeds", root / "db", root / "server.log"
    shutil.copytree(SEEDS, seeds, copy_function=shutil.copyfile)
    port = free_port()
    proc = start_ui(seeds, db, port, log, env)
    server = Server(f"http://127.0.0.1:{port}/", seeds, db, log, proc)
    try:
        wait_until_up(server.url, proc, log, timeout=300)
        yield server
    finally:
        stop_server(proc)
