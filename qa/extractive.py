"""The offline default answerer: the sentences that best answer the question, verbatim, with citations."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

from index.lexical import tokenize
from qa import sentences
from qa.types import Answer, Citation, Passage

NOT_FOUND = "The documents do not contain an answer to this question."


@dataclass(frozen=True)
class Candidate:
    """A sentence of a retrieved passage, with its absolute offsets and score."""

    passage: Passage
    start: int
    end: int
    score: float
    covered: frozenset[str]

    @property
    def text(self) -> str:
        return self.passage.text[self.start - self.passage.start:self.end - self.passage.start]


@dataclass(frozen=True)
class Weights:
    """Sentence-scoring weights and the abstention threshold, calibrated with `qa eval`."""

    coverage: float = 1.0
    passage: float = 0.35
    rank: float = 0.05
    qtype: float = 0.1
    abstain_below: float = 0.3
    second_ratio: float = 0.75


class ExtractiveAnswerer:
    """Scores every sentence of the top passages against the question and quotes the best one or two."""

    name = "extractive"

    def __init__(self, weights: Weights = Weights()):
        self.w = weights

    def answer(self, question: str, passages: list[Passage], idf: dict[str, float]) -> Answer:
        """An `Answer` quoting the best sentence(s), or an abstention showing related passages."""
        terms = _weighted_terms(question, idf)
        cands = self.candidates(question, passages, terms)
        if not cands or self.confidence(cands[0], passages) < self.w.abstain_below:
            return Answer(question, NOT_FOUND, (), True, self.name, tuple(passages), tuple(passages[:3]))
        chosen = self._choose(cands, terms)
        cites = tuple(_citation(n, c) for n, c in enumerate(chosen, 1))
        text = " ".join(f"{c.quote} [{c.n}]" for c in cites)
        return Answer(question, text, cites, False, self.name, tuple(passages))

    def candidates(self, question: str, passages: list[Passage], terms: dict[str, float]) -> list[Candidate]:
        """Every distinct sentence of `passages`, best first."""
        total = sum(terms.values()) or 1.0
        kind = _question_kind(question)
        seen, out = set(), []
        for rank, p in enumerate(passages):
            for s, e in sentences.split(p.text, p.start):
                if (p.source, s) in seen:
                    continue
                seen.add((p.source, s))
                text = p.text[s - p.start:e - p.start]
                covered = frozenset(terms) & frozenset(tokenize(text))
                score = (self.w.coverage * sum(terms[t] for t in covered) / total + self.w.passage * p.score
                         - self.w.rank * rank + self.w.qtype * _kind_bonus(kind, text))
                out.append(Candidate(p, s, e, score, covered))
        return sorted(out, key=lambda c: -c.score)

    def confidence(self, best: Candidate, passages: list[Passage]) -> float:
        """How sure we are the documents answer: sentence score blended with the best dense similarity."""
        return 0.5 * best.score + 0.5 * max(p.dense for p in passages)

    def _choose(self, cands: list[Candidate], terms: dict[str, float]) -> list[Candidate]:
        best = cands[0]
        missing = set(terms) - best.covered
        for c in cands[1:4]:
            if c.score >= self.w.second_ratio * best.score and (c.covered & missing):
                return sorted([best, c], key=lambda x: (x.passage.source != best.passage.source, x.start))
        return [best]


def _weighted_terms(question: str, idf: dict[str, float]) -> dict[str, float]:
    return {t: idf.get(t, max(idf.values(), default=1.0)) for t in set(tokenize(question))}


_KINDS = [("when", re.compile(r"^\s*(when|what year|what date|in what year|which year)\b", re.I)),
          ("number", re.compile(r"\b(how (many|much|long|old|far|large|big)|what (percentage|percent|number))\b", re.I)),
          ("who", re.compile(r"^\s*(who|whom|whose)\b", re.I)),
          ("where", re.compile(r"^\s*where\b", re.I))]
_YEAR = re.compile(r"\b(1[0-9]{3}|20[0-9]{2})s?\b|\b(January|February|March|April|May|June|July|August|"
                   r"September|October|November|December)\b|\bcentur", re.I)
_NUMBER = re.compile(r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|hundred|thousand|million|billion|dozen)\b", re.I)
_NAME = re.compile(r"(?<!^)(?<![.!?] )\b[A-Z][a-z]+")


def _question_kind(question: str) -> str | None:
    return next((name for name, pattern in _KINDS if pattern.search(question)), None)


def _kind_bonus(kind: str | None, text: str) -> float:
    if kind == "when":
        return 1.0 if _YEAR.search(text) else 0.0
    if kind == "number":
        return 1.0 if _NUMBER.search(text) else 0.0
    if kind in ("who", "where"):
        return min(1.0, len(_NAME.findall(text)) / 3)
    return 0.0


def _citation(n: int, c: Candidate) -> Citation:
    p = c.passage
    line = p.start_line + p.text[:c.start - p.start].count("\n")
    return Citation(n=n, source=p.source, title=p.title, published=p.published, start=c.start, end=c.end,
                    start_line=line, end_line=line + c.text.count("\n"), quote=c.text, score=round(c.score, 4),
                    page=p.page, passage_id=p.id, context=p.text, context_start=p.start)
