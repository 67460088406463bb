"""Readable in-memory stand-ins for the `Embedder` and `Store` protocols, for fast unit tests.

`HashEmbedder` maps each word to a fixed random direction (the hashing trick), so texts sharing words
have similar vectors; `MemoryStore` (`index.vectorstore.memory_store`, also `QA_STORE=memory`) keeps records in a dict
and searches them with one matrix product. Neither loads a model or touches the disk; the real model and
Chroma stay in the integration tests.
"""
from __future__ import annotations

import re
import zlib
from typing import Sequence

import numpy as np

from index.vectorstore.memory_store import MemoryStore

__all__ = ["HashEmbedder", "MemoryStore"]

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
