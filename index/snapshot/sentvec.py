"""Per-file sidecars of sentence spans and vectors (from late chunking), kept in each generation.

A sidecar is named after its chunks' id prefix (source + content hash), so it is deterministic: a
crashed build rewrites the same file, and stale ones are pruned. A sidecar is replaced, never edited,
so a new generation can start with hard links to the previous generation's sidecars.
Every function takes the generation's folder (`gen_dir`); the sidecars live in `gen_dir/sentences/`.
"""
from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np

DIR = "sentences"


def _path(gen_dir: Path, prefix: str) -> Path:
    return gen_dir / DIR / f"{prefix}.npz"


def write(gen_dir: Path, prefix: str, chunk: list[int], starts: list[int], ends: list[int], vecs: np.ndarray) -> None:
    """Store one file's sentences atomically: owning chunk number, absolute offsets, float16 vectors."""
    target = _path(gen_dir, prefix)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.stem}.{os.getpid()}.tmp.npz")
    np.savez(tmp, chunk=np.asarray(chunk, np.int32), start=np.asarray(starts, np.int64),
             end=np.asarray(ends, np.int64), vecs=np.asarray(vecs, np.float16).reshape(len(chunk), -1))
    os.replace(tmp, target)


def read(gen_dir: Path, prefix: str) -> dict | None:
    """One file's sentences, or None when there is no (readable) sidecar."""
    try:
        with np.load(_path(gen_dir, prefix)) as data:
            return {k: data[k] for k in data.files}
    except Exception:  # noqa: BLE001 - missing, truncated or garbled: no sentence vectors for this file
        return None


def prune(gen_dir: Path, keep: set[str]) -> None:
    """Delete sidecars whose prefix is not in `keep`."""
    for path in (gen_dir / DIR).glob("*.npz"):
        if path.stem not in keep:
            path.unlink(missing_ok=True)


def prune_one(gen_dir: Path, prefix: str) -> None:
    """Delete one file's sidecar."""
    _path(gen_dir, prefix).unlink(missing_ok=True)


def unusable(gen_dir: Path, prefixes: set[str]) -> set[str]:
    """The prefixes whose sidecar is missing or not a readable archive (cheap: only its directory is read)."""
    return {p for p in prefixes if not zipfile.is_zipfile(_path(gen_dir, p))}
