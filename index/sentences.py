"""Split passage text into sentences with exact character offsets."""
from __future__ import annotations

import re

# A sentence ends at . ! ? (plus closing quotes/brackets) followed by space and a likely sentence start,
# or at a line break.
_END = re.compile(r"""[.!?]["'”’)\]]*(?=\s+["'“‘(\[]?[A-Z0-9])|\n""")
_ABBREV = re.compile(r"(?:\b(?:Mr|Mrs|Ms|Dr|Prof|Gen|Col|Lt|Sgt|Capt|Gov|Sen|Rep|St|Mt|Jr|Sr|Inc|Corp|Ltd|Co|"
                     r"vs|etc|No|Vol|Fig|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|approx|ca|cf|e\.g|i\.e)"
                     r"|\b[A-Z](?:\.[A-Z])*)\.$")


def split(text: str, base: int = 0) -> list[tuple[int, int]]:
    """(start, end) spans of the sentences of `text`, shifted by `base`, whitespace trimmed."""
    spans, start = [], 0
    for m in _END.finditer(text):
        if m.group() != "\n" and _ABBREV.search(text[max(0, m.start() - 12):m.start() + 1]):
            continue
        _add(text, start, m.end(), base, spans)
        start = m.end()
    _add(text, start, len(text), base, spans)
    return spans


def _add(text: str, start: int, end: int, base: int, spans: list) -> None:
    piece = text[start:end]
    stripped = piece.strip()
    if stripped:
        lead = len(piece) - len(piece.lstrip())
        spans.append((base + start + lead, base + start + lead + len(stripped)))
