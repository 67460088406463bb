"""Sentence boundaries on real documents: the project's splitter (`index.ingest.sentences`) against pysbd.

The sample (`bench/data/sentences-own.json`) is text from realdocs-own files (none is in realdocs-dev), as the
loaders read it, with its sentences labelled by hand: a heading, an anchor line or a list item's first
sentence is a unit of its own. Printed: for each splitter, the labelled sentences it finds exactly
(whitespace folded), precision, recall and F1, and the time per character.

    python bench/splitter_compare.py

pysbd is run two ways: on the whole text (it sees the wrapped lines as it reads them), and on each block
our splitter finds (paragraphs joined across wrapped lines, then pysbd's sentence ends).
"""
from __future__ import annotations

import json
import time
from pathlib import Path

from index.ingest import sentences

DATA = Path(__file__).parent / "data" / "sentences-own.json"


def _norm(text: str) -> str:
    return " ".join(text.split())


def ours(text: str) -> list[str]:
    return [text[s:e] for s, e in sentences.split(text)]


def pysbd_whole(text: str) -> list[str]:
    import pysbd

    return [t.sent for t in pysbd.Segmenter(language="en", clean=False, char_span=True).segment(text)]


def pysbd_blocks(text: str) -> list[str]:
    import pysbd

    seg = pysbd.Segmenter(language="en", clean=False, char_span=True)
    out = []
    for s, e in sentences.blocks(text):
        block = " ".join(text[s:e].split())  # the block's wrapped lines read as one line
        out += [t.sent for t in seg.segment(block)]
    return out


def score(found: list[str], gold: list[str]) -> tuple[int, int, int]:
    """(labelled sentences found exactly, sentences found, labelled sentences)."""
    have = [_norm(s) for s in found if s.strip()]
    want = [_norm(s) for s in gold]
    pool = list(have)
    hits = 0
    for w in want:
        if w in pool:
            pool.remove(w)
            hits += 1
    return hits, len(have), len(want)


def main() -> None:
    samples = json.loads(DATA.read_text("utf-8"))
    print(f"{'splitter':<16} {'exact':>7} {'precision':>9} {'recall':>7} {'F1':>6} {'us/char':>8}")
    for name, fn in [("ours", ours), ("pysbd (whole)", pysbd_whole), ("pysbd (blocks)", pysbd_blocks)]:
        fn(samples[0]["text"])  # warm (pysbd compiles its rules on first use)
        hits = found = wanted = chars = 0
        started = time.perf_counter()
        for sample in samples:
            h, f, w = score(fn(sample["text"]), sample["sentences"])
            hits, found, wanted, chars = hits + h, found + f, wanted + w, chars + len(sample["text"])
        took = (time.perf_counter() - started) / chars * 1e6
        p, r = hits / found, hits / wanted
        print(f"{name:<16} {hits:>3}/{wanted:<3} {p:>9.3f} {r:>7.3f} {2 * p * r / (p + r):>6.3f} {took:>8.2f}")


if __name__ == "__main__":
    main()
