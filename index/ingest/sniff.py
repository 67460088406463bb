"""Does a file's content match its extension? puremagic names what the bytes are; a mismatch (random
bytes named .txt, a PNG named .pdf, an executable named .docx) is refused before any parser sees it.
The real parse that follows (`index.ingest.isolate.Reader`) is the final word.

What each kind of content may be called comes from the one registry of formats, `index.ingest.load.FORMATS`:
the bytes of a `zip` format may be named as any registered `zip` format (or its `magic` aliases), so a
format registered there is accepted here with no other list to keep."""
from __future__ import annotations

from pathlib import Path

from index.ingest.load import FORMATS
from index.types import SkipFile

# The names puremagic gives a family's containers, whatever format is inside: a bare zip or jar for office
# files and e-books, an FDF for PDFs; for text, the text formats we do not register that plain text is
# often mistaken for.
CONTAINERS = {
    "zip": frozenset({".zip", ".jar"}),
    "pdf": frozenset({".fdf"}),
    "image": frozenset(),
    "text": frozenset({".xml", ".json", ".svg", ".sgml", ".ps", ".eps", ".rtf", ".tex", ".sh", ".py", ".log",
                       ".mht"}),
}
SURE = 0.8  # confidence at which puremagic's best guess is taken as what the content is


def accepted(content: str) -> frozenset[str]:
    """Every name puremagic may give bytes of the content family `content` (`text`, `pdf`, `zip`, `image`):
    the family's containers, and each registered format of that family with its `magic` aliases."""
    names = {ext for ext, fmt in FORMATS.items() if fmt.content == content}
    names.update(alias for fmt in FORMATS.values() if fmt.content == content for alias in fmt.magic)
    return frozenset(names) | CONTAINERS[content]


def guess(path: Path) -> tuple[str, str, float] | None:
    """puremagic's best guess for the file's bytes: (extension, name, confidence), or None."""
    import puremagic

    try:
        matches = puremagic.magic_file(str(path))
    except (puremagic.PureError, ValueError, OSError):
        return None
    if not matches:
        return None
    best = matches[0]
    return best.extension.lower(), best.name, float(best.confidence)


def check(path: Path, ext: str, content: str) -> None:
    """Raise `SkipFile` when the bytes of `path` are not `content` (`text`, `pdf`, `zip`, `image`)."""
    found = guess(path)
    if found is None:
        if content != "text":
            raise SkipFile(f"the content is not a {ext} file (its bytes match no known {content} format)")
        return
    kind, name, confidence = found
    if kind in accepted(content) or (content == "text" and confidence < SURE):
        return
    raise SkipFile(f"the content is {_article(name)} ({kind or 'binary'}), not a {ext} file")


def _article(name: str) -> str:
    return ("an " if name[:1].lower() in "aeiou" else "a ") + name
