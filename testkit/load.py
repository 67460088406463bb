"""A load scenario: N concurrent API users against the real web app while writers rebuild the index.
Run by `bench/load_bench.py` (long), `tests/test_load_short.py` (4 users, 10 s) and
`tests/test_serve_writers.py` (every kind of writer).

Starts `python -m ui` on a free port over a temp copy of ./seeds plus squad-dev corpus files
(vendored in qa/evalsets) and a fresh index. Each user is its own `gradio_client.Client`
calling the public `/ask` endpoint in a loop with seed-dev and squad-dev questions (seeded RNG).
The writers run one after another, spread over the run; before each, a new document is written into
the seeds copy, and afterwards the server must answer its fact (it switched to the new generation):
* `ui`: the app's own "Rebuild index" event over Gradio's queue protocol (what the button sends);
* `cli-rebuild`: `qa index --rebuild` in another process; `cli`: an incremental `qa index` there.
A thread watches the generation pointer for the moments a build published. Every citation is checked
against the file: `quote == file_text[start:end]`.

Prints throughput, latency percentiles (overall, while a writer ran, in the seconds after a publish,
outside both) and error counts. Exits 1 when any request failed or any citation was wrong.
"""
from __future__ import annotations

import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from index.generations import generation
from index.ingest.load import load
from index.settings import IndexSettings
from qa.evaluation.metrics import percentile
from testkit.servers import EVALSETS as EVAL, REPO, clean_env, free_port, start_ui, stop_server, wait_until_up

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
# What each writer adds before it runs, and the question that must find it afterwards.
WRITER_FILES = {
    "ui": (NEW_FILE, NEW_FACT + NEW_FILLER, NEW_QUESTION, "teal"),
    "cli-rebuild": ("zz_cli_rebuild.txt", "date 2024-05-02 The Varnholt ferry crossing was closed in 1931 after "
                    "the pier collapsed in a winter storm.\n", "When was the Varnholt ferry crossing closed?", "1931"),
    "cli": ("zz_cli_incremental.txt", "date 2024-05-03 The Ostrava glassworks exported cobalt-blue bottles to "
            "Lisbon from 1874.\n", "What did the Ostrava glassworks export to Lisbon?", "cobalt-blue"),
}
WRITERS = tuple(WRITER_FILES)
SWITCH_SECONDS = 2.0  # requests starting this soon after a publish count as "at the switch"
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


def user_loop(n: int, url: str, qs: list[str], stop_at: list[float], files: Files, out: list, seed: int) -> None:
    """One API user asking questions until `stop_at[0]` (a list: the run may extend it)."""
    from gradio_client import Client

    rng = random.Random(seed * 1000 + n)
    try:
        client = Client(url, verbose=False)
    except Exception as exc:  # counted as a failed request
        now = time.monotonic()
        out.append(Result(n, "(connect)", now, now, f"{type(exc).__name__}: {exc}"[:300]))
        return
    while time.monotonic() < stop_at[0]:
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


class Publishes:
    """Watches the generation pointer of an index in a thread: the moments a build published."""

    def __init__(self, db: Path):
        self.settings = IndexSettings(db_dir=db)
        self.times: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        last = generation.stamp(self.settings)
        while not self._stop.wait(0.05):
            now = generation.stamp(self.settings)
            if now != last:
                self.times.append(time.monotonic())
                last = now

    def __enter__(self) -> "Publishes":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def cli_index(seeds: Path, db: Path, *args: str, log: Path | None = None, timeout: float = 1800):
    """`qa index --seeds S --db D ARGS` in its own process (QA_* cleared), as a user would run it."""
    cmd = [sys.executable, "-m", "ui.cli.main", "index", "--seeds", str(seeds), "--db", str(db), *args]
    done = subprocess.run(cmd, cwd=REPO, env=clean_env(), capture_output=True, text=True, timeout=timeout)
    if log is not None:
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(f"$ qa index {' '.join(args)}\n{done.stdout}{done.stderr}\n")
    if done.returncode:
        raise RuntimeError(f"qa index {' '.join(args)} exited {done.returncode}: {done.stderr.strip()[-500:]}")
    return done.stdout


