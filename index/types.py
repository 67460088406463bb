"""Typed, frozen values passed between the index stages."""
from __future__ import annotations

import time
from dataclasses import dataclass, field


class SkipFile(Exception):
    """Raised by a loader when a file cannot be indexed; the message is the reason."""


@dataclass(frozen=True)
class Segment:
    """A region of `LoadedDoc.text` holding prose to chunk, and where it is in the original file.

    `page` numbers PDF (and multi-page image) pages; `label` names the unit for people ("slide 3",
    "chapter 2", "message 4", a sheet's name); when `first_row` is set, each line of the segment is one
    row of a table, numbered from `first_row` (a citation then reads "Sheet1 row 12"). `ocr` marks text
    read from an image. Chunks never cross segments, so each chunk has one location.
    """

    start: int
    end: int
    page: int | None = None
    label: str | None = None
    first_row: int | None = None
    ocr: bool = False


@dataclass(frozen=True)
class Heading:
    """A heading line of `LoadedDoc.text`: `text[start:end]` is the heading with its marks (underline too);
    `level` 1 is the outermost."""

    start: int
    end: int
    level: int
    text: str


@dataclass(frozen=True)
class LoadedDoc:
    """A file's text and metadata; `segments` mark the prose to index."""

    source: str
    text: str
    title: str
    published: str = ""
    meta: dict = field(default_factory=dict)
    segments: tuple[Segment, ...] = ()
    notes: tuple[str, ...] = ()  # what was left out and why (e.g. scanned pages without OCR)
    pages: int | None = None  # pages (slides, sheets, chapters, messages) in the original file
    headings: tuple[Heading, ...] = ()  # the document's headings in order (see `index.ingest.headings`)

    @property
    def ocr_pages(self) -> int:
        """How many segments were read by OCR."""
        return sum(1 for s in self.segments if s.ocr)

    def info(self) -> dict:
        """What the document manager shows of an indexed file (kept in its manifest entry)."""
        info = {"pages": self.pages, "ocr_pages": self.ocr_pages, "notes": list(self.notes),
                "indexed_at": time.strftime("%Y-%m-%d %H:%M", time.localtime())}
        return {k: v for k, v in info.items() if v}


@dataclass(frozen=True)
class Chunk:
    """A passage with exact provenance: `doc.text[start:end] == text`."""

    id: str
    source: str
    text: str
    start: int
    end: int
    start_line: int
    end_line: int
    title: str
    published: str = ""
    page: int | None = None
    extra: dict = field(default_factory=dict)
    label: str | None = None  # the segment's unit ("slide 3", "Sheet1", ...), see `Segment`
    row: int | None = None  # the table row on the chunk's first line (rows are one line each)
    ocr: bool = False
    heading: str = ""  # the heading path at the chunk's start ("pg_dump › Options"); "" above every heading
    headings: str = ""  # headings starting inside the chunk, JSON `[[start, end, path], ...]` (`Outline.within`)

    def metadata(self) -> dict:
        """Flat metadata for the vector store (no None values)."""
        meta = {"source": self.source, "start": self.start, "end": self.end, "title": self.title,
                "start_line": self.start_line, "end_line": self.end_line, "published": self.published}
        optional = {"page": self.page, "label": self.label, "row": self.row, "ocr": self.ocr or None,
                    "heading": self.heading or None, "headings": self.headings or None}
        meta |= {k: v for k, v in optional.items() if v is not None}
        return {**self.extra, **meta}


@dataclass(frozen=True)
class Skipped:
    """A file left out of the index, and why."""

    path: str
    reason: str


@dataclass(frozen=True)
class IndexReport:
    """What one `index.builds.build()` did."""

    files: int
    chunks: int
    added: int
    updated: int
    removed: int
    unchanged: int
    skipped: tuple[Skipped, ...]
    seconds: float
    rebuilt_because: str | None = None
    repaired: tuple[str, ...] = ()  # what `qa index` found broken in the index and repaired
    ocr_pages: dict = field(default_factory=dict)  # source -> pages read by OCR
    notes: tuple[Skipped, ...] = ()  # indexed files with parts left out (path, what and why)
    cancelled: bool = False  # stopped early on request; the rest is indexed by the next build

    def to_json(self) -> dict:
        """The `qa index --json` object."""
        return {"files": self.files, "chunks": self.chunks, "added": self.added, "updated": self.updated,
                "removed": self.removed, "unchanged": self.unchanged,
                "skipped": [{"path": s.path, "reason": s.reason} for s in self.skipped],
                "ocr_pages": sum(self.ocr_pages.values()),
                "ocr": [{"path": p, "pages": n} for p, n in sorted(self.ocr_pages.items())],
                "notes": [{"path": s.path, "note": s.reason} for s in self.notes],
                "seconds": round(self.seconds, 3), "rebuilt_because": self.rebuilt_because,
                "cancelled": self.cancelled, "repaired": list(self.repaired)}

    def summary(self) -> str:
        """One line for humans."""
        ocr = sum(self.ocr_pages.values())
        return (f"{self.files} files, {self.chunks} chunks: {self.added} added, {self.updated} updated, "
                f"{self.removed} removed, {self.unchanged} unchanged, {len(self.skipped)} skipped"
                + (f", {ocr} pages read by OCR" if ocr else "") + f" in {self.seconds:.1f}s"
                + (" (cancelled: the rest is indexed next time)" if self.cancelled else ""))
