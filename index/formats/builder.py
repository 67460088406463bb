"""Assemble a document's text from parts (pages, slides, rows, chapters), recording each part's segment."""
from __future__ import annotations

import re

from index.types import Segment

_BLANKS = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")
_SPACES = re.compile(r"[ \t\u00a0\v\f]+")
SEPARATOR = "\n\n"


def tidy(text: str) -> str:
    """Spaces collapsed, lines stripped, runs of blank lines cut to one."""
    lines = (_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip()


def one_line(text: str) -> str:
    """`text` on one line (a table cell or row), spaces collapsed."""
    return " ".join(str(text).split())


class DocBuilder:
    """Text made of parts separated by blank lines; `add` records the part's `Segment`."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.segments: list[Segment] = []
        self.size = 0

    def add(self, text: str, **where) -> None:
        """Append `text` (skipped when blank) as one segment located by `where` (page, label, first_row, ocr)."""
        if not text.strip():
            return
        if self.parts:
            self.parts.append(SEPARATOR)
            self.size += len(SEPARATOR)
        self.segments.append(Segment(self.size, self.size + len(text), **where))
        self.parts.append(text)
        self.size += len(text)

    @property
    def text(self) -> str:
        """Everything added so far."""
        return "".join(self.parts)
