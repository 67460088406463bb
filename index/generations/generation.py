"""Index generations: every build writes a new, complete generation beside the live one and publishes it
by replacing one pointer file atomically; readers follow the pointer and never see a half-built index.

Layout of an index location (`db_dir`; a later named collection would get a location of its own with the
same layout, for example `db_dir/collections/<name>/`, so each collection has its own pointer):

    generation.json          the pointer: live generation, its chunking key and fingerprint, the previous one
    gen-000042-1a2b3c4d/     one generation
        info.json            how it was started (collection, key, full or copied from which base); written
                             once its starting state is complete, so only then may a later build adopt it
        manifest.json        which file version owns which chunk ids (complete once the build finished)
        chroma/              the store's files, if it keeps any there (Chroma embedded: its store, `index.vectorstore.chroma`;
                             a Chroma server: the collection named in info.json)
        lexical/             the BM25 snapshot (chunk texts, metadata, sentence vectors)
        sentences/           per-file sentence sidecars (hard links shared with the generation it copied)
        .readers             a reader holds a shared flock on it while it uses the generation
    manifest.json            a copy of the live generation's manifest, for the Documents table and tools
    damaged/                 generations that could not be opened, moved aside (never deleted by us)
    .lock                    the writers' lock (index/generations/locking.py)

Rules: a writer (holding the lock) never changes a published generation (except a Chroma server's
collection, updated in place by an incremental build: the server keeps itself coherent). A generation
that is neither live nor previous is deleted once no reader holds its flock. An unpublished generation
left by a killed build is adopted by the next build when it has the same key and base, else removed.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Callable, Iterator

from index.generations import manifest as mf
from index.settings import IndexSettings

POINTER = "generation.json"
INFO = "info.json"
READERS = ".readers"
PREFIX = "gen-"
DAMAGED = "damaged"
LEGACY_CHROMA = "chroma"  # the layout before generations: db_dir/chroma, db_dir/lexical.json, ...


def location(settings: IndexSettings) -> Path:
    """The folder holding the pointer and the generations of `settings`' index."""
    return settings.db_dir


@dataclass(frozen=True)
class Generation:
    """One generation: where its parts live and how it was started."""

    root: Path
    name: str | None  # its folder under root; None: an index in the layout before generations
    number: int
    collection: str  # the store's name for its vectors (`Store.vectors_name`; Chroma: the collection)
    key: dict | None = None  # the chunking key it was built with
    full: bool = True  # started empty (False: started as a copy of `base`)
    base: str | None = None

    @property
    def dir(self) -> Path:
        """The generation's folder (the index folder itself for the old layout)."""
        return self.root / self.name if self.name else self.root

    @property
    def lexical(self) -> Path:
        """Its BM25 snapshot folder."""
        if self.name:
            return self.dir / "lexical"
        return self.root / str(_json(self.root / "lexical.json").get("dir", "lexical"))  # old layout

    @property
    def label(self) -> str:
        """How messages name it."""
        return self.name or "the index (old layout)"

    def info(self) -> dict:
        """What `info.json` records."""
        return {"number": self.number, "collection": self.collection, "key": self.key, "full": self.full,
                "base": self.base}


@dataclass(frozen=True)
class Pointer:
    """What `generation.json` says: the live generation, the fingerprint of its ids, the previous one."""

    live: Generation
    fingerprint: str | None = None
    previous: Generation | None = None

    @property
    def key(self) -> dict | None:
        """The chunking key of the live generation."""
        return self.live.key


def _json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _from(root: Path, name: str, data: dict) -> Generation:
    return Generation(root, name, int(data["number"]), str(data["collection"]), data.get("key"),
                      bool(data.get("full", True)), data.get("base"))


def read(settings: IndexSettings) -> Pointer | None:
    """The live generation of `settings`' index, or None when there is no (readable) index."""
    root = location(settings)
    raw = _json(root / POINTER)
    try:
        live = _from(root, raw["name"], raw)
        prev = raw.get("previous")
        previous = _from(root, prev["name"], prev) if prev and prev.get("name") else None
        return Pointer(live, raw.get("fingerprint"), previous)
    except (KeyError, TypeError, ValueError):
        return None if (root / POINTER).exists() else _legacy(settings)


