"""The Chroma collection holding chunk vectors: embedded (PersistentClient) or a server (HttpClient)."""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Iterator, Sequence

import numpy as np

from index.errors import IndexMissingError, StoreError
from index.memory import release_memory
from index.settings import Settings
from index.types import Chunk

KEY_PREFIX = "qa_"


def open_client(settings: Settings):
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
        raise _store_error(settings, exc) from exc


def _store_error(settings: Settings, exc: Exception) -> StoreError:
    if settings.chroma_host:
        where = f"Chroma server at {settings.chroma_host}:{settings.chroma_port}"
        hint = f"start it with `chroma run --path DIR --port {settings.chroma_port}` or unset QA_CHROMA_HOST"
    else:
        where = f"index store in {settings.db_dir}"
        hint = "check that the directory is writable and the disk is not full"
    return StoreError(f"{where} failed: {type(exc).__name__}: {exc}"[:500], hint=hint)


@dataclass(frozen=True)
class Hit:
    """One dense-search result."""

    id: str
    text: str
    metadata: dict
    similarity: float


class VectorStore:
    """A thin wrapper over one Chroma collection, translating store failures into `StoreError`."""

    def __init__(self, settings: Settings, client=None):
        self.settings = settings
        self.client = client or open_client(settings)
        self._collection = None

    @contextlib.contextmanager
    def _guard(self) -> Iterator[None]:
        try:
            yield
        except (StoreError, IndexMissingError):
            raise
        except Exception as exc:
            raise _store_error(self.settings, exc) from exc

    def collection(self, create: bool = False):
        """The collection; created (cosine space, settings recorded) when `create`."""
        if self._collection is None:
            with self._guard():
                self._collection = self._open(create)
        return self._collection

    def _open(self, create: bool):
        name = self.settings.collection
        if create:
            meta = {KEY_PREFIX + k: v for k, v in self.settings.chunking_key.items()}
            return self.client.get_or_create_collection(
                name, metadata=meta, configuration={"hnsw": {"space": "cosine"}}, embedding_function=None)
        try:
            return self.client.get_collection(name, embedding_function=None)
        except Exception as exc:
            if "does not exist" in str(exc) or "NotFound" in type(exc).__name__:
                raise IndexMissingError(f"no index found in {self.where}", hint="run `qa index` first") from exc
            raise

    @property
    def where(self) -> str:
        """Where the store lives, for messages."""
        s = self.settings
        return f"{s.chroma_host}:{s.chroma_port}" if s.chroma_host else str(s.db_dir)

    def recorded_key(self) -> dict | None:
        """The chunking/model settings the collection was built with, or None if it does not exist."""
        with self._guard():
            try:
                col = self.collection()
            except IndexMissingError:
                return None
            meta = col.metadata or {}
        return {k[len(KEY_PREFIX):]: v for k, v in meta.items() if k.startswith(KEY_PREFIX)}

    def drop(self) -> None:
        """Delete the collection (used when the model or chunking changed)."""
        with self._guard():
            with contextlib.suppress(Exception):
                self.client.delete_collection(self.settings.collection)
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
            total, step = col.count(), 1000  # small pages: Chroma's buffers for a page are freed before the next
            for offset in range(0, total, step):
                got = col.get(include=["documents", "metadatas"], limit=step, offset=offset)
                ids += got["ids"]; docs += got["documents"]; metas += got["metadatas"]
                release_memory()
            return ids, docs, metas

    def _query(self, vector: np.ndarray, k: int) -> dict:
        return self.collection().query(query_embeddings=[vector], n_results=k,
                                       include=["documents", "metadatas", "distances"])

    def search(self, vector: np.ndarray, k: int) -> list[Hit]:
        """The `k` nearest chunks to a unit `vector`, with cosine similarity."""
        with self._guard():
            try:
                got = self._query(vector, k)
            except Exception as exc:  # the collection was dropped and recreated by a rebuild elsewhere
                if "does not exist" not in str(exc) and "NotFound" not in type(exc).__name__:
                    raise
                self._collection = None
                got = self._query(vector, k)
        return [Hit(i, d, m, 1.0 - dist) for i, d, m, dist in
                zip(got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0])]
