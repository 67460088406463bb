"""`build(settings)`: bring the store in line with the seeds directory, incrementally and crash-safely.

Crash safety rests on three rules: chunk ids are deterministic; the store is written
before the manifest that vouches for it; and every build first deletes whatever the
store holds that the manifest does not vouch for. So a build killed at any moment
leaves at worst orphans and stale files, which the next build removes or redoes.
"""
from __future__ import annotations

import hashlib
import json
import time
from typing import Callable, Collection

from index import lexical, sentences, sentvec
from index import manifest as mf
from index.chunk import chunk_doc, index_text
from index.discover import SeedFile, discover
from index.embed import Embedder, open_embedder
from index.errors import NothingIndexedError, StoreError
from index.formats.limits import read_key
from index.isolate import Reader
from index.load import SUPPORTED
from index.locking import write_lock
from index.memory import release_memory
from index.settings import IndexSettings
from index.store import Store, open_store
from index.ids import number_of, prefix_of
from index.types import Chunk, IndexReport, Skipped, SkipFile

Progress = Callable[[str, int, int], None]
Cancel = Callable[[], bool]
GROUP = 512  # chunks embedded and committed together


def build(settings: IndexSettings, embedder: Embedder | None = None, progress: Progress | None = None,
          rebuild: bool = False, store: Store | None = None, cancel: Cancel | None = None,
          on_file: Progress | None = None, reindex: Collection[str] = ()) -> IndexReport:
    """Index `settings.seeds_dir` into the store; only added or changed files (and those in `reindex`) are
    embedded. `on_file(source, n, total)` is called before each file is read; when `cancel()` turns true
    the build stops between files (or commit groups) and finishes consistently: what was committed is
    indexed, the rest is left for the next build (`report.cancelled`)."""
    started = time.perf_counter()
    files, skipped = discover(settings.seeds_dir, settings.max_file_mb)
    try:
        with write_lock(settings.db_dir):
            manifest = mf.read(settings.db_dir)
            if not rebuild and not reindex and _is_noop(settings, manifest, files):
                report = _report(manifest, files, skipped, started, counts=(0, 0, 0))
            else:
                run = _Run(settings, manifest, store or open_store(settings), embedder, progress)
                run.cancel, run.on_file, run.reindex = cancel or (lambda: False), on_file, set(reindex)
                counts = run.execute(files, rebuild)
                report = _report(run.manifest, files, skipped, started, counts, run.reason, run.stopped)
    except OSError as exc:  # the manifest, snapshot or sentence files could not be written (full disk, ...)
        raise StoreError(f"cannot write the index in {settings.db_dir}: {exc.strerror or exc}",
                         hint="check that the directory is writable and the disk is not full") from exc
    if not report.chunks and not report.cancelled:
        raise NothingIndexedError(f"nothing could be indexed in {settings.seeds_dir}",
                                  hint=f"add {' '.join(sorted(SUPPORTED))} files (see the skipped reasons)")
    return report


def _fingerprint(manifest: mf.Manifest) -> str:
    # The chunking key is included: other chunk settings can give the same ids with other texts.
    key = json.dumps(manifest.key, sort_keys=True)
    return hashlib.sha1("\n".join([key, *sorted(manifest.expected_ids())]).encode()).hexdigest()[:16]


def _is_noop(settings: IndexSettings, manifest: mf.Manifest, files: list[SeedFile]) -> bool:
    """True when nothing changed since a complete build: then neither model nor store is opened."""
    if not manifest.complete or manifest.key != settings.chunking_key:
        return False
    known = {s: e.hash for s, e in manifest.files.items()} | manifest.skipped
    current = {f.source: f.hash for f in files}
    return (known == current and lexical.current_version(settings.db_dir) == _fingerprint(manifest)
            and (not manifest.skipped or manifest.read_key == read_key(settings.read_options)))


def _report(manifest, files, skipped, started, counts, reason=None, cancelled=False) -> IndexReport:
    added, updated, removed = counts
    load_skips = [Skipped(s, manifest.skip_reasons.get(s, "")) for s in manifest.skipped]
    return IndexReport(files=len(manifest.files), chunks=manifest.chunk_count(), added=added, updated=updated,
                       removed=removed, unchanged=len(manifest.files) - added - updated,
                       skipped=tuple(sorted(skipped + load_skips, key=lambda s: s.path)),
                       seconds=time.perf_counter() - started, rebuilt_because=reason,
                       ocr_pages={s: e.info["ocr_pages"] for s, e in manifest.files.items() if e.info.get("ocr_pages")},
                       notes=tuple(Skipped(s, n) for s, e in sorted(manifest.files.items())
                                   for n in e.info.get("notes", ())), cancelled=cancelled)


