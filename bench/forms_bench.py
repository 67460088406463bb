"""Warm latency of the multi-sentence forms (issue #24) side by side with a fact answer.

    .venv/bin/python bench/forms_bench.py [--db DIR] [--rounds N]

Three indexes are built once (or reused from --db): the seed article, the squad-dev articles and the multihop-dev corpus (326 news
articles). Then, in rotation round by round (so a drifting machine load hits all alike), four questions are
timed through `Assistant.answer()`:

* a one-document summary ("Summarize the article.", the seed article; target p50 <= 0.3 s);
* a fact question on the same index (today's path);
* a one-document summary of a long article (squad-dev's Steam engine, about 300 sentences) and a fact there;
* a whole-collection summary of multihop-dev ("What are these documents about?"; target <= 2 s);
* a fact question on multihop-dev.

The first call of each is a warm-up (the sentence table of the index is built there, once per index).
Prints the median and p95 of each and the ratio of each summary's median to its fact answer's.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from index.builds.build import build  # noqa: E402
from index.settings import IndexSettings  # noqa: E402
from qa import evalsets  # noqa: E402
from qa.evaluation.metrics import percentile  # noqa: E402
from qa.pipeline import build_assistant  # noqa: E402

CASES = [
    ("one-document summary", "seeds", "Summarize the article."),
    ("fact (seed)", "seeds", "Who said Russia would struggle without PRC inputs?"),
    ("long-document summary", "squad-dev", "Summarize the article on the steam engine."),
    ("fact (squad)", "squad-dev", "Who patented a steam engine with continuous rotary motion?"),
    ("collection summary", "multihop-dev", "What are these documents about?"),
    ("fact (multihop)", "multihop-dev", "Who is the CEO of Binance?"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=None, help="where the two indexes are kept (default: a temp dir)")
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    root = args.db or Path(tempfile.mkdtemp(prefix="forms-bench-"))
    assistants, embedder = {}, None
    for corpus in ("seeds", "squad-dev", "multihop-dev"):
        settings = IndexSettings(seeds_dir=evalsets.corpus(corpus), db_dir=root / corpus)
        assistants[corpus] = build_assistant(settings, embedder=embedder)
        embedder = assistants[corpus].embedder
        build(settings, embedder=embedder)
    times: dict[str, list[float]] = {name: [] for name, _, _ in CASES}
    for name, corpus, question in CASES:  # warm-up
        a = assistants[corpus].answer(question)
        print(f"{name}: form {a.form}, {len(a.citations)} citation(s) from "
              f"{len({c.source for c in a.citations})} document(s)")
    for _ in range(args.rounds):
        for name, corpus, question in CASES:
            started = time.perf_counter()
            assistants[corpus].answer(question)
            times[name].append(time.perf_counter() - started)
    print(f"\n{'what':24}{'p50 (s)':>10}{'p95 (s)':>10}")
    for name, values in times.items():
        print(f"{name:24}{percentile(values, 50):>10.4f}{percentile(values, 95):>10.4f}")
    p50 = {n: percentile(v, 50) for n, v in times.items()}
    print(f"\none-document summary / fact (seed): {p50['one-document summary'] / p50['fact (seed)']:.2f}x")
    print(f"long-document summary / fact (squad): {p50['long-document summary'] / p50['fact (squad)']:.2f}x")
    print(f"collection summary / fact (multihop): {p50['collection summary'] / p50['fact (multihop)']:.2f}x")


if __name__ == "__main__":
    main()
