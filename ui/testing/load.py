"""A load scenario: N concurrent API users against the real web app, with one rebuild in the middle.
Run by `bench/load_bench.py` (long) and `tests/test_load_short.py` (4 users, 10 s).

Starts `python -m ui` on a free port over a temp copy of ./seeds plus squad-dev corpus files
(vendored in qa/evalsets) and a fresh index. Each user is its own `gradio_client.Client`
calling the public `/ask` endpoint in a loop with seed-dev and squad-dev questions (seeded RNG).
Half way through, a new document is written into the seeds copy and the app's own "Rebuild index"
event is triggered over Gradio's queue protocol (the same request the browser's button sends);
afterwards the new document's fact must be answerable. Every citation is checked against the file:
`quote == file_text[start:end]`.

Prints throughput, latency percentiles (overall, during the rebuild, outside it) and error counts.
Exits 1 when any request failed or any citation was wrong.
"""
from __future__ import annotations

import json
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from index.load import load
from qa.metrics import percentile
from ui.testing import EVALSETS as EVAL, REPO, free_port, start_ui, stop_server, wait_until_up

SEED_QUESTIONS = ["What did Xi herald during his call with Putin?",
                  "Who said Russia would struggle to sustain its war effort without PRC inputs?",
                  "Which kind of manufacturing is Moscow expanding most ambitiously since the Soviet era?"]
NEW_FILE = "zz_added_during_load.txt"
NEW_FACT = ("date 2024-05-01 The Quillmere lighthouse was painted teal in 1897 by its keeper, Odile Franck. "
            "Fishing crews said the colour could be seen from the far side of the bay.\n")
NEW_QUESTION = "What colour was the Quillmere lighthouse painted?"
# ~40 more passages after the fact, so the rebuild embeds for a while under load.
NEW_FILLER = "".join(f"\nHarbour log entry {n}: " + " ".join(
    f"the {w} boat returned with {n + i} crates of salted herring and {w} nets" for i, w in
    enumerate(["red", "grey", "blue", "green", "black", "white", "brown", "yellow", "long", "short", "old"]))
    + ".\n" for n in range(40))
SQUAD_ORDER = ["1973_oil_crisis.txt", "Normans.txt", "Packet_switching.txt", "Harvard_University.txt",
               "Computational_complexity_theory.txt", "Steam_engine.txt", "Huguenot.txt", "European_Union_law.txt"]


@dataclass
class Result:
    """One request: when it started and ended (monotonic seconds), and what came back."""

    user: int
    question: str
    start: float
    end: float
    error: str | None = None
    abstained: bool = False
    bad_citations: list = field(default_factory=list)


def questions(seeds: Path, squad_files: list[str]) -> list[str]:
    """seed-dev questions (or a built-in few) plus answerable squad-dev questions about the copied files."""
    out = []
    seed_dev = EVAL / "seed-dev" / "questions.jsonl"
    rows = [json.loads(line) for line in seed_dev.read_text("utf-8").splitlines()] if seed_dev.exists() else []
    out += [r["question"] for r in rows] or SEED_QUESTIONS
    squad = EVAL / "squad-dev" / "questions.jsonl"
    if squad_files and squad.exists():
        for line in squad.read_text("utf-8").splitlines():
            row = json.loads(line)
            if not row["unanswerable"] and row["evidence"] and row["evidence"][0]["source"] in squad_files:
                out.append(row["question"])
    return out


