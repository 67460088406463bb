"""`qa index` on a real terminal (a pseudo-terminal with a window size, as a terminal emulator gives) and
off one: progress by files and passages with rate and time left on the terminal, nothing but the report
through a pipe or with --json (issue 26)."""
from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import shutil
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from conftest import REPO, SEEDS
from testkit.servers import clean_env

pytestmark = pytest.mark.slow


@pytest.fixture
def seeds(tmp_path) -> Path:
    """The seed article and three more files made of its paragraphs, in other orders (about 20 passages)."""
    folder = tmp_path / "seeds"
    shutil.copytree(SEEDS, folder)
    paragraphs = [p for p in next(folder.iterdir()).read_text("utf-8").split("\n") if p.strip()]
    for n in range(1, 4):
        (folder / f"notes-{n}.txt").write_text("\n\n".join(paragraphs[n:] + paragraphs[:n]), "utf-8")
    return folder


def qa_index(*args: str) -> list[str]:
    return [sys.executable, "-m", "ui.cli.main", "index", *args]


def on_terminal(argv: list[str], timeout: float = 300) -> tuple[int, str]:
    """Run `argv` with stdin, stdout and stderr on a pseudo-terminal of 120 columns; (exit code, output)."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    proc = subprocess.Popen(argv, stdin=follower, stdout=follower, stderr=follower, cwd=REPO, env=clean_env(),
                            start_new_session=True)
    os.close(follower)
    out, deadline = b"", time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 1)
            if ready:
                try:
                    data = os.read(leader, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not data:
                    break
                out += data
            elif proc.poll() is not None:
                break
        return proc.wait(timeout=60), out.decode("utf-8", errors="replace")
    finally:
        os.close(leader)
        if proc.poll() is None:
            proc.kill()


def test_progress_shows_files_passages_rate_and_time_left_on_a_terminal(seeds, tmp_path):
    code, shown = on_terminal(qa_index("--seeds", str(seeds), "--db", str(tmp_path / "db")))
    assert code == 0, shown
    assert "reading: 100%" in shown and "4/4 files" in shown, shown
    embedded = [line for line in shown.replace("\r", "\n").splitlines() if line.startswith("embedding:")]
    assert embedded and "100%" in embedded[-1] and "passages" in embedded[-1], shown
    total = int(embedded[-1].split("| ")[1].split("/")[1].split()[0])
    assert total >= 10 and f"{total}/{total} passages" in embedded[-1]
    assert "<00:00" in embedded[-1] and "passage/s" in embedded[-1], embedded[-1]  # time left, rate
    assert f"{total} chunks: 4 added" in shown
    assert "DEBUG" not in shown and "Traceback" not in shown, shown


def test_no_progress_with_json_on_a_terminal(seeds, tmp_path):
    code, shown = on_terminal(qa_index("--seeds", str(seeds), "--db", str(tmp_path / "db"), "--json"))
    assert code == 0, shown
    assert "reading" not in shown and "embedding" not in shown and "DEBUG" not in shown, shown
    report = json.loads(shown.strip().splitlines()[-1])
    assert report["files"] == 4 and report["added"] == 4


def test_no_progress_off_a_terminal(seeds, tmp_path):
    done = subprocess.run(qa_index("--seeds", str(seeds), "--db", str(tmp_path / "db")), cwd=REPO, env=clean_env(),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "reading" not in done.stderr and "embedding" not in done.stderr and "%|" not in done.stderr
    assert "DEBUG" not in done.stderr, done.stderr
    assert "4 added" in done.stdout
