"""Is a name in the question anywhere in the documents? A question about "Jupiter", "Naples" or "the
Eiffel Tower" over documents that never name them cannot be answered from them, whatever other words
it shares with them.

The vocabulary is the lexical snapshot's own (stemmed, lower-cased words of every chunk with its title
and site), so building it is cheap. A name counts as present when one of its words (three letters or
more), or that word without its last two letters, begins a word of the documents ("Camisard" /
"Camisards"), or when a word of five letters or more is one typing slip away from one ("ARPNET" /
"ARPANET").
"""
from __future__ import annotations

import bisect
import re

from index.snapshot.lexical import LexicalIndex, tokenize
from qa.knowledge.mentions import CONNECT, fold, mentions, within_edits

TYPO_MIN = 5  # a name this long that is one letter away from a word of the documents is a typing slip
_POSSESSIVE = re.compile(r"['’]s?\b")
_NO_CAPITALS: dict[str, float] = {}  # the question alone: a capital at its start is not taken as a name


class Vocabulary:
    """The folded, stemmed words of one lexical snapshot, sorted for prefix search."""

    def __init__(self, lex: LexicalIndex):
        self.words = sorted({fold(w) for w in lex.bm25.vocab_dict})
        self._set = frozenset(self.words)
        self._by_initial: dict[str, list[str]] = {}
        for w in self.words:
            self._by_initial.setdefault(w[:1], []).append(w)

    def absent(self, question: str) -> list[str]:
        """The names of `question` none of whose words occurs in the documents."""
        out = []
        for name in mentions(question, _NO_CAPITALS):
            words = [w for w in re.findall(r"\w+", fold(_POSSESSIVE.sub("", name))) if len(w) >= 3 and w not in CONNECT]
            if words and not any(self.knows(w) for w in words):
                out.append(name)
        return out

    def knows(self, word: str) -> bool:
        """Whether the documents have `word` (folded), its stem, or a word beginning like it."""
        if any(fold(t) in self._set for t in tokenize(word)):
            return True
        prefix = word[:max(4, len(word) - 2)]
        k = bisect.bisect_left(self.words, prefix)
        if k < len(self.words) and self.words[k].startswith(prefix):
            return True
        return len(word) >= TYPO_MIN and any(within_edits(word, w, 1) for w in self._by_initial.get(word[0], ()))