def run_writer(kind: str, url: str, seeds: Path, db: Path, log: Path) -> dict:
    """Add the writer's document, run the writer, then ask the server for the document's fact."""
    from gradio_client import Client

    name, text, question, expected = WRITER_FILES[kind]
    (seeds / name).write_text(text, "utf-8")
    event = {"kind": kind, "start": time.monotonic(), "status": "", "error": None}
    try:
        if kind == "ui":
            event["status"] = trigger_rebuild(url)
        else:
            event["status"] = cli_index(seeds, db, *(["--rebuild"] if kind == "cli-rebuild" else []), log=log)
    except Exception as exc:
        event["error"] = f"{type(exc).__name__}: {exc}"[:500]
    event["end"] = time.monotonic()
    try:
        after = Client(url, verbose=False).predict(question, 4, api_name="/ask")
    except Exception as exc:  # the server no longer answers: reported, the run goes on
        event["error"] = event["error"] or f"asked afterwards: {type(exc).__name__}: {exc}"[:500]
        event["answered"] = False
        return event
    event["answered"] = (not after["abstained"] and expected in after["answer"]
                         and after["citations"][0]["source"] == name)
    return event


def run_writers(writers, url, seeds, db, work, t0, duration, rebuild_at, say) -> list[dict]:
    """The writers one after another, the first at `rebuild_at` (else spread evenly over `duration`)."""
    events = []
    for i, kind in enumerate(writers):
        at = (rebuild_at or duration / (len(writers) + 1)) + i * duration / (len(writers) + 1)
        time.sleep(max(0.0, t0 + at - time.monotonic()))
        say(f"writer {kind} started")
        e = run_writer(kind, url, seeds, db, work / "writers.log")
        events.append(e)
        say(f"writer {kind} done in {e['end'] - e['start']:.1f}s: "
            f"{e['status'].strip().splitlines()[0] if e['status'].strip() else e['error']}; "
            f"answered afterwards: {e['answered']}")
    return events


def run(users: int = 16, duration: float = 60, squad_files: int = 8, rebuild_at: float | None = None,
        workdir: Path | None = None, seed: int = 0, quiet: bool = False, writers: tuple[str, ...] = ("ui",)) -> dict:
    """Run the scenario; returns the summary dict (also printed unless `quiet`). The writers start at even
    intervals (the first at `rebuild_at` seconds if given), one after another; the users keep asking
    until `duration` has passed and the last writer finished a few seconds ago."""
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
        say(f"up after {startup:.1f}s; {users} users for {duration:.0f}s, {len(qs)} questions; writers: "
            + ", ".join(writers))
        files, results, events = Files(seeds), [], []
        t0 = time.monotonic()
        stop_at = [float("inf")]  # set once the writers are done
        threads = [threading.Thread(target=user_loop, args=(n, url, qs, stop_at, files, results, seed))
                   for n in range(users)]
        with Publishes(db) as publishes:
            for t in threads:
                t.start()
            try:
                events += run_writers(writers, url, seeds, db, work, t0, duration, rebuild_at, say)
            finally:
                stop_at[0] = max(t0 + duration, time.monotonic() + 5)
                for t in threads:
                    t.join()
        elapsed = time.monotonic() - t0
    finally:
        stop_server(proc)
    summary = summarise(results, users, elapsed, events, publishes.times, startup)
    summary.update(squad_files=len(chosen), server_log=str(log_path))
    if not quiet:
        print_summary(summary)
    if own_tmp and summary["errors"] == 0 and not summary["rebuild_error"]:
        shutil.rmtree(work, ignore_errors=True)
    return summary


def _window(results: list[Result], spans: list[tuple[float, float]]) -> dict:
    lat = [r.end - r.start for r in results if any(r.end > a and r.start < b for a, b in spans)]
    return {"n": len(lat), "p50_ms": round(percentile(lat, 50) * 1000), "p95_ms": round(percentile(lat, 95) * 1000)}


