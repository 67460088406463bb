"""Our summaries (LexRank over the stored sentence vectors, lead prior, MMR: `qa.extractive.compose`) side by side with
`sumy`'s LexRank and TextRank (bag of words) over the same sentences, scored on the summary questions.

    .venv/bin/python bench/summary_compare.py [--db DIR]

For each summary question of nonfactoid-dev and of our own held-out questions, the documents are those our
summary draws on; sumy summarises the same sentences (our sentence table, so spans are comparable) to the same
number of sentences. Printed: right (the nonfactoid-dev rule), key recall and citation precision for each,
and the time per summary (medians). `sumy` is a benchmark-only dependency (`pip install sumy`).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from index.builds.build import build  # noqa: E402
from index.settings import IndexSettings  # noqa: E402
from qa import evalsets  # noqa: E402
from qa.evaluation.nonfactoid import score  # noqa: E402
from qa.pipeline import build_assistant  # noqa: E402


class Words:
    """sumy's tokenizer interface without NLTK's data: words by a regular expression."""

    language = "english"

    def to_words(self, sentence: str):
        return re.findall(r"\w+", sentence.lower())


def sumy_pick(kind: str, ids: list[int], cv, n: int) -> list[int]:
    from sumy.models.dom import ObjectDocumentModel, Paragraph, Sentence
    from sumy.nlp.stemmers import Stemmer
    from sumy.summarizers.lex_rank import LexRankSummarizer
    from sumy.summarizers.text_rank import TextRankSummarizer
    from sumy.utils import get_stop_words

    words = Words()
    sents = [Sentence(cv.sents.text(i), words) for i in ids]
    doc = ObjectDocumentModel([Paragraph(sents)])
    summarizer = (LexRankSummarizer if kind == "lexrank" else TextRankSummarizer)(Stemmer("english"))
    summarizer.stop_words = get_stop_words("english")
    picked = {str(s) for s in summarizer(doc, n)}
    return [i for i in ids if cv.sents.text(i) in picked][:n]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=Path("/tmp/forms-cv"))
    args = parser.parse_args()
    rows = [json.loads(x) for x in evalsets.questions("nonfactoid-dev").read_text("utf-8").splitlines()]
    own = REPO / "bench/data/nonfactoid-own.jsonl"
    rows += [json.loads(x) for x in own.read_text("utf-8").splitlines()] if own.exists() else []
    rows = [r for r in rows if r["kind"] == "summary"]
    assistants, embedder = {}, None
    results = {"ours": [], "sumy lexrank": [], "sumy textrank": []}
    seconds = {k: [] for k in results}
    for r in rows:
        corpus = r["corpus"]
        if corpus not in assistants:
            settings = IndexSettings(seeds_dir=evalsets.corpus(corpus), db_dir=args.db / corpus)
            assistants[corpus] = build_assistant(settings, embedder=embedder)
            embedder = assistants[corpus].embedder
            build(settings, embedder=embedder)
        assistant = assistants[corpus]
        started = time.perf_counter()
        ours = assistant.answer(r["question"])
        seconds["ours"].append(time.perf_counter() - started)
        results["ours"].append(score(r, ours))
        if ours.abstained:
            for k in ("sumy lexrank", "sumy textrank"):
                results[k].append(score(r, ours))
            continue
        ex = assistant.answerer()
        cv = ex.views().corpus
        docs = list(dict.fromkeys(c.source for c in ours.citations))
        ids = [i for d in docs for i in cv.sents.document(d) if len(cv.sents.text(i)) >= 25
               and not cv.sents.text(i).lstrip().startswith("#")]
        for kind, name in (("lexrank", "sumy lexrank"), ("textrank", "sumy textrank")):
            started = time.perf_counter()
            picked = sumy_pick(kind, ids, cv, len(ours.citations))
            seconds[name].append(time.perf_counter() - started)
            cites = tuple(cv.citation(n, i) for n, i in enumerate(picked, 1))
            results[name].append(score(r, replace(ours, citations=cites)))
    print(f"{len(rows)} summary questions (nonfactoid-dev and our own)")
    print(f"{'summariser':16}{'right':>8}{'key recall':>12}{'precision':>11}{'median ms':>11}")
    for name, scored in results.items():
        prec = [s.precision for s in scored if s.precision is not None]
        print(f"{name:16}{sum(s.right for s in scored):>5}/{len(scored):<2}"
              f"{statistics.fmean(s.key_recall for s in scored):>12.3f}{statistics.fmean(prec) if prec else 0:>11.3f}"
              f"{1000 * statistics.median(seconds[name] or [0]):>11.1f}")


if __name__ == "__main__":
    main()
