"""Helpers for the UI tests: the real app (`python -m ui`) on a free port, and the one chromium launch."""
from __future__ import annotations

import contextlib
import os
import shutil
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
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-quic", "--disable-sync"]
XI_QUESTION = "What did Xi herald during his call with Putin?"
XI_QUOTE = "Xi heralded a new year of growing coordination with Russia"
OFF_TOPIC = "What is the tallest mountain in Africa?"


@dataclass
class Server:
    """A running app: its URL, its (temporary) seeds and index folders, its log file."""

    url: str
    seeds: Path
    db: Path
    log: Path

    def output(self) -> str:
        """What the server printed so far."""
        return self.log.read_text("utf-8", errors="replace")


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def launch_chromium(playwright):
    """Debian's headless chromium with the flags that keep it offline and quiet."""
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


@contextlib.contextmanager
def running_server(root: Path, **env: str) -> Iterator[Server]:
    """`python -m ui` on a copy of the seeds and a fresh index under `root`, with extra QA_* `env`."""
    seeds, db, log = root / "seeds", root / "db", root / "server.log"
    shutil.copytree(SEEDS, seeds, copy_function=shutil.copyfile)
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    cmd = [sys.executable, "-m", "ui", "--port", str(port), "--seeds", str(seeds), "--db", str(db)]
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, env={**clean, **env})
    server = Server(f"http://127.0.0.1:{port}/", seeds, db, log)
    try:
        _wait_until_up(server, proc, timeout=300)
        yield server
    finally:
        _stop(proc)


def _wait_until_up(server: Server, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{server.output()}")
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(server.url, timeout=2) as resp:
                if resp.status == 200:
                    return
        time.sleep(0.5)
    raise TimeoutError(f"server not up after {timeout}s:\n{server.output()}")


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
