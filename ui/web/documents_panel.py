"""The Documents panel's logic: the table of documents, rebuilding with progress, and uploads."""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from index.builds.build import build
from index.errors import NothingIndexedError, QAError
from index.generations import generation, manifest as mf
from index.ingest.isolate import Reader
from index.manager.catalog import DocStatus, documents
from index.settings import IndexSettings
from index.types import IndexReport
from ui.errors import UploadRefused
from ui.settings import ServeSettings
from ui.web.render import error_text
from ui.web.upload import save_upload

HEADERS = ["File", "Status", "Title", "Pages", "Chunks", "Published", "Indexed", "Note"]
Progress = Callable[[str, int, int], None]


def table(settings: IndexSettings) -> list[list]:
    """One row per document (file, status, title, pages, chunks, date, when indexed, reason or note)."""
    return [row(d) for d in documents(settings)]


def row(d: DocStatus) -> list:
    """A document as a table row; an excluded document's status says so."""
    status = f"{d.status}, excluded" if d.excluded else d.status
    pages = str(d.pages or "")
    if d.ocr_pages:
        pages = f"{pages} ({d.ocr_pages} by OCR)" if pages else f"{d.ocr_pages} by OCR"
    return [d.source, status, d.title, pages, d.chunks or "", d.published, d.indexed_at, d.reason]


def has_index(settings: IndexSettings) -> bool:
    """True when a complete build has published a generation of the index."""
    return generation.read(settings) is not None


def report_markdown(report: IndexReport) -> str:
    """The build report for people: summary line, why a full rebuild happened, skipped files with reasons,
    notes on files indexed in part."""
    head = "**Build cancelled:**" if report.cancelled else "**Index updated:**"
    text = f"{head} {report.summary()}"
    if report.rebuilt_because:
        text += f"\n\nFull rebuild: {report.rebuilt_because}"
    skips = "\n".join(f"- `{s.path}`: {s.reason}" for s in report.skipped)
    notes = "\n".join(f"- `{s.path}`: {s.reason}" for s in report.notes)
    return text + (f"\n\n**Skipped:**\n{skips}" if skips else "") + (f"\n\n**Notes:**\n{notes}" if notes else "")


def run_build(settings: IndexSettings, embedder=None, store=None, progress: Progress | None = None,
              **build_args) -> str:
    """An incremental build (`build_args`: cancel, on_file, reindex); returns the report as Markdown (a
    friendly message on a library error)."""
    try:
        report = build(settings, embedder=embedder, store=store, progress=progress, **build_args)
    except QAError as exc:
        return f"**Index not updated:** {error_text(exc)}"
    return report_markdown(report)


@dataclass
class Uploaded:
    """What became of one upload: saved names, refusals with reasons, name conflicts awaiting an answer."""

    saved: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    conflicts: list[tuple[str, str]] = field(default_factory=list)  # (temp path, the user's file name)
    messages: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for a toast: how many saved, refused, waiting."""
        parts = [f"{len(self.saved)} saved"] + ([f"{len(self.refused)} refused"] if self.refused else [])
        parts += [f"{len(self.conflicts)} waiting for your answer"] if self.conflicts else []
        return "Upload: " + ", ".join(parts)


def save_all(files: Iterable, settings: IndexSettings, serve: ServeSettings,
             on_conflict: str | None = None) -> Uploaded:
    """Check and save uploaded temp files into the seeds dir. Past the per-upload caps (file count, total
    size) nothing is saved. `files` are temp paths, or (temp path, the user's file name) pairs."""
    items = [(str(f), Path(str(f)).name) if not isinstance(f, (tuple, list)) else (str(f[0]), f[1])
             for f in files or ()]
    out = Uploaded()
    try:
        check_caps([p for p, _ in items], serve)
    except UploadRefused as exc:
        out.refused, out.messages = [n for _, n in items], [f"Refused: {error_text(exc)}"]
        return out
    with Reader(settings.read_options) as reader:
        for path, name in items:
            _save_one(path, name, settings, serve, on_conflict, reader, out)
    return out


def _save_one(path: str, name: str, settings, serve, on_conflict, reader, out: Uploaded) -> None:
    try:
        result = save_upload(Path(path), name, settings.seeds_dir, serve.upload_limit_mb,
                             settings.read_options, on_conflict, reader)
    except QAError as exc:
        out.refused.append(name)
        out.messages.append(f"Refused: {error_text(exc)}")
        return
    if result.conflict:
        out.conflicts.append((path, name))
    out.saved += [result.name] if result.path else []
    out.messages.append(result.message)


def check_caps(paths: list[str], serve: ServeSettings) -> None:
    """Refuse an upload of more files, or more bytes in all, than the settings allow."""
    if len(paths) > serve.upload_max_files:
        raise UploadRefused(f"{len(paths)} files in one upload; the limit is {serve.upload_max_files}",
                            hint="upload fewer files at a time, or raise QA_UPLOAD_MAX_FILES")
    total = sum(Path(p).stat().st_size for p in paths)
    if total > serve.upload_total_mb * 2**20:
        raise UploadRefused(f"{total / 2**20:.1f} MB in one upload; the limit is {serve.upload_total_mb:g} MB",
                            hint="upload fewer files at a time, or raise QA_UPLOAD_TOTAL_MB")


def console_progress(out=sys.stderr) -> Progress:
    """A build progress callback printing `stage done/total` lines (at most ~10 per stage)."""
    shown: dict[str, int] = {}

    def progress(stage: str, done: int, total: int) -> None:
        step = max(1, total // 10)
        if done in (0, total) or done - shown.get(stage, -step) >= step:
            shown[stage] = done
            print(f"  {stage}: {done}/{total}", file=out, flush=True)

    return progress


def ensure_index(settings: IndexSettings, embedder=None, out=sys.stderr) -> None:
    """Build the index (printing progress) when there is none; an empty seeds folder only warns."""
    if has_index(settings):
        print(f"index: {len(mf.read(settings.db_dir).files)} files in {settings.db_dir}", file=out, flush=True)
        return
    print(f"no index in {settings.db_dir}: building it from {settings.seeds_dir} …", file=out, flush=True)
    try:
        report = build(settings, embedder=embedder, progress=console_progress(out))
    except NothingIndexedError as exc:
        print(f"warning: {exc}\n  upload documents in the Documents tab", file=out, flush=True)
        return
    print(report.summary(), file=out, flush=True)
    for skip in report.skipped:
        print(f"  skipped {skip.path}: {skip.reason}", file=out, flush=True)
