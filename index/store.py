"""The vector store: the `Store` protocol, and its default, Chroma (embedded or a server), read through
the index's generations (index/generation.py).

A reader (`ChromaStore`) follows the generation pointer: one `os.stat` per query; when a build elsewhere
published a new generation, one thread opens it with a new client while the others keep answering from
the old one, which is closed once its last query is done. A build writes only a new generation
(`ChromaStore.stage`), so nothing a reader holds ever changes underneath it.

An in-memory `Store` for fast tests is `index.fakes.MemoryStore`.
"""
from __future__ import annotations

import contextlib
import shutil
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Protocol, Sequence, TypeVar

import numpy as np

from index import generation
from index.errors import IndexMissingError, QAError, StoreDamagedError, StoreError
from index.generation import Generation
from index.memory import release_memory
from index.settings import IndexSettings
from index.types import Chunk

KEY_PREFIX = "qa_"
PAGE = 1000  # records read back per request: small pages, Chroma's buffers freed between them
T = TypeVar("T")


@dataclass(frozen=True)
class Hit:
    """One dense-search result."""

    id: str
    text: str
    metadata: dict
    similarity: float


class StoreWriter(Protocol):
    """The vectors of one generation being built. Every failure is raised as `StoreError`."""

    def ids(self) -> set[str]:
        """Every chunk id held."""

    def upsert(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        """Insert or replace chunks with their unit vectors."""

    def delete(self, ids: Sequence[str]) -> None:
        """Delete chunks by id; unknown ids are ignored."""

    def records(self) -> tuple[list[str], list[str], list[dict]]:
        """All (ids, texts, metadatas)."""

    def close(self) -> None:
        """Finish writing (flush, release the client); called before the generation is published."""


class Store(Protocol):
    """Where chunk vectors live, read from the live generation. Failures: `StoreError`, `IndexMissingError`."""

    where: str

    def recorded_key(self) -> dict | None:
        """The chunking/model settings the live index was built with; None when there is none."""

    def search(self, vector: np.ndarray, k: int, where: dict | None = None) -> list[Hit]:
        """The `k` chunks nearest to a unit vector, with cosine similarity; `IndexMissingError` if none.
        `where` is a Chroma metadata filter (`{"source": {"$in": [...]}}`, as `qa.filters` makes)."""

    def records(self) -> tuple[list[str], list[str], list[dict]]:
        """All (ids, texts, metadatas) of the live index."""

    def ids(self) -> set[str]:
        """Every chunk id of the live index."""

    def stage(self, gen: Generation, base: Generation | None) -> StoreWriter:
        """The vectors of `gen` for a build to write: kept as they are when `gen` already has some (a build
        that died is resumed), else a copy of `base`'s (None: empty)."""

    def close(self) -> None:
        """Release clients and generations held (the store may be used again afterwards)."""


def key_metadata(key: dict) -> dict:
    """The collection metadata recording a chunking key."""
    return {KEY_PREFIX + k: v for k, v in key.items()}


def key_of(metadata: dict | None) -> dict:
    """The chunking key recorded in collection metadata."""
    return {k[len(KEY_PREFIX):]: v for k, v in (metadata or {}).items() if k.startswith(KEY_PREFIX)}


def where_of(settings: IndexSettings) -> str:
    """Where the store of `settings` lives, for messages."""
    return f"{settings.chroma_host}:{settings.chroma_port}" if settings.chroma_host else str(settings.db_dir)


def missing(settings: IndexSettings) -> IndexMissingError:
    """The error for a location that holds no index."""
    return IndexMissingError(f"no index found in {settings.db_dir}", hint="run `qa index` first")


def _chroma_settings():
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False, allow_reset=False)


def open_client(settings: IndexSettings, path: Path | None = None):
    """A Chroma client, telemetry off: the server's (shared by the process), or an embedded one on `path`."""
    import chromadb

    if settings.chroma_host:
        return server_client(settings)
    return chromadb.PersistentClient(path=str(path), settings=_chroma_settings())


_servers: dict = {}
_servers_lock = threading.Lock()


def server_client(settings: IndexSettings):
    """One HttpClient per server for the whole process: chromadb 1.5.9's `HttpClient.close()` leaves its
    connection open, so a client per build (watch mode) would leak sockets; a server is coherent, so one
    client serves every generation."""
    import chromadb

    where = (settings.chroma_host, settings.chroma_port)
    with _servers_lock:
        if where not in _servers:
            _servers[where] = chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port,
                                                  settings=_chroma_settings())
        return _servers[where]


