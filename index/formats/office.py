"""Office documents: Word (python-docx), PowerPoint (python-pptx) and OpenDocument text (odfpy).

Tables keep their rows together: a row is one line, each cell with its column's header
(`index.formats.tables`), so the chunker (which splits at line ends first) never cuts a row in two.
"""
from __future__ import annotations

from pathlib import Path

from index.formats.builder import DocBuilder, one_line, tidy
from index.formats.limits import ReadOptions, check_zip
from index.formats.tables import table_text
from index.types import SkipFile

TITLE_SCAN = 50  # blocks searched for a title heading


# --- Word ----------------------------------------------------------------------------------------------

def extract_docx(path: Path, options: ReadOptions) -> tuple[str | None, str]:
    """Paragraphs and tables of a Word document in reading order, and its title (core title or heading)."""
    check_zip(path, options, ".docx", ("word/document.xml",))
    from docx import Document

    try:
        doc = Document(str(path))
        blocks = list(doc.iter_inner_content())
    except Exception as exc:  # noqa: BLE001 (python-docx raises zip, XML and key errors on bad files)
        raise SkipFile(f"not a valid .docx: {type(exc).__name__}") from exc
    parts, title = [], doc.core_properties.title or None
    for block in blocks:
        if hasattr(block, "rows"):
            parts.append(table_text([c.text for c in row.cells] for row in block.rows))
        elif (text := block.text).strip():
            parts.append(text)
            # A style lookup costs a scan of the styles part: look for the title near the start only.
            title = title or (_heading(block) if len(parts) <= TITLE_SCAN else None)
    return title, tidy("\n\n".join(p for p in parts if p.strip()))


def _heading(paragraph) -> str | None:
    """The paragraph's text when it is a title or heading (looked up only until a title is found)."""
    style = paragraph.style.name.lower() if paragraph.style is not None else ""
    return paragraph.text.strip() if style.startswith(("title", "heading")) else None


# --- PowerPoint ----------------------------------------------------------------------------------------

def extract_pptx(path: Path, options: ReadOptions) -> tuple[str | None, DocBuilder, int]:
    """One segment per slide ("slide 3"): its text boxes and tables in the slide's order, then its notes."""
    check_zip(path, options, ".pptx", ("ppt/presentation.xml",))
    from pptx import Presentation

    try:
        prs = Presentation(str(path))
        slides = list(prs.slides)
    except Exception as exc:  # noqa: BLE001
        raise SkipFile(f"not a valid .pptx: {type(exc).__name__}") from exc
    builder, title = DocBuilder(), prs.core_properties.title or None
    for number, slide in enumerate(slides, 1):
        title = title or _slide_title(slide)
        builder.add(_slide_text(slide), label=f"slide {number}")
    return title, builder, len(slides)


def _slide_title(slide) -> str | None:
    shape = slide.shapes.title
    return one_line(shape.text_frame.text) or None if shape is not None and shape.has_text_frame else None


def _slide_text(slide) -> str:
    # The slide's own shape order (the title placeholder first): sorting by position would look each
    # inherited placeholder position up through the layout and master, which costs more than the rest.
    parts = [_shape_text(s) for s in _shapes(slide.shapes)]
    if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
        notes = slide.notes_slide.notes_text_frame.text
        parts.append(f"Notes: {notes}" if notes.strip() else "")
    return tidy("\n".join(p for p in parts if p.strip()).replace("\v", "\n"))


def _shapes(shapes):
    """Every shape, with group shapes opened."""
    for shape in shapes:
        if shape.shape_type == 6:  # MSO_SHAPE_TYPE.GROUP
            yield from _shapes(shape.shapes)
        else:
            yield shape


def _shape_text(shape) -> str:
    if getattr(shape, "has_table", False) and shape.has_table:
        return table_text([c.text for c in row.cells] for row in shape.table.rows)
    if shape.has_text_frame:
        return shape.text_frame.text
    return ""


# --- OpenDocument text ---------------------------------------------------------------------------------

def extract_odt(path: Path, options: ReadOptions) -> tuple[str | None, str]:
    """Headings, paragraphs, lists and tables of an OpenDocument text, in order, and its title."""
    check_zip(path, options, ".odt", ("content.xml",))
    from odf import opendocument

    try:
        doc = opendocument.load(str(path))
        parts = list(_odf_blocks(doc.text))
    except Exception as exc:  # noqa: BLE001 (odfpy raises zip, XML and key errors on bad files)
        raise SkipFile(f"not a valid .odt: {type(exc).__name__}") from exc
    title = _odf_title(doc) or next((text for kind, text in parts if kind == "h"), None)
    return title, tidy("\n\n".join(text for _, text in parts if text.strip()))


def _odf_blocks(element):
    """(kind, text) for each heading, paragraph and table under `element`, in document order."""
    from odf import teletype

    for child in element.childNodes:
        name = getattr(child, "qname", (None, None))[1]
        if name in ("h", "p"):
            yield name, teletype.extractText(child)
        elif name == "table":
            yield "table", table_text(_odf_rows(child))
        elif name in ("list", "list-item", "section", "list-header", "table-of-content", "index-body"):
            yield from _odf_blocks(child)


def _odf_rows(table):
    from odf import teletype

    for row in table.getElementsByType(_odf_class("TableRow")):
        yield [teletype.extractText(cell) for cell in row.getElementsByType(_odf_class("TableCell"))]


def _odf_class(name: str):
    from odf import table

    return getattr(table, name)


def _odf_title(doc) -> str | None:
    from odf import dc, teletype

    titles = doc.meta.getElementsByType(dc.Title) if doc.meta else []
    return one_line(teletype.extractText(titles[0])) or None if titles else None
