"""`MemoryStore` (`QA_STORE=memory`): the vectors in a dict in the process, gone when it exits. It is the
readable example of the `index.store.Store` contract and the fast store of the unit tests; searching is one
matrix product, filters (`index.store.Match`/`All`) are evaluated directly."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from index.generation import Generation
from index.settings import IndexSettings
from index.store import Hit, StoreState, Where, key_metadata, key_of, missing
from index.types import Chunk


class MemoryStore:
    """A `Store` in a dict: id -> (text, metadata, vector), plus the recorded chunking key.

    It is also its own `StoreWriter`: a build writes its generations in place (one process, no readers
    elsewhere), starting empty for a full rebuild.
    """

    external = False

    def __init__(self, settings: IndexSettings | None = None):
        self.settings = settings or IndexSettings()
        self.where = "memory"
        self.rows: dict[str, tuple[str, dict, np.ndarray]] = {}
        self.metadata: dict | None = None
        self._staged: set[str | None] = set()

    def stage(self, gen: Generation, base: Generation | None) -> "MemoryStore":
        """Write generation `gen` here: emptied first unless it is resumed or copied from `base`."""
        if gen.name not in self._staged and base is None:
            self.drop()
        self._staged.add(gen.name)
        return self

    def vectors_name(self, name: str, base: Generation | None) -> str:
        """One dict for every generation: the configured collection name."""
        return self.settings.collection

    def state(self, gen: Generation) -> StoreState:
        """How many chunks are held (none in a new process: the build re-embeds what the manifest lists)."""
        return StoreState(count=len(self.rows))

    def forget(self, names: set[str]) -> None:
        """Nothing is kept per generation."""

    def close(self) -> None:
        """Nothing to release."""

    def recorded_key(self) -> dict | None:
        """The chunking key recorded when the collection was created, or None."""
        return None if self.metadata is None else key_of(self.metadata)

    def drop(self) -> None:
        """Forget everything."""
        self.rows, self.metadata = {}, None

    def _create(self) -> None:
        if self.metadata is None:
            self.metadata = key_metadata(self.settings.chunking_key)

    def ids(self) -> set[str]:
        """Every id held."""
        self._create()
        return set(self.rows)

    def upsert(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        """Insert or replace."""
        self._create()
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
        if self.metadata is None:
            raise missing(self.settings)
        ids = [i for i in self.rows if where is None or where.admits(self.rows[i][1])]
        if not ids:
            return []
        sims = np.stack([self.rows[i][2] for i in ids]) @ np.asarray(vector, np.float32)
        order = np.argsort(-sims, kind="stable")[:k]
        return [Hit(ids[n], self.rows[ids[n]][0], self.rows[ids[n]][1], float(sims[n])) for n in order]
