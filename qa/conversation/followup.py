"""Answering a follow-up: gather candidate sentences, score each against the question's own terms plus the
best-supported hypothesis of what the history contributes (`qa.conversation.readings`), and quote the winner.

    score(s) = focus   x coverage of the question's own terms (the sentence, plus a share of the
                         preceding sentence of its paragraph, where "He ..." finds its antecedent)
             + max over hypotheses h of
                 (inherit x coverage of the terms h takes over from an earlier question
                  + context x coverage of h's context terms x specificity(h)) x prior(h)
             + sim     x sentence-vector similarity (bare question or question + topic)
             + qtype   x answer-type bonus (a year for "when", a number for "how many", ...)
             + near    x nearness to the previous answer (following sentences count double)
             - repeat  x (1 - coverage of what is new in the question) for a sentence already quoted
                         (none when it holds a phrase of an answer type the conversation has not asked for)
             - contrast x coverage of the element a substitution replaces

Re-quoting an earlier answer is therefore allowed only when it covers what the new question adds.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from qa.conversation.readings import Hypothesis
from qa.knowledge.corpus import CorpusView


@dataclass(frozen=True)
class Weights:
    """Follow-up scoring weights (each survives x0.5 and x1.5 within two dev turns; see the README)."""

    focus: float = 1.0
    context: float = 0.3
    sim: float = 1.0
    qtype: float = 0.2
    near: float = 0.3
    near_span: float = 2.0
    repeat: float = 0.8
    left: float = 0.3
    inherit: float = 0.5
    kappa: float = 3.0
    contrast: float = 0.3
    second_ratio: float = 0.8


@dataclass(frozen=True)
class Scored:
    """A candidate sentence's score and what made it."""

    i: int
    score: float
    fcov: float      # coverage of the question's own terms
    ccov: float      # coverage of the winning hypothesis' context (times its specificity)
    sim: float
    hyp: Hypothesis | None
    near: float
    repeat: float
    typed: bool = False  # an earlier answer's sentence holding a phrase of the newly asked type


@dataclass(frozen=True)
class Pool:
    """What a follow-up is scored with."""

    focus: dict
    hypotheses: tuple[Hypothesis, ...]
    vectors: tuple[np.ndarray, ...]      # the bare question's and the question + topic's
    bonus: dict                          # sentence id -> answer-type bonus (0..1)
    previous: tuple[int, ...]            # sentences the previous answer quoted
    quoted_for: dict                     # sentence id -> terms of the question it answered
    typed: frozenset = frozenset()       # quoted sentences holding a phrase of a type the question newly asks for


def coverage(terms: dict, tokens: frozenset) -> float:
    """Share of the idf mass of `terms` found in `tokens`."""
    total = sum(terms.values())
    return sum(w for t, w in terms.items() if t in tokens) / total if total else 0.0


def specificity(terms: dict, kappa: float) -> float:
    """How much matching `terms` says: a hypothesis matched by one common word says little."""
    return 1.0 - math.exp(-sum(terms.values()) / kappa)


def options(hyps: Sequence[Hypothesis]) -> list[Hypothesis | None]:
    """The readings each sentence is scored under. A fragment that takes over an earlier question's
    frame must be read with one of those frames, the most parallel one(s) only."""
    frames = [h for h in hyps if h.inherit]
    if frames:
        top = max(f.prior for f in frames)
        return [h for h in frames if h.prior >= top - 1e-9]
    return [None, *hyps]


def score_pool(ids: Sequence[int], pool: Pool, corpus: CorpusView, w: Weights = Weights()) -> list[Scored]:
    """Score candidate sentences `ids`, best first."""
    readings = options(pool.hypotheses)
    return sorted((_score(i, pool, readings, corpus, w) for i in ids), key=lambda x: -x.score)


def _score(i: int, pool: Pool, readings, corpus: CorpusView, w: Weights) -> Scored:
    tokens = corpus.tokens(i)
    left = corpus.previous(i)
    window = tokens | corpus.tokens(left) if left is not None else tokens

    def cov(terms: dict) -> float:
        own = coverage(terms, tokens)
        return own + w.left * (coverage(terms, window) - own)

    fcov = cov(pool.focus)
    vec = corpus.vector(i)
    sim = max((float(vec @ v) for v in pool.vectors), default=0.0)
    near = _nearness(i, pool.previous, corpus, w.near_span)
    base = w.focus * fcov + w.sim * sim + w.qtype * pool.bonus.get(i, 0.0) + w.near * near
    best = max((_reading(h, i, tokens, pool, cov, w) for h in readings), key=lambda x: x[0])
    return Scored(i, base + best[0], fcov, best[2], sim, best[1], near, best[3], i in pool.typed)


def _reading(h: Hypothesis | None, i: int, tokens: frozenset, pool: Pool, cov, w: Weights):
    """(score added under reading h, h, context coverage, repeat penalty)."""
    inherit = cov(h.inherit) if h and h.inherit else 0.0
    context = cov(h.context) * specificity(h.context, w.kappa) if h and h.context else 0.0
    gain = (w.inherit * inherit + w.context * context) * (h.prior if h else 1.0)
    repeat = 0.0
    if i in pool.quoted_for:
        novel = {t: x for t, x in {**(h.inherit if h else {}), **pool.focus}.items() if t not in pool.quoted_for[i]}
        repeat = 1.0 - coverage(novel, tokens) if novel else 0.5
        if i in pool.typed:  # "When did he say that?": the date it holds answers what the conversation has not asked
            repeat = 0.0
    contrast = w.contrast * coverage(h.replaced, tokens) if h and h.replaced else 0.0
    return gain - w.repeat * repeat - contrast, h, context, repeat


def _nearness(i: int, previous: Sequence[int], corpus: CorpusView, span: float) -> float:
    """exp(-(d-1)/span) for a sentence d positions after a previously quoted one; half that before it."""
    s, near = corpus.sents[i], 0.0
    for j in previous:
        p = corpus.sents[j]
        if p.source == s.source and p.i != s.i:
            d = abs(s.pos - p.pos)
            near = max(near, math.exp(-(d - 1) / span) * (1.0 if s.pos > p.pos else 0.5))
    return near


def chosen(scored: list[Scored], focus: dict, corpus: CorpusView, w: Weights = Weights()) -> list[int]:
    """The best sentence, plus a second one when it is nearly as good, adds question terms and is not a
    repeat; in document order."""
    best = scored[0]
    out = [best.i]
    for x in scored[1:4]:
        adds = corpus.tokens(x.i) - corpus.tokens(best.i)
        if x.score >= w.second_ratio * best.score and coverage(focus, adds) > 0 and x.repeat == 0:
            out.append(x.i)
            break
    first = corpus.sents[best.i].source
    return sorted(out, key=lambda i: (corpus.sents[i].source != first, corpus.sents[i].start))
