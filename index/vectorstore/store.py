"""The vector store's contract: the `Store` and `StoreWriter` protocols, a search `Hit`, the metadata
filter a search takes (`Match`, `All`: the project's own terms, which each store translates), what a store
says of a generation's health (`StoreState`), how a chunking key is recorded, and the one registry of
stores (`STORES`, the `QA_STORE` values) that `open_store` resolves.

The default is Chroma (embedded or a server, `index.vectorstore.live_store` and `index.vectorstore.chroma`: every Chroma detail
lives there); `memory` (`index.vectorstore.memory_store`) keeps the vectors in the process, the readable example.
To add a store: write a module implementing `Store` and register a `StoreSpec` in `STORES` below; the
shared contract suite (`tests/test_store_contract.py`) then runs on it too, and `python -m ui.docs` lists it
under `QA_STORE`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Protocol, Sequence, Union

import numpy as np

from index.errors import IndexMissingError
from index.types import Chunk

if TYPE_CHECKING:  # at run time settings import this module (the `QA_STORE` names)
    from index.generations.generation import Generation
    from index.settings import IndexSettings

KEY_PREFIX = "qa_"


@dataclass(frozen=True)
class Hit:
    """One dense-search result."""

    id: str
    text: str
    metadata: dict
    similarity: float


@dataclass(frozen=True)
class Match:
    """A chunk's metadata `field` equals one of `values` (one value: equality)."""

    field: str
    values: tuple[Any, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", tuple(self.values))
        if not self.values:  # admits nothing: callers refuse such a filter before searching
            raise ValueError(f"a Match on {self.field!r} needs at least one value")

    def admits(self, metadata: dict) -> bool:
        """Whether a chunk with `metadata` passes."""
        return metadata.get(self.field) in self.values


@dataclass(frozen=True)
class All:
    """Every one of `conditions` holds."""

    conditions: tuple["Where", ...]

    def admits(self, metadata: dict) -> bool:
        """Whether a chunk with `metadata` passes."""
        return all(c.admits(metadata) for c in self.conditions)


Where = Union[Match, All]  # a metadata filter; each store translates it (Chroma: `index.vectorstore.chroma.chroma_where`)


@dataclass(frozen=True)
class StoreState:
    """What a cheap look at one generation's vectors found: why they cannot be opened (`damaged`), and how
    many chunks they hold (`count`; None when the store cannot tell without connecting)."""

    damaged: str | None = None
    count: int | None = None


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
    """Where chunk vectors live, read from the live generation. Failures: `StoreError`, `IndexMissingError`.

    Besides reading and `stage` (writing a generation), a store answers the build's questions about the
    vectors it keeps per generation: their name (`vectors_name`), their health (`state`), and freeing those
    of removed generations kept outside the index folder (`forget`; `external` says there are such).
    """

    where: str  # where the vectors live, for messages
    external: bool  # the vectors live outside the index folder (a server): a no-op build does not connect

    def recorded_key(self) -> dict | None:
        """The chunking/model settings the live index was built with; None when there is none."""

    def search(self, vector: np.ndarray, k: int, where: Where | None = None) -> list[Hit]:
        """The `k` chunks nearest to a unit vector among those `where` admits, with cosine similarity;
        `IndexMissingError` if there is no index."""

    def records(self) -> tuple[list[str], list[str], list[dict]]:
        """All (ids, texts, metadatas) of the live index."""

    def ids(self) -> set[str]:
        """Every chunk id of the live index."""

    def stage(self, gen: Generation, base: Generation | None) -> StoreWriter:
        """The vectors of `gen` for a build to write: kept as they are when `gen` already has some (a build
        that died is resumed), else a copy of `base`'s (None: empty)."""

    def vectors_name(self, name: str, base: Generation | None) -> str:
        """The name under which a new generation `name` keeps its vectors (`Generation.collection`), started
        from `base` (None: empty)."""

    def state(self, gen: Generation) -> StoreState:
        """A cheap check of `gen`'s vectors (no client, no model), for `qa index`'s self-check."""

    def forget(self, names: set[str]) -> None:
        """Free the vectors named `names` of generations that were removed (nothing when they lived in the
        generation's folder, which is gone with it); failures are ignored (the next build tries again)."""

    def close(self) -> None:
        """Release clients and generations held (the store may be used again afterwards)."""


def key_metadata(key: dict) -> dict:
    """The collection metadata recording a chunking key."""
    return {KEY_PREFIX + k: v for k, v in key.items()}


def key_of(metadata: dict | None) -> dict:
    """The chunking key recorded in collection metadata."""
    return {k[len(KEY_PREFIX):]: v for k, v in (metadata or {}).items() if k.startswith(KEY_PREFIX)}


def missing(settings: IndexSettings) -> IndexMissingError:
    """The error for a location that holds no index."""
    return IndexMissingError(f"no index found in {settings.db_dir}", hint="run `qa index` first")


@dataclass(frozen=True)
class StoreSpec:
    """A registered store (a `QA_STORE` value): its name, a one-line summary, its factory."""

    name: str
    summary: str
    make: Callable[[IndexSettings], Store]


def _chroma(settings: IndexSettings) -> Store:
    from index.vectorstore.live_store import ChromaStore

    return ChromaStore(settings)


def _memory(settings: IndexSettings) -> Store:
    from index.vectorstore.memory_store import MemoryStore

    return MemoryStore(settings)


STORES: dict[str, StoreSpec] = {spec.name: spec for spec in (  # the one registry of stores
    StoreSpec("chroma", "Chroma, embedded in the index folder or a server: QA_CHROMA_HOST", _chroma),
    StoreSpec("memory", "in the process's memory, gone when it exits: for tests, the readable example", _memory),
)}
NAMES = tuple(STORES)
DEFAULT = "chroma"


def open_store(settings: IndexSettings) -> Store:
    """The store `settings.store` names (opened lazily: nothing is opened or created until first used)."""
    return STORES[settings.store].make(settings)
