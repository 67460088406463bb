"""Warm `Assistant.answer()` latency (extractive) vs plain Chroma similarity search, side by side.

Usage: python bench/query_bench.py [CORPUS_DIR] [QUESTIONS.jsonl] [N]
Defaults: qa/evalsets/squad-dev. Prints p50/p95 of each and their ratio (medians of the same run).
"""
from __future__ import annotations

import json
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from index.build import build  # noqa: E402
from index.settings import IndexSettings  # noqa: E402
from qa.metrics import percentile  # noqa: E402
from qa.pipeline import build_assistant  # noqa: E402
from harness import timed_ms  # noqa: E402


def main() -> None:
    base = ROOT / "qa" / "evalsets" / "squad-dev"
    corpus = Path(sys.argv[1]) if len(sys.argv) > 1 else base / "corpus"
    qfile = Path(sys.argv[2]) if len(sys.argv) > 2 else base / "questions.jsonl"
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 300
    questions = [json.loads(line)["question"] for line in qfile.read_text().splitlines()[:n]]
    with tempfile.TemporaryDirectory() as db:
        settings = IndexSettings(seeds_dir=corpus, db_dir=Path(db))
        build(settings)
        assistant = build_assistant(settings)
        assistant.answer(questions[0])  # warm: model, store, lexical snapshot
        col = assistant.store.collection()
        embed = assistant.embedder.embed
        plain = timed_ms(lambda q: col.query(query_embeddings=embed([q]), n_results=4), questions)
        ours = timed_ms(assistant.answer, questions)
    print(f"{len(questions)} questions on {corpus}")
    print(f"{'':34}{'p50 ms':>10}{'p95 ms':>10}")
    print(f"{'plain Chroma search (embed+query)':34}{percentile(plain, 50):>10.1f}{percentile(plain, 95):>10.1f}")
    print(f"{'Assistant.answer() extractive':34}{percentile(ours, 50):>10.1f}{percentile(ours, 95):>10.1f}")
    print(f"ratio of medians (answer / plain search): {statistics.median(ours) / statistics.median(plain):.2f}")


if __name__ == "__main__":
    main()