def summarise(results: list[Result], users: int, elapsed: float, events: list[dict], publishes: list[float],
              startup: float) -> dict:
    """Counts and latency percentiles: overall, while a writer ran, at the switches, outside both."""
    ok = [r for r in results if r.error is None]
    lat = [r.end - r.start for r in ok]
    writing = [(e["start"], e["end"]) for e in events]
    switching = [(t, t + SWITCH_SECONDS) for t in publishes]
    busy = writing + switching
    quiet = [r for r in ok if not any(r.end > a and r.start < b for a, b in busy)]
    errors = [r for r in results if r.error]
    ui = next((e for e in events if e["kind"] == "ui"), {})
    t0 = min((r.start for r in results), default=0.0)
    return {
        "users": users, "seconds": round(elapsed, 1), "startup_seconds": round(startup, 1),
        "requests": len(results), "ok": len(ok), "errors": len(errors),
        "error_samples": sorted({r.error for r in errors})[:5],
        "bad_citations": sum(len(r.bad_citations) for r in results),
        "abstained": sum(r.abstained for r in ok),
        "throughput_rps": round(len(ok) / elapsed, 2) if elapsed else 0.0,
        "p50_ms": round(percentile(lat, 50) * 1000), "p95_ms": round(percentile(lat, 95) * 1000),
        "max_ms": round(max(lat, default=0) * 1000), "mean_ms": round(statistics.mean(lat) * 1000) if lat else 0,
        "during_rebuild": _window(ok, writing), "at_switch": _window(ok, switching),
        "outside_rebuild": _window(quiet, [(float("-inf"), float("inf"))]),
        "writers": [{"kind": e["kind"], "at_s": round(e["start"] - t0, 1), "seconds": round(e["end"] - e["start"], 1),
                     "error": e["error"], "answered_after": e["answered"],
                     "failed_during": sum(1 for r in errors if r.end > e["start"] and r.start < e["end"] + 5)}
                    for e in events],
        "publishes": len(publishes),
        # The UI rebuild's figures under the names the short test and older runs use.
        "rebuild_seconds": round(ui["end"] - ui["start"], 2) if ui else 0.0,
        "rebuild_status": ui.get("status", "").splitlines()[0] if ui.get("status") else "",
        "rebuild_error": next((e["error"] for e in events if e["error"]), None),
        "new_file_answered": all(e["answered"] for e in events),
    }


def print_summary(s: dict) -> None:
    """The summary as a small table."""
    rows = [("", "requests", "p50 ms", "p95 ms"),
            ("all answered", str(s["ok"]), str(s["p50_ms"]), str(s["p95_ms"]))]
    for label, key in [("while a writer ran", "during_rebuild"), (f"at a switch (<= {SWITCH_SECONDS:g} s "
                       "after a publish)", "at_switch"), ("outside both", "outside_rebuild")]:
        rows.append((label, str(s[key]["n"]), str(s[key]["p50_ms"]), str(s[key]["p95_ms"])))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    print(f"{s['users']} users for {s['seconds']}s against python -m ui "
          f"(seeds + {s['squad_files']} squad-dev files; app startup incl. index build {s['startup_seconds']}s)")
    for n, r in enumerate(rows):
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
        if n == 0:
            print("  ".join("-" * w for w in widths))
    print(f"throughput {s['throughput_rps']} answers/s; max {s['max_ms']} ms; abstained {s['abstained']}; "
          f"failed requests {s['errors']}; wrong citations {s['bad_citations']}; publishes seen {s['publishes']}")
    for w in s["writers"]:
        print(f"writer {w['kind']} at {w['at_s']}s took {w['seconds']}s: {w['error'] or 'ok'}; failed requests "
              f"during it (+5 s) {w['failed_during']}; its new document answered afterwards: {w['answered_after']}")
    for e in s["error_samples"]:
        print(f"  error: {e}")