def store_error(settings: IndexSettings, exc: Exception, reading: bool = False) -> StoreError:
    """A `StoreError` naming where the store is and what to do."""
    if settings.chroma_host:
        where = f"Chroma server at {settings.chroma_host}:{settings.chroma_port}"
        hint = f"start it with `chroma run --path DIR --port {settings.chroma_port}` or unset QA_CHROMA_HOST"
    elif reading:
        return StoreError(f"cannot read the index store in {settings.db_dir}: {type(exc).__name__}: {exc}"[:500],
                          hint="run `qa index`: it checks the index and rebuilds what is broken")
    else:
        where = f"index store in {settings.db_dir}"
        hint = ("check that the directory is writable and the disk is not full; if they are, the store may be "
                "damaged: `qa index --rebuild` rebuilds it from the seeds")
    return StoreError(f"{where} failed: {type(exc).__name__}: {exc}"[:500], hint=hint)


def _not_found(exc: Exception) -> bool:
    from chromadb.errors import NotFoundError

    return isinstance(exc, NotFoundError)


class ChromaGeneration:
    """The vectors of one generation: a Chroma collection, failures translated into `StoreError`.

    Embedded, it opens its own client on the generation's directory (a new Chroma System per
    generation, so no cache of another generation is ever reused); with a server, the shared client.
    """

    def __init__(self, settings: IndexSettings, gen: Generation, reading: bool = False):
        self.settings, self.gen, self.reading = settings, gen, reading
        self.where = where_of(settings)
        self._client = None
        self._collection = None

    @property
    def client(self):
        """The Chroma client, opened on first use."""
        if self._client is None:
            with self._guard():
                if not self.settings.chroma_host and not self.reading:
                    self.gen.chroma.mkdir(parents=True, exist_ok=True)
                self._client = open_client(self.settings, self.gen.chroma)
        return self._client

    @contextlib.contextmanager
    def _guard(self) -> Iterator[None]:
        try:
            yield
        except QAError:
            raise
        except Exception as exc:
            raise store_error(self.settings, exc, self.reading) from exc

    def collection(self, create: bool = False):
        """The collection; created (cosine space, settings recorded) when `create`."""
        if self._collection is None:
            with self._guard():
                self._collection = self._open(create)
        return self._collection

    def _open(self, create: bool):
        name = self.gen.collection
        if create:
            key = self.gen.key or self.settings.chunking_key
            return self.client.get_or_create_collection(name, metadata=key_metadata(key),
                                                        configuration={"hnsw": {"space": "cosine"}},
                                                        embedding_function=None)
        try:
            return self.client.get_collection(name, embedding_function=None)
        except Exception as exc:
            if _not_found(exc):
                raise IndexMissingError(f"the index in {self.settings.db_dir} has no vectors "
                                        f"(collection {name!r} of {self.gen.label} is missing)",
                                        hint="run `qa index`: it rebuilds what is missing") from exc
            raise

    def warm(self) -> None:
        """Load the HNSW index (and replay Chroma's log tail) before the first real query needs it."""
        with self._guard():
            self.collection().get(limit=1, include=["embeddings"])

    def recorded_key(self) -> dict | None:
        """The chunking key recorded on the collection, or None when it does not exist."""
        with self._guard():
            try:
                return key_of(self.collection().metadata)
            except IndexMissingError:
                return None

    def drop(self) -> None:
        """Delete the collection (server mode: a generation's collection nobody uses any more)."""
        with self._guard():
            try:
                self.client.delete_collection(self.gen.collection)
            except Exception as exc:
                if not _not_found(exc):
                    raise
        self._collection = None

    def ids(self) -> set[str]:
        """Every chunk id in the collection."""
        with self._guard():
            return set(self.collection(create=not self.reading).get(include=[])["ids"])

    def upsert(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        """Insert or replace chunks with their vectors, in batches the server accepts."""
        with self._guard():
            col = self.collection(create=True)
            step = max(1, min(self.client.get_max_batch_size(), 2000))
            for i in range(0, len(chunks), step):
                part = chunks[i:i + step]
                col.upsert(ids=[c.id for c in part], embeddings=vectors[i:i + step],
                           documents=[c.text for c in part], metadatas=[c.metadata() for c in part])

    def delete(self, ids: Sequence[str]) -> None:
        """Delete chunks by id (missing ids are ignored)."""
        ids = list(ids)
        with self._guard():
            col = self.collection(create=True)
            for i in range(0, len(ids), 5000):
                col.delete(ids=ids[i:i + 5000])

    def records(self) -> tuple[list[str], list[str], list[dict]]:
        """All (ids, documents, metadatas), for the lexical index."""
        with self._guard():
            col = self.collection(create=not self.reading)
            ids, docs, metas = [], [], []
            for offset in range(0, col.count(), PAGE):
                got = col.get(include=["documents", "metadatas"], limit=PAGE, offset=offset)
                ids += got["ids"]; docs += got["documents"]; metas += got["metadatas"]
                release_memory()
            return ids, docs, metas

    def search(self, vector: np.ndarray, k: int, where: dict | None = None) -> list[Hit]:
        """The `k` nearest chunks to a unit `vector` (among those `where` admits), with cosine similarity."""
        with self._guard():
            got = self.collection().query(query_embeddings=[vector], n_results=k, where=where,
                                          include=["documents", "metadatas", "distances"])
        return [Hit(i, d, m, 1.0 - dist) for i, d, m, dist in
                zip(got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0])]

    def close(self) -> None:
        """Release the embedded client: the last close of a path stops its Chroma System (and its caches)."""
        self._collection = None
        client, self._client = self._client, None
        if client is not None and not self.settings.chroma_host:
            with contextlib.suppress(Exception):
                client.close()


