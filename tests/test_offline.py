"""Nothing phones home: `qa index`, `qa ask` and the web app make no non-loopback network attempt.

Two independent layers watch each subprocess:

* a `sitecustomize.py` on PYTHONPATH wraps socket connect/connect_ex/sendto, create_connection,
  getaddrinfo and gethostbyname: any non-loopback target is refused (as if offline) and logged
  with a short stack;
* when `strace` can trace here, the kernel-level `connect`/`sendto` calls of the whole process
  tree are recorded too, so code that bypasses Python's socket module (Rust, C) is caught.

Any attempt (a download, telemetry, a DNS lookup) fails the test. The offline switches the app
sets for itself (HF_HUB_OFFLINE, GRADIO_ANALYTICS_ENABLED, ...) are removed from the environment.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import REPO, SEEDS
from testkit.servers import stop_server

XI_QUESTION = "What did Xi herald during his call with Putin?"
XI_QUOTE = "Xi heralded a new year of growing coordination with Russia"
# Switches the app must set itself; inherited values would hide a leak.
SCRUB = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE", "GRADIO_ANALYTICS_ENABLED",
         "ANONYMIZED_TELEMETRY", "DO_NOT_TRACK", "HF_HUB_DISABLE_TELEMETRY", "CHROMA_TELEMETRY",
         "http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "no_proxy", "NO_PROXY")

BLOCKER = r'''
"""Test network blocker: refuse and log every non-loopback connection attempt or name lookup."""
import ipaddress, os, socket, traceback

_LOG = os.environ.get("NET_BLOCK_LOG")
_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
_BIND_ANY = {"", "0.0.0.0", "::"}


def _local(host, lookup=False):
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    host = str(host).strip("[]").split("%")[0]
    if host.lower() in _LOCAL_NAMES or (lookup and host in _BIND_ANY):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False  # a name that needs DNS
    mapped = getattr(ip, "ipv4_mapped", None)
    return ip.is_loopback or (mapped is not None and mapped.is_loopback)


def _refuse(kind, target):
    stack = "".join(traceback.format_stack(limit=12)[:-2])
    with open(_LOG, "a", encoding="utf-8") as fh:
        fh.write(f"=== pid {os.getpid()} {kind} {target!r}\n{stack}\n")
    raise OSError(101, f"network blocked by the offline test: {kind} {target!r}")


def _check_address(kind, sock, address):
    if isinstance(address, tuple) and sock.family in (socket.AF_INET, socket.AF_INET6):
        if not _local(address[0]):
            _refuse(kind, address)


_connect, _connect_ex, _sendto = socket.socket.connect, socket.socket.connect_ex, socket.socket.sendto


def connect(self, address):
    _check_address("connect", self, address)
    return _connect(self, address)


def connect_ex(self, address):
    _check_address("connect_ex", self, address)
    return _connect_ex(self, address)


def sendto(self, data, *args):
    _check_address("sendto", self, args[-1])
    return _sendto(self, data, *args)


_getaddrinfo, _create_connection = socket.getaddrinfo, socket.create_connection
_gethostbyname, _gethostbyname_ex = socket.gethostbyname, socket.gethostbyname_ex


def getaddrinfo(host, *args, **kwargs):
    if not _local(host, lookup=True):
        _refuse("getaddrinfo", host)
    return _getaddrinfo(host, *args, **kwargs)


def create_connection(address, *args, **kwargs):
    if not _local(address[0]):
        _refuse("create_connection", address)
    return _create_connection(address, *args, **kwargs)


def gethostbyname(host):
    if not _local(host, lookup=True):
        _refuse("gethostbyname", host)
    return _gethostbyname(host)


def gethostbyname_ex(host):
    if not _local(host, lookup=True):
        _refuse("gethostbyname_ex", host)
    return _gethostbyname_ex(host)


if _LOG:
    socket.socket.connect, socket.socket.connect_ex, socket.socket.sendto = connect, connect_ex, sendto
    socket.getaddrinfo, socket.create_connection = getaddrinfo, create_connection
    socket.gethostbyname, socket.gethostbyname_ex = gethostbyname, gethostbyname_ex
    with open(_LOG + ".loaded", "a") as fh:
        fh.write(f"{os.getpid()}\n")
'''

_SYSCALL = re.compile(r"^\d+\s+(connect|sendto)\((.*)$")
_INET = re.compile(r'sa_family=AF_INET6?, .*?(?:inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6, "([^"]+)"\))')


def strace_usable() -> bool:
    """True when strace exists and may trace a child here."""
    if not shutil.which("strace"):
        return False
    done = subprocess.run(["strace", "-f", "-qq", "-e", "trace=connect", "-o", os.devnull, "true"],
                          capture_output=True)
    return done.returncode == 0


STRACE = strace_usable()


class Watch:
    """The two layers for one test: the blocker's log and (if available) strace output files."""

    def __init__(self, root: Path):
        self.dir = root / "blocker"
        self.dir.mkdir()
        (self.dir / "sitecustomize.py").write_text(BLOCKER, "utf-8")
        self.log = root / "blocked.log"
        self.traces: list[Path] = []
        self.root = root

    def env(self, **extra: str) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("QA_") and k not in SCRUB}
        return env | {"PYTHONPATH": str(self.dir), "NET_BLOCK_LOG": str(self.log),
                      "HF_HOME": str(self.root / "hf-home"), "PYTHONUNBUFFERED": "1"} | extra

    def argv(self, *args) -> list[str]:
        cmd = [sys.executable, *map(str, args)]
        if not STRACE:
            return cmd
        trace = self.root / f"strace-{len(self.traces)}.txt"
        self.traces.append(trace)
        return ["strace", "-f", "-qq", "--seccomp-bpf", "-e", "trace=connect,sendto", "-e", "signal=none",
                "-o", str(trace), *cmd]

    def run(self, *args, timeout: float = 300, **extra) -> subprocess.CompletedProcess:
        return subprocess.run(self.argv(*args), env=self.env(**extra), cwd=REPO, capture_output=True, text=True,
                              timeout=timeout)

    def blocked(self) -> str:
        """What the Python layer refused (empty when nothing was attempted)."""
        return self.log.read_text("utf-8") if self.log.exists() else ""

    def kernel_attempts(self) -> list[str]:
        """Non-loopback AF_INET/AF_INET6 connect/sendto syscalls seen by strace."""
        bad = []
        for trace in self.traces:
            for line in trace.read_text("utf-8", errors="replace").splitlines():
                m = _SYSCALL.match(line)
                if not m or not (addr := _INET.search(m.group(2))):
                    continue
                host = addr.group(1) or addr.group(2)
                if not (host.startswith("127.") or host in ("::1", "0.0.0.0", "::", "::ffff:127.0.0.1")):
                    bad.append(line)
        return bad

    def assert_loaded(self) -> None:
        assert (self.log.parent / (self.log.name + ".loaded")).exists(), "the blocker was not imported"

    def assert_silent(self) -> None:
        self.assert_loaded()
        assert self.blocked() == "", "network attempts (Python layer):\n" + self.blocked()[:5000]
        assert self.kernel_attempts() == [], "network attempts (kernel layer):\n" + "\n".join(
            self.kernel_attempts()[:20])


