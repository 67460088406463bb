"""Bursts against a real `qa serve`: its resident memory before and after 40 concurrent follow-ups and 40
streams cut mid-way (issue #25, item 5). Run by `bench/serve_memory_bench.py --bursts`; importable.

    .venv/bin/python bench/serve_memory_bench.py --bursts [--seeds DIR] [--n 40] [--rounds 3]

Each round starts a fresh server on a copy of the seeds (the index is built once, in a temp folder) and
prints the server's RSS: after start and one warm question, after each burst, and after 15 s idle. The
follow-ups are real conversations (a question, the server's own answer, a follow-up leaning on it), each
with its own history; a cut stream reads the first event and closes the connection.
"""
from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from testkit.servers import SEEDS, XI_QUESTION, clean_env, free_port, start_ui, stop_server, wait_until_up  # noqa: E402

OPENERS = ["Who is the commander of US European Command?", "What did Xi herald during his call with Putin?",
           "Which news agency filed the report?", "Who said Russia would struggle without PRC inputs?"]
FOLLOW = ["What did he tell lawmakers?", "When did he say that?", "Why?", "Who reported it?"]


def rss_mb(pid: int) -> float:
    """The server's resident memory, its children included (none are expected), in MB."""
    proc = psutil.Process(pid)
    return sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)]) / 2**20


def post(url: str, messages: list[dict], stream: bool = False, cut: bool = False) -> str:
    body = json.dumps({"model": "extractive", "messages": messages, "stream": stream}).encode()
    req = urllib.request.Request(url + "v1/chat/completions", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=600) as reply:
        if cut:
            reply.readline()  # the first event, then hang up
            return ""
        return json.loads(reply.read())["choices"][0]["message"]["content"]


def burst(n: int, work) -> None:
    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def one_round(seeds: Path, db: Path, n: int, log: Path) -> dict:
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    proc = start_ui(seeds, db, port, log, clean_env())
    try:
        wait_until_up(url, proc, log, timeout=600)
        answers = {q: post(url, [{"role": "user", "content": q}]) for q in OPENERS}  # warm, and the histories
        time.sleep(2)
        figures = {"start": rss_mb(proc.pid)}

        def follow_up(i: int) -> None:
            q = OPENERS[i % len(OPENERS)]
            post(url, [{"role": "user", "content": q}, {"role": "assistant", "content": answers[q]},
                       {"role": "user", "content": FOLLOW[i % len(FOLLOW)]}])

        burst(n, follow_up)
        figures["follow-ups"] = rss_mb(proc.pid)
        burst(n, lambda i: post(url, [{"role": "user", "content": f"{XI_QUESTION} ({i})"}], stream=True, cut=True))
        time.sleep(2)
        figures["cut streams"] = rss_mb(proc.pid)
        time.sleep(15)
        figures["idle 15 s"] = rss_mb(proc.pid)
        return figures
    finally:
        stop_server(proc)


def run(seeds: Path | None, n: int, rounds: int) -> None:
    """Build an index of `seeds` (default: the repository's), then `rounds` rounds of bursts; print medians."""
    with tempfile.TemporaryDirectory(prefix="serve-bursts-") as tmp:
        copy = Path(tmp) / "seeds"
        shutil.copytree(seeds or SEEDS, copy)
        db = Path(tmp) / "db"
        subprocess.run([sys.executable, "-m", "ui.cli.main", "index", "--seeds", str(copy), "--db", str(db)],
                       cwd=REPO, env=clean_env(), check=True, capture_output=True)
        rows = []
        for r in range(rounds):
            rows.append(one_round(copy, db, n, Path(tmp) / f"server-{r}.log"))
            print(f"round {r + 1}: " + ", ".join(f"{k} {v:.0f} MB" for k, v in rows[-1].items()), file=sys.stderr,
                  flush=True)
    print(f"qa serve RSS (MB), medians of {rounds} rounds of {n} concurrent follow-ups then {n} cut streams")
    start = statistics.median(r["start"] for r in rows)
    for key in rows[0]:
        value = statistics.median(r[key] for r in rows)
        print(f"{key:14}{value:>8.0f}{value / start:>7.2f}x")
