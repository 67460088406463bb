"""What a conversation needs to know about the indexed documents, built once per lexical snapshot.

It holds a sentence table taken from the snapshot's own sentence rows (`qa.knowledge.sentence_table`): exact
spans, position in the document, and late-chunking vectors. It also holds sentence-level idf, because
chunk-level idf says little about a corpus of a few chunks, the words' capitalisation profile, the
acronyms the documents define, and the loaded files for questions about the documents. Files are loaded
lazily and used only while they still match the index.
"""
from __future__ import annotations

import math
import re

import numpy as np

from index.snapshot.lexical import LexicalIndex, tokenize
from qa.knowledge import mentions as mn
from qa.knowledge.files import Documents
from qa.knowledge.sentence_table import SentenceTable
from qa.types import Citation, Passage

_MARKER = re.compile(r"\s*\[\d+\]\s*")
_MIN_PIECE = 12  # characters: shorter pieces of an earlier answer are not looked up


class CorpusView:
    """Sentences, statistics and files of one lexical snapshot."""

    def __init__(self, lex: LexicalIndex, documents: Documents):
        self.lex, self.documents = lex, documents
        self.sents = SentenceTable(lex)
        self.idf, hashes = _idf_and_hashes(self.sents)
        self._hash_order = np.argsort(hashes, kind="stable")
        self._hashes = hashes[self._hash_order]
        self.max_idf = max(self.idf.values(), default=1.0)
        self.capitals = mn.capital_ratio(self.sents.texts())
        self.acronyms = mn.acronyms(self.sents.texts())

    @property
    def version(self) -> str:
        return self.lex.version

    def tokens(self, i: int) -> frozenset[str]:
        """Stemmed content tokens of sentence `i` (memoised by the snapshot)."""
        return self.lex.sentence_tokens(int(self.sents.row[i]), self.sents.text(i))

    def vector(self, i: int) -> np.ndarray:
        """The late-chunking vector of sentence `i`."""
        return np.asarray(self.lex.sentences["vecs"][int(self.sents.row[i])], np.float32)

    def weights(self, text: str, drop: frozenset[str] = frozenset()) -> dict[str, float]:
        """Content stems of `text` with sentence-level idf (an unknown stem gets the largest idf)."""
        return {t: self.idf.get(t, self.max_idf) for t in tokenize(text) if t not in drop}

    def mentions(self, text: str) -> list[str]:
        """Entity mentions of `text` (see `qa.knowledge.mentions.mentions`)."""
        return mn.mentions(text, self.capitals)

    def previous(self, i: int) -> int | None:
        """The sentence before `i` in the same paragraph (where "He ..." or "The packets ..." finds its
        antecedent), or None."""
        s = self.sents[i]
        if s.pos == 0:
            return None
        doc = self.documents.get(s.source)
        gap = doc.text[int(self.sents.end[i - 1]):s.start] if doc else ""
        return None if "\n\n" in gap else i - 1

    def ids(self, passages) -> list[int]:
        """The sentence ids of `passages` (retrieved `Passage`s), in order, without repeats."""
        found = (self.sents.find(p.source, s.start, s.end) for p in passages for s in p.sentences)
        return list(dict.fromkeys(i for i in found if i is not None))

    def cited(self, citations) -> list[int]:
        """The sentence ids of `citations` that quote whole sentences of the table (one, or a quotation's
        sentences: `qa.extractive.quotes`)."""
        return [i for c in citations for i in self.sents.within(c.source, c.start, c.end)]

    def citation(self, n: int, i: int, score: float = 0.0) -> Citation:
        """Citation `[n]` quoting sentence `i`, with the chunk that holds it as context."""
        s = self.sents[i]
        meta, context = self.lex.metas[s.chunk], self.lex.texts[s.chunk]
        base = int(meta["start"])
        line = int(meta["start_line"]) + context.count("\n", 0, s.start - base)
        return Citation(n=n, source=s.source, title=meta.get("title", ""), published=meta.get("published", ""),
                        start=s.start, end=s.end, start_line=line, end_line=line + s.text.count("\n"), quote=s.text,
                        score=round(score, 4), page=meta.get("page"), passage_id=self.lex.ids[s.chunk],
                        context=context, context_start=base,
                        heading=Passage.from_record(self.lex.ids[s.chunk], context, meta).heading_at(s.start))

    def neighbours(self, i: int, width: int) -> list[int]:
        """Sentence ids within `width` positions of `i` in its document."""
        doc = self.sents.document_of(i)
        return list(range(max(doc.start, i - width), min(doc.stop, i + width + 1)))

    def locate(self, answer: str) -> list[int]:
        """The sentences an earlier answer quoted, found from its text alone (the quotes between `[n]`
        markers, or, when the text was reformatted, the known sentences it contains)."""
        out: list[int] = []
        for piece in (p.strip() for p in _MARKER.split(answer or "")):
            if len(piece) < _MIN_PIECE:
                continue
            found = self.with_text(piece) or self._contained(piece)
            out += [i for i in found[:1] if i not in out]
        return out

    def with_text(self, text: str) -> list[int]:
        """The ids of the sentences whose text is exactly `text`, in id order."""
        h = hash(text)
        lo, hi = np.searchsorted(self._hashes, h, "left"), np.searchsorted(self._hashes, h, "right")
        return sorted(i for i in self._hash_order[lo:hi].tolist() if self.sents.text(i) == text)

    def _contained(self, piece: str) -> list[int]:
        rows = np.argsort(-self.lex.scores(piece))[:3] if self.lex.ids else []
        return [i for s in self._rows_sentences(rows) for i in self.with_text(s) if s in piece]

    def _rows_sentences(self, rows) -> list[str]:
        sents = self.lex.sentences
        out = []
        for row in rows:
            base = int(self.lex.metas[row]["start"])
            out += [self.lex.texts[row][int(sents["start"][j]) - base:int(sents["end"][j]) - base]
                    for j in self.lex.sentence_rows(int(row))]
        return out


def _idf_and_hashes(table: SentenceTable) -> tuple[dict[str, float], np.ndarray]:
    """BM25 idf of every stem with sentences as the documents, and each sentence text's hash (for
    `with_text`), in one pass. Sentences are tokenised here without the snapshot's memo, which would
    otherwise fill with every sentence of the corpus."""
    df: dict[str, int] = {}
    hashes = np.zeros(len(table), np.int64)
    for i, text in enumerate(table.texts()):
        hashes[i] = hash(text)
        for t in set(tokenize(text)):
            df[t] = df.get(t, 0) + 1
    n = max(1, len(table))
    return {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}, hashes
