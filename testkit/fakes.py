"""Readable in-memory stand-ins for the `Embedder` and `Store` protocols, for fast unit tests.

`HashEmbedder` maps each word to a fixed random direction (the hashing trick), so texts sharing words
have similar vectors; `MemoryStore` keeps records in a dict and searches them with one matrix product.
Neither loads a model or touches the disk; the real model and Chroma stay in the integration tests.
"""
from __future__ import annotations

import re
import zlib
from typing import Sequence

import numpy as np

from index.generation import Generation
from index.settings import IndexSettings
from index.store import Hit, key_metadata, key_of, missing
from index.types import Chunk

_WORD = re.compile(r"\w+")


class HashEmbedder:
    """An `Embedder`: the normalised sum of one pseudo-random vector per (lower-cased) word."""

    def __init__(self, dimension: int = 64, name: str = "hash"):
        self.name, self.dimension = name, dimension

    def _word(self, word: str) -> np.ndarray:
        rng = np.random.default_rng(zlib.crc32(word.lower().encode()))
        return rng.standard_normal(self.dimension).astype(np.float32)

    def _vector(self, text: str, start: int = 0, end: int | None = None) -> np.ndarray:
        words = [m.group() for m in _WORD.finditer(text) if m.start() >= start and m.end() <= (end or len(text))]
        v = sum((self._word(w) for w in words), np.zeros(self.dimension, np.float32))
        norm = float(np.linalg.norm(v))
        return v / norm if norm else v

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of `texts`."""
        return np.array([self._vector(t) for t in texts], np.float32).reshape(len(texts), self.dimension)

    def embed_spans(self, texts: Sequence[str], spans) -> tuple[np.ndarray, list[np.ndarray]]:
        """Vectors of `texts` and of the words inside each character span."""
        span_vectors = [np.array([self._vector(t, s, e) for s, e in sp], np.float32).reshape(len(sp), self.dimension)
                        for t, sp in zip(texts, spans)]
        return self.embed(texts), span_vectors


class MemoryStore:
    """A `Store` in a dict: id -> (text, metadata, vector), plus the recorded chunking key.

    It is also its own `StoreWriter`: a build writes its generations in place (one process, no readers
    elsewhere), starting empty for a full rebuild.
    """

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

    def search(self, vector: np.ndarray, k: int, where: dict | None = None) -> list[Hit]:
        """The `k` rows with the highest cosine similarity to `vector` (Chroma's `{"field": {"$in": [...]}}`
        filters understood)."""
        if self.metadata is None:
            raise missing(self.settings)
        ids = [i for i in self.rows if _matches(self.rows[i][1], where)]
        if not ids:
            return []
        sims = np.stack([self.rows[i][2] for i in ids]) @ np.asarray(vector, np.float32)
        order = np.argsort(-sims, kind="stable")[:k]
        return [Hit(ids[n], self.rows[ids[n]][0], self.rows[ids[n]][1], float(sims[n])) for n in order]


def _matches(meta: dict, where: dict | None) -> bool:
    """Chroma's `$in`/`$eq` metadata conditions (all of them must hold), the subset the product sends."""
    for field, cond in (where or {}).items():
        if "$in" in cond and meta.get(field) not in cond["$in"]:
            return False
        if "$eq" in cond and meta.get(field) != cond["$eq"]:
            return False
    return True
