"""The document manager's view and actions: every document with its status, and removing, excluding,
including and re-indexing one. Shared by the chat's Documents tab and `qa docs`.

Status of a file under the seeds folder:
* `indexed`: its current content is in the index (chunks, pages, title, date, when);
* `skipped`: it cannot be indexed, and why (unsupported, too large, broken, scanned without OCR, ...);
* `pending`: new, changed or deleted since the last build; the next build takes it in (or out).
`excluded` is separate: an indexed document kept out of answers without being deleted.
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

from index.builds.build import build
from index.errors import NothingIndexedError, UsageError
from index.generations import manifest as mf
from index.generations.locking import require_writable
from index.ingest.discover import discover
from index.manager import exclusions
from index.settings import IndexSettings
from index.types import IndexReport

INDEXED, SKIPPED, PENDING = "indexed", "skipped", "pending"


@dataclass(frozen=True)
class DocStatus:
    """One row of the document manager."""

    source: str
    status: str
    excluded: bool = False
    title: str = ""
    published: str = ""
    chunks: int = 0
    pages: int | None = None
    ocr_pages: int = 0
    indexed_at: str = ""
    reason: str = ""  # why skipped or pending; notes on an indexed file (pages left out)

    def to_json(self) -> dict:
        """A JSON-ready dict (`qa docs list --json`)."""
        return asdict(self)


def documents(settings: IndexSettings) -> list[DocStatus]:
    """Every document under the seeds folder, and every indexed one since deleted, sorted by name."""
    found, skipped = discover(settings.seeds_dir, settings.max_file_mb)
    manifest = mf.read(settings.db_dir)
    excluded = exclusions.read(settings.db_dir)
    rows = [_row(f.source, f.hash, manifest, f.source in excluded) for f in found]
    rows += [DocStatus(s.path, SKIPPED, s.path in excluded, reason=s.reason) for s in skipped]
    present = {f.source for f in found} | {s.path for s in skipped}
    rows += [_indexed(source, entry, source in excluded, PENDING, "deleted; it leaves the index at the next build")
             for source, entry in manifest.files.items() if source not in present]
    return sorted(rows, key=lambda r: r.source)


def _row(source: str, file_hash: str, manifest: mf.Manifest, excluded: bool) -> DocStatus:
    entry = manifest.files.get(source)
    if entry is not None and entry.hash == file_hash:
        return _indexed(source, entry, excluded, INDEXED, "; ".join(entry.info.get("notes", ())))
    if manifest.skipped.get(source) == file_hash:
        return DocStatus(source, SKIPPED, excluded, reason=manifest.skip_reasons.get(source, ""))
    return DocStatus(source, PENDING, excluded, reason="changed since it was indexed" if entry else "new")


def _indexed(source: str, entry: mf.FileEntry, excluded: bool, status: str, reason: str) -> DocStatus:
    info = entry.info
    return DocStatus(source, status, excluded, entry.title, entry.published, len(entry.ids), info.get("pages"),
                     info.get("ocr_pages", 0), info.get("indexed_at", ""), reason)


def find(settings: IndexSettings, source: str) -> DocStatus:
    """The document named `source` (as `qa docs list` shows it); `UsageError` when there is none."""
    path_of(settings, source.rstrip("/"))
    by_name = {d.source: d for d in documents(settings)}
    doc = by_name.get(source) or by_name.get(source.rstrip("/") + "/")
    if doc is None:
        raise UsageError(f"no document named {source!r} in {settings.seeds_dir}",
                         hint="`qa docs list` shows the documents and their names")
    return doc


def path_of(settings: IndexSettings, source: str) -> Path:
    """The file of `source` inside the seeds folder; `UsageError` for a name that would leave it."""
    parts = Path(source).parts
    if not source or Path(source).is_absolute() or ".." in parts or "\\" in source:
        raise UsageError(f"{source!r} is not a document name", hint="use a name as `qa docs list` shows it")
    return Path(settings.seeds_dir) / source


def original(settings: IndexSettings, source: str) -> Path:
    """The original file of a document, for download: a regular file that really is inside the seeds folder."""
    find(settings, source)
    path = path_of(settings, source)
    root = Path(settings.seeds_dir).resolve()
    real = path.resolve()
    if not path.is_file() or root not in real.parents:
        raise UsageError(f"{source!r} has no original file to download", hint="it may have been deleted")
    return path


def remove(settings: IndexSettings, sources: list[str], **build_args) -> IndexReport | None:
    """Delete the documents' files (a symlink: the link only) and, by one incremental build, their chunks.
    Returns the build's report (None when no indexed document is left)."""
    paths = [_removable(settings, s) for s in sources]
    require_writable(settings.db_dir)
    for source, path in zip(sources, paths):
        if os.path.lexists(path):
            path.unlink()
        exclusions.set_excluded(settings.db_dir, source, False)
    try:
        return build(settings, **build_args)
    except NothingIndexedError:
        return None


def _removable(settings: IndexSettings, source: str) -> Path:
    find(settings, source)
    path = path_of(settings, source.rstrip("/"))
    if path.is_dir() and not path.is_symlink():
        raise UsageError(f"{source!r} is a folder", hint="remove the documents in it one by one")
    return path


def exclude(settings: IndexSettings, sources: list[str], excluded: bool = True) -> list[str]:
    """Keep `sources` out of answers (or let them back in) without deleting them; returns those that changed."""
    for source in sources:
        find(settings, source)
    require_writable(settings.db_dir)
    return [s for s in sources if exclusions.set_excluded(settings.db_dir, s, excluded)]


def reindex(settings: IndexSettings, sources: list[str], **build_args) -> IndexReport:
    """Read and embed the documents again (this also retries skipped ones, e.g. once OCR is installed)."""
    for source in sources:
        doc = find(settings, source)
        if doc.status == SKIPPED and not path_of(settings, source).is_file():
            raise UsageError(f"{source!r} cannot be re-indexed: {doc.reason}")
    return build(settings, reindex=set(sources), **build_args)