def _legacy(settings: IndexSettings) -> Pointer | None:
    """An index built before generations (db_dir/chroma and db_dir/manifest.json) as generation 0."""
    root = location(settings)
    old = mf.read(root)
    if not old.key or not ((root / LEGACY_CHROMA).is_dir() or settings.chroma_host):
        return None
    return Pointer(Generation(root, None, 0, settings.collection, old.key, False),
                   _json(root / "lexical.json").get("version"))


def stamp(settings: IndexSettings) -> tuple | None:
    """A cheap fingerprint of the pointer file (inode, size, mtime): it changes whenever a build publishes."""
    try:
        st = os.stat(location(settings) / POINTER)
    except OSError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


def manifest(gen: Generation) -> mf.Manifest:
    """The manifest of a generation."""
    return mf.read(gen.dir)


def number_of(name: str) -> int:
    """The number in a generation's folder name (-1 when it is not one)."""
    try:
        return int(name.split("-")[1])
    except (IndexError, ValueError):
        return -1


def _folders(root: Path) -> list[Path]:
    return sorted((p for p in root.glob(PREFIX + "*") if p.is_dir() and number_of(p.name) >= 0),
                  key=lambda p: number_of(p.name))


def pending(settings: IndexSettings, ptr: Pointer | None) -> list[Path]:
    """Folders of unpublished generations (left by builds that died), oldest first."""
    live = ptr.live.number if ptr else -1
    return [p for p in _folders(location(settings)) if number_of(p.name) > live]


def adoptable(path: Path) -> Generation | None:
    """The generation in `path` if its starting state was completed (info.json written), else None."""
    data = _json(path / INFO)
    try:
        return _from(path.parent, path.name, data)
    except (KeyError, TypeError, ValueError):
        return None


def create(settings: IndexSettings, ptr: Pointer | None, full: bool, key: dict,
           vectors_name: Callable[[str, Generation | None], str]) -> Generation:
    """A new, empty generation folder (not yet adoptable: `seal` it once its starting state is in place);
    `vectors_name(name, base)` is the store's name for its vectors (`Store.vectors_name`)."""
    root = location(settings)
    number = max([ptr.live.number if ptr else 0] + [number_of(p.name) for p in _folders(root)]) + 1
    name = f"{PREFIX}{number:06d}-{uuid.uuid4().hex[:8]}"
    base = None if full or ptr is None else ptr.live
    gen = Generation(root, name, number, vectors_name(name, base), key, base is None, base.name if base else None)
    gen.dir.mkdir(parents=True)
    return gen


def seal(gen: Generation, start: mf.Manifest) -> None:
    """Record the generation's starting manifest, then its info: from now on a later build may adopt it."""
    mf.write(gen.dir, start)
    (gen.dir / READERS).touch()
    mf.atomic_write(gen.dir / INFO, json.dumps(gen.info()))


def link_sentences(gen: Generation, base: Generation | None) -> None:
    """Start `gen`'s sentence sidecars as hard links to `base`'s (sidecars are replaced, never edited)."""
    target = gen.dir / "sentences"
    target.mkdir(exist_ok=True)
    source = (base.dir / "sentences") if base else None
    if source is None or not source.is_dir():
        return
    for path in source.glob("*.npz"):
        try:
            os.link(path, target / path.name)
        except OSError:  # another filesystem, or links not allowed: copy
            shutil.copyfile(path, target / path.name)


def publish(settings: IndexSettings, gen: Generation, fingerprint: str, done: mf.Manifest) -> None:
    """Point readers at `gen` (complete, its writer closed); then mirror its manifest in the index folder."""
    root = location(settings)
    before = read(settings)
    previous = before.live if before else None
    data = {"name": gen.name, **gen.info(), "fingerprint": fingerprint, "published": time.time(),
            "previous": {"name": previous.name, **previous.info()} if previous and previous.name else None}
    mf.atomic_write(root / POINTER, json.dumps(data))
    mirror(settings, done)


