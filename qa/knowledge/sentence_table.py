"""The conversation's sentence table, by column: every distinct sentence of a lexical snapshot, numbered
in (document, position) order, its `Sent` made on access.

A corpus of 100,000 chunks has over 200,000 sentences. As objects with their texts and the lookups by
span and by text, they took about 300 MB in every serving process at the first follow-up; as columns
(file, span, rows) with texts sliced from the snapshot's chunks on access, about 20 MB.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from index.snapshot.lexical import LexicalIndex


@dataclass(frozen=True, slots=True)
class Sent:
    """One sentence of the corpus: its exact span, its snapshot row and its position in its document."""

    i: int
    source: str
    start: int
    end: int
    text: str
    row: int    # the snapshot's sentence row (vector, memoised tokens)
    chunk: int  # the snapshot's chunk row holding it
    pos: int    # its position among the document's sentences


class SentenceTable(Sequence):
    """`table[i]` is sentence `i`; documents are contiguous runs of ids."""

    def __init__(self, lex: LexicalIndex):
        self._lex = lex
        chunk_sources = lex.metas.column("source")
        self.sources = sorted(set(chunk_sources) - {None})
        self._numbers = {s: n for n, s in enumerate(self.sources)}
        self._base = np.array(lex.metas.column("start"), np.int64)  # each chunk's offset in its file
        ptr, starts, ends = lex.sentences["ptr"], lex.sentences["start"], lex.sentences["end"]
        chunk = np.repeat(np.arange(len(ptr) - 1), np.diff(ptr)) if len(ptr) > 1 else np.zeros(0, np.int64)
        doc = np.array([self._numbers.get(s, -1) for s in chunk_sources], np.int64)[chunk]
        rows = _first_of_each_span(doc, starts, ends)
        self.doc, self.start, self.end = doc[rows], starts[rows].astype(np.int64), ends[rows].astype(np.int64)
        self.row, self.chunk = rows, chunk[rows]
        self.doc_first = np.searchsorted(self.doc, np.arange(len(self.sources) + 1))

    def __len__(self) -> int:
        return len(self.row)

    def __getitem__(self, i: int) -> Sent:
        if not 0 <= i < len(self.row):
            raise IndexError(i)
        d = int(self.doc[i])
        return Sent(i, self.sources[d], int(self.start[i]), int(self.end[i]), self.text(i), int(self.row[i]),
                    int(self.chunk[i]), i - int(self.doc_first[d]))

    def pos_of(self, i: int) -> int:
        """The position of sentence `i` among its document's sentences."""
        return i - int(self.doc_first[int(self.doc[i])])

    def text(self, i: int) -> str:
        """The text of sentence `i`, sliced from its chunk."""
        c = int(self.chunk[i])
        base = int(self._base[c])
        return self._lex.texts[c][int(self.start[i]) - base:int(self.end[i]) - base]

    def texts(self) -> Iterator[str]:
        """Every sentence's text, in id order."""
        return (self.text(i) for i in range(len(self)))

    def document(self, source: str) -> range:
        """The ids of `source`'s sentences, in order (empty when it has none)."""
        d = self._numbers.get(source)
        return range(0) if d is None else self._run(d)

    def document_of(self, i: int) -> range:
        """The ids of the sentences of sentence `i`'s document."""
        return self._run(int(self.doc[i]))

    def _run(self, d: int) -> range:
        return range(int(self.doc_first[d]), int(self.doc_first[d + 1]))

    def within(self, source: str, start: int, end: int) -> list[int]:
        """The ids of the sentences of `source` lying wholly inside `start`-`end`, in order."""
        ids = self.document(source)
        lo = ids.start + int(np.searchsorted(self.start[ids.start:ids.stop], start))
        out = []
        for i in range(lo, ids.stop):
            if self.start[i] >= end:
                break
            if self.end[i] <= end:
                out.append(i)
        return out

    def find(self, source: str, start: int, end: int) -> int | None:
        """The id of the sentence spanning exactly `start`-`end` of `source`, or None."""
        ids = self.document(source)
        lo = ids.start + int(np.searchsorted(self.start[ids.start:ids.stop], start))
        for i in range(lo, ids.stop):
            if self.start[i] != start:
                return None
            if self.end[i] == end:
                return i
        return None


def _first_of_each_span(doc: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Sentence rows sorted by (file, start, end), keeping the first row of each span: overlapping chunks
    share sentences, and the table holds each once."""
    keep = np.flatnonzero(doc >= 0)
    order = keep[np.lexsort((keep, ends[keep], starts[keep], doc[keep]))]
    if not len(order):
        return order
    key = np.stack([doc[order], starts[order], ends[order]])
    first = np.ones(len(order), bool)
    first[1:] = (np.diff(key, axis=1) != 0).any(axis=0)
    return order[first]
