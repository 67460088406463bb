"""Per-file sidecars of sentence spans and vectors (from late chunking), kept beside the store.

A sidecar is named after its chunks' id prefix (source + content hash), so it is
deterministic: a crashed build rewrites the same file, and stale ones are pruned.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

DIR = "sentences"


def _path(db_dir: Path, prefix: str) -> Path:
    return db_dir / DIR / f"{prefix}.npz"


def write(db_dir: Path, prefix: str, chunk: list[int], starts: list[int], ends: list[int], vecs: np.ndarray) -> None:
    """Store one file's sentences atomically: owning chunk number, absolute offsets, float16 vectors."""
    target = _path(db_dir, prefix)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.stem}.{os.getpid()}.tmp.npz")
    np.savez(tmp, chunk=np.asarray(chunk, np.int32), start=np.asarray(starts, np.int64),
             end=np.asarray(ends, np.int64), vecs=np.asarray(vecs, np.float16).reshape(len(chunk), -1))
    os.replace(tmp, target)


def read(db_dir: Path, prefix: str) -> dict | None:
    """One file's sentences, or None when there is no (readable) sidecar."""
    try:
        with np.load(_path(db_dir, prefix)) as data:
            return {k: data[k] for k in data.files}
    except (OSError, ValueError, KeyError):
        return None


def prune(db_dir: Path, keep: set[str]) -> None:
    """Delete sidecars whose prefix is not in `keep`."""
    for path in (db_dir / DIR).glob("*.npz"):
        if path.stem not in keep:
            path.unlink(missing_ok=True)


def prune_one(db_dir: Path, prefix: str) -> None:
    """Delete one file's sidecar."""
    _path(db_dir, prefix).unlink(missing_ok=True)
