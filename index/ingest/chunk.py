"""Split a loaded document into chunks on paragraph/sentence boundaries, with exact offsets."""
from __future__ import annotations

import bisect
from typing import TYPE_CHECKING

from index.ids import chunk_id, file_prefix
from index.ingest.headings import Outline, below
from index.types import Chunk, LoadedDoc, Segment

if TYPE_CHECKING:  # imported when splitting: the query path uses index_text only, not LangChain
    from langchain_text_splitters import RecursiveCharacterTextSplitter

# Paragraphs first, then lines, then sentence ends, then clauses, then words.
SEPARATORS = ["\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ", ""]
# Prose whose lines wrap (a PDF page, a text manual) is cut at sentence ends before line ends, so a chunk
# does not end in the middle of a sentence; tables (one row a line) keep the order above.
PROSE_SEPARATORS = ["\n\n", ".\n", ". ", "?\n", "? ", "!\n", "! ", "\n", "; ", ", ", " ", ""]
# Front-matter fields kept with each chunk; `source` is renamed since it names the file here.
EXTRA_KEYS = {"source": "site", "author": "author", "url": "url", "category": "category", "to": "to"}


def index_text(text: str, meta: dict) -> str:
    """What the embedder and BM25 see: title, site, date and heading path as a prefix, then the verbatim prose.
    The heading path leaves out a first level that repeats the title (a Markdown `# Title`)."""
    shown = {k: str(meta[k]) for k in ("title", "site", "published", "heading") if meta.get(k)}
    if "heading" in shown:
        shown["heading"] = below(shown["heading"], shown.get("title", ""))
    head = " | ".join(v for v in shown.values() if v)
    return f"{head}\n{text}" if head else text


def make_splitter(size: int, overlap: int, prose: bool = False) -> RecursiveCharacterTextSplitter:
    """The LangChain splitter used for every document (`prose`: sentence ends before line ends)."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    return RecursiveCharacterTextSplitter(
        chunk_size=size, chunk_overlap=overlap, separators=PROSE_SEPARATORS if prose else SEPARATORS,
        keep_separator="end", strip_whitespace=True)


def chunk_doc(doc: LoadedDoc, file_hash: str, size: int, overlap: int) -> list[Chunk]:
    """Chunks of every segment of `doc`; ids depend only on source, content and position."""
    splitter, prose = make_splitter(size, overlap), make_splitter(size, overlap, prose=True)
    lines = _line_starts(doc.text)
    prefix = file_prefix(doc.source, file_hash)
    chunks: list[Chunk] = []
    extra = {EXTRA_KEYS[k]: str(v)[:500] for k, v in doc.meta.items() if k in EXTRA_KEYS}
    paths = Outline(doc.headings)
    for seg in doc.segments:
        seg_line = bisect.bisect_right(lines, seg.start)
        for start, end in _spans(doc.text, seg, splitter if seg.first_row is not None else prose, overlap):
            line = bisect.bisect_right(lines, start)
            chunks.append(Chunk(
                id=chunk_id(prefix, len(chunks)), source=doc.source, text=doc.text[start:end],
                start=start, end=end, start_line=line, end_line=bisect.bisect_right(lines, max(start, end - 1)),
                title=doc.title, published=doc.published, page=seg.page, extra=extra, label=seg.label,
                row=None if seg.first_row is None else seg.first_row + line - seg_line, ocr=seg.ocr,
                heading=paths.at(start), headings=paths.within(start, end)))
    return chunks


def _spans(text: str, seg: Segment, splitter, overlap: int) -> list[tuple[int, int]]:
    """Locate each split piece in the segment; pieces are verbatim substrings in order.

    The splitter carries at most `overlap` characters of a piece into the next one, so the
    next piece starts at or after `previous end - overlap`: searching from there (not just
    past the previous start) keeps repeated text from being matched to an earlier copy.
    """
    body = text[seg.start:seg.end]
    spans, prev = [], None
    for piece in splitter.split_text(body):
        low = 0 if prev is None else max(prev[0] + 1, prev[1] - overlap)
        found = body.find(piece, low)
        if found < 0 and prev is not None:  # not expected; keep provenance exact regardless
            found = body.find(piece, prev[0])
        if found < 0:
            continue
        prev = (found, found + len(piece))
        spans.append((seg.start + found, seg.start + found + len(piece)))
    return spans


def _line_starts(text: str) -> list[int]:
    starts = [0]
    pos = text.find("\n")
    while pos >= 0:
        starts.append(pos + 1)
        pos = text.find("\n", pos + 1)
    return starts
