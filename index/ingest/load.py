"""Load one seed file into a `LoadedDoc`: its text exactly as citations will quote it, plus metadata.

For plain-text formats the text is the decoded file (no newline translation), so offsets are Python
`str` indices into the file as read with UTF-8. For every other format it is the extracted text, which
`load()` reproduces deterministically. `FORMATS` is the one registry of file types: extension ->
`Format` (a loader, the library it uses, and how a citation locates a passage in it).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import yaml

from index.formats import ebook, images, mail, office, pdf, sheets
from index.formats.html import extract_html_parts
from index.formats.limits import DEFAULT, ReadOptions
from index.ingest import headings as outline
from index.types import Heading, LoadedDoc, Segment, SkipFile


@dataclass(frozen=True)
class Format:
    """A registered file type: its loader, the library that reads it, what locates a passage in it, and
    what its content must be (`text`, `pdf`, `zip`, `image`) for the upload check (`index.ingest.sniff`, which
    accepts the bytes of every registered format of that family, so a new format needs no other list).
    `magic` names further extensions puremagic may give this format's bytes (a `.docx` is often called a
    macro-enabled `.docm`)."""

    name: str
    read: Callable[[Path, str, ReadOptions], LoadedDoc]
    library: str
    located_by: str
    content: str
    magic: tuple[str, ...] = ()

    def __call__(self, path: Path, source: str, options: ReadOptions = DEFAULT) -> LoadedDoc:
        return self.read(path, source, options)


_DATE_HEADER = re.compile(r"\A\s*date (\d{4}-\d{2}-\d{2})\s+")
_FRONT_MATTER = re.compile(r"\A---\r?\n(.*?)\r?\n---[ \t]*\r?\n", re.S)
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.M)
_RST_HEADING = re.compile(r"^(?:([=\-~^\"'`#*+:.])\1{2,}[ \t]*\r?\n)?[ \t]*(\S[^\n]*?)[ \t]*\r?\n"
                          r"([=\-~^\"'`#*+:.])\3{2,}[ \t]*$", re.M)


def load(path: Path, source: str, options: ReadOptions = DEFAULT, ext: str | None = None) -> LoadedDoc:
    """Load `path` (shown as `source`) as a file of type `ext` (default: its own extension); raise
    `SkipFile` with a reason when it cannot be indexed."""
    ext = (ext or path.suffix).lower()
    fmt = FORMATS.get(ext)
    if fmt is None:
        raise SkipFile(unsupported(ext))
    return fmt.read(path, source, options)


def unsupported(ext: str) -> str:
    """The reason given for a file type no loader reads."""
    return f"unsupported file type {ext or '(no extension)'}; supported: {' '.join(sorted(FORMATS))}"


def load_text(path: Path, source: str, options: ReadOptions = DEFAULT) -> LoadedDoc:
    """Plain text and Markdown: the decoded file, front matter or a ` date` header as metadata."""
    return _load_text(path, source, Path(source).suffix.lower())


def load_rst(path: Path, source: str, options: ReadOptions = DEFAULT) -> LoadedDoc:
    """reStructuredText: the decoded file, its first (under- or overlined) heading as the title."""
    text = decode(_read(path))
    m = _RST_HEADING.search(text[:5000])
    return finish(source, text, m.group(2) if m else None, {}, [Segment(0, len(text))],
                  headings=outline.rst(text))


def load_html(path: Path, source: str, options: ReadOptions = DEFAULT) -> LoadedDoc:
    """HTML: the main text in blocks (navigation dropped, inline markup inside its sentence), `<title>` as the
    title (see `index.formats.html`)."""
    page = extract_html_parts(decode(_read(path)))
    return finish(source, page.text, page.title or None, {}, [Segment(0, len(page.text))], headings=page.headings)


def load_pdf(path: Path, source: str, options: ReadOptions = DEFAULT) -> LoadedDoc:
    """PDF: the text layer, one segment per page; pages without one by OCR."""
    got = pdf.extract_pdf(path, options)
    notes = (f"pages {_numbers(got.unread)} scanned, no OCR: {pdf.ocr.HINT}",) if got.unread else ()
    return finish(source, got.builder.text, got.title, {}, got.builder.segments, notes, got.pages)


def load_docx(path: Path, source: str, options: ReadOptions = DEFAULT) -> LoadedDoc:
    """Word: paragraphs and tables in order, core-properties title or first heading."""
    title, text = office.extract_docx(path, options)
    return finish(source, text, title, {}, [Segment(0, len(text))])


def load_odt(path: Path, source: str, options: ReadOptions = DEFAULT) -> LoadedDoc:
    """OpenDocument text: headings, paragraphs, lists and tables in order; metadata or first heading title."""
    title, text = office.extract_odt(path, options)
    return finish(source, text, title, {}, [Segment(0, len(text))])


def load_pptx(path: Path, source: str, options: ReadOptions = DEFAULT) -> LoadedDoc:
    """PowerPoint: one segment per slide (text boxes, tables, speaker notes)."""
    title, built, slides = office.extract_pptx(path, options)
    return finish(source, built.text, title, {}, built.segments, pages=slides)


def load_xlsx(path: Path, source: str, options: ReadOptions = DEFAULT) -> LoadedDoc:
    """Excel: every sheet's rows with their headers, located as `Sheet1 row 12`."""
    title, built, sheets_count = sheets.extract_xlsx(path, options)
    return finish(source, built.text, title, {}, built.segments, pages=sheets_count)


