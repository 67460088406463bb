"""Load one seed file into a `LoadedDoc`: its text exactly as citations will quote it, plus metadata.

For plain-text formats the text is the decoded file (no newline translation), so
offsets are Python `str` indices into the file as read with UTF-8. For HTML, PDF
and DOCX it is the extracted text, which `load()` reproduces deterministically.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Callable, Protocol

import yaml

from index.formats import extract_docx, extract_html, extract_pdf
from index.types import LoadedDoc, Segment, SkipFile



class Loader(Protocol):
    """Reads one file into a `LoadedDoc`; raises `SkipFile` with a reason when it cannot."""

    def __call__(self, path: Path, source: str) -> LoadedDoc: ...


_DATE_HEADER = re.compile(r"\A\s*date (\d{4}-\d{2}-\d{2})\s+")
_FRONT_MATTER = re.compile(r"\A---\r?\n(.*?)\r?\n---[ \t]*\r?\n", re.S)
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.M)


def load(path: Path, source: str) -> LoadedDoc:
    """Load `path` (shown as `source`); raise `SkipFile` with a reason when it cannot be indexed."""
    loader = FORMATS.get(path.suffix.lower())
    if loader is None:
        raise SkipFile(unsupported(path.suffix.lower()))
    return loader(path, source)


def unsupported(ext: str) -> str:
    """The reason given for a file type no loader reads."""
    return f"unsupported file type {ext or '(no extension)'}; supported: {' '.join(sorted(FORMATS))}"


def load_text(path: Path, source: str) -> LoadedDoc:
    """Plain text and Markdown: the decoded file, front matter or a ` date` header as metadata."""
    return _load_text(path, source, path.suffix.lower())


def load_html(path: Path, source: str) -> LoadedDoc:
    """HTML: the visible text, `<title>` as the title."""
    title, text = extract_html(decode(_read(path)))
    return _finish(source, text, title or None, {}, [Segment(0, len(text))])


def load_pdf(path: Path, source: str) -> LoadedDoc:
    """PDF: the text layer, one segment per page."""
    title, text, segments = extract_pdf(path)
    return _finish(source, text, title, {}, segments)


def load_docx(path: Path, source: str) -> LoadedDoc:
    """Word: paragraph text, core-properties title or first heading."""
    title, text = extract_docx(path)
    return _finish(source, text, title, {}, [Segment(0, len(text))])


# The one registry of document formats: extension -> loader.
FORMATS: dict[str, Callable[[Path, str], LoadedDoc]] = {
    ".txt": load_text, ".md": load_text, ".markdown": load_text,
    ".html": load_html, ".htm": load_html, ".pdf": load_pdf, ".docx": load_docx}
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
    if ext != ".txt" and (m := _FRONT_MATTER.match(text)):
        meta = _front_matter(m.group(1))
        start = m.end()
    elif m := _DATE_HEADER.match(text):
        meta = {"published": m.group(1)}
        start = m.end()
    title = meta.get("title") or (_first_heading(text[start:]) if ext != ".txt" else None)
    return _finish(source, text, title, meta, [Segment(start, len(text))])


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


def _finish(source: str, text: str, title: str | None, meta: dict, segments) -> LoadedDoc:
    segments = tuple(s for s in segments if text[s.start:s.end].strip())
    if not segments:
        raise SkipFile("empty: no text to index")
    title = (title or "").strip() or _derive_title(text, segments[0], source)
    published = str(meta.pop("published", "") or "")
    return LoadedDoc(source, text, title, published, meta, segments)


def _derive_title(text: str, seg: Segment, source: str) -> str:
    first = text[seg.start:seg.end].strip().split("\n", 1)[0].strip()
    if 0 < len(first) <= 100:
        return first
    if first:
        cut = first[:80].rsplit(" ", 1)[0]
        return cut + "…"
    return Path(source).stem.replace("_", " ")
