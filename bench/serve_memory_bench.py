"""Serving memory side by side: checkouts (or encoders) each on an index of the same generated corpus.

    .venv/bin/python bench/serve_memory_bench.py [--chunks 100000] [--rounds 3] NAME=CHECKOUT:DB[:ENCODER] ...

Build each index first with that checkout's own scale benchmark, which keeps it:
`CHECKOUT/.venv/bin/python CHECKOUT/bench/scale_bench.py --modes embedded --keep DIR` (DB is then
`DIR/db-embedded`; an index built by one checkout may not be readable by an older one). Each round runs
`bench/serve_probe.py` once per entry, interleaved, in a fresh process with the entry's code first on
`sys.path`: the scale benchmark's 100 needle questions, then one follow-up. Printed: the medians of the
peak RSS after the questions and after the follow-up, the first follow-up's time and p50 latency, and
each entry's ratio to the first entry.

    .venv/bin/python bench/serve_memory_bench.py --bursts [--seeds DIR] [--n 40] [--rounds 3]

instead starts a real `qa serve` and prints its RSS before and after bursts of concurrent follow-ups and of
streams cut mid-way, and after a pause (`bench/serve_bursts.py`).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
from synth_corpus import CHUNK_SIZE, make_corpus  # noqa: E402


def probe(checkout: Path, db: Path, encoder: str, questions: list[str]) -> dict:
    """One fresh serving process of `checkout` on `db`: its figures."""
    python = checkout / ".venv" / "bin" / "python"
    spec = {"seeds": str(db.parent / "seeds"), "db": str(db), "chunk_size": CHUNK_SIZE, "encoder": encoder,
            "questions": questions}
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")} | {
        "PYTHONPATH": str(checkout), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([str(python if python.exists() else sys.executable), str(BENCH / "serve_probe.py")],
                          input=json.dumps(spec), capture_output=True, text=True, env=env, cwd=checkout)
    if done.returncode:
        raise SystemExit(f"the probe of {checkout} on {db} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def parse(entry: str) -> tuple[str, Path, Path, str]:
    name, _, rest = entry.partition("=")
    checkout, db, *encoder = rest.split(":")
    return name, Path(checkout).resolve(), Path(db).resolve(), (encoder or ["onnx"])[0]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("entries", nargs="*", help="NAME=CHECKOUT:DB[:ENCODER]")
    parser.add_argument("--bursts", action="store_true", help="a real qa serve's RSS around bursts of requests")
    parser.add_argument("--seeds", type=Path, help="with --bursts: the documents (default: the repository's)")
    parser.add_argument("--n", type=int, default=40, help="with --bursts: requests per burst")
    parser.add_argument("--chunks", type=int, default=100_000, help="the corpus size the indexes were built for")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    if args.bursts:
        from serve_bursts import run

        run(args.seeds, args.n, args.rounds)
        return
    if not args.entries:
        parser.error("name at least one NAME=CHECKOUT:DB[:ENCODER], or use --bursts")
    entries = [parse(e) for e in args.entries]
    with tempfile.TemporaryDirectory() as tmp:
        needles = make_corpus(Path(tmp) / "seeds", args.chunks)
    questions = [q for _, q, _ in random.Random(7).sample(needles, min(100, len(needles)))]
    runs: dict[str, list[dict]] = {name: [] for name, *_ in entries}
    for n in range(args.rounds):
        for name, checkout, db, encoder in entries:
            runs[name].append(probe(checkout, db, encoder, questions))
            print(f"round {n + 1} {name}: {runs[name][-1]}", file=sys.stderr, flush=True)
    report(runs, args.rounds)


def report(runs: dict[str, list[dict]], rounds: int) -> None:
    med = {name: {k: statistics.median(r[k] for r in rows) for k in rows[0]} for name, rows in runs.items()}
    first = next(iter(med.values()))
    print(f"serving memory, medians of {rounds} interleaved rounds (load average {os.getloadavg()[0]:.1f} at the end)")
    print(f"{'':24}{'peak RSS MB':>12}{'ratio':>7}{'+ follow-up MB':>16}{'ratio':>7}{'follow-up s':>13}{'p50 ms':>8}")
    for name, m in med.items():
        print(f"{name:24}{m['rss_mb']:>12.0f}{m['rss_mb'] / first['rss_mb']:>7.2f}{m['rss_conv_mb']:>16.0f}"
              f"{m['rss_conv_mb'] / first['rss_conv_mb']:>7.2f}{m['follow_s']:>13.1f}{m['p50']:>8.1f}")


if __name__ == "__main__":
    main()
