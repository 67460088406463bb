"""Question hygiene and follow-up handling shared by every answerer."""
from __future__ import annotations

import re
import unicodedata

from index.errors import UsageError
from qa.history import History, user_turns

MAX_CHARS = 4000
_PRONOUN = re.compile(r"\b(he|she|they|him|her|them|his|hers|their|it|its|this|that|these|those|there)\b", re.I)


def clean(question: object) -> str:
    """The question with control characters removed and spaces folded; raises `UsageError` if unusable."""
    if not isinstance(question, str):
        raise UsageError("the question must be text")
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in question)
    text = " ".join(text.split())
    if not text:
        raise UsageError("the question is empty", hint="type a question about your documents")
    if len(text) > MAX_CHARS:
        raise UsageError(f"the question is {len(text):,} characters long; the limit is {MAX_CHARS:,}",
                         hint="ask a shorter question")
    return text


def expand(question: str, history: History | None) -> str:
    """For the extractive path: a follow-up that leans on the previous turn borrows its words."""
    previous = user_turns(history)
    if not previous or not _leans_on_context(question):
        return question
    return f"{question} {previous[-1]}"


def _leans_on_context(question: str) -> bool:
    words = question.split()
    return bool(_PRONOUN.search(question)) or len(words) <= 4
