"""Documents excluded from answers without being deleted: a small JSON list in the index folder.

The list lives beside the index (not inside a build), so it survives rebuilds and changes take effect
at once: retrieval reads it through `Watch`, which re-reads the file only when it changed.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import threading
from pathlib import Path
from typing import Iterator

from index.generations.manifest import atomic_write

NAME = "excluded.json"
_lock = threading.Lock()


def read(db_dir: Path) -> frozenset[str]:
    """The excluded sources (empty when there is no list or it is unreadable)."""
    try:
        data = json.loads((Path(db_dir) / NAME).read_text("utf-8"))
    except (OSError, ValueError):
        return frozenset()
    return frozenset(str(s) for s in data.get("sources", [])) if isinstance(data, dict) else frozenset()


def set_excluded(db_dir: Path, source: str, excluded: bool) -> bool:
    """Exclude (or include again) `source`; returns whether the list changed."""
    with _locked(Path(db_dir)):
        current = set(read(db_dir))
        wanted = current | {source} if excluded else current - {source}
        if wanted != current:
            atomic_write(Path(db_dir) / NAME, json.dumps({"sources": sorted(wanted)}, ensure_ascii=False))
        return wanted != current


@contextlib.contextmanager
def _locked(db_dir: Path) -> Iterator[None]:
    """One writer of the list at a time, across threads and processes (the CLI beside a running chat)."""
    db_dir.mkdir(parents=True, exist_ok=True)
    with _lock, open(db_dir / f".{NAME}.lock", "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


class Watch:
    """The current exclusion list of one index, re-read only when the file changed (one stat a call)."""

    def __init__(self, db_dir: Path):
        self.path = Path(db_dir) / NAME
        self._stamp: tuple | None = None
        self._sources: frozenset[str] = frozenset()

    def __call__(self) -> frozenset[str]:
        try:
            st = self.path.stat()
            stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
        except OSError:
            stamp = None
        if stamp != self._stamp:
            self._sources = read(self.path.parent) if stamp else frozenset()
            self._stamp = stamp
        return self._sources
