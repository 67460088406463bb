"""What the `/v1` API counts and cuts: tokens for `usage`, and a reply held to `max_tokens`.

No answerer here has a model tokenizer of OpenAI's kind (the extractive one has none at all), so a token is
counted as a word or a punctuation mark (`\\w+|[^\\w\\s]`): close to what a GPT tokenizer gives for English
prose, never zero for a non-empty text, and the same on every call, which is what clients use `usage` for
(budgets, logs). The README says so.
"""
from __future__ import annotations

import re

_TOKEN = re.compile(r"\w+|[^\w\s]")


def count(text: str) -> int:
    """The number of tokens in `text`."""
    return sum(1 for _ in _TOKEN.finditer(text))


def cut(text: str, limit: int | None) -> str:
    """`text` up to the end of its `limit`-th token (all of it when it has no more, or no limit)."""
    if limit is None:
        return text
    end = 0
    for n, token in enumerate(_TOKEN.finditer(text), 1):
        if n > limit:
            return text[:end]
        end = token.end()
    return text


def usage(prompt: int, completion: int) -> dict:
    """OpenAI's `usage` object."""
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


class Budget:
    """A streamed reply held to `limit` tokens: `take` each piece, send what it returns. Counting is done on
    the whole text so far, so a word split between two pieces counts once."""

    def __init__(self, limit: int | None):
        self.limit, self.sent, self.cut = limit, "", False

    def take(self, piece: str) -> str:
        """The part of `piece` that fits (maybe ""); sets `cut` once the reply had to be shortened."""
        if self.cut:
            return ""
        whole = self.sent + piece
        kept = cut(whole, self.limit)
        if len(kept) < len(whole):
            self.cut = True
        fresh = kept[len(self.sent):] if kept.startswith(self.sent) else ""
        self.sent += fresh
        return fresh

    @property
    def tokens(self) -> int:
        """Tokens sent so far."""
        return count(self.sent)