class _Run:
    """One non-trivial build: reconcile, delete, embed, snapshot."""

    def __init__(self, settings, manifest, store, embedder, progress):
        self.settings, self.manifest, self.store = settings, manifest, store
        self.embedder = embedder or open_embedder(settings)
        self.progress = progress or (lambda stage, done, total: None)
        self.reason: str | None = None
        self.reader = Reader(settings.read_options)  # files are read in a capped child process
        self.cancel, self.on_file, self.reindex = (lambda: False), None, set()
        self.stopped, self.info, self.committed = False, {}, set()

    def execute(self, files: list[SeedFile], rebuild: bool) -> tuple[int, int, int]:
        self._check_key(rebuild)
        self._check_read_key()
        self.manifest.complete = False
        self._save()
        stale = self._reconcile()
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
        return added, len(self.committed) - added, removed

    def _cancelled(self) -> bool:
        self.stopped = self.stopped or bool(self.cancel())
        return self.stopped

    def _save(self) -> None:
        mf.write(self.settings.db_dir, self.manifest)

    def _check_key(self, rebuild: bool) -> None:
        key = self.settings.chunking_key
        recorded = self.store.recorded_key()
        if rebuild:
            self.reason = "--rebuild asked for a full rebuild"
        elif recorded is not None and recorded != key:
            self.reason = "settings changed: " + ", ".join(
                f"{k} {recorded.get(k)!r} -> {v!r}" for k, v in key.items() if recorded.get(k) != v)
        elif recorded is None and self.manifest.files:
            self.reason = "the store's collection is missing"
        if self.reason or recorded is None:
            self.store.drop()
            self.manifest = mf.Manifest(key=key)
        self.manifest.key = key

    def _check_read_key(self) -> None:
        """Skipped files are read again when the caps or OCR they were judged with changed."""
        key = read_key(self.settings.read_options)
        if self.manifest.read_key != key:
            for source in list(self.manifest.skipped):
                self.manifest.forget_skip(source)
            self.manifest.read_key = key

    def _reconcile(self) -> set[str]:
        """Delete chunks the manifest does not vouch for; return files whose chunks went missing."""
        sentvec.prune(self.settings.db_dir, {prefix_of(e.ids[0]) for e in self.manifest.files.values() if e.ids})
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
                sentvec.prune_one(self.settings.db_dir, prefix_of(self.manifest.files[source].ids[0]))
            del self.manifest.files[source]
        for source in [s for s in self.manifest.skipped if s not in present]:
            self.manifest.forget_skip(source)
        if gone:
            self._save()
        return len(gone)

    def _changed(self, f: SeedFile, stale: set[str]) -> bool:
        entry = self.manifest.files.get(f.source)
        if f.source in self.reindex:
            return True
        if entry is None:
            return self.manifest.skipped.get(f.source) != f.hash
        return entry.hash != f.hash or f.source in stale

    def _load_all(self, todo: list[SeedFile]) -> dict[str, list[Chunk]]:
        out: dict[str, list[Chunk]] = {}
        for n, f in enumerate(todo, 1):
            if self._cancelled():
                break
            self.progress("reading", n, len(todo))
            if self.on_file:
                self.on_file(f.source, n, len(todo))
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
        return out

    def _skip(self, f: SeedFile, reason: str) -> None:
        entry = self.manifest.files.pop(f.source, None)
        if entry:
            self.store.delete(entry.ids)
        self.manifest.remember_skip(f.source, f.hash, reason)

    def _embed_all(self, todo: list[SeedFile], chunks: dict[str, list[Chunk]]) -> None:
        total, done, group = sum(map(len, chunks.values())), 0, []
        self.progress("embedding", 0, total)
        for f in todo:
            if f.source in chunks:
                group.append(f)
            if sum(len(chunks[g.source]) for g in group) >= GROUP or (f is todo[-1] and group):
                if self._cancelled():
                    break
                done += self._commit(group, chunks)
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
                    sentvec.prune_one(self.settings.db_dir, prefix_of(old.ids[0]))
            self.manifest.forget_skip(f.source)
            self.manifest.files[f.source] = mf.FileEntry(f.hash, [c.id for c in new], new[0].title, new[0].published,
                                                         self.info.get(f.source, {}))
            self.committed.add(f.source)
        self._save()
        release_memory()
        return len(batch)

    def _embed(self, batch: list[Chunk]):
        """Chunk vectors; from the same pass also sentence vectors, saved per file."""
        texts = [index_text(c.text, c.metadata()) for c in batch]
        spans = [sentences.split(c.text) for c in batch]
        shifted = [[(s + len(t) - len(c.text), e + len(t) - len(c.text)) for s, e in sp]
                   for t, c, sp in zip(texts, batch, spans)]
        vectors, span_vecs = self.embedder.embed_spans(texts, shifted)
        by_file: dict[str, list] = {}
        for n, (c, sp, sv) in enumerate(zip(batch, spans, span_vecs)):
            by_file.setdefault(prefix_of(c.id), []).append((number_of(c.id), c.start, sp, sv))
        for prefix, rows in by_file.items():
            _write_sentences(self.settings.db_dir, prefix, rows)
        return vectors

    def _snapshot(self) -> None:
        self.progress("lexical index", 0, 1)
        ids, docs, metas = self.store.records()
        lexical.build(self.settings.db_dir, _fingerprint(self.manifest), ids, docs, metas)
        self.progress("lexical index", 1, 1)


def _write_sentences(db_dir, prefix: str, rows: list) -> None:
    chunk, starts, ends, vecs = [], [], [], []
    for number, base, spans, span_vecs in rows:
        for (s, e), v in zip(spans, span_vecs):
            chunk.append(number); starts.append(base + s); ends.append(base + e); vecs.append(v)
    sentvec.write(db_dir, prefix, chunk, starts, ends, vecs)
