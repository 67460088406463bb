"""The indexed files themselves, loaded on demand, for answers that cite what the chunks leave out: front
matter, the ` date` header, the title line. A file is used only while it still matches the index,
checked on one of its chunks, so an edited file is never cited at stale offsets."""
from __future__ import annotations

import threading
from pathlib import Path

from index.ingest.load import load
from index.snapshot.lexical import LexicalIndex, tokenize
from index.types import LoadedDoc, SkipFile
from qa.types import Passage

TITLE_MATCH = 1.0  # share of a question's content words a title must hold to be the document it names


class Documents:
    """The files behind one lexical snapshot."""

    def __init__(self, lex: LexicalIndex, seeds_dir: Path):
        self.lex, self.seeds_dir = lex, Path(seeds_dir)
        self._docs: dict[str, LoadedDoc | None] = {}
        self._title_tokens: dict[str, set[str]] | None = None
        self._lock = threading.Lock()

    def sources(self) -> list[str]:
        """The indexed files, in name order."""
        return sorted(self.lex.rows_by("source"))

    def get(self, source: str) -> LoadedDoc | None:
        """The loaded file `source`, or None when it is gone or no longer matches the index."""
        with self._lock:
            if source not in self._docs:
                self._docs[source] = self._load(source)
            return self._docs[source]

    def titled(self, words: str) -> list[str]:
        """The documents whose title holds all of `words` (stemmed content words), best first: "the Steam Deck
        OLED review" names the file titled "Steam Deck OLED review: It's just better"."""
        wanted = set(words.split())
        if not wanted:
            return []
        scored = [(len(wanted & t) / len(wanted), s) for s, t in self._titles().items()]
        return [s for score, s in sorted(scored, key=lambda x: -x[0]) if score >= TITLE_MATCH]

    def _titles(self) -> dict[str, set[str]]:
        if self._title_tokens is None:
            rows = self.lex.rows_by("source")
            titles = {s: str(self.lex.metas[int(r[0])].get("title", "")) for s, r in rows.items()}
            self._title_tokens = {s: set(tokenize(t)) for s, t in titles.items()}
        return self._title_tokens

    def passages(self, source: str, start: int, end: int) -> list[Passage]:
        """The indexed chunks of `source` overlapping [start, end), else its first chunk (a span in the
        front matter or the header lies before every chunk)."""
        rows = sorted(self.lex.rows_by("source").get(source, ()), key=lambda r: int(self.lex.metas[r]["start"]))
        chunks = [Passage.from_record(self.lex.ids[r], self.lex.texts[r], self.lex.metas[r]) for r in rows]
        overlapping = [c for c in chunks if c.start < end and start < c.end]
        return overlapping or chunks[:1]

    def _load(self, source: str) -> LoadedDoc | None:
        rows = self.lex.rows_by("source").get(source)
        if rows is None or not len(rows):
            return None
        try:
            doc = load(self.seeds_dir / source, source)
        except (SkipFile, OSError):
            return None
        row = int(rows[0])
        start, text = int(self.lex.metas[row]["start"]), self.lex.texts[row]
        return doc if doc.text[start:start + len(text)] == text else None
