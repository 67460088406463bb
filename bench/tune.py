"""Sweep retrieval fusion and sentence-selection weights on a dev set (cached candidates).

Usage: python bench/tune.py QUESTIONS.jsonl CORPUS_DIR DB_DIR [LIMIT [CHUNK_SIZE OVERLAP]]
Prints hits@1 / MRR@10 / recall for several lexical weights, and answer-contains-gold for answerer weights.
"""
from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np

from index.builds.build import build
from index.settings import IndexSettings
from qa.evaluation import metrics as m
from qa.evaluation.runner import read_questions
from qa.pipeline import build_assistant


def main(qpath: str, corpus: str, db: str, limit: int | None = None, size: int = 1000, overlap: int = 200) -> None:
    settings = IndexSettings(seeds_dir=Path(corpus), db_dir=Path(db), chunk_size=size, chunk_overlap=overlap)
    build(settings)
    a = build_assistant(settings)
    qs = [q for q in read_questions(Path(qpath)) if not q.get("unanswerable")][:limit]
    queries = [a.search.embed_query(q["question"]) for q in qs]
    for w in (0.6,):
        a.search.weights = dataclasses.replace(a.search.weights, lexical=w)
        rows = [(q, a.search.search(qq, 10)) for q, qq in zip(qs, queries)]
        ans = [(q, p) for q, p in rows if not q.get("unanswerable")]
        ranks = [m.first_hit_rank(p, q["evidence"]) for q, p in ans]
        print(f"w={w}: hits@1={np.mean([r == 1 for r in ranks]):.3f} hits@4={np.mean([bool(r and r <= 4) for r in ranks]):.3f} "
              f"mrr={np.mean([1 / r if r else 0 for r in ranks]):.3f} "
              f"rec@4={np.mean([m.evidence_recall(p[:4], q['evidence']) for q, p in ans]):.3f} "
              f"rec@10={np.mean([m.evidence_recall(p, q['evidence']) for q, p in ans]):.3f}", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:4], *map(int, sys.argv[4:7]))
