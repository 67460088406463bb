"""Images (PNG, JPEG, TIFF): their text by OCR, one segment per frame of a multi-page TIFF."""
from __future__ import annotations

import time
from pathlib import Path

from index.formats import ocr
from index.formats.builder import DocBuilder
from index.formats.limits import ReadOptions
from index.types import SkipFile


def extract_image(path: Path, options: ReadOptions) -> tuple[DocBuilder, int]:
    """OCR every frame of the image at `path`; returns the text builder and the number of frames."""
    from PIL import ImageSequence

    if not ocr.available(options.tesseract):
        raise ocr.missing("the image")
    started = time.monotonic()
    image = ocr.open_image(path)
    frames = getattr(image, "n_frames", 1)
    if frames > options.max_pages:
        raise SkipFile(f"too many pages: {frames:,} frames (the limit is {options.max_pages:,}, QA_MAX_PAGES)")
    builder = DocBuilder()
    try:
        for n, frame in enumerate(ImageSequence.Iterator(image), 1):
            if options.ocr_pages is not None and n > options.ocr_pages:
                break
            left = options.timeout - (time.monotonic() - started)
            builder.add(ocr.read_image(frame, options, left), page=n if frames > 1 else None, ocr=True)
    except (OSError, ValueError, SyntaxError) as exc:  # truncated or corrupt image data
        raise SkipFile(f"not a valid image: {type(exc).__name__}: {exc}"[:200]) from exc
    return builder, frames
