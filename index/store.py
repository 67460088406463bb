"""The vector store: the `Store` protocol, and its default, one Chroma collection (embedded or a server).

An in-memory `Store` for fast tests is `index.fakes.MemoryStore`.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Iterator, Protocol, Sequence

import numpy as np

from index.errors import IndexMissingError, QAError, StoreError
from index.memory import release_memory
from index.settings import IndexSettings
from index.types import Chunk

KEY_PREFIX = "qa_"
PAGE = 1000  # records read back per request: small pages, Chroma's buffers freed between them


@dataclass(frozen=True)
class Hit:
    """One dense-search result."""

    id: str
    text: str
    metadata: dict
    similarity: float


class Store(Protocol):
    """Where chunk vectors live. Every failure is raised as `StoreError` (or `IndexMissingError`)."""

    where: str

    def recorded_key(self) -> dict | None:
        """The chunking/model settings the collection was built with; None when there is no collection."""

    def drop(self) -> None:
        """Delete the collection (the model or chunking changed)."""

    def ids(self) -> set[str]:
        """Every chunk id held (the collection is created when missing)."""

    def upsert(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        """Insert or replace chunks with their unit vectors."""

    def delete(self, ids: Sequence[str]) -> None:
        """Delete chunks by id; unknown ids are ignored."""

    def records(self) -> tuple[list[str], list[str], list[dict]]:
        """All (ids, texts, metadatas)."""

    def search(self, vector: np.ndarray, k: int, where: dict | None = None) -> list[Hit]:
        """The `k` chunks nearest to a unit vector, with cosine similarity; `IndexMissingError` if none.
        `where` is a Chroma metadata filter (`{"source": {"$in": [...]}}`, as `qa.filters` makes)."""


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
    """The error for a store that holds no index."""
    return IndexMissingError(f"no index found in {where_of(settings)}", hint="run `qa index` first")


def open_client(settings: IndexSettings):
    """A Chroma client for `settings`, telemetry off, never downloading an embedding function."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    try:
        if settings.chroma_host:
            return chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port,
                                       settings=chroma_settings)
        settings.db_dir.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(settings.db_dir / "chroma"), settings=chroma_settings)
    except Exception as exc:
        raise store_error(settings, exc) from exc


def store_error(settings: IndexSettings, exc: Exception) -> StoreError:
    """A `StoreError` naming where the store is and what to do."""
    if settings.chroma_host:
        where = f"Chroma server at {settings.chroma_host}:{settings.chroma_port}"
        hint = f"start it with `chroma run --path DIR --port {settings.chroma_port}` or unset QA_CHROMA_HOST"
    else:
        where = f"index store in {settings.db_dir}"
        hint = "check that the directory is writable and the disk is not full"
    return StoreError(f"{where} failed: {type(exc).__name__}: {exc}"[:500], hint=hint)


def _not_found(exc: Exception) -> bool:
    from chromadb.errors import NotFoundError

    return isinstance(exc, NotFoundError)


class ChromaStore:
    """The default `Store`: one Chroma collection, failures translated into `StoreError`."""

    def __init__(self, settings: IndexSettings, client=None):
        self.settings = settings
        self.where = where_of(settings)
        self._client = client
        self._collection = None

    @property
    def client(self):
        """The Chroma client, opened on first use."""
        if self._client is None:
            self._client = open_client(self.settings)
        return self._client

    @contextlib.contextmanager
    def _guard(self) -> Iterator[None]:
        try:
            yield
        except QAError:
            raise
        except Exception as exc:
            raise store_error(self.settings, exc) from exc

    def collection(self, create: bool = False):
        """The collection; created (cosine space, settings recorded) when `create`."""
        if self._collection is None:
            with self._guard():
                self._collection = self._open(create)
        return self._collection

    def _open(self, create: bool):
        name = self.settings.collection
        if create:
            return self.client.get_or_create_collection(
                name, metadata=key_metadata(self.settings.chunking_key),
                configuration={"hnsw": {"space": "cosine"}}, embedding_function=None)
        try:
            return self.client.get_collection(name, embedding_function=None)
        except Exception as exc:
            if _not_found(exc):
                raise missing(self.settings) from exc
            raise

    def recorded_key(self) -> dict | None:
        """The chunking/model settings the collection was built with, or None if it does not exist."""
        with self._guard():
            try:
                return key_of(self.collection().metadata)
            except IndexMissingError:
                return None

    def drop(self) -> None:
        """Delete the collection (used when the model or chunking changed)."""
        with self._guard():
            try:
                self.client.delete_collection(self.settings.collection)
            except Exception as exc:
                if not _not_found(exc):
                    raise
        self._collection = None

    def ids(self) -> set[str]:
        """Every chunk id in the collection."""
        with self._guard():
            return set(self.collection(create=True).get(include=[])["ids"])

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
            col = self.collection(create=True)
            ids, docs, metas = [], [], []
            for offset in range(0, col.count(), PAGE):
                got = col.get(include=["documents", "metadatas"], limit=PAGE, offset=offset)
                ids += got["ids"]; docs += got["documents"]; metas += got["metadatas"]
                release_memory()
            return ids, docs, metas

    def _query(self, vector: np.ndarray, k: int, where: dict | None = None) -> dict:
        return self.collection().query(query_embeddings=[vector], n_results=k, where=where,
                                       include=["documents", "metadatas", "distances"])

    def search(self, vector: np.ndarray, k: int, where: dict | None = None) -> list[Hit]:
        """The `k` nearest chunks to a unit `vector` (among those `where` admits), with cosine similarity."""
        with self._guard():
            try:
                got = self._query(vector, k, where)
            except Exception as exc:  # the collection was dropped and recreated by a rebuild elsewhere
                if not _not_found(exc):
                    raise
                self._collection = None
                got = self._query(vector, k, where)
        return [Hit(i, d, m, 1.0 - dist) for i, d, m, dist in
                zip(got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0])]


STORES = {"chroma": ChromaStore}  # the one registry of stores; `index.fakes.MemoryStore` is for tests


def open_store(settings: IndexSettings) -> Store:
    """The default store for `settings` (opened lazily: no client until first used)."""
    return ChromaStore(settings)