def trigger_rebuild(url: str, timeout: float = 900) -> str:
    """Fire the Documents tab's "Rebuild index" event through Gradio's queue, as the browser does.

    Returns the status Markdown the app shows; raises if the event fails.
    """
    base = url.rstrip("/")
    with urllib.request.urlopen(base + "/config", timeout=30) as resp:
        config = json.load(resp)
    prefix = config.get("api_prefix", "/gradio_api")
    button = next(c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == "rebuild")
    dep = next(d for d in config["dependencies"] if [button, "click"] in d["targets"])
    session = uuid.uuid4().hex[:12]
    body = json.dumps({"data": [], "event_data": None, "fn_index": dep["id"], "trigger_id": button,
                       "session_hash": session}).encode()
    join = urllib.request.Request(base + prefix + "/queue/join", data=body,
                                  headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(join, timeout=30) as resp:
        json.load(resp)
    with urllib.request.urlopen(base + prefix + f"/queue/data?session_hash={session}", timeout=timeout) as stream:
        for raw in stream:
            line = raw.decode("utf-8", "replace").strip()
            if not line.startswith("data:"):
                continue
            msg = json.loads(line[5:])
            if msg.get("msg") == "process_completed":
                if not msg.get("success"):
                    raise RuntimeError(f"rebuild event failed: {msg.get('output')}")
                return msg["output"]["data"][0]
    raise RuntimeError("the rebuild event stream ended without a result")


class Files:
    """The seed files' texts (as citations quote them), loaded on first use."""

    def __init__(self, seeds: Path):
        self.seeds, self.cache, self.lock = seeds, {}, threading.Lock()

    def text(self, source: str) -> str:
        with self.lock:
            if source not in self.cache:
                self.cache[source] = load(self.seeds / source, source).text
            return self.cache[source]


def user_loop(n: int, url: str, qs: list[str], deadline: float, files: Files, out: list, seed: int) -> None:
    from gradio_client import Client

    rng = random.Random(seed * 1000 + n)
    try:
        client = Client(url, verbose=False)
    except Exception as exc:  # counted as a failed request
        now = time.monotonic()
        out.append(Result(n, "(connect)", now, now, f"{type(exc).__name__}: {exc}"[:300]))
        return
    while time.monotonic() < deadline:
        q = rng.choice(qs)
        result = Result(n, q, time.monotonic(), 0.0)
        try:
            got = client.predict(q, 4, api_name="/ask")
            result.abstained = bool(got["abstained"])
            for c in got["citations"]:
                if files.text(c["source"])[c["start"]:c["end"]] != c["quote"]:
                    result.bad_citations.append((c["source"], c["start"], c["end"]))
        except Exception as exc:
            result.error = f"{type(exc).__name__}: {exc}"[:300]
        result.end = time.monotonic()
        out.append(result)


def run(users: int = 16, duration: float = 60, squad_files: int = 8, rebuild_at: float | None = None,
        workdir: Path | None = None, seed: int = 0, quiet: bool = False) -> dict:
    """Run the benchmark; returns the summary dict (also printed unless `quiet`)."""
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, file=sys.stderr, flush=True))
    own_tmp = workdir is None
    work = Path(tempfile.mkdtemp(prefix="load-bench-")) if own_tmp else workdir
    seeds, db, log_path = work / "seeds", work / "db", work / "server.log"
    shutil.copytree(REPO / "seeds", seeds, copy_function=shutil.copyfile)
    corpus = EVAL / "squad-dev" / "corpus"
    chosen = [f for f in SQUAD_ORDER if (corpus / f).exists()][:squad_files] if corpus.is_dir() else []
    for name in chosen:
        shutil.copyfile(corpus / name, seeds / name)
    qs = questions(seeds, chosen)
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    say(f"starting the app on {url} with {1 + len(chosen)} files (it builds the index first) ...")
    started = time.monotonic()
    proc = start_ui(seeds, db, port, log_path)
    try:
        wait_until_up(url, proc, log_path)
        startup = time.monotonic() - started
        say(f"up after {startup:.1f}s; {users} users for {duration:.0f}s, {len(qs)} questions")
        files, results = Files(seeds), []
        t0 = time.monotonic()
        deadline = t0 + duration
        threads = [threading.Thread(target=user_loop, args=(n, url, qs, deadline, files, results, seed))
                   for n in range(users)]
        for t in threads:
            t.start()
        time.sleep(duration / 2 if rebuild_at is None else rebuild_at)
        (seeds / NEW_FILE).write_text(NEW_FACT + NEW_FILLER, "utf-8")
        say("rebuild triggered")
        r0 = time.monotonic()
        try:
            status, rebuild_error = trigger_rebuild(url), None
        except Exception as exc:
            status, rebuild_error = "", f"{type(exc).__name__}: {exc}"[:500]
        r1 = time.monotonic()
        say(f"rebuild done in {r1 - r0:.1f}s: {status.splitlines()[0] if status else rebuild_error}")
        for t in threads:
            t.join()
        elapsed = time.monotonic() - t0
        from gradio_client import Client

        after = Client(url, verbose=False).predict(NEW_QUESTION, 4, api_name="/ask")
        new_ok = (not after["abstained"] and "teal" in after["answer"]
                  and after["citations"][0]["source"] == NEW_FILE)
    finally:
        stop_server(proc)
    summary = summarise(results, users, elapsed, (r0 - t0, r1 - t0), startup)
    summary.update(rebuild_seconds=round(r1 - r0, 2), rebuild_status=status.splitlines()[0] if status else "",
                   rebuild_error=rebuild_error, new_file_answered=new_ok, squad_files=len(chosen),
                   server_log=str(log_path))
    if not quiet:
        print_summary(summary)
    if own_tmp and summary["errors"] == 0 and not rebuild_error:
        shutil.rmtree(work, ignore_errors=True)
    return summary


