"""Is the live generation whole? `qa index` asks before deciding there is nothing to do.

The store, the BM25 snapshot and the sentence vectors must agree with the manifest. The checks are
cheap and load neither the model nor a Chroma client: the embedded store's sqlite file is read with
Python's sqlite3 (its size against its header, then the chunk count of the collection), the snapshot's
files against the sizes and digests recorded when it was written, the sidecars by their zip directory.
"""
from __future__ import annotations

import contextlib
import sqlite3
import struct
from dataclasses import dataclass
from pathlib import Path

from index import lexical, manifest as mf, sentvec
from index.generation import Generation, Pointer
from index.ids import prefix_of
from index.settings import IndexSettings


@dataclass(frozen=True)
class Health:
    """What is wrong with a generation: `damaged` (its store cannot be opened: rebuild from scratch),
    `problems` (an incremental build repairs them), `stale` (files whose sentence vectors are lost)."""

    damaged: str | None = None
    problems: tuple[str, ...] = ()
    stale: frozenset[str] = frozenset()

    @property
    def ok(self) -> bool:
        """Nothing to repair."""
        return self.damaged is None and not self.problems


def check(settings: IndexSettings, ptr: Pointer, manifest: mf.Manifest) -> Health:
    """The health of the live generation of `ptr`, whose manifest is `manifest`."""
    gen = ptr.live
    damaged, disagrees = (None, None) if settings.chroma_host else store_state(gen, manifest)
    if damaged:
        return Health(damaged=damaged)
    problems = [disagrees] if disagrees else []
    snapshot = lexical.damage(gen.lexical, ptr.fingerprint)
    if snapshot:
        problems.append(snapshot)
    prefixes = {prefix_of(e.ids[0]): source for source, e in manifest.files.items() if e.ids}
    stale = frozenset(prefixes[p] for p in sentvec.unusable(gen.dir, set(prefixes)))
    if stale:
        problems.append(f"the sentence vectors of {len(stale)} file(s) are missing or damaged")
    return Health(None, tuple(problems), stale)


def store_state(gen: Generation, manifest: mf.Manifest) -> tuple[str | None, str | None]:
    """(why the embedded store cannot be opened, how it disagrees with the manifest); None when fine."""
    path = gen.chroma / "chroma.sqlite3"
    if not path.is_file():
        return "its store is missing", None
    short = _truncated(path)
    if short:
        return short, None
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            count = _count(db, gen.collection)
    except sqlite3.Error as exc:
        return f"{type(exc).__name__}: {exc}", None
    if count is None:
        return f"its collection {gen.collection!r} is missing", None
    if count != manifest.chunk_count():
        return None, f"the store holds {count} chunks where the manifest lists {manifest.chunk_count()}"
    return None, None


def _count(db: sqlite3.Connection, collection: str) -> int | None:
    segment = db.execute("SELECT s.id FROM segments s JOIN collections c ON s.collection = c.id "
                         "WHERE c.name = ? AND s.scope = 'METADATA'", (collection,)).fetchone()
    if segment is None:
        return None
    return db.execute("SELECT count(*) FROM embeddings WHERE segment_id = ?", segment).fetchone()[0]


def _truncated(path: Path) -> str | None:
    """Why a sqlite file is visibly broken (empty, not sqlite, shorter than its header says), else None."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(100)
    if size == 0:
        return "its store file is empty"
    if len(head) < 100 or not head.startswith(b"SQLite format 3\x00"):
        return "its store file is not a database"
    page = struct.unpack(">H", head[16:18])[0]
    page = 65536 if page == 1 else page
    pages, counter, valid_for = struct.unpack(">I", head[28:32])[0], head[24:28], head[92:96]
    if counter == valid_for and size < pages * page:  # the page count is trustworthy only when these match
        return f"its store file is truncated ({size} of {pages * page} bytes)"
    return None
