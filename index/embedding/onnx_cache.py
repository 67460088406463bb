"""The exported ONNX model, made once per model content and variant, then reused by every process.

Layout: `<cache>/onnx/<content sha256[:16]>-v<EXPORTER>-<variant>/model.onnx`. The first cache folder
that can be written is used (the user's cache, then the index folder's `model/`). An export is written
to a temporary file and renamed under a lock file, so concurrent first uses export once and a killed
export leaves nothing that looks finished. Hashing 90 MB of weights on every start would cost a
quarter of a second, so each file's hash is remembered against its path, size and modification time.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import sys
import time
from pathlib import Path
from typing import Iterator, Sequence

from index.embedding import onnx_export
from index.errors import EmbedderError

EXPORTER = 1  # bump when onnx_export writes a different graph: old exports are then ignored
HASHED = ("model.safetensors", "config.json")


def model_file(model_dir: Path, variant: str, roots: Sequence[Path]) -> Path:
    """The cached `model.onnx` of `model_dir`'s model in `variant` ("fp32", "mixed" or "int8", as
    `index.embedding.embedders.EMBEDDERS` asks), exported first if no root holds it."""
    name = f"{content_key(model_dir, roots)}-v{EXPORTER}-{variant}"
    for root in roots:
        if (root / "onnx" / name / "model.onnx").is_file():
            return root / "onnx" / name / "model.onnx"
    failures = []
    for root in roots:
        try:
            return _make(root / "onnx" / name, model_dir, variant, roots)
        except OSError as exc:  # not writable, full: try the next root
            failures.append(f"{root}: {exc.strerror or exc}")
    raise EmbedderError("cannot write the exported ONNX model: " + "; ".join(failures),
                        hint="set QA_MODEL_CACHE to a writable folder, or QA_ENCODER=torch")


def _make(folder: Path, model_dir: Path, variant: str, roots: Sequence[Path]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "model.onnx"
    with _locked(folder.with_name(folder.name + ".lock")):
        if target.is_file():  # another process exported it while this one waited
            return target
        tmp = folder / f"model.onnx.tmp-{os.getpid()}"
        started = time.perf_counter()
        print(f"preparing the ONNX encoder ({variant}, once per model) in {folder} ...", file=sys.stderr,
              flush=True)
        try:
            if variant != "fp32":
                onnx_export.quantize(model_file(model_dir, "fp32", roots), tmp, mixed=variant == "mixed")
            else:
                onnx_export.export(model_dir, tmp)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        print(f"ONNX encoder ready in {time.perf_counter() - started:.1f}s", file=sys.stderr, flush=True)
    return target


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def content_key(model_dir: Path, roots: Sequence[Path]) -> str:
    """A hash of the weights and configuration (what the exported graph is made of)."""
    digest = hashlib.sha256()
    for name in HASHED:
        digest.update(name.encode() + b"\0" + _file_hash(model_dir / name, roots).encode() + b"\0")
    return digest.hexdigest()[:16]


def _file_hash(path: Path, roots: Sequence[Path]) -> str:
    try:
        st = path.stat()
    except OSError as exc:
        raise EmbedderError(f"cannot read {path}: {exc.strerror or exc}") from exc
    seen = hashlib.sha1(f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:20]
    for root in roots:
        with contextlib.suppress(OSError):
            return (root / "onnx" / "sums" / seen).read_text("ascii").strip()
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    _remember(roots, seen, digest.hexdigest())
    return digest.hexdigest()


def _remember(roots: Sequence[Path], seen: str, value: str) -> None:
    for root in roots:
        with contextlib.suppress(OSError):
            sums = root / "onnx" / "sums"
            sums.mkdir(parents=True, exist_ok=True)
            tmp = sums / f"{seen}.tmp-{os.getpid()}"
            tmp.write_text(value, "ascii")
            os.replace(tmp, sums / seen)
            return
