"""`MemoryStore` (`QA_STORE=memory`): the vectors in the process's memory, gone when it exits. It is the
readable example of the `index.vectorstore.store.Store` contract and the fast store of the unit tests: each generation's
vectors are a dict of their own (`MemoryVectors`, the `StoreWriter`), readers follow the generation pointer
as Chroma's do, searching is one matrix product, and filters (`index.vectorstore.store.Match`/`All`) are evaluated
directly."""
from __future__ import annotations

import copy
from typing import Sequence

import numpy as np

from index.errors import IndexMissingError
from index.generations import generation
from index.generations.generation import Generation
from index.settings import IndexSettings
from index.types import Chunk
from index.vectorstore.store import Hit, StoreState, Where, key_metadata, key_of, missing


class MemoryVectors:
    """One generation's vectors: id -> (text, metadata, vector), and the recorded chunking key."""

    def __init__(self, key: dict):
        self.rows: dict[str, tuple[str, dict, np.ndarray]] = {}
        self.metadata = key_metadata(key)

    def ids(self) -> set[str]:
        """Every id held."""
        return set(self.rows)

    def upsert(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        """Insert or replace."""
        for c, v in zip(chunks, vectors):
            self.rows[c.id] = (c.text, c.metadata(), np.asarray(v, np.float32))

    def delete(self, ids: Sequence[str]) -> None:
        """Delete by id."""
        for i in ids:
            self.rows.pop(i, None)

    def records(self) -> tuple[list[str], list[str], list[dict]]:
        """All (ids, texts, metadatas), in insertion order."""
        ids = list(self.rows)
        return ids, [self.rows[i][0] for i in ids], [self.rows[i][1] for i in ids]

    def search(self, vector: np.ndarray, k: int, where: Where | None = None) -> list[Hit]:
        """The `k` rows `where` admits with the highest cosine similarity to `vector`."""
        ids = [i for i in self.rows if where is None or where.admits(self.rows[i][1])]
        if not ids:
            return []
        sims = np.stack([self.rows[i][2] for i in ids]) @ np.asarray(vector, np.float32)
        order = np.argsort(-sims, kind="stable")[:k]
        return [Hit(ids[n], self.rows[ids[n]][0], self.rows[ids[n]][1], float(sims[n])) for n in order]

    def close(self) -> None:
        """Nothing to flush."""


class MemoryStore:
    """A `Store` in memory: the vectors of each generation by name (`Generation.collection` is the
    generation's own name), read from the live one."""

    external = False

    def __init__(self, settings: IndexSettings | None = None):
        self.settings = settings or IndexSettings()
        self.where = "memory"
        self.generations: dict[str, MemoryVectors] = {}

    def _live(self) -> MemoryVectors:
        ptr = generation.read(self.settings)
        held = self.generations.get(ptr.live.collection) if ptr else None
        if held is None:  # no index, or one built by another process (its vectors went with it)
            raise missing(self.settings)
        return held

    def stage(self, gen: Generation, base: Generation | None) -> MemoryVectors:
        """The vectors of `gen`: kept when it has some (resumed), else a copy of `base`'s, else empty."""
        if gen.collection not in self.generations:
            start = self.generations.get(base.collection) if base else None
            made = copy.deepcopy(start) if start else MemoryVectors(gen.key or self.settings.chunking_key)
            self.generations[gen.collection] = made
        return self.generations[gen.collection]

    def vectors_name(self, name: str, base: Generation | None) -> str:
        """Each generation's vectors are its own, under its name."""
        return name

    def state(self, gen: Generation) -> StoreState:
        """How many chunks `gen` holds here (none in another process: the build re-embeds the manifest's)."""
        held = self.generations.get(gen.collection)
        return StoreState(count=len(held.rows) if held else 0)

    def forget(self, names: set[str]) -> None:
        """Free the vectors of removed generations."""
        for name in names:
            self.generations.pop(name, None)

    def close(self) -> None:
        """Nothing to release (the vectors stay for the next use)."""

    def recorded_key(self) -> dict | None:
        """The chunking key of the live generation, or None when there is none here."""
        try:
            return key_of(self._live().metadata)
        except IndexMissingError:
            return None

    def ids(self) -> set[str]:
        """Every id of the live generation."""
        return self._live().ids()

    def records(self) -> tuple[list[str], list[str], list[dict]]:
        """All (ids, texts, metadatas) of the live generation, in insertion order."""
        return self._live().records()

    def search(self, vector: np.ndarray, k: int, where: Where | None = None) -> list[Hit]:
        """The `k` chunks of the live generation `where` admits, nearest to `vector` first."""
        return self._live().search(vector, k, where)
