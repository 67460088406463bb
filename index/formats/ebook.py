"""EPUB e-books (ebooklib): the spine's documents in reading order, one segment per chapter."""
from __future__ import annotations

import warnings
from pathlib import Path

from index.formats.builder import DocBuilder
from index.formats.html import extract_html
from index.formats.limits import ReadOptions, check_zip
from index.types import SkipFile


def extract_epub(path: Path, options: ReadOptions) -> tuple[str | None, dict, DocBuilder, int]:
    """(title, metadata, builder, chapters): each non-empty spine document is "chapter N"."""
    check_zip(path, options, ".epub", ("META-INF/container.xml",))
    import ebooklib
    from ebooklib import epub

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = epub.read_epub(str(path), options={"ignore_ncx": True})
    except Exception as exc:  # noqa: BLE001 (ebooklib raises zip, XML and key errors on bad files)
        raise SkipFile(f"not a valid .epub: {type(exc).__name__}") from exc
    builder = DocBuilder()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # BeautifulSoup warns that XHTML is parsed as HTML, which is meant
        texts = [extract_html(item.get_content())[1] for item in _documents(book, ebooklib.ITEM_DOCUMENT)]
    for number, text in enumerate((t for t in texts if t.strip()), 1):
        builder.add(text, label=f"chapter {number}")
    return _first(book, "title"), _meta(book), builder, len(builder.segments)


def _documents(book, kind: int):
    """The spine's documents in reading order."""
    for item_id, _linear in book.spine:
        item = book.get_item_with_id(item_id)
        if item is not None and item.get_type() == kind:
            yield item


def _first(book, name: str) -> str | None:
    values = book.get_metadata("DC", name)
    return str(values[0][0]).strip() or None if values and values[0] else None


def _meta(book) -> dict:
    meta = {}
    if author := _first(book, "creator"):
        meta["author"] = author
    if (date := _first(book, "date")) and len(date) >= 10 and date[4] == "-":
        meta["published"] = date[:10]
    return meta
