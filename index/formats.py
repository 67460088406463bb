"""Text extraction for rich formats (HTML, PDF, DOCX), each through a well-kept library."""
from __future__ import annotations

import re
from pathlib import Path

from index.types import Segment, SkipFile

_BLANKS = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")
_SPACES = re.compile(r"[ \t\u00a0]+")


def _tidy(text: str) -> str:
    lines = (_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip()


def extract_html(html: str) -> tuple[str, str]:
    """Visible text of an HTML page (scripts, styles and hidden parts removed) and its <title>."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "lxml")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    for tag in soup(["script", "style", "noscript", "template", "head", "svg", "iframe"]):
        tag.decompose()
    root = soup.body or soup
    return title, _tidy(root.get_text("\n"))


def extract_pdf(path: Path):
    """Text per page of a PDF, joined by blank lines, with one segment per page."""
    from pypdf import PdfReader

    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted and not reader.decrypt(""):
            raise SkipFile("encrypted PDF (needs a password)")
        pages = [_tidy(p.extract_text() or "") for p in reader.pages]
        title = (reader.metadata or {}).get("/Title") if reader.metadata else None
    except SkipFile:
        raise
    except Exception as exc:  # pypdf raises many types on broken files
        raise SkipFile(f"broken PDF: {type(exc).__name__}: {exc}"[:200])
    text, segments = "", []
    for number, page in enumerate(pages, start=1):
        if page:
            text += "\n\n" if text else ""
            segments.append(Segment(len(text), len(text) + len(page), number))
            text += page
    if not segments:
        raise SkipFile("no extractable text in PDF (scanned images?)")
    return (str(title) if title else None), text, segments


def extract_docx(path: Path) -> tuple[str | None, str]:
    """Paragraph text of a Word document and its title (core properties or first heading)."""
    from docx import Document

    try:
        doc = Document(str(path))
    except Exception as exc:  # python-docx raises zip, XML and key errors on bad files
        raise SkipFile(f"not a valid .docx: {type(exc).__name__}")
    paras = [p for p in doc.paragraphs if p.text.strip()]
    title = doc.core_properties.title or next(
        (p.text.strip() for p in paras if p.style is not None and p.style.name.lower().startswith(("title", "heading"))), None)
    return title, _tidy("\n\n".join(p.text for p in paras))
