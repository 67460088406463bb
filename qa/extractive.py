"""The offline default answerer: the sentences that best answer the question, verbatim, with citations."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Generator

from qa import question as q
from qa.history import History
from qa.sentscore import SentenceScore
from qa.types import Answer, Citation, Passage
from qa.wording import NOT_FOUND

MIN_PASSAGES = 5  # sentences are looked for in at least this many passages, whatever k


@dataclass(frozen=True)
class Candidate:
    """A sentence of a retrieved passage, with its absolute offsets and score."""

    passage: Passage
    start: int
    end: int
    score: float
    evidence: SentenceScore

    @property
    def text(self) -> str:
        return self.passage.text[self.start - self.passage.start:self.end - self.passage.start]


@dataclass(frozen=True)
class Weights:
    """Sentence-scoring weights and the abstention threshold, calibrated with `qa eval` on the dev sets."""

    coverage: float = 0.5
    similarity: float = 1.5
    passage: float = 0.3
    rank: float = 0.02
    qtype: float = 0.2
    # Below the 1st percentile of answerable rows' confidence on the dev sets (0.28-0.31),
    # above off-topic rows' 90th percentile (0.11) and most "insufficient information" rows (median 0.21).
    abstain_below: float = 0.25
    second_ratio: float = 0.8


class ExtractiveAnswerer:
    """Scores every sentence of the top passages against the question and quotes the best one or two."""

    name = "extractive"

    def __init__(self, search=None, weights: Weights = Weights()):
        self.search, self.w = search, weights

    def stream(self, question: str, history: History | None, k: int) -> Generator[str, None, Answer]:
        """Retrieve for the (follow-up resolved) question and answer it; the whole text comes at once."""
        query = self.search.embed_query(q.expand(question, history))
        result = self.answer(query.text, self.search.search(query, max(k, MIN_PASSAGES)))
        yield result.text
        return result

    def answer(self, question: str, passages: list[Passage]) -> Answer:
        """An `Answer` quoting the best sentence(s), or an abstention showing related passages."""
        cands = self.candidates(question, passages)
        if not cands or self.confidence(cands[0]) < self.w.abstain_below:
            return Answer(question, NOT_FOUND, (), True, self.name, tuple(passages), tuple(passages[:3]))
        chosen = self._choose(cands)
        cites = tuple(_citation(n, c) for n, c in enumerate(chosen, 1))
        text = " ".join(f"{c.quote} [{c.n}]" for c in cites)
        return Answer(question, text, cites, False, self.name, tuple(passages))

    def candidates(self, question: str, passages: list[Passage]) -> list[Candidate]:
        """Every distinct sentence of `passages`, best first."""
        kind = _question_kind(question)
        top = max((p.score for p in passages), default=1.0) or 1.0
        seen, out = set(), []
        for rank, p in enumerate(passages):
            for s in p.sentences:
                if (p.source, s.start) in seen:
                    continue
                seen.add((p.source, s.start))
                text = p.text[s.start - p.start:s.end - p.start]
                score = (self.w.coverage * s.coverage + self.w.similarity * s.similarity
                         + self.w.passage * p.score / top - self.w.rank * rank + self.w.qtype * _kind_bonus(kind, text))
                out.append(Candidate(p, s.start, s.end, score, s))
        return sorted(out, key=lambda c: -c.score)

    def confidence(self, best: Candidate) -> float:
        """Evidence strength of the best sentence: term coverage plus vector similarity."""
        return 0.5 * (best.evidence.coverage + best.evidence.similarity)

    def _choose(self, cands: list[Candidate]) -> list[Candidate]:
        best = cands[0]
        for c in cands[1:4]:
            adds = c.evidence.covered - best.evidence.covered
            if c.score >= self.w.second_ratio * best.score and adds:
                return sorted([best, c], key=lambda x: (x.passage.source != best.passage.source, x.start))
        return [best]


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
                    page=p.page, passage_id=p.id, context=p.text, context_start=p.start,
                    unit=p.unit(line, line + c.text.count("\n")))
