"""When the sentences an answer would cite do not answer the question, even though they match its words.

SQuAD 2.0's unanswerable questions are written to look answerable. They reuse a paragraph's words and
change one thing: they add a negation, state a number the text does not have, or ask for a date or
amount the text does not give. For a single wh-question (at most `MAX_WORDS` words, not yes/no), each
of these is evidence for abstaining:

* negation: the question negates (not, never, no, none, nothing, neither, nor, cannot, n't) and no
  cited sentence does;
* number: a number the question writes in digits ("in 1066", "3 layers") is in no cited sentence;
* type: a when / how-many question, and no cited sentence holds a date or number other than the
  question's own words (`qa.shortanswer`).

Long and yes/no questions (MultiHop-RAG's style) compare facts across documents, so these checks do not
apply to them.
"""
from __future__ import annotations

import re
from typing import Sequence

from qa.shortanswer import DATE, NUMBER, short_answer

MAX_WORDS = 20
_WORD = re.compile(r"\w+(?:[-'’]\w+)*")
_YESNO = re.compile(r"^\s*(?:is|are|was|were|do|does|did|has|have|had|can|could|will|would|should|may|might)\b", re.I)
_NEG = re.compile(r"\b(?:not|never|no|none|nothing|neither|nor|cannot)\b|n't\b", re.I)
_NEG_IDIOM = re.compile(r"\b(?:or not|may not|might not|not only|no longer|not yet)\b", re.I)
_DIGITS = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?(?!\w|\.\d)")
_SMALL = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
          "seventeen eighteen nineteen twenty").split()


def is_single_wh(question: str) -> bool:
    """A short question that is not a yes/no question: the checks below are made for these."""
    return len(_WORD.findall(question)) <= MAX_WORDS and not _YESNO.match(question)


def reasons(question: str, sentences: Sequence[str], kind: str | None = None) -> list[str]:
    """Why `sentences` (the cited ones, best first) do not answer `question`: "negation", "number",
    "type"; empty when nothing speaks against them. `kind` overrides the question's answer type."""
    if not sentences or not is_single_wh(question):
        return []
    text = " ".join(sentences)
    out = []
    if _NEG.search(_NEG_IDIOM.sub(" ", question)) and not _NEG.search(text):
        out.append("negation")
    if _numbers(question, words=False) - _numbers(text):
        out.append("number")
    if kind in (DATE, NUMBER) and not any(short_answer(question, s, kind) for s in sentences):
        out.append("type")
    return out


def _numbers(text: str, words: bool = True) -> set[str]:
    """Numbers written in digits (commas dropped) and, with `words`, the number words zero to twenty."""
    out = {m.group().replace(",", "") for m in _DIGITS.finditer(text)}
    if words:
        low = f" {text.lower()} "
        out |= {str(n) for n, w in enumerate(_SMALL) if f" {w} " in low or f" {w}-" in low}
    return out
