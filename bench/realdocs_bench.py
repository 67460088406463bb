"""Index time on real documents: this checkout against another git revision, side by side.

    .venv/bin/python bench/realdocs_bench.py [--base REV] [--corpus DIR] [--repeats 3]

Both revisions index the same corpus (default: the realdocs-dev corpus, 34 PDF, HTML, text, Markdown and
reStructuredText files) with `qa index` in fresh processes, into empty folders, interleaved (base, this,
base, this, ...) so that a busy machine slows both alike. The base revision is exported with `git archive`
into a temporary folder and run from there with this checkout's Python. Prints each run's wall time, the
medians and their ratio (this / base), plus the load step alone (every file read, no embedding) for both.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import REPO, median

PY = sys.executable
LOAD_ONLY = ("import sys, time; from pathlib import Path; from index.ingest.load import load\n"
             "started = time.perf_counter()\n"
             "for p in sorted(Path(sys.argv[1]).iterdir()): load(p, p.name)\n"
             "print(time.perf_counter() - started)")


def export(rev: str, into: Path) -> Path:
    """The files of `rev` (a git revision of this repository) under `into`."""
    archive = subprocess.run(["git", "-C", str(REPO), "archive", rev], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def index_seconds(tree: Path, corpus: Path, db: Path) -> float:
    """Wall seconds of `qa index` of `corpus` into the empty folder `db`, run from the source tree `tree`."""
    started = time.perf_counter()
    subprocess.run([PY, "-m", "ui.cli.main", "index", "--seeds", str(corpus), "--db", str(db), "--json"], cwd=tree,
                   check=True, capture_output=True, env=_env())
    return time.perf_counter() - started


def _env() -> dict:
    """This environment without QA_* settings, so both revisions run on their defaults."""
    return {k: v for k, v in os.environ.items() if not k.startswith("QA_")}


def load_seconds(tree: Path, corpus: Path) -> float:
    """Seconds to read every file of `corpus` with the loaders of `tree` (no chunking, no embedding)."""
    out = subprocess.run([PY, "-c", LOAD_ONLY, str(corpus)], cwd=tree, check=True, capture_output=True, text=True,
                         env=_env())
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", default="HEAD~1", help="git revision to compare with (default HEAD~1)")
    ap.add_argument("--corpus", type=Path, default=REPO / "qa/evalsets/realdocs-dev/corpus")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="realdocs-bench-") as tmp:
        base = export(args.base, _mkdir(Path(tmp) / "base"))
        trees = {"base": base, "this": REPO}
        runs: dict[str, list[float]] = {"base": [], "this": []}
        loads: dict[str, list[float]] = {"base": [], "this": []}
        for n in range(args.repeats):
            for name, tree in trees.items():
                runs[name].append(index_seconds(tree, args.corpus.resolve(), Path(tmp) / f"db-{name}-{n}"))
                loads[name].append(load_seconds(tree, args.corpus.resolve()))
                print(f"run {n + 1} {name:4}: index {runs[name][-1]:6.1f} s   load {loads[name][-1]:5.1f} s", flush=True)
        report = {name: {"index_s": round(median(runs[name]), 2), "load_s": round(median(loads[name]), 2)}
                  for name in trees}
        report["ratio_index"] = round(report["this"]["index_s"] / report["base"]["index_s"], 3)
        report["ratio_load"] = round(report["this"]["load_s"] / report["base"]["load_s"], 3)
        print(json.dumps({"base": args.base, "corpus": str(args.corpus), "repeats": args.repeats, **report}, indent=2))


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True)
    return path


if __name__ == "__main__":
    main()
