"""Sentence-level evidence: how well each sentence of a passage matches the question.

Two signals: idf-weighted coverage of the question's terms, and the similarity of the
question vector to the sentence's late-chunking vector (stored by `qa index`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from index.ingest import sentences
from index.snapshot.lexical import LexicalIndex, tokenize


@dataclass(frozen=True)
class SentenceScore:
    """One sentence of a passage: absolute offsets, term coverage and vector similarity."""

    start: int
    end: int
    coverage: float
    similarity: float
    covered: frozenset[str]


class Terms:
    """The question's stemmed terms with idf weights."""

    def __init__(self, text: str, idf: dict[str, float]):
        fallback = max(idf.values(), default=1.0)
        self.weights = {t: idf.get(t, fallback) for t in set(tokenize(text))}
        self.total = sum(self.weights.values()) or 1.0

    def coverage(self, tokens: frozenset[str]) -> tuple[float, frozenset[str]]:
        """Share of the question's idf mass found in `tokens`, and which terms."""
        covered = tokens.intersection(self.weights)
        return sum(self.weights[t] for t in covered) / self.total, covered


def score_sentences(text: str, start: int, row: int | None, lex: LexicalIndex, terms: Terms,
                    qvec: np.ndarray, fallback_sim: float) -> tuple[SentenceScore, ...]:
    """Score the sentences of a passage (`text` at file offset `start`, snapshot `row` if known)."""
    rows = lex.sentence_rows(row) if row is not None else range(0)
    if rows:
        sents = lex.sentences
        spans = [(int(sents["start"][i]), int(sents["end"][i])) for i in rows]
        sims = sents["vecs"][rows.start:rows.stop].astype(np.float32) @ qvec
        tokens = [lex.sentence_tokens(i, text[s - start:e - start]) for i, (s, e) in zip(rows, spans)]
    else:  # a passage newer than the snapshot: split it here, no sentence vectors
        spans = sentences.split(text, start)
        sims = np.zeros(len(spans), np.float32)
        tokens = [frozenset(tokenize(text[s - start:e - start])) for s, e in spans]
    out = []
    for (s, e), sim, toks in zip(spans, sims, tokens):
        cov, covered = terms.coverage(toks)
        out.append(SentenceScore(s, e, cov, float(sim) if sim != 0 else fallback_sim, covered))
    return tuple(out)
