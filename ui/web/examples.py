"""Example questions for an empty chat, drawn from whatever is indexed: the names that recur in each document
(runs of capitalised words on one line, such as "Janet Yellen" or "European Command") become questions, and
only those the offline extractive answerer answers well are offered: not abstaining, and quoting a passage
that names what was asked about. A run that is not a name (a word repeated, as in a page header read twice,
or several all-capital words, as in a manual's labels glued together) is never offered; no examples is
better than a nonsense one."""
from __future__ import annotations

import re
import threading
from collections import Counter
from pathlib import Path

from index.generations import manifest as mf
from index.settings import IndexSettings
from ui.web.viewer import Documents

WANTED = 4
NAMES = 8  # names tried per document
MAX_DOCS = 12
TRIES = 12  # questions answered at most to find the examples (each is a full answer: keep page loads quick)
_WORD = r"[A-Z][\w'’.-]*[\w]"
_NAME = re.compile(rf"{_WORD}(?:[ \t]+(?:of[ \t]+|the[ \t]+)?{_WORD}){{1,3}}")  # on one line: never glued across lines
_LEADING = {"The", "A", "An", "In", "On", "At", "According", "As", "But", "And", "Earlier", "Later", "This", "That",
            "These", "Those", "It", "He", "She", "They", "We", "If", "When", "While", "After", "Before", "Amid"}


def names(text: str, limit: int = 6) -> list[str]:
    """The capitalised names of two to four words that recur most in `text` (most frequent first)."""
    counts: Counter[str] = Counter()
    first: dict[str, int] = {}
    for m in _NAME.finditer(text):
        words = m.group(0).split()
        while words and words[0] in _LEADING:
            words = words[1:]
        if len(words) >= 2 and not any(ch.isdigit() for ch in words[0]) and _name_like(words):
            name = " ".join(words).rstrip(".")
            counts[name] += 1
            first.setdefault(name, m.start())
    return sorted(counts, key=lambda n: (-counts[n], first[n]))[:limit]


def _name_like(words: list[str]) -> bool:
    """A run of capitalised words that reads as one name: no word twice ("Marine Marine"), and at most one
    word in capitals ("US European Command", not "WARNING CAUTION")."""
    keys = [w.lower().rstrip(".") for w in words]
    capitals = sum(1 for w in words if len(w) > 1 and w.isupper())
    return len(set(keys)) == len(keys) and capitals <= 1


def question_for(name: str) -> str:
    """The example question asked about `name`."""
    return f"What do the documents say about {name}?"


class ExampleQuestions:
    """Example questions for the current index, recomputed when the index changes."""

    def __init__(self, settings: IndexSettings, assistant):
        self.settings, self.assistant = settings, assistant
        self.docs = Documents(settings.seeds_dir, keep=2)
        self._key: tuple | None = None
        self._questions: list[str] = []
        self._lock = threading.Lock()

    def get(self) -> list[str]:
        """Up to `WANTED` questions the documents answer (none when there is no index)."""
        key = self._index_key()
        with self._lock:
            if key != self._key:
                self._questions, self._key = (self._compute() if key else []), key
            return list(self._questions)

    def _index_key(self) -> tuple | None:
        path = Path(self.settings.db_dir) / mf.NAME
        try:
            stat = path.stat()
        except OSError:
            return None
        return stat.st_mtime_ns, stat.st_size

    def _compute(self) -> list[str]:
        """Round-robin over the documents, each one's most recurrent names first, until `WANTED` are found
        or `TRIES` were asked."""
        sources = sorted(mf.read(self.settings.db_dir).files)[:MAX_DOCS]
        per_doc = [self._names(source) for source in sources]
        ranked = [c[rank] for rank in range(NAMES) for c in per_doc if rank < len(c)]
        chosen: list[str] = []
        for name in ranked[:TRIES]:
            if len(chosen) == WANTED:
                break
            if self._answerable(name):
                chosen.append(question_for(name))
        return chosen

    def _names(self, source: str) -> list[str]:
        doc = self.docs.load(source)
        return names(doc.text, NAMES) if doc else []

    def _answerable(self, name: str) -> bool:
        """The question about `name` is answered, from a quote that names it."""
        try:
            answer = self.assistant.answer(question_for(name), backend="extractive")
        except Exception:  # noqa: BLE001 - an example that cannot be asked is simply not offered
            return False
        return not answer.abstained and any(name in c.quote for c in answer.citations)