def mirror(settings: IndexSettings, done: mf.Manifest) -> None:
    """Keep `db_dir/manifest.json` equal to the live generation's manifest (a crash may have skipped it)."""
    root = location(settings)
    if mf.read(root) != done:
        mf.write(root, done)


@contextlib.contextmanager
def holding(gen: Generation) -> Iterator[None]:
    """Hold a reader's shared lock on `gen` for the block (see `hold`)."""
    fh = hold(gen)
    try:
        yield
    finally:
        release(fh)


def hold(gen: Generation) -> IO | None:
    """Take a reader's shared lock on `gen`, so that no build deletes it; None for the old layout.

    Raises `FileNotFoundError` when the generation is gone (a build removed it after a newer publish).
    """
    if not gen.name:
        return None
    if not gen.dir.is_dir():
        raise FileNotFoundError(gen.dir)
    try:
        fh = open(gen.dir / READERS, "r")  # created by `seal`; opened read-only so a read-only index works
    except OSError:  # gone meanwhile (FileNotFoundError), or not readable: nobody can take it away then
        if not gen.dir.is_dir():
            raise FileNotFoundError(gen.dir) from None
        return None
    fcntl.flock(fh, fcntl.LOCK_SH)
    if not gen.dir.is_dir():  # deleted while we waited for the lock
        release(fh)
        raise FileNotFoundError(gen.dir)
    return fh


def release(fh: IO | None) -> None:
    """Drop a lock taken by `hold`."""
    if fh is not None:
        with contextlib.suppress(OSError):
            fcntl.flock(fh, fcntl.LOCK_UN)
        fh.close()


def discard(path: Path) -> str | None:
    """Delete an unpublished generation; returns the name of its vectors if they were its own (for
    `Store.forget`: a server's collection outlives the folder)."""
    gen = adoptable(path)
    shutil.rmtree(path, ignore_errors=True)
    return gen.collection if gen and gen.full else None


def collect(settings: IndexSettings) -> set[str]:
    """Delete generations that are neither live nor previous and that no reader holds; remove the old
    layout's files once a generation replaced them. Returns the names of vectors nobody uses any more (for
    `Store.forget`)."""
    ptr = read(settings)
    if ptr is None or not ptr.live.name:
        return set()
    kept = [g for g in (ptr.live, ptr.previous) if g]
    dropped = set()
    for path in _folders(location(settings)):
        if path.name in {g.name for g in kept} or number_of(path.name) > ptr.live.number:
            continue  # live, previous, or unpublished (the next build adopts or removes it)
        gen = adoptable(path)
        if _remove_unheld(path) and gen:
            dropped.add(gen.collection)
    _remove_legacy(location(settings))
    return dropped - {g.collection for g in kept} - {g.collection for g in map(adoptable, pending(settings, ptr)) if g}


def _remove_unheld(path: Path) -> bool:
    try:
        fh = open(path / READERS, "a+")
    except OSError:
        return False
    with fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # a reader still has it open: a later build removes it
        shutil.rmtree(path, ignore_errors=True)
    return True


def _remove_legacy(root: Path) -> None:
    for name in (LEGACY_CHROMA, "sentences"):
        shutil.rmtree(root / name, ignore_errors=True)
    for path in root.glob("lexical-*"):
        shutil.rmtree(path, ignore_errors=True)
    (root / "lexical.json").unlink(missing_ok=True)


def move_aside(gen: Generation) -> Path:
    """Move a generation that cannot be opened to `damaged/` (kept for inspection); returns where it went."""
    target = gen.root / DAMAGED / f"{gen.name or 'legacy'}-{time.strftime('%Y%m%d-%H%M%S')}"
    target.parent.mkdir(parents=True, exist_ok=True)
    if gen.name:
        os.rename(gen.dir, target)
    else:
        target.mkdir()
        os.rename(gen.root / LEGACY_CHROMA, target / LEGACY_CHROMA)
    return target

