"""The document viewer: a cited document shown at its quote, the quote highlighted, the short answer marked
inside it. Text, Markdown and HTML documents are shown as text (the text citations' offsets refer to); a PDF
also shows its cited page, rendered with pypdfium2, with the quote marked on it.

Only files inside the documents folder are read, by the name the index gave them; the browser never gets
a file path or route, only the escaped HTML built here (a rendered page travels as a data: image).
"""
from __future__ import annotations

import base64
import io
import threading
from collections import OrderedDict
from html import escape
from pathlib import Path

from index.load import FORMATS, load
from index.types import LoadedDoc, SkipFile
from qa import wording
from qa.export import Source
from qa.types import Short
from ui.render import display_title, marked

WINDOW = 20_000  # characters shown on each side of the quote in long documents
PAGE_SCALE = 1.6  # PDF points to pixels (about 980 px for a Letter page)
HIGHLIGHT = (255, 214, 10, 110)


class Documents:
    """Loads documents from the seeds folder for the viewer, keeping the last few (by size and mtime)."""

    def __init__(self, seeds_dir: Path, keep: int = 8):
        self.root = Path(seeds_dir).resolve()
        self.keep = keep
        self._cache: OrderedDict[tuple, LoadedDoc] = OrderedDict()
        self._lock = threading.Lock()

    def path(self, source: str) -> Path | None:
        """The file named `source` inside the seeds folder; None for anything outside it or not a document."""
        try:
            path = (self.root / source).resolve()
        except (OSError, ValueError):
            return None
        inside = path.is_relative_to(self.root) and path != self.root
        return path if inside and path.is_file() and path.suffix.lower() in FORMATS else None

    def load(self, source: str) -> LoadedDoc | None:
        """The document as the index read it (None when it is gone or can no longer be read)."""
        path = self.path(source)
        if path is None:
            return None
        stat = path.stat()
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        try:
            doc = load(path, source)
        except SkipFile:
            return None
        with self._lock:
            self._cache[key] = doc
            while len(self._cache) > self.keep:
                self._cache.popitem(last=False)
        return doc


def view_html(docs: Documents, source: Source, short: Short | None = None) -> str:
    """The viewer's content for one numbered source: a header, the PDF page when there is one, and the
    document's text around the quote with every quote of the source and the short answer marked."""
    c = source.first
    doc = docs.load(c.source)
    head = _head(source, doc)
    if doc is None:
        return (f'<div class="qa-viewer">{head}<div class="qa-note">This document is no longer in the documents '
                f'folder; the quote as it was indexed:</div><div class="qa-doc"><mark class="qa-quote">'
                f'{escape(c.quote)}</mark></div></div>')
    spans, note = _spans(doc.text, source)
    page = _page_html(docs.path(c.source), c.page, source) if c.page else ""
    start, end = _window(doc, c.page, spans)
    inner = (short.start - start, short.end - start) if short is not None and short.n in _numbers(source) else None
    text = marked(doc.text[start:end], [(s - start, e - start) for s, e in spans], inner)
    before = '<div class="qa-cut">…</div>' if start > 0 else ""
    after = '<div class="qa-cut">…</div>' if end < len(doc.text) else ""
    return (f'<div class="qa-viewer">{head}{note}{page}{before}<div class="qa-doc">{text}</div>{after}</div>')


def _numbers(source: Source) -> set[int]:
    return {c.n for c in source.citations}


def _head(source: Source, doc: LoadedDoc | None) -> str:
    c = source.first
    title = display_title(doc.title if doc else c.title, c.source)
    date = f" · {escape(c.published)}" if c.published else ""
    places = ", ".join(dict.fromkeys(wording.place(q.start_line, q.end_line, q.page, q.unit) for q in source.citations))
    return (f'<div class="qa-viewer-head"><div class="qa-viewer-title"><span class="qa-n">{source.n}</span>'
            f'{escape(title)}</div><div class="qa-meta">{escape(c.source)}, {escape(places)}{date}</div></div>')


