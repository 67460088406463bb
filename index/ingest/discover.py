"""Find the files under the seeds directory, skipping what cannot be indexed with a reason."""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from index.errors import SeedsMissingError
from index.ingest import ignore
from index.ingest.load import SUPPORTED, unsupported
from index.types import Skipped


@dataclass(frozen=True)
class SeedFile:
    """A candidate file: where it is, its name relative to the seeds dir, its content hash."""

    path: Path
    source: str
    hash: str


def discover(seeds_dir: Path, max_mb: float) -> tuple[list[SeedFile], list[Skipped]]:
    """Every indexable file under `seeds_dir` (hidden ones and those `.qaignore` names left out), and the
    skipped ones with reasons."""
    if seeds_dir.exists() and not seeds_dir.is_dir():
        raise SeedsMissingError(f"seeds path {seeds_dir} is a file, not a folder",
                                hint="pass the folder that holds your documents: --seeds DIR (or QA_SEEDS)")
    if not seeds_dir.is_dir():
        raise SeedsMissingError(f"seeds directory {seeds_dir} does not exist",
                                hint="create it and put documents in it, or pass --seeds DIR")
    inside = seeds_dir.resolve()
    found, skipped = [], []
    rules = ignore.read(seeds_dir)
    for root, dirs, names in os.walk(seeds_dir, followlinks=False, onerror=None):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        skipped += _ignored_dirs(Path(root), seeds_dir, dirs, rules)
        for name in sorted(names):
            if name.startswith("."):
                continue
            path = Path(root) / name
            source = path.relative_to(seeds_dir).as_posix()
            if rules and rules.file(source):
                skipped.append(Skipped(_shown(source), ignore.REASON))
                continue
            if not _is_utf8(source):  # the manifest, Chroma and the report all need real text
                skipped.append(Skipped(_shown(source), "file name is not valid UTF-8; rename the file"))
                continue
            result = _outside(path, source, inside) or _check(path, source, max_mb)
            (found if isinstance(result, SeedFile) else skipped).append(result)
        skipped += _linked_dirs(Path(root), seeds_dir, dirs)
    return found, skipped


def _ignored_dirs(root: Path, seeds_dir: Path, dirs: list[str], rules: ignore.Ignore) -> list[Skipped]:
    """Drop the directories `.qaignore` names from the walk (in place); report each once."""
    if not rules:
        return []
    gone = [d for d in dirs if rules.directory((root / d).relative_to(seeds_dir).as_posix())]
    dirs[:] = [d for d in dirs if d not in gone]
    return [Skipped(_shown((root / d).relative_to(seeds_dir).as_posix()) + "/", ignore.REASON) for d in gone]


def _linked_dirs(root: Path, seeds_dir: Path, dirs: list[str]) -> list[Skipped]:
    # os.walk lists symlinked directories but does not enter them (no loops); say so.
    out = []
    for d in list(dirs):
        if (root / d).is_symlink():
            source = _shown((root / d).relative_to(seeds_dir).as_posix())
            out.append(Skipped(source, "symlinked directory not followed"))
    return out


def _is_utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes in a file name arrive as lone surrogates
        return False
    return True


def _shown(name: str) -> str:
    """`name` with undecodable file-name bytes shown as U+FFFD, safe to print and store."""
    return name if _is_utf8(name) else name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _outside(path: Path, source: str, inside: Path) -> Skipped | None:
    """A symlink whose target lies outside the seeds folder is not followed: the corpus is what is in it."""
    if not path.is_symlink():
        return None
    try:
        target = path.resolve(strict=True)
    except (OSError, RuntimeError):  # dangling or looping: `_check` says which
        return None
    if target.is_relative_to(inside):
        return None
    return Skipped(source, "symlink to a file outside the seeds folder; not followed")


def _check(path: Path, source: str, max_mb: float) -> SeedFile | Skipped:
    ext = path.suffix.lower()
    if ext not in SUPPORTED:
        return Skipped(source, unsupported(ext))
    try:
        st = path.stat()
    except OSError as exc:
        return Skipped(source, f"broken or looping symlink ({exc.strerror})" if path.is_symlink()
                       else f"unreadable: {exc.strerror}")
    if not path.is_file():
        return Skipped(source, "not a regular file")
    if st.st_size == 0:
        return Skipped(source, "empty file")
    if st.st_size > max_mb * 1024 * 1024:
        return Skipped(source, f"too large: {st.st_size / 2**20:.1f} MB > {max_mb:g} MB limit (QA_MAX_FILE_MB)")
    try:
        return SeedFile(path, source, file_hash(path))
    except OSError as exc:
        return Skipped(source, f"unreadable: {exc.strerror or exc}")


def file_hash(path: Path) -> str:
    """SHA-256 of the file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
