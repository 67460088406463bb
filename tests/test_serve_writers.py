"""Serving survives any writer: a live `qa serve` with 4 API users while the index is rebuilt by
`qa index --rebuild` and `qa index` in other processes, by `qa index --watch`, and by the app's own
Rebuild button. No request fails, the server answers each writer's new document right afterwards,
and in the end it holds no file of an older generation.

Before generations, the CLI rebuild broke the server for good: 305 of 872 requests failed ("Error
creating hnsw segment reader: Nothing found on disk") and a fresh client kept failing until a restart.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from gradio_client import Client

from index.generations import generation
from index.settings import IndexSettings
from testkit import load
from testkit.servers import REPO, clean_env, running_server

pytestmark = pytest.mark.slow

WATCHED = ("zz_watched.txt", "date 2024-05-04 Marisol Ventura designed the suspension bridge over the Tolen "
           "river in 1952.\n", "Who designed the suspension bridge over the Tolen river?", "Marisol Ventura")


def held_files(pid: int, db) -> list[str]:
    """Files under `db` that process `pid` has open."""
    out = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith(str(db)):
            out.append(target)
    return out


def watch_writer(url: str, seeds, db) -> dict:
    """`qa index --watch`: once it watches, a new document is written; wait for its publish and answer."""
    name, text, question, expected = WATCHED
    cmd = [sys.executable, "-m", "ui.cli.main", "index", "--watch", "--seeds", str(seeds), "--db", str(db)]
    proc = subprocess.Popen(cmd, cwd=REPO, env=clean_env() | {"PYTHONFAULTHANDLER": "1"}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    event = {"kind": "watch", "start": time.monotonic(), "error": None}
    rest: list[str] = []
    try:
        for line in proc.stderr:
            if line.startswith("watching"):
                break
        # drained, so that a full pipe never blocks the watcher's progress lines
        threading.Thread(target=lambda: rest.extend(proc.stderr), daemon=True).start()
        settings = IndexSettings(db_dir=db)
        before = generation.stamp(settings)
        (seeds / name).write_text(text, "utf-8")
        deadline = time.monotonic() + 600
        while generation.stamp(settings) == before:
            assert proc.poll() is None and time.monotonic() < deadline, f"the watcher did not publish: {rest[-5:]}"
            time.sleep(0.1)
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGABRT)  # faulthandler prints every thread's stack to stderr
            proc.wait(timeout=30)
            time.sleep(1)
            raise AssertionError("the watcher did not stop on Ctrl-C:\n" + "".join(rest[-80:])) from None
    event["end"] = time.monotonic()
    after = Client(url, verbose=False).predict(question, 4, api_name="/ask")
    event["answered"] = not after["abstained"] and expected in after["answer"]
    return event


def test_every_kind_of_writer_against_a_live_server(tmp_path):
    with running_server(tmp_path) as server:
        files, results = load.Files(server.seeds), []
        stop_at = [time.monotonic() + 3600]
        qs = load.questions(server.seeds, [])
        users = [threading.Thread(target=load.user_loop, args=(n, server.url, qs, stop_at, files, results, 0))
                 for n in range(4)]
        for user in users:
            user.start()
        try:
            time.sleep(3)
            events = [load.run_writer(kind, server.url, server.seeds, server.db, tmp_path / "writers.log")
                      for kind in ("cli-rebuild", "cli")]
            events.append(watch_writer(server.url, server.seeds, server.db))
            events.append(load.run_writer("ui", server.url, server.seeds, server.db, tmp_path / "writers.log"))
            time.sleep(3)
        finally:
            stop_at[0] = 0
            for user in users:
                user.join()
        held = held_files(server.proc.pid, server.db)
    failed = [r.error for r in results if r.error]
    print(f"{len(results)} requests, {len(failed)} failed; writers: "
          + ", ".join(f"{e['kind']} {e['end'] - e['start']:.1f}s" for e in events))
    assert not failed, sorted(set(failed))[:5]
    assert len(results) > 20 and not [r for r in results if r.bad_citations]
    for e in events:
        assert e["error"] is None and e["answered"], e
    live = generation.read(IndexSettings(db_dir=server.db)).live
    stale = [p for p in held if f"/{generation.PREFIX}" in p and live.name not in p]
    assert not stale, f"the server still holds files of older generations: {stale}"
