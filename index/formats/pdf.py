"""PDF: the text layer page by page (pypdfium2), OCR for pages without one (pypdf finds the page images), caps on
pages, objects and time.

pypdfium2 was chosen by measurement on the realdocs-dev PDFs: it keeps every gold phrase on its page (pypdf
loses word spaces in some files, pdfminer.six one phrase) and reads them in 1.3 s (pypdf 26 s, pdfminer.six
230 s). It joins words hyphenated at a line end (marking the joint with U+FFFE, removed here). Running headers
and footers (a page's first or last line repeated on several pages, numbers aside) are dropped, so a quote does
not run into "Chapter 5: Shell Variables 85"; page numbers stay the physical pages.
"""
from __future__ import annotations

import logging
import re
import time
from collections import Counter
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
    texts = _page_texts(path, len(reader.pages), started, options)
    for number, page in enumerate(reader.pages, start=1):
        _check_time(started, options)
        text = texts[number - 1]
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


_LIGATURES = str.maketrans({"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl",
                            "\ufffe": None, "\x02": None, "\u00ad": None})
_DIGITS = re.compile(r"\d+")
RUNNING_MIN = 3  # a first/last line seen on this many pages (numbers aside) is a running header/footer


def _page_texts(path: Path, count: int, started: float, options: ReadOptions) -> list[str]:
    """Each page's text (pypdfium2), tidied, running headers and footers removed."""
    import pypdfium2 as pdfium

    doc = _guard(lambda: pdfium.PdfDocument(str(path)))
    try:
        texts = []
        for n in range(min(count, len(doc))):
            _check_time(started, options)
            texts.append(tidy(_guard(lambda: _read_page(doc, n)).translate(_LIGATURES)))
    finally:
        doc.close()
    texts += [""] * (count - len(texts))
    return drop_running(texts)


def _read_page(doc, n: int) -> str:
    page = doc[n]
    textpage = page.get_textpage()
    try:
        return textpage.get_text_range()
    finally:
        textpage.close()
        page.close()


def drop_running(pages: list[str]) -> list[str]:
    """`pages` without their running headers and footers: a first or last line that, with its numbers
    masked, is the first or last line of at least `RUNNING_MIN` pages. A header or footer frames a page's
    text, so a page's last remaining line is kept (a page that says only "Page 3." says that)."""
    def key(line: str) -> str:
        return _DIGITS.sub("#", line.strip().lower())

    ends = Counter()
    for text in pages:
        lines = text.split("\n")
        ends.update({key(lines[0]), key(lines[-1])} if text else set())
    out = []
    for text in pages:
        lines = text.split("\n")
        while len(lines) > 1 and ends[key(lines[0])] >= RUNNING_MIN:
            lines = lines[1:]
        while len(lines) > 1 and ends[key(lines[-1])] >= RUNNING_MIN:
            lines = lines[:-1]
        out.append("\n".join(lines).strip())
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
