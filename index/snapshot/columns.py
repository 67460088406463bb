"""Chunk metadata kept by column: one list (or integer array) per key, a row's dict made on access.

A snapshot of 100,000 chunks held as 100,000 dicts costs about 60 MB of Python objects in every serving
process: each dict, each integer and each copy of a file name or title. By column, equal values are
shared and integers are packed, for a few MB; the rows still read as the dicts they were.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

_ABSENT = object()


class Metadata(Sequence):
    """A read-only sequence of metadata dicts stored by column (`Metadata(rows)[i] == rows[i]`)."""

    def __init__(self, rows: Sequence[dict]):
        self._keys = tuple(dict.fromkeys(k for row in rows for k in row))
        self._columns = {k: _column([row.get(k, _ABSENT) for row in rows]) for k in self._keys}
        self._n = len(rows)

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self._n))]
        if not -self._n <= i < self._n:
            raise IndexError(i)
        return {k: v for k in self._keys if (v := _cell(self._columns[k], i)) is not _ABSENT}

    def column(self, key: str) -> list:
        """Every row's value of `key` (None where a row lacks it), in row order."""
        values = self._columns.get(key)
        if values is None:
            return [None] * self._n
        return values.tolist() if isinstance(values, np.ndarray) else [None if v is _ABSENT else v for v in values]


def _column(values: list):
    """Integers packed in an array; anything else as a list sharing equal values."""
    if values and all(type(v) is int for v in values) and all(-2**63 <= v < 2**63 for v in values):
        return np.asarray(values, dtype=np.int64)
    shared: dict = {}
    return [shared.setdefault((type(v), v), v) if _hashable(v) else v for v in values]


def _hashable(value) -> bool:
    return value is not _ABSENT and isinstance(value, (str, int, float, bool, type(None)))


def _cell(values, i: int):
    return int(values[i]) if isinstance(values, np.ndarray) else values[i]