def copy_chroma(src: Path, dst: Path) -> None:
    """Copy an embedded Chroma directory nobody writes any more: a consistent sqlite snapshot through
    sqlite's backup API (readers may hold it open) and the HNSW segment directories."""
    dst.mkdir(parents=True, exist_ok=True)
    if not (src / "chroma.sqlite3").is_file():
        return  # nothing to copy: the generation starts empty
    for entry in src.iterdir():
        if entry.is_dir():
            shutil.copytree(entry, dst / entry.name)
    with contextlib.closing(sqlite3.connect(f"file:{src / 'chroma.sqlite3'}?mode=ro", uri=True)) as a, \
            contextlib.closing(sqlite3.connect(dst / "chroma.sqlite3")) as b:
        a.backup(b)


class _Handle:
    """One generation opened for reading: its store, a lease count, and the readers' lock on it."""

    def __init__(self, settings: IndexSettings, gen: Generation):
        self.gen, self.leases, self.retired, self.closing = gen, 0, False, False
        try:
            self._lock = generation.hold(gen)
        except FileNotFoundError:
            raise _gone(settings, gen) from None
        if not settings.chroma_host and not (gen.chroma / "chroma.sqlite3").is_file():
            generation.release(self._lock)
            raise _gone(settings, gen)
        self.store = ChromaGeneration(settings, gen, reading=True)

    def warm(self) -> None:
        """Open and load the generation; on failure release everything and raise."""
        try:
            self.store.warm()
        except QAError:
            self.close()
            raise

    def close(self) -> None:
        """Close the client, hand its memory back, release the lock."""
        self.store.close()
        release_memory()
        generation.release(self._lock)
        self._lock = None


def _gone(settings: IndexSettings, gen: Generation) -> IndexMissingError:
    return IndexMissingError(f"the index in {settings.db_dir} lost its store ({gen.label} is missing)",
                             hint="run `qa index`: it rebuilds what is missing")


