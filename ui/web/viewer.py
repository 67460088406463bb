"""The document viewer: a cited document shown at its quote, the quote highlighted, the short answer marked
inside it. Text, Markdown and HTML documents are shown as text (the text citations' offsets refer to); a PDF
shows its cited page first, rendered with pypdfium2 with the quote marked on it, then that page's text. Only
the cited page is read (as the index read it: pypdf's text layer, tidied), so a 300-page manual opens as fast
as a one-page note; a page read by OCR, or a citation without a page, reads the whole document.

Only files inside the documents folder are read, by the name the index gave them; the browser never gets
a file path or route, only the escaped HTML built here (a rendered page travels as a data: image).
"""
from __future__ import annotations

import base64
import io
import threading
from collections import OrderedDict
from dataclasses import dataclass
from html import escape
from pathlib import Path

from index.formats.builder import tidy
from index.ingest.load import FORMATS, load
from index.types import LoadedDoc, Segment, SkipFile
from qa import wording
from qa.sharing.export import Source
from qa.types import Short
from ui.web.render import display_title, marked

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
        return self._keep(key, doc)

    def load_page(self, source: str, page: int, title: str = "") -> LoadedDoc | None:
        """Only page `page` (1-based) of the PDF `source`, its text as the index read it; offsets are relative
        to the page. None when the page has no text layer (a scanned page: use `load`) or cannot be read."""
        path = self.path(source)
        if path is None or path.suffix.lower() != ".pdf":
            return None
        stat = path.stat()
        key = (str(path), stat.st_size, stat.st_mtime_ns, page)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        try:
            text = tidy(_page_text(path, page))
        except Exception:  # noqa: BLE001 - a page pypdf cannot read: the whole document is read instead
            return None
        if not text:
            return None
        doc = LoadedDoc(source, text, title or path.stem, segments=(Segment(0, len(text), page=page),))
        return self._keep(key, doc)

    def _keep(self, key: tuple, doc: LoadedDoc) -> LoadedDoc:
        with self._lock:
            self._cache[key] = doc
            while len(self._cache) > self.keep:
                self._cache.popitem(last=False)
        return doc


def _page_text(path: Path, page: int) -> str:
    """The text layer of one PDF page, read by pypdf exactly as the PDF reader of the index reads it."""
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    return reader.pages[page - 1].extract_text() or "" if 0 < page <= len(reader.pages) else ""


def opening_html(source: Source) -> str:
    """The viewer while a document is being opened: its name and the cited page."""
    c = source.first
    where = f", p. {c.page}" if c.page else ""
    return (f'<div class="qa-viewer qa-opening"><div class="qa-note" role="status">Opening '
            f'{escape(Path(c.source).name)}{where}…</div></div>')


def view_html(docs: Documents, source: Source, short: Short | None = None) -> str:
    """The viewer's content for one numbered source: a header, the PDF page when there is one, and the
    document's text around the quote with every quote of the source and the short answer marked."""
    c = source.first
    doc = docs.load_page(c.source, c.page, c.title) if c.page and c.source.lower().endswith(".pdf") else None
    if doc is not None:
        return _page_view(docs, source, doc, short)
    doc = docs.load(c.source)
    head = _head(source, doc)
    if doc is None:
        return (f'<div class="qa-viewer">{head}<div class="qa-note">This document is no longer in the documents '
                f'folder; the quote as it was indexed:</div><div class="qa-doc"><mark class="qa-quote">'
                f'{escape(c.quote)}</mark></div></div>')
    spans, note = _spans(doc.text, source.citations)
    page = _page_html(docs.path(c.source), c.page, source) if c.page else ""
    start, end = _window(doc, c.page, spans)
    inner = (short.start - start, short.end - start) if short is not None and short.n in _numbers(source) else None
    text = marked(doc.text[start:end], [(s - start, e - start) for s, e in spans], inner)
    before = '<div class="qa-cut">…</div>' if start > 0 else ""
    after = '<div class="qa-cut">…</div>' if end < len(doc.text) else ""
    return (f'<div class="qa-viewer">{head}{note}{page}{before}<div class="qa-doc">{text}</div>{after}</div>')