def load_csv(path: Path, source: str, options: ReadOptions = DEFAULT) -> LoadedDoc:
    """CSV/TSV: records with their headers, located as `row 12`."""
    built = sheets.extract_csv(decode(_read(path)), tab=Path(source).suffix.lower() == ".tsv")
    return finish(source, built.text, _stem_title(source), {}, built.segments)


def load_epub(path: Path, source: str, options: ReadOptions = DEFAULT) -> LoadedDoc:
    """EPUB: the spine's chapters in order, DC title, creator and date as metadata."""
    title, meta, built, chapters = ebook.extract_epub(path, options)
    return finish(source, built.text, title, meta, built.segments, pages=chapters)


def load_eml(path: Path, source: str, options: ReadOptions = DEFAULT) -> LoadedDoc:
    """One e-mail: From, To, Date and Subject as metadata, then the text of its body."""
    data = _read(path)
    decode(data)  # an e-mail is text: binary content is refused with the reason
    meta, text = mail.extract_eml(data)
    return finish(source, text, meta.pop("title", None), meta, [Segment(0, len(text))])


def load_mbox(path: Path, source: str, options: ReadOptions = DEFAULT) -> LoadedDoc:
    """A mailbox: one segment per message (`message 4`), each with its header lines."""
    decode(_read(path)[:1_000_000])  # readable, and text
    built, count, meta = mail.extract_mbox(path)
    return finish(source, built.text, _stem_title(source), meta, built.segments, pages=count)


def load_image(path: Path, source: str, options: ReadOptions = DEFAULT) -> LoadedDoc:
    """PNG, JPEG, TIFF: the text read by OCR (one segment per TIFF page)."""
    _read(path)
    built, frames = images.extract_image(path, options)
    return finish(source, built.text, None, {}, built.segments, pages=frames if frames > 1 else None)


def _stem_title(source: str) -> str:
    return Path(source).stem.replace("_", " ")


def _numbers(pages: list[int]) -> str:
    return ", ".join(map(str, pages[:20])) + (" …" if len(pages) > 20 else "")


def _fmt(name: str, read, library: str, located_by: str, content: str, magic: tuple[str, ...] = ()) -> Format:
    return Format(name, read, library, located_by, content, magic)


_TEXT = _fmt("plain text", load_text, "standard library", "lines", "text")
_MARKDOWN = _fmt("Markdown", load_text, "PyYAML (front matter)", "lines", "text")
_HTML = _fmt("HTML", load_html, "BeautifulSoup, lxml (main content, navigation dropped)", "lines", "text")
_SHEET_TEXT = _fmt("CSV / TSV", load_csv, "standard library csv", "row (`row 12`)", "text")
_IMAGE = _fmt("image (OCR)", load_image, "pytesseract + tesseract-ocr, Pillow", "lines (TIFF: page)", "image",
              (".jfif", ".jpe"))
_MAIL = _fmt("e-mail", load_eml, "standard library email", "lines", "text")

