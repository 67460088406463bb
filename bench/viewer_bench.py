"""The first citation into a large PDF, side by side: the viewer reading the whole document (before) and
reading only the cited page (after).

    .venv/bin/python bench/viewer_bench.py [--pages 300] [--page 195] [--rounds 5]

Setup, untimed: a PDF of `--pages` pages of prose (fpdf2), and a citation of a sentence on page `--page`,
located as the index locates it. Each round opens that citation with a fresh `Documents` (nothing cached:
the first citation a user clicks), once with the viewer's page path switched off (the whole document read by
the index's PDF reader, as before) and once as it is (pypdf reads the one page). Both draw the page with the
quote highlighted (pypdfium2). Printed: the median milliseconds of each and their ratio.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path
from unittest import mock

import harness  # noqa: F401 (puts the checkout on sys.path)
from index.ingest.load import load
from qa.sharing.export import Source
from qa.types import Citation
from testkit.samples import write_pdf
from ui.web.viewer import Documents, view_html


def manual(path: Path, pages: int, cited: int) -> str:
    """Write the PDF; returns the sentence on page `cited` that the citation quotes."""
    fact = f"On page {cited} the ferry Albatross carried 412 crates of saffron to Lindqvist."
    texts = []
    for n in range(1, pages + 1):
        lines = [f"Section {n}.{i}: inspect valve {n * 10 + i} of the pump room and log its pressure."
                 for i in range(1, 31)]
        if n == cited:
            lines.insert(12, fact)
        texts.append("\n".join(lines))
    write_pdf(path, texts)
    return fact


def citation(path: Path, quote: str, page: int) -> Source:
    doc = load(path, path.name)  # located as the index locates it (untimed)
    start = doc.text.index(quote)
    assert next(s.page for s in doc.segments if s.start <= start < s.end) == page
    c = Citation(n=1, source=path.name, title="Manual", published="", start=start, end=start + len(quote),
                 start_line=1, end_line=1, quote=quote, score=1.0, page=page, context=quote, context_start=start)
    return Source(1, (c,))


def open_ms(folder: Path, source: Source, whole: bool) -> float:
    import time

    docs = Documents(folder)
    started = time.perf_counter()
    if whole:
        with mock.patch.object(Documents, "load_page", lambda *a, **k: None):
            html = view_html(docs, source)
    else:
        html = view_html(docs, source)
    elapsed = (time.perf_counter() - started) * 1000
    assert '<mark class="qa-quote">' in html and "data:image/png" in html
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--page", type=int, default=195)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="viewer-bench-") as tmp:
        folder = Path(tmp)
        path = folder / "manual.pdf"
        source = citation(path, manual(path, args.pages, args.page), args.page)
        before, after = [], []
        for _ in range(args.rounds):  # interleaved, so that a drifting machine load hits both alike
            before.append(open_ms(folder, source, whole=True))
            after.append(open_ms(folder, source, whole=False))
        b, a = statistics.median(before), statistics.median(after)
        print(f"first citation into a {args.pages}-page PDF (p. {args.page}), median of {args.rounds}:")
        print(f"  whole document read (before): {b:9.0f} ms")
        print(f"  cited page only (after):      {a:9.0f} ms")
        print(f"  ratio after/before:           {a / b:9.3f}  ({b / a:.0f}x faster)")


if __name__ == "__main__":
    main()
