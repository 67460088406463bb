"""User-facing wording shared by every answerer and edge: what an abstention says, how a place in a
document is written. Change the wording here and nowhere else."""
from __future__ import annotations

NOT_FOUND = "The documents do not contain an answer to this question."
RELATED = "Related passages (closest, not an answer)"
UNCITED = "the answer cites no passage"
DASH = "–"  # between the first and last line of a range


def lines(start_line: int, end_line: int) -> str:
    """`line 3` or `lines 3–5`."""
    return f"line {start_line}" if start_line == end_line else f"lines {start_line}{DASH}{end_line}"


def place(start_line: int, end_line: int, page: int | None = None) -> str:
    """Where in a file: `p. 2` for paged documents, else the line range."""
    return f"p. {page}" if page else lines(start_line, end_line)


def location(source: str, start_line: int, end_line: int, page: int | None = None) -> str:
    """`file, lines 3–5` (or `file, p. 2`), for display."""
    return f"{source}, {place(start_line, end_line, page)}"


def documents(count: int, shown: int) -> str:
    """How a list of the indexed documents begins (`shown` of `count` are listed)."""
    head = f"{count} document{'s are' if count != 1 else ' is'} indexed"
    return head + (f"; the first {shown}:" if shown < count else ":")


def which_document(titles: list[str]) -> str:
    """The reply to a question about "the article" when several documents could be meant."""
    return "Which document do you mean? Ask about its content first, or name it: " + "; ".join(titles[:10])
