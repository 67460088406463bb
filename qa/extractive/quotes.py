"""Quotes that keep a quotation whole: a cited sentence that begins inside a quotation (its first quotation
mark closes one: `Russia would struggle ... inputs," said a senior official`) is widened back to the mark that
opened it, so a reader never sees a stray closing mark, nor someone's words without the sign they are
someone's words. The quote stays an exact span of the file."""
from __future__ import annotations

import re
from dataclasses import replace

from qa.types import Answer, Citation

MAX_WIDEN = 600  # characters a quote may grow by; a longer quotation is left as the sentence was
_MARKS = "\"“”"
_CLOSING = re.compile(r"(?<=\S)[\"”](?=[\s,.;:!?)\]]|$)")  # after a word or punctuation, before a break
_OPENING = re.compile(r"(?:(?<=[\s(\[])|^)[\"“](?=\S)")  # after a break, before a word


def begins_inside(quote: str) -> bool:
    """Whether the first quotation mark of `quote` closes a quotation (the quote began inside it)."""
    first = next((i for i, ch in enumerate(quote) if ch in _MARKS), None)
    return first is not None and quote[first] != "“" and bool(_CLOSING.match(quote, first))


def widen(text: str, start: int, end: int, base: int = 0) -> int:
    """The start of the quote `text[start - base:end - base]` (offsets of the file, `text` starting at
    `base`): moved back to the mark that opens its quotation, in the same paragraph, when the quote begins
    inside one; `start` otherwise (also when that mark is out of `text` or too far)."""
    at = start - base
    if not begins_inside(text[at:end - base]):
        return start
    floor = max(0, at - MAX_WIDEN, text.rfind("\n", 0, at) + 1)
    marks = [i for i in range(at - 1, floor - 1, -1) if text[i] in _MARKS]
    if not marks or not _OPENING.match(text, marks[0]):
        return start  # the nearest mark before is no opening one: leave the sentence as it is
    return base + marks[0]


def whole(answer: Answer) -> Answer:
    """`answer` with each quote that begins inside a quotation widened to its opening mark (in the
    citations and in the text, where each quote is followed by its `[n]`)."""
    text, cites = answer.text, []
    for c in answer.citations:
        wide = _widened(c)
        if wide is not c:
            text = text.replace(f"{c.quote} [{c.n}]", f"{wide.quote} [{c.n}]", 1)
        cites.append(wide)
    return replace(answer, text=text, citations=tuple(cites)) if cites != list(answer.citations) else answer


def _widened(c: Citation) -> Citation:
    """Citation `c` from its quotation's opening mark (found in its context, the chunk it was cut from)."""
    if not c.context or not c.context_start <= c.start <= c.end <= c.context_start + len(c.context):
        return c
    start = widen(c.context, c.start, c.end, c.context_start)
    if start == c.start:
        return c
    return replace(c, start=start, quote=c.context[start - c.context_start:c.end - c.context_start])