def _page_view(docs: Documents, source: Source, doc: LoadedDoc, short: Short | None) -> str:
    """A PDF citation: the rendered page with its quotes marked first, then the page's text (offsets
    relative to the page, so each quote is found in it)."""
    c = source.first
    here = tuple(q for q in source.citations if q.page == c.page)
    spans, note = [], ""
    found = {}
    for q in here:
        at = doc.text.find(q.quote)
        if at >= 0:
            spans.append((at, at + len(q.quote)))
            found[q.n] = at - q.start  # page offset minus document offset
    if len(found) < len({q.n for q in here}):
        note = ('<div class="qa-note">The document changed after it was indexed: the quoted passage is no '
                'longer on this page. Rebuild the index to update the answers.</div>')
    inner = None
    if short is not None and short.n in found:
        inner = (short.start + found[short.n], short.end + found[short.n])
    page = _page_html(docs.path(c.source), c.page, source)
    text = marked(doc.text, sorted(spans), inner)
    return f'<div class="qa-viewer">{_head(source, doc)}{note}{page}<div class="qa-doc">{text}</div></div>'


def _numbers(source: Source) -> set[int]:
    return {c.n for c in source.citations}


def _head(source: Source, doc: LoadedDoc | None) -> str:
    c = source.first
    title = display_title(doc.title if doc else c.title, c.source)
    date = f" · {escape(c.published)}" if c.published else ""
    places = ", ".join(dict.fromkeys(wording.place(q.start_line, q.end_line, q.page, q.unit) for q in source.citations))
    return (f'<div class="qa-viewer-head"><div class="qa-viewer-title"><span class="qa-n">{source.n}</span>'
            f'{escape(title)}</div><div class="qa-meta">{escape(c.source)}, {escape(places)}{date}</div></div>')


def _spans(text: str, citations) -> tuple[list[tuple[int, int]], str]:
    """Each quote's span in the current text; a quote that moved (the file changed since indexing) is found
    by search, and one that is gone is reported."""
    spans, missing = [], 0
    for c in citations:
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
        drawn = draw_page(path, page, [c.quote for c in source.citations])
    except Exception:  # noqa: BLE001 - a page that pdfium cannot draw still leaves the text view
        return '<div class="qa-note">This page could not be drawn; its text follows.</div>'
    data = base64.b64encode(drawn.png).decode("ascii")
    # where the first highlight is, as fractions of the image: the viewer scrolls the page there
    focus = f' data-fx="{drawn.focus[0]:.3f}" data-fy="{drawn.focus[1]:.3f}"' if drawn.focus else ""
    return (f'<figure class="qa-page"{focus}><img src="data:image/png;base64,{data}" '
            f'alt="Page {page} of {escape(path.name)}, the quote highlighted"><figcaption>Page {page}'
            f'</figcaption></figure>')


@dataclass(frozen=True)
class DrawnPage:
    """A rendered PDF page: the PNG, and where its first highlight is (its left edge and its middle, as
    fractions of the width and height; None when no quote was found on the page)."""

    png: bytes
    focus: tuple[float, float] | None


def page_png(path: Path, page: int, quotes: list[str]) -> bytes:
    """Page `page` (1-based) of the PDF at `path` as PNG, with the text of `quotes` highlighted."""
    return draw_page(path, page, quotes).png


def draw_page(path: Path, page: int, quotes: list[str]) -> DrawnPage:
    """Page `page` (1-based) of the PDF at `path` drawn with the text of `quotes` highlighted (pdfium reads
    only that page)."""
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
    boxes = [[left * PAGE_SCALE - 1, (height - top) * PAGE_SCALE - 1, right * PAGE_SCALE + 1,
              (height - bottom) * PAGE_SCALE + 1] for left, bottom, right, top in rects]
    for box in boxes:
        draw.rectangle(box, fill=HIGHLIGHT)
    out = io.BytesIO()
    # fast zlib: "optimize" took 0.6 s a page and saved 3 %; level 1 is as small here and 7x faster
    Image.alpha_composite(image, overlay).convert("RGB").save(out, "PNG", compress_level=1)
    focus = None
    if boxes:
        x0, y0, x1, y1 = boxes[0]
        focus = (x0 / image.width, (y0 + y1) / 2 / image.height)  # a line's start: it is read from there
    return DrawnPage(out.getvalue(), focus)


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
