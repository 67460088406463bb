"""Crash benchmark: SIGKILL a real `qa index` at 20 points of a full and an incremental build, then re-run.

    .venv/bin/python bench/crash_bench.py [--multihop 40]

Corpus (like tests/test_crash.py): ./seeds, 4 squad-dev articles and N multihop-dev articles, chunked
at 200/20 characters so a build has several commit groups. Version B edits two files, adds two and
removes two. Reference indexes of A and B are built fresh in-process.

Each kill point gets its own index folder (a copy of the finished A index for the incremental
points), so points are independent. A point is either a time since the process started or the k-th
change of manifest.json (then an optional delay); the whole process group is SIGKILLed there. The
same command is then run to completion and the index is checked against the fresh build of the same
version: same chunk ids, texts and metadata; no duplicates; no orphans (store == manifest ==
lexical snapshot); one version per file. Finally a seed-dev question must be answered with a
citation whose quote is the file's exact text. One row per point; exit code 1 if any point failed.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from index.builds.build import build  # noqa: E402
from index.embedding.embedders import open_embedder  # noqa: E402
from index.settings import IndexSettings  # noqa: E402
from index.vectorstore.live_store import ChromaStore  # noqa: E402
from qa.pipeline import build_assistant  # noqa: E402
from testkit.invariants import assert_same_as_fresh, index_state, manifest_view  # noqa: E402
from testkit.servers import EVALSETS as EVAL  # noqa: E402

SQUAD = ["Packet_switching.txt", "1973_oil_crisis.txt", "Harvard_University.txt", "Normans.txt"]

CHUNKING = {"QA_CHUNK_SIZE": "200", "QA_CHUNK_OVERLAP": "20"}
SEED = "000_ce4e22ba4c4cf3bd.txt"
QUESTION, QUOTE = "What did Xi herald during his call with Putin?", "Xi heralded a new year of growing coordination"


@dataclass
class Point:
    """Kill `delay` seconds after the `change`-th manifest change (-1: the last commit), or after start when
    `change` is None; with `fraction`, at that fraction of the uninterrupted run's duration."""

    label: str
    change: int | None
    delay: float = 0.0
    fraction: float | None = None


FULL = [Point("0.5 s after start (imports)", None, 0.5),
        Point("3 s after start", None, 3.0),
        Point("manifest first written (build started)", 1, 0.0),
        Point("build started + 0.5 s (reading/embedding)", 1, 0.5),
        Point("first commit", 2, 0.0),
        Point("first commit + 0.3 s", 2, 0.3),
        Point("50% of the uninterrupted time", None, fraction=0.5),
        Point("75% of the uninterrupted time", None, fraction=0.75),
        Point("last commit (lexical snapshot)", -1, 0.0),
        Point("last commit + 0.2 s", -1, 0.2)]
INCREMENTAL = [Point("0.5 s after start (imports)", None, 0.5),
               Point("3 s after start", None, 3.0),
               Point("manifest marked incomplete", 1, 0.0),
               Point("marked incomplete + 0.1 s (deletes)", 1, 0.1),
               Point("removals recorded", 2, 0.0),
               Point("removals recorded + 0.3 s", 2, 0.3),
               Point("50% of the uninterrupted time", None, fraction=0.5),
               Point("75% of the uninterrupted time", None, fraction=0.75),
               Point("last commit (lexical snapshot)", -1, 0.0),
               Point("last commit + 0.1 s", -1, 0.1)]


