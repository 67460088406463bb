"""Tables as text, one row a line, each cell with its column's header: `Port: Lisbon | Fee: 120 EUR`.

A row on one line is never cut in two by the chunker (it splits at line ends first), and a row that
names its columns answers a question on its own.
"""
from __future__ import annotations

from index.formats.builder import one_line

CELL = " | "


def plain_row(cells) -> str:
    """A row's filled cells (repeats of a merged cell dropped), joined on one line."""
    out: list[str] = []
    for cell in cells:
        text = one_line(cell)
        if text and (not out or out[-1] != text):
            out.append(text)
    return CELL.join(out)


def row_with_headers(row: list[str], header: list[str]) -> str:
    """`Header: value | ...` for the row's filled cells (a cell without a header is given as it is)."""
    out = []
    for n, value in enumerate(row):
        if value:
            name = header[n] if n < len(header) else ""
            out.append(f"{name}: {value}" if name and name != value else value)
    return CELL.join(out)


def table_text(rows) -> str:
    """A table with its first row as the header: the header line, then each row with the headers."""
    cells = [[one_line(c) for c in row] for row in rows]
    cells = [r for r in cells if any(r)]
    if not cells:
        return ""
    header = cells[0]
    return "\n".join([plain_row(header)] + [row_with_headers(r, header) for r in cells[1:]])
