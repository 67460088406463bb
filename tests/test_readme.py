"""Every command and code block in README.md, executed as a newcomer would run it.

Fenced ```bash blocks run line by line in a scratch folder holding a copy of ./seeds (so nothing touches
the checkout's index); long-running commands (a server, a watcher) are started, checked to be up, and
stopped. Fenced ```python blocks run as scripts in the same folder, with a `qa serve` running for the
ones that talk to it. `./run tests` runs the layer test only: running the whole suite from inside itself
would recurse. A README example that fails fails this test.
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import REPO, SEEDS
from testkit.servers import free_port, stop_server

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent
FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)
PORT_FLAG = re.compile(r"--port\s+\d+")


def blocks(kind: str) -> list[str]:
    """The README's fenced blocks of one kind, in order."""
    return [body for info, body in FENCE.findall((REPO / "README.md").read_text("utf-8")) if info == kind]


def commands() -> list[str]:
    """Every command line of the bash blocks, comments removed."""
    out = []
    for body in blocks("bash"):
        for line in body.splitlines():
            words = shlex.split(line, comments=True)
            if words:
                out.append(shlex.join(words))
    return out


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    """A folder where a newcomer would work: a copy of seeds/ and nothing else."""
    root = tmp_path_factory.mktemp("readme")
    shutil.copytree(SEEDS, root / "seeds", copy_function=shutil.copyfile)
    return root


def env() -> dict:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    return clean | {"PATH": f"{BIN}{os.pathsep}{clean.get('PATH', '')}"}


def wait_for(url: str, proc: subprocess.Popen, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"exited with {proc.returncode}: {proc.stdout.read()[-2000:]}"
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(url)


def background(command: str, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(command, shell=True, cwd=cwd, env=env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)


def run_server(command: str, cwd: Path) -> None:
    """Start a server command on a free port, wait until its page answers, stop it."""
    port = free_port()
    command = PORT_FLAG.sub(f"--port {port}", command) if "--port" in command else f"{command} --port {port}"
    proc = background(command, cwd)
    try:
        wait_for(f"http://127.0.0.1:{port}/", proc)
    finally:
        stop_server(proc)


def run_watch(command: str, cwd: Path) -> None:
    """Start `qa index --watch`, wait until it says it is watching, stop it."""
    proc = background(command, cwd)
    try:
        deadline = time.monotonic() + 300
        seen = ""
        while "watching" not in seen:
            assert time.monotonic() < deadline and proc.poll() is None, seen
            seen += proc.stdout.readline()
    finally:
        stop_server(proc)


def run_once(command: str, cwd: Path) -> None:
    done = subprocess.run(command, shell=True, cwd=cwd, env=env(), capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"{command}\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"


def test_every_readme_command_works(scratch):
    ran = []
    for command in commands():
        if command.startswith("./run tests"):
            run_once(f"{command} -q -p no:cacheprovider tests/test_layers.py", REPO)
        elif command.startswith("./run chat"):
            run_server(command, REPO)
        elif command.startswith(("qa serve", "python -m ui")):
            run_server(command, scratch)
        elif "--watch" in command:
            run_watch(command, scratch)
        else:
            run_once(command, scratch)
        ran.append(command)
    assert any(c.startswith("qa ask") for c in ran) and any(c.startswith("./run chat") for c in ran), ran


def test_every_readme_python_block_works(scratch):
    run_once("qa index", scratch)
    port = free_port()
    server = background(f"qa serve --port {port}", scratch)
    try:
        wait_for(f"http://127.0.0.1:{port}/", server)
        for n, code in enumerate(blocks("python")):
            script = scratch / f"readme_{n}.py"
            script.write_text(code.replace("127.0.0.1:7860", f"127.0.0.1:{port}"), "utf-8")
            run_once(f"python {script.name}", scratch)
    finally:
        stop_server(server)
    assert len(blocks("python")) >= 2
