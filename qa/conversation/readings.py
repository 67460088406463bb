"""How an earlier turn was understood (`Reading`), and what the history may contribute to the current
question (`Hypothesis`): an entity of the previous answer or question, the previous topic, the previous
answer, a substitution frame for a fragment ("And Blinken?" keeps "when did _ raise concerns"), the item
an ordinal points at ("the second"), or the expansion of an acronym ("that abbreviation"). Which
hypothesis holds is decided by the evidence (`qa.conversation.followup`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from index.snapshot.lexical import tokenize
from qa.conversation.turns import CONTINUATION, ORDINAL_REF, ORDINALS, Cues, cues, is_fragment, wh_lead
from qa.knowledge.corpus import CorpusView
from qa.knowledge.mentions import AUX, DEMONSTRATIVE, PERSONAL, WH, WORD, list_items
from qa.wording import NOT_FOUND

FUNCTION_STEMS = frozenset(tokenize(" ".join(WH | AUX | PERSONAL | DEMONSTRATIVE |
                                              {"one", "ones", "about", "instead", "also", "then", "so"})))
_EXPANSION = re.compile(r"\bstands?\s+for\b|\babbreviat|\bacronym|\bshort\s+for\b|\binitials\b", re.I)
_MARKERS = re.compile(r"\s*\[\d+\]")
_YEARS = re.compile(r"\b\d{3,4}s?\b")
Embed = Callable[[Sequence[str]], np.ndarray]


@dataclass(frozen=True)
class Reading:
    """How a turn was understood: what it asked, in which context, and where its answer came from."""

    question: str
    kind: str                                  # first | self | pronoun | ellipsis | metadata | off-topic
    focus: dict = field(default_factory=dict)  # the question's own content terms (stem -> idf)
    context: dict = field(default_factory=dict)  # the context hypothesis that won (empty if self-contained)
    inherit: dict = field(default_factory=dict)  # terms taken over from an earlier question
    qtype: str | None = None                   # the answer type asked (own, or inherited by a fragment)
    text: str = ""                             # the resolved question (question + context words)
    frame: str = ""                            # the resolved question alone (no context words)
    cited: tuple[int, ...] = ()                # sentence ids the answer quoted
    entities: tuple[str, ...] = ()             # entity mentions carried forward
    items: tuple[str, ...] = ()                # the last enumeration seen in an answer ("A, B and C")
    docs: tuple[str, ...] = ()                 # the documents the conversation is about
    quoted_for: dict = field(default_factory=dict)  # sentence id -> terms of the question it answered
    answer: str = ""                           # the assistant's own answer to this turn
    short: str = ""                            # the phrase that answered it (a name, a date), if any
    note: str = ""

    @property
    def asked(self) -> dict:
        """The resolved question's own terms (focus plus what it inherited)."""
        return {**self.inherit, **self.focus}

    @property
    def terms(self) -> dict:
        return {**self.context, **self.focus}


@dataclass(frozen=True)
class Hypothesis:
    """One thing the history may contribute: `inherit`ed terms count as part of the question (a
    substitution frame), `context` terms as weaker evidence of what a reference stands for; `text` is a
    natural-language resolved question for retrieval."""

    label: str
    inherit: dict
    context: dict
    text: str
    prior: float = 1.0
    replaced: dict = field(default_factory=dict)  # terms of the element a substitution replaces


@dataclass(frozen=True)
class Resolution:
    """The current question read against the previous turn."""

    cues: Cues
    focus: dict
    hypotheses: tuple[Hypothesis, ...]
    question: str  # the question, with an ordinal replaced by the item it points at


def strip_markers(text: str) -> str:
    """Answer text without `[n]` markers; empty for an abstention (whatever a chat shows after it)."""
    return "" if not text or text.startswith(NOT_FOUND) else _MARKERS.sub("", text).strip()


def resolve(question: str, prev: Reading, corpus: CorpusView, embed: Embed | None = None) -> Resolution:
    """The question's focus terms and the hypotheses the previous turn offers (`embed` turns texts into
    unit vectors, to find which element of the previous question a fragment replaces)."""
    c = cues(question, corpus.capitals)
    # "On what date?": the phrase's noun is the answer's kind; the question is the previous one's frame
    lead = wh_lead(question)
    focus = corpus.weights(question if lead is None else lead, FUNCTION_STEMS)
    answer = strip_markers(prev.answer)
    hyps = _acronym(question, answer, prev, corpus)
    if c.ordinal:
        focus, ordinal, question = _ordinal(question, c, focus, answer, prev, corpus)
        hyps += ordinal
    hyps += _entities(question, focus, answer, prev, corpus)
    hyps.append(Hypothesis("topic", {}, dict(prev.terms), f"{question} {prev.text}", 0.8))
    answer_terms = corpus.weights(answer, FUNCTION_STEMS) if answer else {}
    if answer_terms:
        hyps.append(Hypothesis("answer", {}, answer_terms, f"{question} {answer}", 0.8))
    new = {t for t in focus if t not in prev.asked and t not in answer_terms}
    if new and is_fragment(question) and not c.ordinal:
        hyps += _substitutions(question, prev, answer_terms, corpus, embed)
    if not focus and is_fragment(question) and prev.asked:
        # "When?", "Why?": the same question about what the previous turn asked, with another question word
        hyps.append(Hypothesis("wh-frame", dict(prev.asked), answer_terms, f"{question} {prev.frame}"))
    return Resolution(c, focus, tuple(hyps), question)


