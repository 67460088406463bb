"""Bounded work per file: what a reader may spend on one document, and the ZIP-container check.

A 69 KB .docx can expand to gigabytes of XML, and a PDF can declare millions of pages or objects. The
caps here are checked before a parser is given the file; time and memory are capped by the process the
file is read in (`index.ingest.isolate`).
"""
from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

from index.types import SkipFile

MIN_BOMB_BYTES = 5 * 2**20  # below this a high compression ratio is harmless (small repetitive XML)


@dataclass(frozen=True)
class ReadOptions:
    """Caps on reading one file, and the OCR program. Built from `IndexSettings.read_options`."""

    max_unzipped_mb: float = 100.0
    max_zip_ratio: float = 100.0
    max_zip_entries: int = 10_000
    max_pages: int = 2_000
    max_pdf_objects: int = 1_000_000
    timeout: float = 300.0
    memory_mb: int = 2_048
    tesseract: str = "tesseract"
    ocr_language: str = "eng"
    ocr_pages: int | None = None  # OCR at most this many pages (an upload check probes a few); None: all


DEFAULT = ReadOptions()


def size(n: float) -> str:
    """Bytes for people: `69 KB`, `23.4 MB`."""
    return f"{n / 2**20:.1f} MB" if n >= 2**20 else f"{max(1, round(n / 1024))} KB"


def check_zip(path: Path, options: ReadOptions, kind: str, required: tuple[str, ...] = ()) -> None:
    """Refuse a ZIP container (docx, pptx, xlsx, epub, odt) that is broken, lacks `required` parts, or would
    expand past the caps; zipfile never yields more than an entry's declared size, so the declared
    sizes bound the work."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise SkipFile(f"not a valid {kind}: not a ZIP container ({exc})"[:200])
    if len(infos) > options.max_zip_entries:
        raise SkipFile(f"too many parts: {len(infos):,} ZIP entries (the limit is {options.max_zip_entries:,}; "
                       "a zip bomb?)")
    unzipped, packed = sum(i.file_size for i in infos), max(1, sum(i.compress_size for i in infos))
    if unzipped > options.max_unzipped_mb * 2**20:
        raise SkipFile(f"too large unpacked: expands to {size(unzipped)} (the limit is "
                       f"{options.max_unzipped_mb:g} MB, QA_MAX_UNZIPPED_MB)")
    if unzipped > MIN_BOMB_BYTES and unzipped / packed > options.max_zip_ratio:
        raise SkipFile(f"zip bomb: {size(packed)} expands {unzipped / packed:.0f}x to {size(unzipped)} "
                       f"(the limit is {options.max_zip_ratio:g}x)")
    names = {i.filename for i in infos}
    missing = [r for r in required if r not in names]
    if missing:
        raise SkipFile(f"not a valid {kind}: no {missing[0]} inside")
