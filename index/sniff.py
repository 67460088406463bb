"""Does a file's content match its extension? puremagic names what the bytes are; a mismatch (random
bytes named .txt, a PNG named .pdf, an executable named .docx) is refused before any parser sees it.
The real parse that follows (`index.isolate.Reader`) is the final word."""
from __future__ import annotations

from pathlib import Path

from index.types import SkipFile

# What puremagic may call each kind of content we read (its extension guesses).
ZIP_FAMILY = {".zip", ".docx", ".pptx", ".xlsx", ".epub", ".odt", ".ott", ".jar", ".docm", ".xlsm", ".pptm"}
IMAGES = {".png", ".jpg", ".jpeg", ".jfif", ".jpe", ".tif", ".tiff"}
PDF = {".pdf", ".fdf"}
TEXTUAL = {".txt", ".text", ".md", ".markdown", ".rst", ".html", ".htm", ".xhtml", ".xml", ".csv", ".tsv",
           ".eml", ".mbox", ".mht", ".json", ".svg", ".sgml", ".ps", ".eps", ".rtf", ".tex", ".sh", ".py", ".log"}
SURE = 0.8  # confidence at which puremagic's best guess is taken as what the content is


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
    wanted = {"pdf": PDF, "zip": ZIP_FAMILY, "image": IMAGES, "text": TEXTUAL}[content]
    if kind in wanted or (content == "text" and confidence < SURE):
        return
    raise SkipFile(f"the content is {_article(name)} ({kind or 'binary'}), not a {ext} file")


def _article(name: str) -> str:
    return ("an " if name[:1].lower() in "aeiou" else "a ") + name
