"""Ctrl-C on `qa serve`: a terminal sends SIGINT to the whole foreground process group; the server says
"interrupted" and exits with 130, idle, while answering, and when the user presses Ctrl-C twice; never an
abort ("terminate called without an active exception", SIGABRT) or a crash of native threads at exit."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request

import pytest

from testkit.servers import REPO, SEEDS, XI_QUESTION, clean_env, free_port, wait_until_up


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    root = tmp_path_factory.mktemp("interrupt")
    shutil.copytree(SEEDS, root / "seeds")
    done = subprocess.run([sys.executable, "-m", "ui.cli.main", "index", "--seeds", root / "seeds", "--db", root / "db"],
                          cwd=REPO, env=clean_env(), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return root


def ask_streaming(url: str, started: threading.Event) -> None:
    body = json.dumps({"model": "extractive", "stream": True,
                       "messages": [{"role": "user", "content": XI_QUESTION}]}).encode()
    request = urllib.request.Request(url + "v1/chat/completions", data=body,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:
            started.set()
            reply.read()
    except OSError:
        pass  # the server went away mid-answer, as it should


def serve_and_interrupt(root, when: str) -> subprocess.CompletedProcess:
    port = free_port()
    log = root / f"serve-{when}.log"
    # SIGINT at its default in the child, as a terminal's shell leaves it (a background job ignores it)
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "ui.cli.main", "serve", "--seeds", root / "seeds", "--db",
                                 root / "db", "--port", str(port)], cwd=REPO, env=clean_env(), stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_up(url, proc, log, timeout=300)
        if when == "answering":
            started = threading.Event()
            for _ in range(3):
                threading.Thread(target=ask_streaming, args=(url, started), daemon=True).start()
            started.wait(60)
        else:
            time.sleep(1)
        os.killpg(proc.pid, signal.SIGINT)
        if when == "twice":
            time.sleep(0.2)
            os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return subprocess.CompletedProcess(proc.args, proc.returncode, log.read_text("utf-8", "replace"), "")


@pytest.mark.slow
@pytest.mark.parametrize("when", ["idle", "answering", "twice", "answering-again", "idle-again"])
def test_ctrl_c_on_serve_exits_130(index, when):
    done = serve_and_interrupt(index, when.removesuffix("-again"))
    assert done.returncode == 130, (done.returncode, done.stdout[-3000:])
    assert done.stdout.rstrip().endswith("interrupted"), done.stdout[-3000:]
    assert "terminate called" not in done.stdout and "Traceback" not in done.stdout, done.stdout[-3000:]