# The one registry of document formats: extension -> Format.
FORMATS: dict[str, Format] = {
    ".txt": _TEXT, ".text": _TEXT,
    ".md": _MARKDOWN, ".markdown": _MARKDOWN,
    ".rst": _fmt("reStructuredText", load_rst, "standard library", "lines", "text"),
    ".html": _HTML, ".htm": _HTML, ".xhtml": _HTML,
    ".pdf": _fmt("PDF", load_pdf, "pypdfium2 (text), pypdf (checks, images); OCR: pytesseract + tesseract-ocr", "page (`p. 3`)", "pdf"),
    ".docx": _fmt("Word", load_docx, "python-docx", "lines", "zip", (".docm",)),
    ".odt": _fmt("OpenDocument text", load_odt, "odfpy", "lines", "zip", (".ott",)),
    ".pptx": _fmt("PowerPoint", load_pptx, "python-pptx", "slide (`slide 3`)", "zip", (".pptm",)),
    ".xlsx": _fmt("Excel", load_xlsx, "openpyxl", "sheet and row (`Sheet1 row 12`)", "zip", (".xlsm",)),
    ".csv": _SHEET_TEXT, ".tsv": _SHEET_TEXT,
    ".epub": _fmt("EPUB e-book", load_epub, "ebooklib", "chapter (`chapter 2`)", "zip"),
    ".eml": _MAIL,
    ".mbox": _fmt("mailbox", load_mbox, "standard library mailbox, email", "message (`message 4`)", "text"),
    ".png": _IMAGE, ".jpg": _IMAGE, ".jpeg": _IMAGE, ".tif": _IMAGE, ".tiff": _IMAGE,
}
SUPPORTED = frozenset(FORMATS)


def decode(data: bytes) -> str:
    """Decode UTF-8 (with or without BOM), else a detected encoding; binary raises `SkipFile`."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _checked(data.decode("utf-16"))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = _detect(data)
    return _checked(text)


def _detect(data: bytes) -> str:
    from charset_normalizer import from_bytes

    matches = from_bytes(data[:1_000_000])
    best = matches.best()
    if best is None:
        raise SkipFile("binary or undecodable (not UTF-8 and no known text encoding)")
    # Short Western text often ties (e.g. cp1250 vs cp1252, which decode é alike but è differently);
    # prefer Windows-1252, the latin-1 superset, when it decodes as cleanly as the top pick.
    best = next((m for m in matches if m.encoding == "cp1252" and m.chaos <= best.chaos), best)
    try:
        return data.decode(best.encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise SkipFile(f"undecodable text ({best.encoding}: {exc.reason if hasattr(exc, 'reason') else exc})")


def _checked(text: str) -> str:
    sample = text[:20_000]
    bad = sum(1 for ch in sample if ch == "\x00" or (ch < " " and ch not in "\t\n\r\f\v"))
    if sample and bad / len(sample) > 0.01:
        raise SkipFile("binary content (control bytes), not text")
    return text


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except PermissionError:
        raise SkipFile("unreadable: permission denied")
    except OSError as exc:
        raise SkipFile(f"unreadable: {exc.strerror or exc}")


def _load_text(path: Path, source: str, ext: str) -> LoadedDoc:
    text = decode(_read(path))
    meta: dict = {}
    start = 0
    if ext not in (".txt", ".text") and (m := _FRONT_MATTER.match(text)):
        meta = _front_matter(m.group(1))
        start = m.end()
    elif m := _DATE_HEADER.match(text):
        meta = {"published": m.group(1)}
        start = m.end()
    plain = ext in (".txt", ".text")
    title = meta.get("title") or (_first_heading(text[start:]) if not plain else None)
    found = tuple(h for h in (outline.plain(text) if plain else outline.markdown(text)) if h.start >= start)
    return finish(source, text, title, meta, [Segment(start, len(text))], headings=found)


def _front_matter(raw: str) -> dict:
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): str(v) for k, v in data.items() if v is not None and not isinstance(v, (dict, list))}


def _first_heading(text: str) -> str | None:
    m = _HEADING.search(text[:5000])
    return m.group(1).strip() if m else None


def finish(source: str, text: str, title: str | None, meta: dict, segments, notes: tuple[str, ...] = (),
           pages: int | None = None, headings: tuple[Heading, ...] = ()) -> LoadedDoc:
    """The `LoadedDoc`: blank segments dropped, a title derived when none was found; empty raises `SkipFile`."""
    segments = tuple(s for s in segments if text[s.start:s.end].strip())
    if not segments:
        raise SkipFile("empty: no text to index")
    title = " ".join((title or "").split())[:300] or _derive_title(text, segments[0], source)
    published = str(meta.pop("published", "") or "")
    return LoadedDoc(source, text, title, published, meta, segments, tuple(notes), pages, tuple(headings))


def _derive_title(text: str, seg: Segment, source: str) -> str:
    first = text[seg.start:seg.end].strip().split("\n", 1)[0].strip()
    if 0 < len(first) <= 100:
        return first
    if first:
        cut = first[:80].rsplit(" ", 1)[0]
        return cut + "…"
    return Path(source).stem.replace("_", " ")
