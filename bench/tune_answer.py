"""Grid-search the extractive answerer's weights on cached retrievals, and calibrate abstention.

Usage: python bench/tune_answer.py SET_DIR:DB_DIR[:LIMIT] ...   (SET_DIR holds questions.jsonl and corpus/,
or is qa/evalsets/seed-dev with its corpus). Prints answer-contains-gold and the confidence quantiles.
"""
from __future__ import annotations

import itertools
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from index.builds.build import build
from index.settings import IndexSettings
from qa.evaluation import metrics as m
from qa.evaluation.runner import read_questions
from qa.extractive.answerer import ExtractiveAnswerer, Weights
from qa.pipeline import build_assistant


def cached(spec: str) -> list[tuple[dict, list]]:
    """(question, top passages) for every question of one set."""
    set_dir, db, *limit = spec.split(":")
    set_dir = Path(set_dir)
    corpus = set_dir / "corpus" if (set_dir / "corpus").is_dir() else set_dir.parent.parent / "seeds"
    settings = IndexSettings(seeds_dir=corpus, db_dir=Path(db))
    build(settings)
    a = build_assistant(settings)
    qs = read_questions(set_dir / "questions.jsonl", int(limit[0]) if limit else None)
    return [(q, a.search.search(a.search.embed_query(q["question"]), 5)) for q in qs]


def score(data, w: Weights) -> tuple[float, list[float], list[float]]:
    """Contains-gold on answerable rows, and confidences of answerable / unanswerable rows."""
    ans = ExtractiveAnswerer(replace(w, abstain_below=-1))
    hits, conf_a, conf_u = [], [], []
    for q, passages in data:
        cands = ans.candidates(q["question"], passages)
        conf = ans.confidence(cands[0]) if cands else 0.0
        if q.get("unanswerable"):
            conf_u.append(conf)
            continue
        conf_a.append(conf)
        hits.append(m.contains_gold(ans.answer(q["question"], passages).text, q["answers"]))
    return float(np.mean(hits)), conf_a, conf_u


def main(specs: list[str]) -> None:
    data = {s: cached(s) for s in specs}
    grid = itertools.product((0.5, 1.0, 1.5), (0.5, 1.0, 1.5), (0.0, 0.3), (0.0, 0.1, 0.2), (0.8, 0.9))
    for cov, sim, pas, qt, ratio in grid:
        w = Weights(coverage=cov, similarity=sim, passage=pas, qtype=qt, second_ratio=ratio)
        cells = [score(d, w)[0] for d in data.values()]
        print(f"cov={cov} sim={sim} pas={pas} qt={qt} ratio={ratio}: " + " ".join(f"{c:.3f}" for c in cells), flush=True)
    for spec, d in data.items():
        _, ca, cu = score(d, Weights())
        print(spec, "answerable conf p1/p3/p5:", np.percentile(ca, [1, 3, 5]).round(3),
              "unanswerable conf p50/p90:", np.percentile(cu, [50, 90]).round(3) if cu else "-")


if __name__ == "__main__":
    main(sys.argv[1:])
