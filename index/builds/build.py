"""`build(settings)`: bring the index in line with the seeds directory, incrementally and crash-safely.

A build never changes the generation readers use: it writes a new generation (index/generations/generation.py),
empty for a full rebuild or a copy of the live one, and publishes it by replacing one pointer file.
Within that generation, crash safety rests on three rules: chunk ids are deterministic; the store is
written before the manifest that vouches for it; and every build first deletes whatever the store holds
that the manifest does not vouch for. So a build killed at any moment leaves an unpublished generation
that the next build adopts (same settings, same starting point) and finishes, or removes. A build that
fails on a write (a full disk) removes its generation itself: its store may be half-written.

Before deciding there is nothing to do (index/builds/plan.py), the live generation is checked (index/builds/health.py):
a store that cannot be opened is moved aside and the index rebuilt; a damaged BM25 snapshot, lost
sentence vectors or a store that disagrees with the manifest are repaired by an incremental build.
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import Callable, Collection

import numpy as np

from index.builds import plan as build_plan
from index.embedding.embedders import Embedder, open_embedder
from index.errors import NothingIndexedError, StoreDamagedError, StoreError
from index.formats.ocr import read_key
from index.generations import generation, manifest as mf
from index.generations.generation import Generation
from index.generations.locking import write_lock
from index.ids import number_of, prefix_of
from index.ingest import sentences
from index.ingest.chunk import chunk_doc, index_text
from index.ingest.discover import SeedFile, discover
from index.ingest.isolate import Reader
from index.ingest.load import SUPPORTED
from index.memory import release_memory
from index.settings import IndexSettings
from index.snapshot import lexical, sentvec
from index.types import Chunk, IndexReport, SkipFile, Skipped
from index.vectorstore.store import Store, StoreWriter, open_store

Progress = Callable[[str, int, int], None]
Cancel = Callable[[], bool]
GROUP = 512  # chunks embedded and committed together
STEP = 32  # the fewest chunks embedded between two progress reports (a group of 512 takes a while on a laptop)


def build(settings: IndexSettings, embedder: Embedder | None = None, progress: Progress | None = None,
          rebuild: bool = False, store: Store | None = None, cancel: Cancel | None = None,
          on_file: Progress | None = None, reindex: Collection[str] = ()) -> IndexReport:
    """Index `settings.seeds_dir` into a new generation of the index and publish it; only added or changed
    files (and those in `reindex`) are embedded. `store` is the caller's open store (the web app's), else
    one is opened if needed. `on_file(source, n, total)` is called before each file is read; when
    `cancel()` turns true the build stops between files (or commit groups) and publishes consistently:
    what was committed is indexed, the rest is left for the next build (`report.cancelled`)."""
    started = time.perf_counter()
    files, skipped = discover(settings.seeds_dir, settings.max_file_mb)
    own = store is None  # a store opens nothing until used: a no-op build connects to nothing
    store = open_store(settings) if store is None else store
    try:
        with write_lock(settings.db_dir):
            ptr = generation.read(settings)
            live = generation.manifest(ptr.live) if ptr else mf.Manifest()
            plan = build_plan.plan(settings, store, ptr, live, files, rebuild, bool(reindex))
            if plan.noop:
                _tidy(settings, store, live)
                report = _report(live, files, skipped, started, counts=(0, 0, 0))
            else:
                hooks = _Hooks(progress, cancel or (lambda: False), on_file, frozenset(reindex))
                run = _publish(settings, ptr, live, plan, store, embedder, hooks, files)
                report = _report(run.manifest, files, skipped, started, run.counts, run.plan.reason,
                                 run.plan.repairs, run.stopped)
    except OSError as exc:  # the manifest, snapshot or sentence files could not be written (full disk, ...)
        raise StoreError(f"cannot write the index in {settings.db_dir}: {exc.strerror or exc}",
                         hint="check that the directory is writable and the disk is not full") from exc
    finally:
        if own:
            store.close()
    if not report.chunks and not report.cancelled:
        raise NothingIndexedError(f"nothing could be indexed in {settings.seeds_dir}",
                                  hint=f"add {' '.join(sorted(SUPPORTED))} files (see the skipped reasons)")
    return report


@dataclass(frozen=True)
class _Hooks:
    """How the caller follows a build: stage progress, cancellation, per-file progress, files to redo."""

    progress: Progress | None = None
    cancel: Cancel = lambda: False
    on_file: Progress | None = None
    reindex: frozenset[str] = frozenset()


def _tidy(settings: IndexSettings, store: Store, live: mf.Manifest) -> None:
    """On a no-op: heal the manifest mirror and remove generations readers have let go of (only when their
    vectors live in their folders: those of a server are freed by the next real build, so a no-op never
    connects)."""
    generation.mirror(settings, live)
    if not store.external:
        generation.collect(settings)


def _publish(settings, ptr, live, plan: build_plan.Plan, store: Store, embedder, hooks: _Hooks, files) -> "_Run":
    """Write a generation (new or adopted), publish it, collect what is no longer needed."""
    if plan.damaged:
        plan = build_plan.damaged(settings, ptr, plan.reason)
    try:
        gen, writer, start = build_plan.start(settings, store, ptr, live, plan)
    except StoreDamagedError as exc:  # the checks passed but copying the live store failed
        plan = build_plan.damaged(settings, ptr, exc.message)
        gen, writer, start = build_plan.start(settings, store, ptr, live, plan)
    failed = False
    try:
        run = _Run(settings, gen, start, writer, embedder, hooks, plan.stale)
        run.execute(files)
        run.plan = plan
    except (OSError, StoreError):
        failed = True
        raise
    finally:
        writer.close()
        if failed:
            # A write failed (a full disk, ...): the store may be half-written (a compaction cut short), so
            # no later build may adopt this generation; removing it also gives its space back at once.
            live_collection = ptr.live.collection if ptr else None
            store.forget({generation.discard(gen.dir)} - {None, live_collection})
    generation.publish(settings, gen, _fingerprint(run.manifest), run.manifest)
    store.forget(generation.collect(settings))
    return run


def _fingerprint(manifest: mf.Manifest) -> str:
    # The chunking key is included: other chunk settings can give the same ids with other texts.
    key = json.dumps(manifest.key, sort_keys=True)
    return hashlib.sha1("\n".join([key, *sorted(manifest.expected_ids())]).encode()).hexdigest()[:16]


def _report(manifest, files, skipped, started, counts, reason=None, repairs=(), cancelled=False) -> IndexReport:
    added, updated, removed = counts
    load_skips = [Skipped(s, manifest.skip_reasons.get(s, "")) for s in manifest.skipped]
    return IndexReport(files=len(manifest.files), chunks=manifest.chunk_count(), added=added, updated=updated,
                       removed=removed, unchanged=len(manifest.files) - added - updated,
                       skipped=tuple(sorted(skipped + load_skips, key=lambda s: s.path)),
                       seconds=time.perf_counter() - started, rebuilt_because=reason, repaired=tuple(repairs),
                       ocr_pages={s: e.info["ocr_pages"] for s, e in manifest.files.items() if e.info.get("ocr_pages")},
                       notes=tuple(Skipped(s, n) for s, e in sorted(manifest.files.items())
                                   for n in e.info.get("notes", ())), cancelled=cancelled)


class _Run:
    """One non-trivial build into generation `gen`: reconcile, delete, embed, snapshot."""

    def __init__(self, settings: IndexSettings, gen: Generation, manifest: mf.Manifest, store: StoreWriter,
                 embedder: Embedder | None, hooks: _Hooks = _Hooks(), stale: frozenset[str] = frozenset()):
        self.settings, self.gen, self.dir, self.manifest, self.store = settings, gen, gen.dir, manifest, store
        self._embedder = embedder
        self.progress = hooks.progress or (lambda stage, done, total: None)
        self.hooks, self.stale = hooks, stale
        self.reader = Reader(settings.read_options)  # files are read in a capped child process
        self.stopped, self.info, self.committed = False, {}, set()
        self.counts = (0, 0, 0)
        self._embedded = (0, 0)  # (passages embedded, passages to embed) in this build
        self.plan: build_plan.Plan | None = None  # set by `_publish`: why this build started where it did

    @property
    def embedder(self) -> Embedder:
        """The model, loaded only when something is embedded (a repair of the snapshot needs none)."""
        if self._embedder is None:
            self._embedder = open_embedder(self.settings)
        return self._embedder

    def execute(self, files: list[SeedFile]) -> tuple[int, int, int]:
        self.manifest.key = self.settings.chunking_key
        self.manifest.complete = False
        self._check_read_key()
        self._save()
        stale = self._reconcile() | self.stale
        removed = self._remove({f.source for f in files})
        todo = [f for f in files if self._changed(f, stale)]
        before = set(self.manifest.files)
        with self.reader:
            chunks = self._load_all(todo)
        self._embed_all(todo, chunks)
        self._snapshot()
        self.manifest.complete = True
        self._save()
        added = sum(1 for s in self.committed if s not in before)
        self.counts = (added, len(self.committed) - added, removed)
        return self.counts

    def _cancelled(self) -> bool:
        self.stopped = self.stopped or bool(self.hooks.cancel())
        return self.stopped

    def _check_read_key(self) -> None:
        """Skipped files are read again when the caps or OCR they were judged with changed."""
        key = read_key(self.settings.read_options)
        if self.manifest.read_key != key:
            for source in list(self.manifest.skipped):
                self.manifest.forget_skip(source)
            self.manifest.read_key = key

    def _save(self) -> None:
        mf.write(self.dir, self.manifest)

    def _reconcile(self) -> set[str]:
        """Delete chunks the manifest does not vouch for; return files whose chunks went missing."""
        sentvec.prune(self.dir, {prefix_of(e.ids[0]) for e in self.manifest.files.values() if e.ids})
        held = self.store.ids()
        orphans = held - self.manifest.expected_ids()
        if orphans:
            self.store.delete(sorted(orphans))
        return {s for s, e in self.manifest.files.items() if not set(e.ids) <= held}

    def _remove(self, present: set[str]) -> int:
        gone = [s for s in self.manifest.files if s not in present]
        self.store.delete([i for s in gone for i in self.manifest.files[s].ids])
        for source in gone:
            if self.manifest.files[source].ids:
                sentvec.prune_one(self.dir, prefix_of(self.manifest.files[source].ids[0]))
            del self.manifest.files[source]
        for source in [s for s in self.manifest.skipped if s not in present]:
            self.manifest.forget_skip(source)
        if gone:
            self._save()
        return len(gone)

    def _changed(self, f: SeedFile, stale: set[str]) -> bool:
        entry = self.manifest.files.get(f.source)
        if f.source in self.hooks.reindex:
            return True
        if entry is None:
            return self.manifest.skipped.get(f.source) != f.hash
        return entry.hash != f.hash or f.source in stale

    def _load_all(self, todo: list[SeedFile]) -> dict[str, list[Chunk]]:
        out: dict[str, list[Chunk]] = {}
        read = 0  # files read so far, as the "reading" progress counts them
        for n, f in enumerate(todo, 1):
            if self._cancelled():
                break
            self.progress("reading", read, len(todo))
            if self.hooks.on_file:
                self.hooks.on_file(f.source, n, len(todo))
            try:
                doc = self.reader.load(f.path, f.source)
                self.info[f.source] = doc.info()
                out[f.source] = chunk_doc(doc, f.hash, self.settings.chunk_size, self.settings.chunk_overlap)
                if not out[f.source]:
                    del out[f.source]
                    self._skip(f, "empty: no text to index")
            except SkipFile as why:
                self._skip(f, str(why))
            except Exception as exc:  # a parser bug must cost one file, not the whole run
                self._skip(f, f"failed to read: {type(exc).__name__}: {exc}"[:300])
            read = n
        if todo:
            self.progress("reading", read, len(todo))
        return out

    def _skip(self, f: SeedFile, reason: str) -> None:
        entry = self.manifest.files.pop(f.source, None)
        if entry:
            self.store.delete(entry.ids)
        self.manifest.remember_skip(f.source, f.hash, reason)

    def _embed_all(self, todo: list[SeedFile], chunks: dict[str, list[Chunk]]) -> None:
        total, group = sum(map(len, chunks.values())), []
        self._embedded = (0, total)
        self.progress("embedding", 0, total)
        for f in todo:
            if f.source in chunks:
                group.append(f)
            if sum(len(chunks[g.source]) for g in group) >= GROUP or (f is todo[-1] and group):
                if self._cancelled():
                    break
                done = self._embedded[0] + self._commit(group, chunks)
                self._embedded = (done, total)
                self.progress("embedding", done, total)
                group = []

    def _commit(self, group: list[SeedFile], chunks: dict[str, list[Chunk]]) -> int:
        batch = [c for f in group for c in chunks[f.source]]
        vectors = self._embed(batch)
        self.store.upsert(batch, vectors)
        for f in group:
            new = chunks[f.source]
            old = self.manifest.files.get(f.source)
            if old:
                self.store.delete(sorted(set(old.ids) - {c.id for c in new}))
                if old.ids and prefix_of(old.ids[0]) != prefix_of(new[0].id):
                    sentvec.prune_one(self.dir, prefix_of(old.ids[0]))
            self.manifest.forget_skip(f.source)
            self.manifest.files[f.source] = mf.FileEntry(f.hash, [c.id for c in new], new[0].title, new[0].published,
                                                         self.info.get(f.source, {}))
            self.committed.add(f.source)
        self._save()
        release_memory()
        return len(batch)

    def _embed(self, batch: list[Chunk]):
        """Chunk vectors; from the same pass also sentence vectors, saved per file (progress reported by
        `_embed_steps`)."""
        texts = [index_text(c.text, c.metadata()) for c in batch]
        spans = [sentences.split(c.text) for c in batch]
        shifted = [[(s + len(t) - len(c.text), e + len(t) - len(c.text)) for s, e in sp]
                   for t, c, sp in zip(texts, batch, spans)]
        vectors, span_vecs = self._embed_steps(texts, shifted)
        by_file: dict[str, list] = {}
        for n, (c, sp, sv) in enumerate(zip(batch, spans, span_vecs)):
            by_file.setdefault(prefix_of(c.id), []).append((number_of(c.id), c.start, sp, sv))
        for prefix, rows in by_file.items():
            _write_sentences(self.dir, prefix, rows)
        return vectors

    def _embed_steps(self, texts: list[str], spans: list) -> tuple:
        """`embed_spans` in steps, reporting the passages embedded so far after each, so that progress moves
        inside a commit group. Steps are an eighth of the build (32 to `GROUP` texts): a small upload reports
        every few seconds, a large build embeds whole groups as before. The texts go longest first, as an
        encoder sorts one call's texts, so that steps pad as little as one call would."""
        done, total = self._embedded
        step = min(GROUP, max(STEP, total // 8))
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        vectors = np.zeros((len(texts), self.embedder.dimension), np.float32)
        span_vecs: list = [None] * len(texts)
        for at in range(0, len(order), step):
            rows = order[at:at + step]
            v, sv = self.embedder.embed_spans([texts[i] for i in rows], [spans[i] for i in rows])
            vectors[rows] = v
            for i, one in zip(rows, sv):
                span_vecs[i] = one
            if at + step < len(order):
                self.progress("embedding", done + at + step, total)
        return vectors, span_vecs

    def _snapshot(self) -> None:
        self.progress("lexical index", 0, 1)
        ids, docs, metas = self.store.records()
        lexical.build(self.gen.lexical, _fingerprint(self.manifest), ids, docs, metas, self.dir)
        self.progress("lexical index", 1, 1)


def _write_sentences(gen_dir, prefix: str, rows: list) -> None:
    chunk, starts, ends, vecs = [], [], [], []
    for number, base, spans, span_vecs in rows:
        for (s, e), v in zip(spans, span_vecs):
            chunk.append(number); starts.append(base + s); ends.append(base + e); vecs.append(v)
    sentvec.write(gen_dir, prefix, chunk, starts, ends, vecs)
