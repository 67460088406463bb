"""Checking and saving uploaded documents into the seeds directory, never anywhere else."""
from __future__ import annotations

import os
import re
import shutil
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from index.discover import file_hash
from ui.errors import UploadRefused
from index.load import SUPPORTED

ALLOWED = frozenset(SUPPORTED)
MAX_NAME = 120
_UNSAFE = re.compile(r"[^\w.\- ]+")


@dataclass(frozen=True)
class Saved:
    """Where an upload went (`name` inside the seeds dir) and what happened to it, for the user."""

    name: str
    path: Path | None
    message: str


def safe_name(raw: str) -> str:
    """The upload's base name with unsafe characters replaced and leading dots dropped; raises `UploadRefused`."""
    base = unicodedata.normalize("NFKC", str(raw)).replace("\\", "/").split("/")[-1]
    base = _UNSAFE.sub("_", base)
    base = " ".join(base.split()).lstrip(". ")
    stem, ext = os.path.splitext(base)
    if ext.lower() not in ALLOWED:
        raise UploadRefused(f"{_shown(raw)}: file type {ext or '(none)'} is not allowed",
                         hint="upload one of " + " ".join(sorted(ALLOWED)))
    if not stem.strip("._- "):
        raise UploadRefused(f"{_shown(raw)}: not a usable file name", hint="rename the file and upload it again")
    return stem[:MAX_NAME - len(ext)] + ext.lower()


def check_size(path: Path, raw: str, limit_mb: float) -> None:
    """Refuse empty files and files over `limit_mb` megabytes."""
    size = path.stat().st_size
    if size == 0:
        raise UploadRefused(f"{_shown(raw)}: the file is empty")
    if size > limit_mb * 1024 * 1024:
        raise UploadRefused(f"{_shown(raw)}: too large ({size / 2**20:.1f} MB; the limit is {limit_mb:g} MB)",
                         hint="split the document or raise QA_UPLOAD_LIMIT_MB")


def save_upload(src: Path, raw_name: str, seeds_dir: Path, limit_mb: float) -> Saved:
    """Copy the uploaded file `src` (named `raw_name` by the user) into `seeds_dir`; raises `UploadRefused`."""
    name = safe_name(raw_name)
    check_size(Path(src), raw_name, limit_mb)
    root = seeds_dir.resolve()
    existing = root / name
    if os.path.lexists(existing) and existing.is_file() and file_hash(existing) == file_hash(Path(src)):
        return Saved(name, None, f"{name}: already in the documents (identical), not saved again")
    target = _write_new(Path(src), root, name)
    note = "" if target.name == name else f" (a different {name} already exists, so it was renamed)"
    return Saved(target.name, target, f"{target.name}: saved{note}")


def _write_new(src: Path, root: Path, name: str) -> Path:
    """Create a new file in `root` under `name` or the first free `stem-N.ext`; never overwrite."""
    stem, ext = os.path.splitext(name)
    for n in range(1, 1000):
        target = root / (name if n == 1 else f"{stem}-{n}{ext}")
        if target.parent != root:
            raise UploadRefused(f"{name}: refused, it would be written outside the documents folder")
        try:
            _copy_exclusive(src, target)
            return target
        except FileExistsError:
            continue
    raise UploadRefused(f"{name}: too many files with this name", hint="rename the file and upload it again")


def _copy_exclusive(src: Path, target: Path) -> None:
    """Copy `src` to the new file `target` (O_EXCL: fails if anything, even a symlink, is there)."""
    with open(src, "rb") as fin, open(target, "xb") as fout:
        try:
            shutil.copyfileobj(fin, fout)
        except OSError as exc:
            target.unlink(missing_ok=True)
            raise UploadRefused(f"{target.name}: could not be saved ({exc.strerror or exc})",
                             hint="check that the documents folder is writable and the disk is not full")


def _shown(raw: str) -> str:
    """The user's file name, shortened and stripped of directories, for messages."""
    base = str(raw).replace("\\", "/").split("/")[-1] or str(raw)
    return base if len(base) <= 60 else base[:57] + "…"