def summarise(results: list[Result], users: int, elapsed: float, rebuild: tuple[float, float], startup: float) -> dict:
    ok = [r for r in results if r.error is None]
    lat = [r.end - r.start for r in ok]
    t0 = min((r.start for r in results), default=0.0)
    r0, r1 = t0 + rebuild[0], t0 + rebuild[1]
    during = [r.end - r.start for r in ok if r.end > r0 and r.start < r1]
    outside = [r.end - r.start for r in ok if not (r.end > r0 and r.start < r1)]
    errors = [r for r in results if r.error]
    return {
        "users": users, "seconds": round(elapsed, 1), "startup_seconds": round(startup, 1),
        "requests": len(results), "ok": len(ok), "errors": len(errors),
        "error_samples": sorted({r.error for r in errors})[:5],
        "bad_citations": sum(len(r.bad_citations) for r in results),
        "abstained": sum(r.abstained for r in ok),
        "throughput_rps": round(len(ok) / elapsed, 2) if elapsed else 0.0,
        "p50_ms": round(percentile(lat, 50) * 1000), "p95_ms": round(percentile(lat, 95) * 1000),
        "max_ms": round(max(lat, default=0) * 1000), "mean_ms": round(statistics.mean(lat) * 1000) if lat else 0,
        "during_rebuild": {"n": len(during), "p50_ms": round(percentile(during, 50) * 1000),
                           "p95_ms": round(percentile(during, 95) * 1000)},
        "outside_rebuild": {"n": len(outside), "p50_ms": round(percentile(outside, 50) * 1000),
                            "p95_ms": round(percentile(outside, 95) * 1000)},
    }


def print_summary(s: dict) -> None:
    rows = [("", "requests", "p50 ms", "p95 ms"),
            ("all answered", str(s["ok"]), str(s["p50_ms"]), str(s["p95_ms"])),
            ("overlapping the rebuild", str(s["during_rebuild"]["n"]), str(s["during_rebuild"]["p50_ms"]),
             str(s["during_rebuild"]["p95_ms"])),
            ("outside the rebuild", str(s["outside_rebuild"]["n"]), str(s["outside_rebuild"]["p50_ms"]),
             str(s["outside_rebuild"]["p95_ms"]))]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    print(f"{s['users']} users for {s['seconds']}s against python -m ui "
          f"(seeds + {s['squad_files']} squad-dev files; app startup incl. index build {s['startup_seconds']}s)")
    for n, r in enumerate(rows):
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
        if n == 0:
            print("  ".join("-" * w for w in widths))
    print(f"throughput {s['throughput_rps']} answers/s; max {s['max_ms']} ms; abstained {s['abstained']}; "
          f"errors {s['errors']}; wrong citations {s['bad_citations']}")
    print(f"rebuild: {s['rebuild_seconds']}s, {s['rebuild_status'] or s['rebuild_error']}; "
          f"new file answered afterwards: {s['new_file_answered']}")
    for e in s["error_samples"]:
        print(f"  error: {e}")
