"""The Documents panel's logic: the table of indexed files, rebuilding with progress, and uploads."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable, Iterable

from index import generation
from index import manifest as mf
from index.build import build
from index.errors import NothingIndexedError, QAError
from index.settings import IndexSettings
from index.types import IndexReport
from ui.render import error_text
from ui.upload import save_upload

HEADERS = ["File", "Title", "Published", "Chunks"]
Progress = Callable[[str, int, int], None]


def table(settings: IndexSettings) -> list[list]:
    """One row per indexed file (file, title, date, chunks), read from the manifest."""
    files = mf.read(settings.db_dir).files
    return [[source, e.title, e.published, len(e.ids)] for source, e in sorted(files.items())]


def has_index(settings: IndexSettings) -> bool:
    """True when a complete build has published a generation of the index."""
    return generation.read(settings) is not None


def report_markdown(report: IndexReport) -> str:
    """The build report for people: summary line, why a full rebuild happened, skipped files with reasons."""
    text = f"**Index updated:** {report.summary()}"
    if report.rebuilt_because:
        text += f"\n\nFull rebuild: {report.rebuilt_because}"
    skips = "\n".join(f"- `{s.path}`: {s.reason}" for s in report.skipped)
    return text + (f"\n\n**Skipped:**\n{skips}" if skips else "")


def run_build(settings: IndexSettings, embedder=None, store=None, progress: Progress | None = None) -> str:
    """An incremental build; returns the report as Markdown (a friendly message on a library error)."""
    try:
        report = build(settings, embedder=embedder, store=store, progress=progress)
    except QAError as exc:
        return f"**Index not updated:** {error_text(exc)}"
    return report_markdown(report)


def save_all(paths: Iterable[str], settings: IndexSettings, limit_mb: float) -> tuple[list[str], list[str]]:
    """Save every uploaded temp file into the seeds dir; returns (saved names, one message per file)."""
    saved, messages = [], []
    for path in paths or ():
        try:
            result = save_upload(Path(path), Path(path).name, settings.seeds_dir, limit_mb)
        except QAError as exc:
            messages.append(f"Refused: {error_text(exc)}")
            continue
        saved += [result.name] if result.path else []
        messages.append(result.message)
    return saved, messages


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
        print(f"index: {len(table(settings))} files in {settings.db_dir}", file=out, flush=True)
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
