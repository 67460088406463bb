"""PDF: the text layer page by page (pypdf), OCR for pages without one, caps on pages, objects and time."""
from __future__ import annotations

import logging
import time
from pathlib import Path

from index.formats import ocr
from index.formats.builder import DocBuilder, tidy
from index.formats.limits import ReadOptions
from index.types import SkipFile

logging.getLogger("pypdf").setLevel(logging.ERROR)  # broken files are reported as skips, not log noise


class PdfText:
    """What was read from a PDF: the builder, the title, the page count and notes on pages left out."""

    def __init__(self, pages: int):
        self.builder, self.pages, self.title = DocBuilder(), pages, None
        self.unread: list[int] = []  # scanned pages left unread (no OCR)


def extract_pdf(path: Path, options: ReadOptions) -> PdfText:
    """Text per page; a page without text is read by OCR from its images (when tesseract is there)."""
    reader = _open(path, options)
    started = time.monotonic()
    out = PdfText(len(reader.pages))
    out.title = _title(reader)
    ocr_done = 0
    for number, page in enumerate(reader.pages, start=1):
        _check_time(started, options)
        text = tidy(_guard(lambda: page.extract_text() or ""))
        if text:
            out.builder.add(text, page=number)
        elif (options.ocr_pages is None or ocr_done < options.ocr_pages) and _has_images(page):
            if not ocr.available(options.tesseract):
                out.unread.append(number)
                continue
            ocr_done += 1
            out.builder.add(_ocr_page(page, options, started), page=number, ocr=True)
    if not out.builder.segments:
        if out.unread:
            raise ocr.missing("the PDF")
        raise SkipFile("no extractable text in PDF (no text layer and no images to read)")
    return out


def _open(path: Path, options: ReadOptions):
    from pypdf import PdfReader

    reader = _guard(lambda: PdfReader(str(path)))
    if reader.is_encrypted and not _guard(lambda: reader.decrypt("")):
        raise SkipFile("encrypted PDF (needs a password)")
    objects = _guard(lambda: sum(len(v) for v in reader.xref.values()) + len(reader.xref_objStm))
    if objects > options.max_pdf_objects:
        raise SkipFile(f"too many PDF objects: {objects:,} (the limit is {options.max_pdf_objects:,})")
    pages = _guard(lambda: len(reader.pages))
    if pages > options.max_pages:
        raise SkipFile(f"too many pages: {pages:,} (the limit is {options.max_pages:,}, QA_MAX_PAGES)")
    return reader


def _guard(fn):
    """Run a pypdf call; its many error types on broken files become one skip reason."""
    try:
        return fn()
    except (SkipFile, MemoryError):
        raise
    except RecursionError:
        raise SkipFile("broken PDF: objects nested too deeply")
    except Exception as exc:  # noqa: BLE001 (pypdf raises many types on broken files)
        raise SkipFile(f"broken PDF: {type(exc).__name__}: {exc}"[:200])


def _title(reader) -> str | None:
    try:
        title = (reader.metadata or {}).get("/Title")
    except Exception:  # noqa: BLE001 (a broken info dictionary only costs the title)
        return None
    return str(title) if title else None


def _check_time(started: float, options: ReadOptions) -> None:
    if time.monotonic() - started > options.timeout:
        raise SkipFile(f"took longer than {options.timeout:g} s to read (QA_READ_TIMEOUT)")


def _has_images(page) -> bool:
    try:
        return bool(page.images)
    except Exception:  # noqa: BLE001 (an unreadable image list means nothing to OCR)
        return False


def _ocr_page(page, options: ReadOptions, started: float) -> str:
    """The text of a scanned page: OCR of each image on it, in order."""
    texts = []
    for image in _guard(lambda: list(page.images)):
        picture = _guard(lambda: image.image)
        if picture is None:
            continue
        left = options.timeout - (time.monotonic() - started)
        texts.append(ocr.read_image(picture, options, left))
    return "\n\n".join(t for t in texts if t)
