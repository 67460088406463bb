"""How a turn leans on the conversation, read from closed-class grammar only: pronouns, demonstratives,
continuation markers ("And ...", "What about ..."), ordinals used as noun phrases ("the second"), and
fragments, which have neither an auxiliary verb nor a fronted wh-phrase ("Made worse by whom?", "And
in 1911?"). No content words are listed. What a reference stands for is decided later from the
evidence (`qa.conversation.readings`, `qa.conversation.followup`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping

from qa.knowledge.mentions import AUX, PERSONAL, WH, WORD, mentions

CONTINUATION = re.compile(r"^\s*(and|so|but|or|also|then|what about|how about)\b", re.I)
ORDINALS = {"first": 0, "second": 1, "third": 2, "fourth": 3, "fifth": 4, "former": 0, "latter": -1, "last": -1}
# "the second", "the first one", "the latter" used as a noun phrase (not "the first railway journey")
ORDINAL_REF = re.compile(r"\bthe\s+(first|second|third|fourth|fifth|former|latter|last)(?:\s+ones?)?\s*(?=[?.!,]|$)",
                         re.I)
PREP = frozenset({"in", "on", "at", "by", "for", "from", "to", "with", "under", "over", "of", "after", "before",
                  "during", "since", "until", "about", "according", "roughly", "approximately", "exactly"})
_LEAD = PREP | {"and", "so", "but", "or", "then", "also"}
_BARE = frozenset({"exactly", "precisely", "then", "now", "not", "else"})
_POSSESSIVE = frozenset({"his", "its", "their", "her"})
_WHAT_ABOUT = re.compile(r"^\s*(and\s+)?(what|how)\s+about\b", re.I)
# "Why the bump?", "why that delay?": "why" before a noun phrase and no verb asks why the previous answer holds
_WHY_NP = re.compile(r"^\s*(?:and\s+|so\s+|but\s+)?why\s+(?:the|that|this|these|those|all|such)\s+[\w'’-]+"
                     r"(?:\s+[\w'’-]+)?\s*[?.!]*\s*$", re.I)
MAX_WH_PHRASE = 3  # words of a wh-phrase standing alone ("which city", "how many points")

# The kinds of turn (the same names as the conversation evaluation set).
FIRST, SELF, PRONOUN, ELLIPSIS, METADATA, OFF_TOPIC = "first", "self", "pronoun", "ellipsis", "metadata", "off-topic"


@dataclass(frozen=True)
class Cues:
    """Surface signs that a question leans on the conversation."""

    pronouns: tuple[str, ...] = ()  # he/it/they ... and demonstratives used as references
    continuation: bool = False      # "And ...", "What about ...", "So ..."
    ordinal: str | None = None      # "the second", "the first one"
    has_wh: bool = True             # a wh-word or an auxiliary of its own

    @property
    def any(self) -> bool:
        return bool(self.pronouns or self.continuation or self.ordinal)


def expand_contractions(text: str) -> str:
    """"What's" -> "What is", "you're" -> "you are" (so that auxiliaries are seen)."""
    text = re.sub(r"(?i)\b(what|who|where|when|how|which|that|it|there|here)['’]s\b", r"\1 is", text)
    return re.sub(r"(?i)['’](re)\b", r" are", text)


# "how many" / "how much" straight before a verb leaves its noun to the conversation ("How many have sued so far?")
_ELIDED = re.compile(r"^\s*(?:and\s+|so\s+)?how\s+(?:many|much)\s+(?:have|has|had|are|were|is|was)\s+"
                     r"(?!(?:the|a|an|this|that|these|those|there|it|they|he|she|we|you|i|his|her|its|their|our|your)\b)"
                     r"[a-z]", re.I)


def cues(question: str, capitals: Mapping[str, float] | None = None) -> Cues:
    """The question's cues of dependence on the conversation.

    Personal pronouns count, except a possessive that follows an entity mention of the question itself
    ("did Paul Baran do his research"). "this/these/those" count; "that" counts when it ends a phrase or
    follows a preposition, wh-word or auxiliary ("after that merger", "does that abbreviation"), not as
    the complementiser of "told lawmakers that Russia ..."."""
    question = expand_contractions(question)
    tokens = [(m.group().lower(), m.start()) for m in WORD.finditer(question)]
    words = [w for w, _ in tokens]
    found = [w for n, (w, at) in enumerate(tokens) if _is_reference(n, w, words, question[:at], capitals)]
    if _ELIDED.match(question):  # "How many have sued?": how many of what the conversation is about
        found.append("how many")
    ordinal = ORDINAL_REF.search(question)
    return Cues(tuple(found), bool(CONTINUATION.match(question)), ordinal.group(1).lower() if ordinal else None,
                bool(set(words) & (WH | AUX)))


def _is_reference(n: int, word: str, words: list[str], before: str, capitals) -> bool:
    if word in PERSONAL:
        return not (word in _POSSESSIVE and _names_before(before, capitals))
    if word in ("this", "these", "those"):
        return True
    if word == "that":
        prev = words[n - 1] if n else ""
        return n + 1 >= len(words) or prev in PREP | WH | AUX
    return False


def _names_before(text: str, capitals) -> bool:
    if capitals is not None:
        return bool(mentions(text, capitals))
    return bool(re.search(r"(?<!^)\b[A-Z][a-z]+", text.strip()))


def is_fragment(question: str) -> bool:
    """A fragment continuing the previous turn: a bare question word ("Why?", "When exactly?"), or no
    auxiliary and no wh-word at the front (after at most some prepositions) but an in-situ wh-word or a
    continuation marker ("Made worse by whom?", "And Blinken?"), a prepositional wh-phrase alone ("On
    what date?"), or "why" before a noun phrase ("Why the bump?"). "Any good sushi places?" and "Tell me
    a joke." continue nothing."""
    if _WHAT_ABOUT.match(question):
        return True
    words = [w.lower() for w in WORD.findall(expand_contractions(question))]
    if _WHY_NP.match(question) and not set(words) & AUX:
        return True
    if not words or set(words) & AUX:
        return False
    if set(words) <= WH | _LEAD | _BARE:
        return bool(set(words) & WH)  # "Why?", "When exactly?", "And where?": only the question word is left
    lead = next((n for n, w in enumerate(words) if w not in _LEAD), len(words))
    if lead < len(words) and words[lead] in WH:
        return wh_phrase_only(question)
    return bool(set(words) & WH) or bool(CONTINUATION.match(question))


def leans_on_history(question: str) -> bool:
    """Whether a question needs the conversation to be understood: a reference cue or a fragment."""
    return cues(question).any or is_fragment(question)


def wh_phrase_only(question: str) -> bool:
    """A wh-phrase after a preposition or "and", and nothing else ("On what date?", "In which city?", "And
    for how long?"): no clause of its own, so it asks the previous question again, for another of its parts."""
    return wh_lead(question) is not None


def wh_lead(question: str) -> str | None:
    """For a wh-phrase standing alone (`wh_phrase_only`), the words before it ("On" of "On what date?"):
    they are what the question says; the phrase's noun names the kind of answer, not what it is about."""
    words = [w.lower() for w in WORD.findall(expand_contractions(question))]
    lead = next((n for n, w in enumerate(words) if w not in _LEAD), len(words))
    if 0 < lead < len(words) and words[lead] in WH and len(words) - lead <= MAX_WH_PHRASE and not set(words) & AUX:
        return " ".join(words[:lead])
    return None
