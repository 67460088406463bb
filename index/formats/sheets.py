"""Spreadsheets and delimited text: Excel workbooks (openpyxl) and CSV/TSV (the standard `csv` module).

Each row is read with its headers, one row a line: `Region: North | Product: Widget | Units: 120`.
Consecutive rows form a segment whose lines are numbered from its first row, so a citation of one
line reads "Sheet1 row 12" (or "row 12" in a CSV file).
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
from pathlib import Path

from index.formats.builder import DocBuilder, one_line
from index.formats.limits import ReadOptions, check_zip
from index.formats.tables import CELL, row_with_headers
from index.types import SkipFile

HEADER_SCAN = 20  # the header is the fullest of the first rows


def cell_text(value) -> str:
    """A cell value as text: whole floats without `.0`, dates in ISO form, newlines flattened."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return one_line(value)


def header_index(rows: list[list[str]]) -> int:
    """Which of the first rows is the header: the one with the most filled cells (the earliest on a tie)."""
    scan = rows[:HEADER_SCAN]
    counts = [sum(1 for c in r if c) for r in scan]
    return counts.index(max(counts)) if counts else 0


def add_table(builder: DocBuilder, rows: list[tuple[int, list[str]]], label: str | None) -> None:
    """Add numbered rows: lines before the header as they are, the header, then rows with headers; each
    run of consecutive rows becomes one segment."""
    if not rows:
        return
    head = header_index([r for _, r in rows])
    header = rows[head][1]
    lines = [(n, CELL.join(c for c in r if c) if i <= head else row_with_headers(r, header))
             for i, (n, r) in enumerate(rows)]
    run: list[tuple[int, str]] = []
    for n, line in lines:
        if run and n != run[-1][0] + 1:
            _flush(builder, run, label)
            run = []
        run.append((n, line))
    _flush(builder, run, label)


def _flush(builder: DocBuilder, run: list[tuple[int, str]], label: str | None) -> None:
    if run:
        builder.add("\n".join(line for _, line in run), label=label, first_row=run[0][0])


# --- Excel ---------------------------------------------------------------------------------------------

def extract_xlsx(path: Path, options: ReadOptions) -> tuple[str | None, DocBuilder, int]:
    """Every sheet's filled rows with their headers; returns (title, builder, number of sheets)."""
    check_zip(path, options, ".xlsx", ("xl/workbook.xml",))
    from openpyxl import load_workbook

    try:
        book = load_workbook(str(path), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 (openpyxl raises zip, XML and key errors on bad files)
        raise SkipFile(f"not a valid .xlsx: {type(exc).__name__}") from exc
    builder = DocBuilder()
    try:
        for sheet in book.worksheets:
            add_table(builder, _sheet_rows(sheet), sheet.title)
        title = book.properties.title or None
        return title, builder, len(book.worksheets)
    except (SkipFile, MemoryError):
        raise
    except Exception as exc:  # noqa: BLE001
        raise SkipFile(f"not a valid .xlsx: {type(exc).__name__}: {exc}"[:200]) from exc
    finally:
        book.close()


def _sheet_rows(sheet) -> list[tuple[int, list[str]]]:
    """(row number, cell texts) of the filled rows; read-only sheets give empty rows too, so numbers hold."""
    out = []
    for number, values in enumerate(sheet.iter_rows(values_only=True), start=sheet.min_row or 1):
        cells = [cell_text(v) for v in values]
        if any(cells):
            out.append((number, cells))
    return out


# --- CSV / TSV -----------------------------------------------------------------------------------------

def extract_csv(text: str, tab: bool) -> DocBuilder:
    """The records of delimited text (the delimiter detected unless it is a .tsv), numbered from 1."""
    dialect = _dialect(text, tab)
    builder = DocBuilder()
    try:
        records = [(n, [one_line(c) for c in r]) for n, r in enumerate(csv.reader(io.StringIO(text, newline=""), dialect), 1)]
    except csv.Error as exc:
        raise SkipFile(f"not valid CSV: {exc}") from exc
    add_table(builder, [(n, r) for n, r in records if any(r)], None)
    return builder


def _dialect(text: str, tab: bool):
    """excel-tab for .tsv; else the delimiter (of , ; tab |) that splits the first records into the most
    rows of one width above 1 (csv.Sniffer is fooled by commas inside semicolon-separated cells)."""
    if tab:
        return csv.excel_tab
    sample, best, score = text[:20_000], ",", (0, 0)
    for delimiter in ",;\t|":
        reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
        try:
            widths = [len(r) for r in itertools.islice(reader, 50) if any(r)]
        except csv.Error:
            continue
        mode = max(set(widths), key=widths.count) if widths else 0
        if mode > 1 and (widths.count(mode), mode) > score:
            best, score = delimiter, (widths.count(mode), mode)
    return csv.excel_tab if best == "\t" else type("Sniffed", (csv.excel,), {"delimiter": best})
