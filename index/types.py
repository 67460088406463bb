"""Typed, frozen values passed between the index stages."""
from __future__ import annotations

from dataclasses import dataclass, field


class SkipFile(Exception):
    """Raised by a loader when a file cannot be indexed; the message is the reason."""


@dataclass(frozen=True)
class Segment:
    """A region of `LoadedDoc.text` holding prose to chunk (a page for PDFs)."""

    start: int
    end: int
    page: int | None = None


@dataclass(frozen=True)
class LoadedDoc:
    """A file's text and metadata; `segments` mark the prose to index."""

    source: str
    text: str
    title: str
    published: str = ""
    meta: dict = field(default_factory=dict)
    segments: tuple[Segment, ...] = ()


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

    def metadata(self) -> dict:
        """Flat metadata for the vector store (no None values)."""
        meta = {"source": self.source, "start": self.start, "end": self.end, "title": self.title,
                "start_line": self.start_line, "end_line": self.end_line, "published": self.published}
        if self.page is not None:
            meta["page"] = self.page
        return {**self.extra, **meta}


@dataclass(frozen=True)
class Skipped:
    """A file left out of the index, and why."""

    path: str
    reason: str


@dataclass(frozen=True)
class IndexReport:
    """What one `index.build()` did."""

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

    def to_json(self) -> dict:
        """The `qa index --json` object."""
        return {"files": self.files, "chunks": self.chunks, "added": self.added, "updated": self.updated,
                "removed": self.removed, "unchanged": self.unchanged,
                "skipped": [{"path": s.path, "reason": s.reason} for s in self.skipped],
                "seconds": round(self.seconds, 3), "rebuilt_because": self.rebuilt_because,
                "repaired": list(self.repaired)}

    def summary(self) -> str:
        """One line for humans."""
        return (f"{self.files} files, {self.chunks} chunks: {self.added} added, {self.updated} updated, "
                f"{self.removed} removed, {self.unchanged} unchanged, {len(self.skipped)} skipped "
                f"in {self.seconds:.1f}s")
