"""The vector store's contract: the `Store` and `StoreWriter` protocols, a search `Hit`, how a chunking key
is recorded, and `open_store`, which gives the default store.

The default is Chroma (embedded or a server), read through the index's generations: `index.live_store`
follows the generation pointer, `index.chroma` holds one generation's vectors. An in-memory `Store` for
fast tests is `testkit.fakes.MemoryStore`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence

import numpy as np

from index.errors import IndexMissingError
from index.generation import Generation
from index.settings import IndexSettings
from index.types import Chunk

KEY_PREFIX = "qa_"


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


def open_store(settings: IndexSettings) -> Store:
    """The default store for `settings` (opened lazily: nothing is opened or created until first used)."""
    from index.live_store import ChromaStore

    return ChromaStore(settings)
