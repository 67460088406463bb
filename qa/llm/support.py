"""Do an LLM answer's citations support it? Each sentence carrying `[n]` markers must overlap the
passages it cites: enough of its content words found in them, or a quoted span found verbatim.

A marker whose passage shares too little with its sentence is dropped; a sentence whose kept passages
together do not cover enough of it loses all its markers. Markers written after a sentence's full stop
("... in 1931. [2]") belong to that sentence. What an answer is left with decides: no support, abstain.
"""
from __future__ import annotations

import re
from functools import lru_cache

from index.ingest import sentences
from index.snapshot.lexical import stem
from qa.types import Passage

COVERAGE = 0.5  # share of a sentence's content words its cited passages must hold
MIN_SHARED = 2  # content words each cited passage must share with the sentence
MIN_QUOTE = 12  # characters of a quoted span that, found in the passage, support the sentence alone
# Words an answer uses to talk about its sources rather than about the facts.
FRAMING = frozenset("according passage passages document documents text article mentioned mentions states "
                    "stated says said also".split())
POLAR = frozenset("yes no true false correct incorrect".split())
_RUN = re.compile(r"(\s*)((?:\[\d+\])+)")
_NUM = re.compile(r"\[(\d+)\]")
_WORD = re.compile(r"\w+", re.UNICODE)
_QUOTED = re.compile(r"[\"“]([^\"“”]+)[\"”]")


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN_PLUS

    return frozenset(STOPWORDS_EN_PLUS) | FRAMING


def content_words(text: str) -> set[str]:
    """Stemmed words of `text` that carry content (no stop or framing words)."""
    stop = _stopwords()
    return set(stem([w for w in _WORD.findall(text.lower()) if w not in stop]))


def _plain(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


def check(text: str, passages: list[Passage], question: str = "") -> str:
    """`text` with every marker its passage does not support removed (1-based passage numbers)."""
    spans = _sentences(text)
    runs = list(_RUN.finditer(text))
    keep: dict[int, set[int]] = {}
    for n, (s, e) in enumerate(spans):
        cited = [int(m) for r in runs if s <= r.start(2) < e for m in _NUM.findall(r.group(2))]
        if cited:
            keep[n] = _supported(_NUM.sub("", text[s:e]), cited, passages, question)
    out, last = [], 0
    for r in runs:
        owner = next(n for n, (s, e) in enumerate(spans) if s <= r.start(2) < e)
        kept = [m for m in dict.fromkeys(int(x) for x in _NUM.findall(r.group(2))) if m in keep.get(owner, ())]
        out += [text[last:r.start()], (r.group(1) + "".join(f"[{m}]" for m in kept)) if kept else ""]
        last = r.end()
    return "".join(out) + text[last:]


def spans(text: str) -> list[tuple[int, int]]:
    """Sentence spans covering `text` without gaps, a marker run that opens a sentence ("... in 1931. [2]")
    joined to the sentence before it: the units whose citations `check` judges."""
    return _sentences(text)


def _sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans covering `text`, a leading marker run joined to the sentence before it."""
    spans = [[s, e] for s, e in sentences.split(text)] or [[0, len(text)]]
    for prev, cur in zip(spans, spans[1:]):
        lead = re.match(r"\s*(?:\[\d+\]\s*)+", text[cur[0]:cur[1]])
        if lead:
            prev[1] = cur[0] + len(lead.group().rstrip())
            cur[0] = prev[1]
    spans[0][0], spans[-1][1] = 0, len(text)
    for prev, cur in zip(spans, spans[1:]):
        prev[1] = cur[0]  # no gaps: every marker lies in one sentence
    return [(s, e) for s, e in spans]


def _supported(sentence: str, cited: list[int], passages: list[Passage], question: str) -> set[int]:
    """The cited passage numbers that support `sentence` (empty: the sentence is not supported)."""
    words = content_words(sentence)
    if words and words <= POLAR:  # a bare "Yes." stands for the question it answers
        words = content_words(question) | words
    texts = {n: _passage_text(passages[n - 1]) for n in dict.fromkeys(cited) if 1 <= n <= len(passages)}
    quotes = [_plain(q) for q in _QUOTED.findall(sentence) if len(q.strip()) >= MIN_QUOTE]
    quoted = {n for n, t in texts.items() if any(q and q in _plain(t) for q in quotes)}
    shared = {n: words & content_words(t) for n, t in texts.items()}
    kept = {n for n, w in shared.items() if len(w) >= min(MIN_SHARED, len(words))} | quoted
    covered = set().union(*(shared[n] for n in kept)) if kept else set()
    if quoted or (words and len(covered) >= MIN_SHARED and len(covered) / len(words) >= COVERAGE):
        return kept
    return set()


def _passage_text(p: Passage) -> str:
    """What the model was shown of a passage: its text and its source, title and date."""
    return " ".join([p.text, p.source or "", p.title or "", p.published or ""])
