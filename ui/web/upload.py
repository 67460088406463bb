"""Checking and saving uploaded documents into the seeds directory, never anywhere else.

An upload is checked before anything is written: a safe name, a size within the limit, content that
matches the extension (`index.ingest.sniff`, puremagic) and that really parses (`index.ingest.isolate.Reader`, in the
memory- and time-capped reader process). A refused file leaves the seeds folder untouched. A file named
like an existing document with other content is not saved until the user says to replace it or keep both.
"""
from __future__ import annotations

import os
import re
import shutil
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path

from index.formats.limits import ReadOptions
from index.ingest import sniff
from index.ingest.discover import file_hash
from index.ingest.isolate import Reader
from index.ingest.load import FORMATS, SUPPORTED
from index.types import SkipFile
from ui.errors import UploadRefused

ALLOWED = frozenset(SUPPORTED)
MAX_NAME = 120
PROBE_OCR_PAGES = 2  # an upload check reads scanned pages by OCR up to this many (the build reads them all)
_UNSAFE = re.compile(r"[^\w.\- ]+")
REPLACE, KEEP_BOTH = "replace", "keep both"


@dataclass(frozen=True)
class Saved:
    """Where an upload went (`name` inside the seeds dir) and what happened to it, for the user.
    `conflict` is set when a different file of that name exists and nothing was written yet."""

    name: str
    path: Path | None
    message: str
    conflict: bool = False


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


def check_content(src: Path, name: str, options: ReadOptions, reader: Reader | None = None) -> None:
    """Refuse content that does not match the extension of `name` or that cannot be read (with the reason)."""
    ext = os.path.splitext(name)[1].lower()
    try:
        sniff.check(src, ext, FORMATS[ext].content)
    except SkipFile as why:
        raise UploadRefused(f"{name}: {why}", hint="nothing was saved") from None
    try:
        probe = replace(options, ocr_pages=PROBE_OCR_PAGES)
        if reader is None:
            with Reader(probe) as own:
                own.load(src, name, ext)
        else:
            reader.load(src, name, ext, options=probe)
    except SkipFile as why:
        raise UploadRefused(f"{name}: cannot be read: {why}", hint="nothing was saved") from None


def save_upload(src: Path, raw_name: str, seeds_dir: Path, limit_mb: float, options: ReadOptions | None = None,
                on_conflict: str | None = KEEP_BOTH, reader: Reader | None = None) -> Saved:
    """Check the uploaded file `src` (named `raw_name` by the user) and copy it into `seeds_dir`; raises
    `UploadRefused`. `options` enables the content check (sniff and parse). When a different file of the
    same name exists, `on_conflict` says what to do (`replace`, `keep both`: saved as `name-2.ext`); None
    saves nothing and asks (`Saved.conflict`)."""
    name = safe_name(raw_name)
    check_size(Path(src), raw_name, limit_mb)
    if options is not None:
        check_content(Path(src), name, options, reader)
    root = seeds_dir.resolve()
    existing = root / name
    if os.path.lexists(existing) and existing.is_file() and file_hash(existing) == file_hash(Path(src)):
        return Saved(name, None, f"{name}: already in the documents (identical), not saved again")
    if os.path.lexists(existing) and on_conflict is None:
        return Saved(name, None, f"{name}: a different document with this name exists", conflict=True)
    if on_conflict == REPLACE and os.path.lexists(existing):
        return Saved(name, _replace(Path(src), root, name), f"{name}: replaced the existing document")
    target = _write_new(Path(src), root, name)
    note = "" if target.name == name else f" (a different {name} already exists, so it was renamed)"
    return Saved(target.name, target, f"{target.name}: saved{note}")


def _replace(src: Path, root: Path, name: str) -> Path:
    """Swap the document `name` for `src` at once (a temp copy renamed over it; a symlink is replaced, not
    written through)."""
    target = root / name
    if target.parent != root or (target.is_dir() and not target.is_symlink()):
        raise UploadRefused(f"{name}: refused, it would not replace a document in the documents folder")
    tmp = _write_new(src, root, f".upload-{os.getpid()}-{name}")
    os.replace(tmp, target)
    return target


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