def qa_index(seeds: Path, db: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")} | CHUNKING
    return subprocess.Popen([sys.executable, "-m", "ui.cli.main", "index", "--seeds", str(seeds), "--db", str(db), "--json"],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)


def changes_of(proc: subprocess.Popen, db: Path, until=None) -> list[float]:
    """Poll the manifest until the process ends (or `until(changes)` is true); times of each change."""
    started, last, times = time.monotonic(), manifest_view(db), []
    while proc.poll() is None:
        view = manifest_view_safe(db)
        if view is not None and (last is None or view[2] != last[2]):
            times.append(time.monotonic() - started)
            last = view
            if until and until(times, view):
                break
        time.sleep(0.005)
    return times


def manifest_view_safe(db: Path):
    try:
        return manifest_view(db)
    except ValueError:  # caught mid-replace; atomic rename makes this rare
        return None


def calibrate(seeds: Path, db: Path) -> tuple[float, int]:
    """Run once uninterrupted: (seconds, number of manifest changes)."""
    started = time.monotonic()
    proc = qa_index(seeds, db)
    times = changes_of(proc, db)
    _, err = proc.communicate()
    assert proc.returncode == 0, err.decode()[-2000:]
    return time.monotonic() - started, len(times)


def kill_at(seeds: Path, db: Path, point: Point, total_changes: int, seconds: float) -> tuple[bool, str]:
    """Start `qa index`, SIGKILL it at `point`; returns (killed while running, manifest state at the kill)."""
    proc = qa_index(seeds, db)
    if point.change is None:
        time.sleep(point.delay if point.fraction is None else point.fraction * seconds)
    else:
        want = point.change if point.change > 0 else total_changes - 1  # the last change is `complete: true`
        changes_of(proc, db, until=lambda times, view: len(times) >= want)
        time.sleep(point.delay)
    alive = proc.poll() is None
    if alive:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()
    view = manifest_view_safe(db)
    state = "none" if view is None else f"{view[0]} files, {'complete' if view[1] else 'incomplete'}"
    return alive, state


def check(settings: IndexSettings, fresh: IndexSettings, embedder) -> tuple[str, str, str]:
    """(store vs manifest, equal to fresh, answer) verdicts for one index."""
    st = index_state(settings)
    ids = ChromaStore(settings).records()[0]
    dups = len(ids) - len(set(ids))
    orphans = len(st.store_ids - set(st.manifest_ids))
    missing = len(set(st.manifest_ids) - st.store_ids)
    parts = "ok" if not (dups or orphans or missing) and set(st.lexical_ids) == st.store_ids else \
        f"dups {dups} orphans {orphans} missing {missing}"
    try:
        assert_same_as_fresh(settings, fresh)
        same = "yes"
    except AssertionError as exc:
        same = f"NO: {str(exc)[:60]}"
    answer = build_assistant(settings, embedder=embedder).answer(QUESTION)
    c = answer.citations[0] if answer.citations else None
    text = (settings.seeds_dir / SEED).read_text("utf-8")
    ok = (not answer.abstained and c is not None and c.source == SEED and QUOTE in c.quote
          and text[c.start:c.end] == c.quote)
    return parts, same, "yes" if ok else f"NO: {answer.text[:50]}"


def make_versions(work: Path, multihop: int) -> tuple[Path, Path]:
    squad, hop = EVAL / "squad-dev" / "corpus", EVAL / "multihop-dev" / "corpus"
    if not (squad.is_dir() and hop.is_dir()):
        sys.exit(f"eval corpora not found under {EVAL}")
    a, b = work / "seeds-a", work / "seeds-b"
    shutil.copytree(REPO / "seeds", a, copy_function=shutil.copyfile)
    names = sorted(os.listdir(hop))
    for n in SQUAD:
        shutil.copyfile(squad / n, a / n)
    for n in names[:multihop]:
        shutil.copyfile(hop / n, a / n)
    shutil.copytree(a, b)
    with open(b / SQUAD[0], "a", encoding="utf-8") as fh:
        fh.write("\nPacket switching was also studied at the National Physical Laboratory.\n")
    with open(b / names[0], "a", encoding="utf-8") as fh:
        fh.write("\nAn added closing line.\n")
    for n in names[multihop:multihop + 2]:
        shutil.copyfile(hop / n, b / n)
    (b / SQUAD[1]).unlink()
    (b / names[1]).unlink()
    return a, b


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--multihop", type=int, default=40, help="multihop-dev articles in the corpus")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="crash-bench-"))
    failed = 0
    try:
        seeds_a, seeds_b = make_versions(work, args.multihop)
        embedder = open_embedder(IndexSettings())
        embedder.embed(["warm up"])
        fresh = {}
        for name, seeds in (("full", seeds_a), ("incremental", seeds_b)):
            fresh[name] = IndexSettings(seeds_dir=seeds, db_dir=work / f"fresh-{name}", chunk_size=200, chunk_overlap=20)
            report = build(fresh[name], embedder=embedder)
            print(f"fresh {name} build: {report.summary()}", file=sys.stderr, flush=True)
        base = work / "base-a"
        full_s, full_changes = calibrate(seeds_a, base)  # also the finished A index the incremental points copy
        inc_db = work / "calibrate-b"
        shutil.copytree(base, inc_db)
        inc_s, inc_changes = calibrate(seeds_b, inc_db)
        print(f"uninterrupted `qa index`: full {full_s:.1f}s with {full_changes} manifest writes; "
              f"incremental {inc_s:.1f}s with {inc_changes}", file=sys.stderr, flush=True)

        rows = []
        plan = [("full", p, seeds_a, full_changes, full_s) for p in FULL] + \
               [("incremental", p, seeds_b, inc_changes, inc_s) for p in INCREMENTAL]
        for n, (kind, point, seeds, changes, seconds) in enumerate(plan, 1):
            db = work / f"db-{n:02d}"
            if kind == "incremental":
                shutil.copytree(base, db)
            killed, state = kill_at(seeds, db, point, changes, seconds)
            started = time.monotonic()
            rerun = qa_index(seeds, db)
            out, err = rerun.communicate()
            rerun_s = time.monotonic() - started
            if rerun.returncode != 0:
                rows.append((n, kind, point.label, killed, state, f"{rerun_s:.1f}", f"FAILED rc {rerun.returncode}",
                             "-", "-", "-"))
                print(err.decode()[-1500:], file=sys.stderr)
                failed += 1
                continue
            rep = json.loads(out)
            settings = IndexSettings(seeds_dir=seeds, db_dir=db, chunk_size=200, chunk_overlap=20)
            parts, same, answered = check(settings, fresh[kind], embedder)
            failed += parts != "ok" or same != "yes" or answered != "yes"
            rows.append((n, kind, point.label, killed, state, f"{rerun_s:.1f}",
                         f"+{rep['added']} ~{rep['updated']} -{rep['removed']}", parts, same, answered))
            print(f"point {n}: {rows[-1]}", file=sys.stderr, flush=True)
        print_table(rows, args.multihop, fresh, full_s, inc_s)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


def print_table(rows, multihop, fresh, full_s, inc_s) -> None:
    head = ("#", "build", "kill point", "killed", "manifest at kill", "rerun s", "rerun +add ~upd -rm",
            "store=manifest=lexical", "== fresh build", "seed Q cited")
    lines = [head] + [tuple(str(c) for c in r) for r in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    a, b = (index_state(fresh[k]).manifest for k in ("full", "incremental"))
    print(f"corpus A: seeds + {len(SQUAD)} squad-dev + {multihop} multihop-dev articles, chunk 200/20: "
          f"{len(a.files)} files, {a.chunk_count()} chunks; B (incremental): 2 edited, 2 added, 2 removed -> "
          f"{len(b.files)} files, {b.chunk_count()} chunks. Uninterrupted: full {full_s:.1f}s, incremental {inc_s:.1f}s")
    for n, line in enumerate(lines):
        print("  ".join(c.ljust(w) for c, w in zip(line, widths)))
        if n == 0:
            print("  ".join("-" * w for w in widths))
    bad = sum(1 for r in rows if r[7] != "ok" or r[8] != "yes" or r[9] != "yes")
    print(f"{len(rows)} kill points, {sum(1 for r in rows if r[3] is True)} killed mid-run, {bad} failed")


if __name__ == "__main__":
    sys.exit(main())
