"""The metrics every evaluation reports (`qa eval`, the benchmarks; README "Quality and performance"), as plain
functions: SQuAD's official normalisation, exact match and token F1, gold contained, the rank of the first
passage holding the evidence (hits@k, MRR), evidence recall, percentiles."""
from __future__ import annotations

import re
import string
from collections import Counter
from typing import Sequence

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_MARKER = re.compile(r"\[\d+\]")


def normalize(text: str) -> str:
    """Lower case, punctuation and articles removed, spaces folded (the official SQuAD normalisation)."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in set(string.punctuation))
    return " ".join(_ARTICLES.sub(" ", text).split())


def strip_markers(text: str) -> str:
    """Answer text without its `[n]` citation markers."""
    return _MARKER.sub(" ", text)


def contains_gold(answer: str, golds: Sequence[str]) -> bool:
    """Whether the normalised answer contains a normalised gold answer (as whole words)."""
    norm = f" {normalize(strip_markers(answer))} "
    return any(normalize(g) and f" {normalize(g)} " in norm for g in golds)


def short_matches(short: str, golds: Sequence[str]) -> bool:
    """Whether a short answer is right: its normalised words contain a normalised gold answer or are
    contained in one (as whole words), so "Cavoli" and "Gen. Chris Cavoli" both match "Chris Cavoli"."""
    norm = normalize(short)
    if not norm:
        return False
    for gold in golds:
        g = normalize(gold)
        if g and (f" {g} " in f" {norm} " or f" {norm} " in f" {g} "):
            return True
    return False


def exact_match(answer: str, golds: Sequence[str]) -> float:
    """1.0 when the normalised answer equals a normalised gold answer (the SQuAD exact match), else 0.0."""
    norm = normalize(strip_markers(answer))
    return float(any(norm == normalize(g) for g in golds if normalize(g)))


def token_f1(answer: str, golds: Sequence[str]) -> float:
    """Best SQuAD token F1 of the answer against the golds."""
    pred = normalize(strip_markers(answer)).split()
    best = 0.0
    for gold in golds:
        ref = normalize(gold).split()
        common = sum((Counter(pred) & Counter(ref)).values())
        if common:
            p, r = common / len(pred), common / len(ref)
            best = max(best, 2 * p * r / (p + r))
    return best


def is_hit(passage, evidence: dict) -> bool:
    """A passage hits evidence when it comes from the same file and the spans overlap."""
    return passage.source == evidence["source"] and passage.start < evidence["end"] and evidence["start"] < passage.end


def first_hit_rank(passages, evidence: list[dict]) -> int | None:
    """1-based rank of the first passage hitting any evidence span."""
    return next((n for n, p in enumerate(passages, 1) if any(is_hit(p, e) for e in evidence)), None)


def evidence_recall(passages, evidence: list[dict]) -> float:
    """Share of evidence spans hit by `passages`."""
    if not evidence:
        return 0.0
    return sum(any(is_hit(p, e) for p in passages) for e in evidence) / len(evidence)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by nearest rank."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]