@pytest.fixture
def watch(tmp_path) -> Watch:
    return Watch(tmp_path)


PROBE = r'''
import socket, sys, urllib.request
results = []
try:
    urllib.request.urlopen("http://example.com/", timeout=2)
    results.append("urlopen went out")
except OSError:
    results.append("urlopen refused")
try:
    socket.create_connection(("192.0.2.1", 80), timeout=1)
    results.append("create_connection went out")
except OSError:
    results.append("create_connection refused")
try:
    socket.getaddrinfo("example.org", 443)
    results.append("lookup went out")
except OSError:
    results.append("lookup refused")
server = socket.socket(); server.bind(("127.0.0.1", 0)); server.listen(1)
client = socket.create_connection(server.getsockname(), timeout=2)
results.append("loopback ok")
raw = socket._socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # below the Python wrapper: only strace sees it
raw.setblocking(False)
raw.connect_ex(("192.0.2.1", 9))
raw.close()
print(" | ".join(results))
'''


def test_the_watchers_catch_attempts_and_allow_loopback(watch):
    done = watch.run("-c", PROBE, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ("urlopen refused | create_connection refused | lookup refused | "
                                  "loopback ok")
    log = watch.blocked()
    assert "create_connection ('example.com', 80)" in log and "create_connection ('192.0.2.1', 80)" in log
    assert "getaddrinfo 'example.org'" in log
    if STRACE:
        kernel = watch.kernel_attempts()
        assert len(kernel) == 1 and "192.0.2.1" in kernel[0], kernel


def test_index_and_ask_make_no_network_attempt(watch, tmp_path):
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds, copy_function=shutil.copyfile)
    (seeds / "notes.md").write_text("---\ntitle: Harbour notes\n---\n\n" + "The ferry leaves at dawn. " * 40, "utf-8")
    db = tmp_path / "db"
    indexed = watch.run("-m", "ui.cli.main", "index", "--seeds", seeds, "--db", db, "--json")
    assert indexed.returncode == 0, indexed.stderr[-3000:]
    assert json.loads(indexed.stdout)["files"] == 2
    asked = watch.run("-m", "ui.cli.main", "ask", XI_QUESTION, "--seeds", seeds, "--db", db, "--json")
    assert asked.returncode == 0, asked.stderr[-3000:]
    answer = json.loads(asked.stdout)
    assert not answer["abstained"] and XI_QUOTE in answer["citations"][0]["quote"]
    watch.assert_silent()