def has_year(text: str) -> bool:
    """Whether `text` names a year or decade ("in 1911", "the 1990s")."""
    return bool(_YEARS.search(text))


def _acronym(question: str, answer: str, prev: Reading, corpus: CorpusView) -> list[Hypothesis]:
    """"What does that abbreviation stand for?": the first acronym of the question, the previous answer or
    the previous question that the documents define."""
    if not _EXPANSION.search(question):
        return []
    for word in WORD.findall(f"{question} {answer} {prev.question}"):
        expansion = corpus.acronyms.get(word) if word.isupper() and len(word) > 1 else None
        if expansion:
            return [Hypothesis(f"acronym:{word}", corpus.weights(f"{word} {expansion}", FUNCTION_STEMS), {},
                               f"{word} ({expansion})")]
    return []


def _ordinal(question: str, c: Cues, focus: dict, answer: str, prev: Reading, corpus: CorpusView):
    """"the second" -> the second item of the last enumeration. With a wh-frame of its own ("main sources
    of the first one") the item replaces the ordinal; as a fragment ("And the second?") the previous
    question is the frame, with the item swapped in."""
    items = list_items(answer) or list(prev.items) or list_items(prev.question)
    if not items:
        return focus, [], question
    idx = ORDINALS[c.ordinal]
    item = items[idx] if -len(items) <= idx < len(items) else items[-1]
    focus = {t: w for t, w in {**focus, **corpus.weights(item, FUNCTION_STEMS)}.items() if t not in tokenize(c.ordinal)}
    if c.has_wh and not is_fragment(question):
        return focus, [], ORDINAL_REF.sub(item, question)
    siblings = set().union(*(corpus.weights(x, FUNCTION_STEMS) for x in items))
    text = prev.frame
    for x in items:
        text = re.sub(re.escape(x), item, text, flags=re.I)
    text = text if item.lower() in text.lower() else f"{text} {item}"
    rest = {t: w for t, w in prev.asked.items() if t not in siblings}
    return focus, [Hypothesis(f"ordinal:{item}", rest, {}, text)], question


def _entities(question: str, focus: dict, answer: str, prev: Reading, corpus: CorpusView) -> list[Hypothesis]:
    """Each entity of the previous answer (those new to the previous question first), of the previous
    question and carried from earlier turns, as what a reference may stand for."""
    in_answer = corpus.mentions(answer)
    new = [m for m in in_answer if m.lower() not in prev.question.lower()]
    ranked = [(m, 1.0) for m in new] + [(m, 0.8) for m in in_answer] + \
             [(m, 0.8) for m in corpus.mentions(prev.question)] + [(m, 0.6) for m in prev.entities]
    seen, out = set(), []
    for mention, prior in ranked:
        terms = corpus.weights(mention, FUNCTION_STEMS)
        key = frozenset(terms)
        if terms and key not in seen and not set(terms) <= set(focus):
            seen.add(key)
            out.append(Hypothesis(f"entity:{mention}", {}, terms, f"{question} {mention}", prior))
    return out


def _substitutions(question: str, prev: Reading, answer_terms: dict, corpus: CorpusView,
                   embed: Embed | None) -> list[Hypothesis]:
    """A fragment bringing a new entity, year or sibling word ("And Blinken?", "And by 1883?", "And in
    connection-oriented mode?") takes over the previous question minus the parallel element it replaces.
    The parallel element is the candidate whose vector is most similar to the new one's."""
    core = CONTINUATION.sub("", question).strip(" ?,.")
    parallel = _parallel(core, prev.frame, corpus)
    if not parallel:
        return []
    similarity = _similarities(parallel, embed)
    top = max(similarity.values(), default=0.0)
    out = []
    for old, new in parallel:
        old_terms = corpus.weights(old, FUNCTION_STEMS)
        rest = {t: w for t, w in prev.asked.items() if t not in old_terms}
        if old_terms and rest and len(rest) < len(prev.asked):
            context = {t: w for t, w in answer_terms.items() if t not in old_terms}
            prior = 1.0 if similarity.get(old, top) >= top - 1e-9 else 0.8
            out.append(Hypothesis(f"replace:{old}", rest, context, re.sub(re.escape(old), new, prev.frame), prior,
                                  replaced=old_terms))
    return out


def _parallel(core: str, frame: str, corpus: CorpusView) -> list[tuple[str, str]]:
    """(element of the previous question, what replaces it): mentions for a mention, years for a year,
    words sharing their first five letters ("connection-oriented" / "connectionless")."""
    new_mentions, new_years = corpus.mentions(core), _YEARS.findall(core)
    out = [(m, " ".join(new_mentions)) for m in corpus.mentions(frame)] if new_mentions else []
    out += [(y, " ".join(new_years)) for y in _YEARS.findall(frame)] if new_years else []
    fresh = WORD.findall(core)
    out += [(w, f) for w in dict.fromkeys(WORD.findall(frame)) for f in fresh
            if w.lower() != f.lower() and len(w) >= 5 and len(f) >= 5 and w[:5].lower() == f[:5].lower()
            and tokenize(w) != tokenize(f)]
    return out


def _similarities(parallel: list[tuple[str, str]], embed: Embed | None) -> dict[str, float]:
    if embed is None:
        return {}
    vectors = embed([parallel[0][1]] + [old for old, _ in parallel])
    return {old: float(vectors[0] @ v) for (old, _), v in zip(parallel, vectors[1:])}
