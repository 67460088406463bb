"""Question hygiene shared by every answerer, and the LLM answerer's fallback for follow-ups."""
from __future__ import annotations

import unicodedata

from index.errors import UsageError
from qa.conversation.turns import leans_on_history
from qa.history import History, user_turns

MAX_CHARS = 4000


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
    """A follow-up that leans on the previous turn (a reference or a fragment, `qa.conversation.turns`) with the
    previous question's words added; any other question unchanged. The fallback of the LLM answerer when
    its rewrite is unusable; the extractive answerer resolves follow-ups from the evidence (`qa.extractive.resolver`)."""
    previous = user_turns(history)
    if not previous or not leans_on_history(question):
        return question
    return f"{question} {previous[-1]}"
