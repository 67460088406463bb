"""User-facing wording shared by every answerer and edge: what an abstention says, how a place in a
document is written. Change the wording here and nowhere else."""
from __future__ import annotations

from typing import Mapping

NOT_FOUND = "The documents do not contain an answer to this question."
RELATED = "Related passages (closest, not an answer)"
DASH = "–"  # between the first and last line of a range


def lines(start_line: int, end_line: int) -> str:
    """`line 3` or `lines 3–5`."""
    return f"line {start_line}" if start_line == end_line else f"lines {start_line}{DASH}{end_line}"


def unit(meta: Mapping, first_line: int, start_line: int, end_line: int) -> str:
    """The unit of a span from its chunk's metadata: `Sheet1 row 12` / `rows 3–5` for table rows (one row
    a line, `row` being the row on the chunk's first line `first_line`), else the segment's label
    (`slide 3`, `chapter 2`, `message 4`); "" when the file has none (lines or pages locate it)."""
    label = str(meta.get("label") or "")
    if meta.get("row") is None:
        return label
    first = int(meta["row"]) + start_line - first_line
    last = int(meta["row"]) + end_line - first_line
    rows = f"row {first}" if first == last else f"rows {first}{DASH}{last}"
    return f"{label} {rows}" if label else rows


def place(start_line: int, end_line: int, page: int | None = None, unit: str = "") -> str:
    """Where in a file: the unit (`slide 3`, `Sheet1 row 12`), `p. 2` for paged documents, else lines."""
    return unit or (f"p. {page}" if page else lines(start_line, end_line))


def location(source: str, start_line: int, end_line: int, page: int | None = None, unit: str = "") -> str:
    """`file, lines 3–5` (or `file, p. 2`, `deck.pptx, slide 3`, `sales.xlsx, Sheet1 row 12`), for display."""
    return f"{source}, {place(start_line, end_line, page, unit)}"
def documents(count: int, shown: int) -> str:
    """How a list of the indexed documents begins (`shown` of `count` are listed)."""
    head = f"{count} document{'s are' if count != 1 else ' is'} indexed"
    return head + (f"; the first {shown}:" if shown < count else ":")


def which_document(titles: list[str]) -> str:
    """The reply to a question about "the article" when several documents could be meant."""
    return "Which document do you mean? Ask about its content first, or name it: " + "; ".join(titles[:10])


# How the LLM answerer says what became of a model's reply (qa/llm/answerer.py).
LLM_FAILED = {
    "uncited": "it cited no passage that supports it",
    "markup": "it repeated the prompt's passage markup instead of answering",
    "budget": "it did not finish within {budget:g} s",
    "tokens": "it reached the limit of {tokens} tokens",
    "stall": "the server sent nothing for {stall:g} s",
}
LLM_CUT = {
    "budget": "the answer was cut at the time limit ({budget:g} s)",
    "tokens": "the answer was cut at the length limit ({tokens} tokens)",
    "stall": "the answer was cut: the server sent nothing for {stall:g} s",
    "markup": "the answer was cut where the model began repeating the prompt's passage markup",
}
LLM_FALLBACK = "the model's answer was not used ({reason}); this is the extractive answer, quoted from the passages"
LLM_ABSTAIN = "the model's answer was not used ({reason}), and the passages hold no sentence to quote instead"
LLM_DROPPED = "{n} sentence{s} of the model's reply that the cited passages do not support {were} left out"


def llm_note(template: str, **facts) -> str:
    """One of the notes above, filled in."""
    return template.format(**facts)
