"""One generation's vectors in Chroma (`ChromaGeneration`), embedded or on a server: the clients (telemetry
off), the collection and its recorded chunking key, writes in batches, searches (the store's filter
translated into Chroma's `where`: `chroma_where`), and failures turned into `StoreError` with a true hint.
Also how a build copies an embedded store (`copy_chroma`), drops a server collection nobody uses
(`drop_collections`), names a generation's collection (`collection_for`) and checks an embedded store
without a client (`store_state`: its sqlite file read with Python's sqlite3). `index.vectorstore.live_store` reads
through these; nothing outside these two modules knows Chroma."""
from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import struct
import tempfile
import threading
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from index.errors import IndexMissingError, QAError, StoreError
from index.generations.generation import Generation
from index.memory import release_memory
from index.settings import IndexSettings
from index.types import Chunk
from index.vectorstore.store import Hit, Match, StoreState, Where, key_metadata, key_of

PAGE = 1000  # records read back per request: small pages, Chroma's buffers freed between them
SQLITE = "chroma.sqlite3"  # an embedded store's database file


def chroma_dir(gen: Generation) -> Path:
    """A generation's embedded Chroma directory."""
    return gen.dir / "chroma"


def where_of(settings: IndexSettings) -> str:
    """Where the store of `settings` lives, for messages."""
    return f"{settings.chroma_host}:{settings.chroma_port}" if settings.chroma_host else str(settings.db_dir)


def chroma_where(where: Where | None) -> dict | None:
    """The store's filter as Chroma's metadata `where` (`$eq`/`$in`, `$and`)."""
    if where is None:
        return None
    if isinstance(where, Match):
        values = list(where.values)
        return {where.field: {"$eq": values[0]} if len(values) == 1 else {"$in": values}}
    parts = [chroma_where(c) for c in where.conditions]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else {"$and": parts}  # Chroma wants two or more under `$and`


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
        self._copy: Path | None = None  # a private copy of a read-only store

    @property
    def client(self):
        """The Chroma client, opened on first use."""
        if self._client is None:
            with self._guard():
                path = chroma_dir(self.gen)
                if not self.settings.chroma_host and not self.reading:
                    path.mkdir(parents=True, exist_ok=True)
                elif not self.settings.chroma_host and not os.access(path, os.W_OK):
                    # Chroma writes even to read (its log, its locks): a read-only index (a read-only mount,
                    # another user's folder) is read from a private copy, removed on close.
                    self._copy = Path(tempfile.mkdtemp(prefix="seedqa-read-only-")) / "chroma"
                    copy_chroma(path, self._copy, immutable=True)
                    path = self._copy
                self._client = open_client(self.settings, path)
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

    def search(self, vector: np.ndarray, k: int, where: Where | None = None) -> list[Hit]:
        """The `k` nearest chunks to a unit `vector` (among those `where` admits), with cosine similarity."""
        with self._guard():
            got = self.collection().query(query_embeddings=[vector], n_results=k, where=chroma_where(where),
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
        copy, self._copy = self._copy, None
        if copy is not None:
            shutil.rmtree(copy.parent, ignore_errors=True)


def copy_chroma(src: Path, dst: Path, immutable: bool = False) -> None:
    """Copy an embedded Chroma directory nobody writes any more: a consistent sqlite snapshot through
    sqlite's backup API (readers may hold it open) and the HNSW segment directories. `immutable`: the
    source is on a read-only disk, where sqlite cannot even take its read locks."""
    dst.mkdir(parents=True, exist_ok=True)
    if not (src / SQLITE).is_file():
        return  # nothing to copy: the generation starts empty
    for entry in src.iterdir():
        if entry.is_dir():
            shutil.copytree(entry, dst / entry.name)
    flags = "mode=ro&immutable=1" if immutable else "mode=ro"
    with contextlib.closing(sqlite3.connect(f"file:{src / SQLITE}?{flags}", uri=True)) as a, \
            contextlib.closing(sqlite3.connect(dst / SQLITE)) as b:
        a.backup(b)


def drop_collections(settings: IndexSettings, names: set[str]) -> None:
    """Delete server collections of generations that were removed (nothing to do when embedded)."""
    if not settings.chroma_host:
        return
    for name in names:
        with contextlib.suppress(QAError):
            gen = Generation(settings.db_dir, None, 0, name)
            ChromaGeneration(settings, gen).drop()


def collection_for(settings: IndexSettings, name: str, base: Generation | None) -> str:
    """The collection of a new generation `name`: embedded, the configured name (each generation has its own
    folder); a server keeps every generation's vectors, so a new collection, or the live one (`base`)
    updated in place by an incremental build."""
    if not settings.chroma_host:
        return settings.collection
    return base.collection if base else f"{settings.collection}-{name}"


def has_store(gen: Generation) -> bool:
    """Whether an embedded generation's store file exists."""
    return (chroma_dir(gen) / SQLITE).is_file()


def store_state(settings: IndexSettings, gen: Generation) -> StoreState:
    """An embedded store checked without a client: its sqlite file against its header, then the chunk count
    of the collection (a server is not checked: a no-op build never connects)."""
    if settings.chroma_host:
        return StoreState()
    path = chroma_dir(gen) / SQLITE
    if not path.is_file():
        return StoreState("its store is missing")
    short = _truncated(path)
    if short:
        return StoreState(short)
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            count = _count(db, gen.collection)
    except sqlite3.Error as exc:
        return StoreState(f"{type(exc).__name__}: {exc}")
    if count is None:
        return StoreState(f"its collection {gen.collection!r} is missing")
    return StoreState(count=count)


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