LIBRARY = r'''
import json, os
from index.embedding.embedders import SentenceTransformerEmbedder
vectors = SentenceTransformerEmbedder().embed(["The ferry leaves at dawn."])
print(json.dumps({"dimension": int(vectors.shape[1]),
                  "set": sorted(k for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE") if k in os.environ)}))
'''


def test_the_library_loads_the_model_offline_and_leaves_the_callers_environment_alone(watch):
    """From Python (no `qa` entry point), the model loads from its folder with no network attempt, and the
    process that imported us gets no HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE written into its environment."""
    done = watch.run("-c", LIBRARY, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.splitlines()[-1])
    assert out == {"dimension": 384, "set": []}
    watch.assert_silent()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_web_app_startup_and_an_api_question_make_no_network_attempt(watch, tmp_path):
    from gradio_client import Client

    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds, copy_function=shutil.copyfile)
    port = _free_port()
    log = open(tmp_path / "server.log", "w")
    proc = subprocess.Popen(watch.argv("-m", "ui", "--port", port, "--seeds", seeds, "--db", tmp_path / "db"),
                            env=watch.env(), cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 300
        while True:
            assert proc.poll() is None, (tmp_path / "server.log").read_text()
            assert time.monotonic() < deadline, "server did not come up"
            try:
                with urllib.request.urlopen(url, timeout=2) as resp:
                    page = resp.read().decode("utf-8", "replace")
                    break
            except OSError:
                time.sleep(0.5)
        assert "fonts.googleapis.com" not in page  # the page itself asks no third party for fonts
        result = Client(url, verbose=False).predict(XI_QUESTION, 4, api_name="/ask")
        assert not result["abstained"] and XI_QUOTE in result["citations"][0]["quote"]
        time.sleep(2)  # anything sent after answering (telemetry) still gets caught
    finally:
        stop_server(proc)
        log.close()
    watch.assert_silent()
