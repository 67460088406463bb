"""Question hygiene and follow-up handling shared by every answerer."""
from __future__ import annotations

import re
import unicodedata
from typing import Iterable, Sequence

from index.errors import UsageError

MAX_CHARS = 4000
_PRONOUN = re.compile(r"\b(he|she|they|him|her|them|his|hers|their|it|its|this|that|these|those|there)\b", re.I)

History = Sequence  # of {"role", "content"} dicts or (user, assistant) pairs


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


def _text(content) -> str | None:
    """Message content as text: a string, or (Gradio 6) a list of {"type": "text", "text": ...} parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p.get("text") for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)]
        return " ".join(parts) if parts else None
    return None


def user_turns(history: History | None) -> list[str]:
    """The user's earlier questions, oldest first, from either history format."""
    out = []
    for turn in history or ():
        if isinstance(turn, dict) and turn.get("role") == "user" and _text(turn.get("content")):
            out.append(_text(turn["content"]))
        elif isinstance(turn, (list, tuple)) and turn and isinstance(turn[0], str):
            out.append(turn[0])
    return out


def messages(history: History | None) -> list[tuple[str, str]]:
    """History as (role, text) pairs for chat models."""
    out: list[tuple[str, str]] = []
    for turn in history or ():
        if isinstance(turn, dict) and _text(turn.get("content")):
            out.append((str(turn.get("role", "user")), _text(turn["content"])))
        elif isinstance(turn, (list, tuple)) and len(turn) == 2:
            out += [("user", str(turn[0]))] + ([("assistant", str(turn[1]))] if turn[1] else [])
    return out


def expand(question: str, history: History | None) -> str:
    """For the extractive path: a follow-up that leans on the previous turn borrows its words."""
    previous = user_turns(history)
    if not previous or not _leans_on_context(question):
        return question
    return f"{question} {previous[-1]}"


def _leans_on_context(question: str) -> bool:
    words = question.split()
    return bool(_PRONOUN.search(question)) or len(words) <= 4


def join(parts: Iterable[str]) -> str:
    """Join streamed text pieces."""
    return "".join(parts)
