"""OCR of scanned pages and images: Debian's tesseract-ocr through pytesseract.

`./run` installs tesseract when it is missing. Without it, scanned pages are reported as "scanned, no
OCR" (never silently dropped).
"""
from __future__ import annotations

import functools
import json
import shutil

from index.formats.builder import tidy
from index.formats.limits import ReadOptions
from index.types import SkipFile

NO_OCR = "scanned, no OCR"
HINT = "install tesseract-ocr (`apt-get install tesseract-ocr`, or run ./run), then re-index the file"
MAX_PIXELS = 60_000_000  # a bigger image is refused as an image bomb (Pillow's own guard is at 179M)


@functools.lru_cache(maxsize=8)
def available(command: str) -> bool:
    """True when the tesseract program `command` exists and runs."""
    if not command or not shutil.which(command):
        return False
    import pytesseract

    pytesseract.pytesseract.tesseract_cmd = command
    try:
        pytesseract.get_tesseract_version()
    except Exception:  # noqa: BLE001 (a broken install is "not available")
        return False
    return True


def missing(what: str) -> SkipFile:
    """The reason for a file whose text is only in images, on a machine without OCR."""
    return SkipFile(f"{NO_OCR}: {what} has no text layer; {HINT}")


def read_image(image, options: ReadOptions, seconds: float) -> str:
    """The text tesseract reads in a PIL image (tidied), giving up after `seconds`."""
    import pytesseract

    pytesseract.pytesseract.tesseract_cmd = options.tesseract
    if image.width * image.height > MAX_PIXELS:
        raise SkipFile(f"image too large to read: {image.width}x{image.height} pixels (an image bomb?)")
    gray = image.convert("L")
    try:
        text = pytesseract.image_to_string(gray, lang=options.ocr_language, timeout=max(1.0, seconds))
    except RuntimeError as exc:  # pytesseract's timeout
        raise SkipFile(f"OCR took longer than {options.timeout:g} s (QA_READ_TIMEOUT)") from exc
    except pytesseract.TesseractError as exc:
        raise SkipFile(f"OCR failed: {exc.message or exc}"[:200]) from exc
    return tidy(text)


def open_image(data_or_path):
    """A PIL image (lazily decoded), with image bombs refused."""
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        return Image.open(data_or_path)
    except Image.DecompressionBombError as exc:
        raise SkipFile(f"image too large to read ({exc})"[:200]) from exc
    except Exception as exc:  # noqa: BLE001 (Pillow raises many types on broken files)
        raise SkipFile(f"not a valid image: {type(exc).__name__}") from exc


def read_key(options: ReadOptions) -> str:
    """What a skip was judged with: the caps, and whether OCR works. A change retries skipped files."""
    caps = {k: v for k, v in vars(options).items() if k not in ("tesseract", "ocr_pages")}
    return json.dumps({**caps, "ocr": available(options.tesseract)}, sort_keys=True)
