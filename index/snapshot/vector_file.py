"""Rows of a matrix saved with `numpy.save`, read from disk on demand.

A query ranks the sentences of a few dozen passages, so it needs a few dozen of the corpus's sentence
vectors (171 MB at 100,000 chunks). Reading those rows with `os.pread` keeps the rest on disk, or in the
kernel's page cache, shared by every process, instead of in each serving process. A memory map would
not do: the kernel maps a freshly written file's cached pages in large folios, so each row touched
added about 2 MB to the process.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np


class VectorFile:
    """The rows of a 2-D .npy file: `rows[i]` and `rows[a:b]` read just those rows (thread-safe: `pread`
    has no file position)."""

    def __init__(self, path: Path):
        self._file = open(path, "rb")
        try:
            self.shape, self.dtype, self._offset = _header(self._file, path)
        except BaseException:
            self._file.close()
            raise
        self._row = self.shape[1] * self.dtype.itemsize

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key: int | slice) -> np.ndarray:
        if isinstance(key, (int, np.integer)) and key < 0:
            key += len(self)
        start, stop, step = key.indices(len(self)) if isinstance(key, slice) else (key, key + 1, 1)
        if step != 1 or not 0 <= start < len(self) + (start == stop):
            raise IndexError(key)
        raw = os.pread(self._file.fileno(), max(0, stop - start) * self._row, self._offset + start * self._row)
        rows = np.frombuffer(raw, self.dtype).reshape(-1, self.shape[1])
        return rows if isinstance(key, slice) else rows[0]


def _header(fh, path: Path) -> tuple[tuple[int, int], np.dtype, int]:
    """Shape, dtype and data offset of the .npy file open as `fh`; ValueError if it is not a whole
    row-major matrix."""
    fmt = np.lib.format
    read = fmt.read_array_header_1_0 if fmt.read_magic(fh) == (1, 0) else fmt.read_array_header_2_0
    shape, fortran, dtype = read(fh)
    if fortran or len(shape) != 2:
        raise ValueError(f"{path} is not a row-major matrix")
    if os.fstat(fh.fileno()).st_size < fh.tell() + shape[0] * shape[1] * dtype.itemsize:
        raise ValueError(f"{path} is shorter than its header says")
    return shape, dtype, fh.tell()
