"""What a conversation needs to know about the indexed documents, built once per lexical snapshot.

It holds a sentence table taken from the snapshot's own sentence rows: exact spans, position in the
document, and late-chunking vectors. It also holds sentence-level idf, because chunk-level idf says
little about a corpus of a few chunks, the words' capitalisation profile, the acronyms the documents
define, and the loaded files for questions about the documents. Files are loaded lazily and used only
while they still match the index.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from index.lexical import LexicalIndex, tokenize
from qa import mentions as mn
from qa.documents import Documents
from qa.types import Citation

_MARKER = re.compile(r"\s*\[\d+\]\s*")
_MIN_PIECE = 12  # characters: shorter pieces of an earlier answer are not looked up


@dataclass(frozen=True)
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


class CorpusView:
    """Sentences, statistics and files of one lexical snapshot."""

    def __init__(self, lex: LexicalIndex, documents: Documents):
        self.lex, self.documents = lex, documents
        self.sents = _sentences(lex)
        self.by_doc: dict[str, list[int]] = {}
        for s in self.sents:
            self.by_doc.setdefault(s.source, []).append(s.i)
        self.by_text: dict[str, list[int]] = {}
        for s in self.sents:
            self.by_text.setdefault(s.text, []).append(s.i)
        self.by_span = {(s.source, s.start, s.end): s.i for s in self.sents}
        self.idf = _sentence_idf(self, lex)
        self.max_idf = max(self.idf.values(), default=1.0)
        self.capitals = mn.capital_ratio(s.text for s in self.sents)
        self.acronyms = mn.acronyms(s.text for s in self.sents)

    @property
    def version(self) -> str:
        return self.lex.version

    def tokens(self, i: int) -> frozenset[str]:
        """Stemmed content tokens of sentence `i` (memoised by the snapshot)."""
        s = self.sents[i]
        return self.lex.sentence_tokens(s.row, s.text)

    def vector(self, i: int) -> np.ndarray:
        """The late-chunking vector of sentence `i`."""
        return self.lex.sentences["vecs"][self.sents[i].row].astype(np.float32)

    def weights(self, text: str, drop: frozenset[str] = frozenset()) -> dict[str, float]:
        """Content stems of `text` with sentence-level idf (an unknown stem gets the largest idf)."""
        return {t: self.idf.get(t, self.max_idf) for t in tokenize(text) if t not in drop}

    def mentions(self, text: str) -> list[str]:
        """Entity mentions of `text` (see `qa.mentions.mentions`)."""
        return mn.mentions(text, self.capitals)

    def previous(self, i: int) -> int | None:
        """The sentence before `i` in the same paragraph (where "He ..." or "The packets ..." finds its
        antecedent), or None."""
        s = self.sents[i]
        if s.pos == 0:
            return None
        before = self.sents[self.by_doc[s.source][s.pos - 1]]
        doc = self.documents.get(s.source)
        gap = doc.text[before.end:s.start] if doc else ""
        return None if "\n\n" in gap else before.i

    def ids(self, passages) -> list[int]:
        """The sentence ids of `passages` (retrieved `Passage`s), in order, without repeats."""
        out = dict.fromkeys(self.by_span[k] for p in passages for s in p.sentences
                            if (k := (p.source, s.start, s.end)) in self.by_span)
        return list(out)

    def cited(self, citations) -> list[int]:
        """The sentence ids of `citations` that quote a whole sentence of the table."""
        return [i for c in citations if (i := self.by_span.get((c.source, c.start, c.end))) is not None]

    def citation(self, n: int, i: int, score: float = 0.0) -> Citation:
        """Citation `[n]` quoting sentence `i`, with the chunk that holds it as context."""
        s = self.sents[i]
        meta, context = self.lex.metas[s.chunk], self.lex.texts[s.chunk]
        base = int(meta["start"])
        line = int(meta["start_line"]) + context.count("\n", 0, s.start - base)
        return Citation(n=n, source=s.source, title=meta.get("title", ""), published=meta.get("published", ""),
                        start=s.start, end=s.end, start_line=line, end_line=line + s.text.count("\n"), quote=s.text,
                        score=round(score, 4), page=meta.get("page"), passage_id=self.lex.ids[s.chunk],
                        context=context, context_start=base)

    def neighbours(self, i: int, width: int) -> list[int]:
        """Sentence ids within `width` positions of `i` in its document."""
        s = self.sents[i]
        ids = self.by_doc[s.source]
        return ids[max(0, s.pos - width): s.pos + width + 1]

    def locate(self, answer: str) -> list[int]:
        """The sentences an earlier answer quoted, found from its text alone (the quotes between `[n]`
        markers, or, when the text was reformatted, the known sentences it contains)."""
        out: list[int] = []
        for piece in (p.strip() for p in _MARKER.split(answer or "")):
            if len(piece) < _MIN_PIECE:
                continue
            found = self.by_text.get(piece) or self._contained(piece)
            out += [i for i in found[:1] if i not in out]
        return out

    def _contained(self, piece: str) -> list[int]:
        rows = np.argsort(-self.lex.scores(piece))[:3] if self.lex.ids else []
        return [i for s in self._rows_sentences(rows) for i in self.by_text.get(s, ()) if s in piece]

    def _rows_sentences(self, rows) -> list[str]:
        sents = self.lex.sentences
        out = []
        for row in rows:
            base = int(self.lex.metas[row]["start"])
            out += [self.lex.texts[row][int(sents["start"][j]) - base:int(sents["end"][j]) - base]
                    for j in self.lex.sentence_rows(int(row))]
        return out

def _sentences(lex: LexicalIndex) -> list[Sent]:
    """Every distinct sentence of the snapshot, numbered in (document, position) order."""
    spans, sents = {}, lex.sentences
    for row, meta in enumerate(lex.metas):
        base = int(meta["start"])
        for j in lex.sentence_rows(row):
            start, end = int(sents["start"][j]), int(sents["end"][j])
            spans.setdefault((meta["source"], start, end), (j, row, lex.texts[row][start - base:end - base]))
    out, pos, last = [], 0, None
    for n, ((source, start, end), (j, row, text)) in enumerate(sorted(spans.items())):
        pos = pos + 1 if source == last else 0
        out.append(Sent(n, source, start, end, text, j, row, pos))
        last = source
    return out


def _sentence_idf(view: CorpusView, lex: LexicalIndex) -> dict[str, float]:
    """BM25 idf of every stem with sentences as the documents."""
    df: dict[str, int] = {}
    for s in view.sents:
        for t in lex.sentence_tokens(s.row, s.text):
            df[t] = df.get(t, 0) + 1
    n = max(1, len(view.sents))
    return {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}
