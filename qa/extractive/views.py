"""Per-snapshot helpers of the extractive answerer, rebuilt when `qa index` publishes a new snapshot:
the vocabulary (cheap, built at once), the files (loaded on demand) and the sentence table of a
conversation (built at the first follow-up)."""
from __future__ import annotations

import threading
from pathlib import Path

from index.snapshot.lexical import LexicalIndex
from qa.knowledge.corpus import CorpusView
from qa.knowledge.files import Documents
from qa.knowledge.vocabulary import Vocabulary


class Views:
    """What the answerer knows about one lexical snapshot beyond its search."""

    def __init__(self, lex: LexicalIndex, seeds_dir: Path):
        self.lex = lex
        self.vocabulary = Vocabulary(lex)
        self.documents = Documents(lex, seeds_dir)
        self._corpus: CorpusView | None = None
        self._lock = threading.Lock()

    @property
    def version(self) -> str:
        return self.lex.version

    @property
    def known(self) -> dict[str, float]:
        """The stems the documents contain (with chunk-level idf)."""
        return self.lex.idf

    @property
    def corpus(self) -> CorpusView:
        """The sentence table and statistics, built on first use."""
        with self._lock:
            if self._corpus is None:
                self._corpus = CorpusView(self.lex, self.documents)
            return self._corpus