class ChromaStore:
    """The default `Store`: reads the live generation, switching when a build publishes a new one.
    Thread-safe; one per process is enough (the web app shares it with the builds it runs)."""

    def __init__(self, settings: IndexSettings):
        self.settings = settings
        self.where = where_of(settings)
        self._lock = threading.Lock()  # guards _current, _stamp and the leases
        self._switching = threading.Lock()  # one thread opens a new generation at a time
        self._current: _Handle | None = None
        self._stamp: object = None
        self._retry_at = 0.0
        self.switches = 0

    def _acquire(self) -> _Handle:
        stamp = generation.stamp(self.settings)
        with self._lock:
            if self._current is not None and stamp == self._stamp:
                return self._lease(self._current)
        if not self._switching.acquire(blocking=False):
            with self._lock:  # another thread is opening the new generation: answer from the old one
                if self._current is not None:
                    return self._lease(self._current)
            self._switching.acquire()
        try:
            return self._switch(stamp)
        finally:
            self._switching.release()

    def _lease(self, handle: _Handle) -> _Handle:
        handle.leases += 1
        return handle

    def _switch(self, stamp) -> _Handle:
        ptr = generation.read(self.settings)
        cur = self._current
        if ptr is None:
            if cur is None:
                raise missing(self.settings)
        elif cur is None or ptr.live != cur.gen:
            if cur is not None and time.monotonic() < self._retry_at:
                with self._lock:
                    return self._lease(cur)
            try:
                new = _Handle(self.settings, ptr.live)
                new.warm()
            except QAError:
                if cur is None:
                    raise
                self._retry_at = time.monotonic() + 1.0  # keep answering from the old one meanwhile
                with self._lock:
                    return self._lease(cur)
            with self._lock:
                old, self._current = self._current, new
                self.switches += old is not None
                idle = old is not None and self._retire(old)
            if idle:
                self._close(old)
        with self._lock:
            self._stamp = stamp
            return self._lease(self._current)

    def _release(self, handle: _Handle) -> None:
        with self._lock:
            handle.leases -= 1
            idle = handle.retired and handle.leases == 0 and not handle.closing
            handle.closing |= idle
        if idle:
            self._close(handle)

    @staticmethod
    def _retire(handle: _Handle) -> bool:
        """Mark `handle` superseded (the caller holds the lock); True when nobody uses it: close it now."""
        handle.retired = True
        idle = handle.leases == 0 and not handle.closing
        handle.closing |= idle
        return idle

    def _close(self, handle: _Handle) -> None:
        # Outside the lock: stopping a Chroma System takes a while. Generations this one kept alive are
        # removed by the next build's collection step.
        handle.close()

    def _read(self, fn: Callable[[ChromaGeneration], T]) -> T:
        """`fn(store)` on the live generation; once more on the newer one if the pointer moved meanwhile."""
        handle = self._acquire()
        try:
            return fn(handle.store)
        except QAError:
            ptr = generation.read(self.settings)
            if ptr is None or ptr.live == handle.gen:
                raise
        finally:
            self._release(handle)
        handle = self._acquire()
        try:
            return fn(handle.store)
        finally:
            self._release(handle)

    def generation(self) -> Generation | None:
        """The generation queries are answered from right now (None before the first query)."""
        return self._current.gen if self._current else None

    def recorded_key(self) -> dict | None:
        """The chunking key of the live generation (from the pointer: no store is opened)."""
        ptr = generation.read(self.settings)
        return ptr.key if ptr else None

    def search(self, vector: np.ndarray, k: int, where: dict | None = None) -> list[Hit]:
        """The `k` nearest chunks of the live generation (among those `where` admits)."""
        return self._read(lambda s: s.search(vector, k, where))

    def records(self) -> tuple[list[str], list[str], list[dict]]:
        """All records of the live generation."""
        return self._read(lambda s: s.records())

    def ids(self) -> set[str]:
        """All chunk ids of the live generation."""
        return self._read(lambda s: s.ids())

    def stage(self, gen: Generation, base: Generation | None) -> ChromaGeneration:
        """The vectors of a generation being built (embedded: copied from `base` unless `gen` has some)."""
        if not self.settings.chroma_host and base is not None and not (gen.chroma / "chroma.sqlite3").exists():
            try:
                copy_chroma(base.chroma, gen.chroma)
            except sqlite3.DatabaseError as exc:
                raise StoreDamagedError(f"{type(exc).__name__}: {exc}") from exc
        return ChromaGeneration(self.settings, gen)

    def close(self) -> None:
        """Close the generation held (after its queries in flight); the next query opens the live one."""
        with self._lock:
            cur, self._current, self._stamp = self._current, None, None
            idle = cur is not None and self._retire(cur)
        if idle:
            self._close(cur)


STORES = {"chroma": ChromaStore}  # the one registry of stores; `index.fakes.MemoryStore` is for tests


def open_store(settings: IndexSettings) -> Store:
    """The default store for `settings` (opened lazily: nothing is opened or created until first used)."""
    return ChromaStore(settings)


def drop_collections(settings: IndexSettings, names: set[str]) -> None:
    """Delete server collections of generations that were removed (nothing to do when embedded)."""
    if not settings.chroma_host:
        return
    for name in names:
        with contextlib.suppress(QAError):
            gen = Generation(settings.db_dir, None, 0, name)
            ChromaGeneration(settings, gen).drop()