def _spans(text: str, source: Source) -> tuple[list[tuple[int, int]], str]:
    """Each quote's span in the current text; a quote that moved (the file changed since indexing) is found
    by search, and one that is gone is reported."""
    spans, missing = [], 0
    for c in source.citations:
        if text[c.start:c.end] == c.quote:
            spans.append((c.start, c.end))
        elif (at := text.find(c.quote)) >= 0:
            spans.append((at, at + len(c.quote)))
        else:
            missing += 1
    note = ('<div class="qa-note">The document changed after it was indexed: the quoted passage is no longer '
            'in it. Rebuild the index to update the answers.</div>') if missing else ""
    return spans, note


def _window(doc: LoadedDoc, page: int | None, spans: list[tuple[int, int]]) -> tuple[int, int]:
    """The part of the text to show: the cited page of a PDF, else the whole text or `WINDOW` around the quote."""
    if page:
        seg = next((s for s in doc.segments if s.page == page), None)
        if seg is not None and all(seg.start <= a and b <= seg.end for a, b in spans):
            return seg.start, seg.end
    if len(doc.text) <= 2 * WINDOW or not spans:
        return 0, min(len(doc.text), 2 * WINDOW)
    start = max(0, spans[0][0] - WINDOW)
    end = min(len(doc.text), spans[-1][1] + WINDOW)
    start = doc.text.rfind("\n", 0, start) + 1 if start else 0
    cut = doc.text.find("\n", end)
    return start, (cut if cut >= 0 else len(doc.text))


def _page_html(path: Path | None, page: int, source: Source) -> str:
    if path is None or path.suffix.lower() != ".pdf":
        return ""
    try:
        png = page_png(path, page, [c.quote for c in source.citations])
    except Exception:  # noqa: BLE001 - a page that pdfium cannot draw still leaves the text view
        return '<div class="qa-note">This page could not be drawn; its text follows.</div>'
    data = base64.b64encode(png).decode("ascii")
    return (f'<figure class="qa-page"><img src="data:image/png;base64,{data}" '
            f'alt="Page {page} of {escape(path.name)}, the quote highlighted"><figcaption>Page {page}'
            f'</figcaption></figure>')


def page_png(path: Path, page: int, quotes: list[str]) -> bytes:
    """Page `page` (1-based) of the PDF at `path` as PNG, with the text of `quotes` highlighted."""
    import pypdfium2 as pdfium
    from PIL import Image, ImageDraw

    pdf = pdfium.PdfDocument(str(path))
    try:
        pdf_page = pdf[page - 1]
        height = pdf_page.get_height()
        rects = quote_rects(pdf_page.get_textpage(), quotes)
        image = pdf_page.render(scale=PAGE_SCALE).to_pil().convert("RGBA")
    finally:
        pdf.close()
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    for left, bottom, right, top in rects:
        box = [left * PAGE_SCALE - 1, (height - top) * PAGE_SCALE - 1,
               right * PAGE_SCALE + 1, (height - bottom) * PAGE_SCALE + 1]
        draw.rectangle(box, fill=HIGHLIGHT)
    out = io.BytesIO()
    Image.alpha_composite(image, overlay).convert("RGB").save(out, "PNG", optimize=True)
    return out.getvalue()


def quote_rects(textpage, quotes: list[str]) -> list[tuple[float, float, float, float]]:
    """The rectangles (PDF points) of each line of each quote, found in order on the page's text layer."""
    rects: list[tuple[float, float, float, float]] = []
    for quote in quotes:
        at = 0
        for line in (part.strip() for part in quote.splitlines()):
            if len(line) < 2:
                continue
            found = textpage.search(line, index=at, match_case=True).get_next()
            if found is None:
                continue
            index, count = found
            at = index + count
            rects += [textpage.get_rect(i) for i in range(textpage.count_rects(index, count))]
    return rects
