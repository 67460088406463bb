"""The manifest: which file, at which content hash, owns which chunk ids. Written atomically."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

NAME = "manifest.json"


@dataclass
class FileEntry:
    """What the index holds for one file."""

    hash: str
    ids: list[str]
    title: str = ""
    published: str = ""
    info: dict = field(default_factory=dict)  # pages, OCR pages, notes, when indexed (`LoadedDoc.info`)


@dataclass
class Manifest:
    """The index's record of itself; `complete` is False while a build is under way."""

    key: dict = field(default_factory=dict)
    files: dict[str, FileEntry] = field(default_factory=dict)
    complete: bool = False
    skipped: dict[str, str] = field(default_factory=dict)
    skip_reasons: dict[str, str] = field(default_factory=dict)
    read_key: str = ""  # the reading caps and OCR the skips were judged with (`index.formats.ocr.read_key`)

    def remember_skip(self, source: str, file_hash: str, reason: str) -> None:
        """Record that this version of a file could not be indexed, so it is not retried until it changes."""
        self.skipped[source] = file_hash
        self.skip_reasons[source] = reason

    def forget_skip(self, source: str) -> None:
        """Drop a skip record (the file was indexed or removed)."""
        self.skipped.pop(source, None)
        self.skip_reasons.pop(source, None)

    def expected_ids(self) -> set[str]:
        """Every chunk id the store should hold."""
        return {i for entry in self.files.values() for i in entry.ids}

    def chunk_count(self) -> int:
        """How many chunks the manifest accounts for."""
        return sum(len(e.ids) for e in self.files.values())


def read(db_dir: Path) -> Manifest:
    """The manifest in `db_dir`, or an empty one when there is none or it is unreadable."""
    try:
        raw = json.loads((db_dir / NAME).read_text("utf-8"))
        files = {k: FileEntry(**v) for k, v in raw["files"].items()}
        return Manifest(raw["key"], files, bool(raw.get("complete")),
                        dict(raw.get("skipped", {})), dict(raw.get("skip_reasons", {})), str(raw.get("read_key", "")))
    except (OSError, ValueError, KeyError, TypeError):
        return Manifest()


def write(db_dir: Path, manifest: Manifest) -> None:
    """Replace the manifest atomically (temp file, fsync, rename) so a crash never leaves half of one."""
    db_dir.mkdir(parents=True, exist_ok=True)
    data = {"key": manifest.key, "complete": manifest.complete, "skipped": manifest.skipped,
            "skip_reasons": manifest.skip_reasons, "read_key": manifest.read_key,
            "files": {k: vars(v) for k, v in sorted(manifest.files.items())}}
    atomic_write(db_dir / NAME, json.dumps(data, ensure_ascii=False))


def atomic_write(path: Path, text: str) -> None:
    """Write `text` to `path` so readers see either the old or the new content."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:  # e.g. a full disk: leave no half-written temp file behind
        tmp.unlink(missing_ok=True)
        raise
