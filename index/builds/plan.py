"""What a build will do (`plan`), and where it writes (`start`): from scratch or from the live generation,
why, what it repairs; a generation that cannot be opened is moved aside (`damaged`); an unpublished
generation a killed build left behind is resumed when it started from the same place."""
from __future__ import annotations

import copy
from dataclasses import dataclass

from index.builds import health
from index.errors import QAError
from index.formats.ocr import read_key
from index.generations import generation, manifest as mf
from index.generations.generation import Pointer
from index.ingest.discover import SeedFile
from index.settings import IndexSettings
from index.vectorstore.store import Store


@dataclass(frozen=True)
class Plan:
    """What a build will do: start empty (`full`, and why) or from the live generation, what it repairs."""

    full: bool
    reason: str | None = None
    repairs: tuple[str, ...] = ()
    stale: frozenset[str] = frozenset()
    damaged: bool = False
    noop: bool = False


def plan(settings: IndexSettings, store: Store, ptr: Pointer | None, live: mf.Manifest, files: list[SeedFile],
         rebuild: bool, reindex: bool = False) -> Plan:
    """What a build of `files` should do, from the live generation `ptr` (its vectors in `store`) and its
    manifest `live` (a no-op only when nothing changed, the index is healthy and nothing is to be re-indexed)."""
    key = settings.chunking_key
    if rebuild:
        return Plan(True, "--rebuild asked for a full rebuild")
    if ptr is None:
        lost = (settings.db_dir / generation.POINTER).exists() or (settings.db_dir / mf.NAME).exists()
        return Plan(True, "the index pointer (generation.json) is missing or unreadable" if lost else None)
    if ptr.key != key:
        recorded = ptr.key or {}
        return Plan(True, "settings changed: " + ", ".join(  # a key present on one side only counts too
            f"{k} {recorded.get(k)!r} -> {key.get(k)!r}" for k in {**recorded, **key} if recorded.get(k) != key.get(k)))
    if ptr.live.name and (not live.complete or live.key != key):
        return Plan(True, f"the manifest of {ptr.live.name} is missing or unreadable")
    state = health.check(store, ptr, live)
    if state.damaged:
        return Plan(True, state.damaged, damaged=True)  # the build moves the store aside (`damaged`)
    if not ptr.live.name:  # built before generations: copied into the first one (nothing is embedded again)
        return Plan(False, None, ("the index folder was converted to generations",), state.stale)
    known = {s: e.hash for s, e in live.files.items()} | live.skipped
    same = known == {f.source: f.hash for f in files}
    reads_same = not live.skipped or live.read_key == read_key(settings.read_options)  # caps/OCR changed
    noop = same and reads_same and state.ok and not reindex and not generation.pending(settings, ptr)
    return Plan(False, None, state.problems, state.stale, noop=noop)


def damaged(settings: IndexSettings, ptr: Pointer, why: str) -> Plan:
    """Move the live generation aside (kept in `damaged/`) and plan a rebuild from the seeds."""
    moved = generation.move_aside(ptr.live)
    return Plan(True, f"the index store in {settings.db_dir} could not be opened ({why}); it was moved to "
                       f"{moved} and the index rebuilt from the seeds")


def start(settings, store: Store, ptr: Pointer | None, live: mf.Manifest, plan: Plan):
    """The generation to write: an unpublished one left by a build that died, when it started from the
    same place with the same settings (resumed), else a new one; other unpublished ones are removed."""
    key = settings.chunking_key
    base = None if plan.full else ptr.live
    origin = (True, None) if plan.full else (False, base.name)
    unused = set()
    for path in generation.pending(settings, ptr):
        gen = generation.adoptable(path)
        if gen and gen.key == key and (gen.full, gen.base) == origin:
            return gen, store.stage(gen, None), generation.manifest(gen)
        unused.add(generation.discard(path))
    store.forget(unused - {None, ptr.live.collection if ptr else None})
    gen = generation.create(settings, ptr, plan.full, key, store.vectors_name)
    try:
        writer = store.stage(gen, base)
        generation.link_sentences(gen, base)
        start = mf.Manifest(key=key) if plan.full else copy.deepcopy(live)
        start.key, start.complete = key, False
        generation.seal(gen, start)
    except (OSError, QAError):  # a full disk while copying the live store: give the space back at once
        generation.discard(gen.dir)
        raise
    return gen, writer, start
