"""Entity mentions, enumerations and acronyms found in text, using the corpus's own capitalisation.

A capitalised word at the start of a sentence counts as a name only when the documents usually write
it with a capital mid-sentence. So "The", "In" and "By" are not names, but "Harvard" is. No list of
names is kept by hand.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Iterable, Mapping

WORD = re.compile(r"\w(?:[\w'’\-]|\.(?=\w))*", re.UNICODE)
WH = frozenset({"who", "whom", "whose", "what", "which", "when", "where", "why", "how"})
AUX = frozenset({"is", "are", "was", "were", "be", "been", "being", "do", "does", "did", "has", "have", "had",
                 "can", "could", "will", "would", "shall", "should", "may", "might", "must"})
PERSONAL = frozenset({"he", "him", "his", "she", "her", "hers", "it", "its", "they", "them", "their", "theirs"})
DEMONSTRATIVE = frozenset({"this", "that", "these", "those"})
CONNECT = frozenset({"of", "de", "la", "du", "des", "von", "van", "der", "den", "le", "al", "da", "di", "y"})
_NOT_NAMES = WH | AUX | PERSONAL | DEMONSTRATIVE


def fold(text: str) -> str:
    """Lower case without accents ("Québec" -> "quebec")."""
    if text.isascii():
        return text.lower()
    return "".join(ch for ch in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(ch))


def within_edits(a: str, b: str, k: int) -> bool:
    """Whether `a` and `b` differ by at most `k` inserted, deleted or replaced letters (banded Levenshtein)."""
    if abs(len(a) - len(b)) > k:
        return False
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
        if min(cur) > k:
            return False
        prev = cur
    return prev[-1] <= k


def capital_ratio(sentences: Iterable[str]) -> dict[str, float]:
    """For every word, the share of its mid-sentence occurrences written with a capital."""
    counts: dict[str, list[int]] = {}
    for text in sentences:
        for w in WORD.findall(text)[1:]:
            counts.setdefault(w.lower(), [0, 0])[0 if w[0].isupper() else 1] += 1
    return {w: a / (a + b) for w, (a, b) in counts.items()}


def mentions(text: str, capitals: Mapping[str, float]) -> list[str]:
    """Entity mentions of `text` in order, without repeats: runs of capitalised words (with of/de/la...
    inside) and acronyms."""
    out, run = [], []
    for n, m in enumerate(WORD.finditer(text)):
        word, lower = m.group(), m.group().lower()
        if _is_name(word, lower, n == 0 or _clause_start(text[:m.start()]), bool(run), capitals):
            run.append(word)
        elif run and lower in CONNECT:
            run.append(word)
        else:
            _flush(run, out)
    _flush(run, out)
    return list(dict.fromkeys(out))


def _clause_start(before: str) -> bool:
    before = before.rstrip()
    return not before or before[-1] in ".!?:;\"“("


def _is_name(word: str, lower: str, initial: bool, in_run: bool, capitals: Mapping[str, float]) -> bool:
    capital = word[0].isupper() or (word[0].isdigit() and in_run)
    return capital and lower not in _NOT_NAMES and (
        not initial or capitals.get(lower, 0.0) >= 0.5 or (word.isupper() and len(word) > 1))


def _flush(run: list[str], out: list[str]) -> None:
    while run and run[-1].lower() in CONNECT:
        run.pop()
    if run:
        out.append(" ".join(run))
    run.clear()


_ENUMERATION = re.compile(r"((?:[\w'’\- ]+,\s+)+[\w'’\- ]+?,?\s+(?:and|or)\s+[\w'’\- ]+)")
_ITEM_BREAK = re.compile(r",\s+(?:and\s+|or\s+)?|\s+(?:and|or)\s+")


def list_items(text: str) -> list[str]:
    """The items of the last enumeration "A, B and C" in `text` (what "the second one" points at)."""
    best: list[str] = []
    for sentence in re.split(r"(?<=[.!?])\s+", text):
        m = _ENUMERATION.search(sentence)
        parts = [p.strip() for p in _ITEM_BREAK.split(m.group(1)) if p.strip()] if m else []
        if len(parts) >= 2:
            # the first item often carries the clause's verb ("... law are primary law"): keep its tail
            head = parts[0].split()
            width = len(parts[1].split())
            parts[0] = " ".join(head[-width:]) if len(head) > width else parts[0]
            best = parts
    return best


_ACRONYM_FIRST = re.compile(r"\b([A-Z]{2,6})\s*\(([^()]{3,80})\)")
_ACRONYM_AFTER = re.compile(r"((?:[A-Z][\w'’\-]*\s+(?:(?:of|the|and|for|de|du)\s+)*){1,8})\(([A-Z]{2,6})[),;]")


def acronyms(texts: Iterable[str]) -> dict[str, str]:
    """Acronyms the documents define, "PRC (People's Republic of China)" or "Exporting Countries (OAPEC,",
    when the acronym's letters are the initials of the expansion's words."""
    out: dict[str, str] = {}
    for text in texts:
        for m in _ACRONYM_FIRST.finditer(text):
            if _initials_match(m.group(1), re.findall(r"[\w'’]+", m.group(2))):
                out.setdefault(m.group(1), m.group(2).strip())
        for m in _ACRONYM_AFTER.finditer(text):
            words = m.group(1).split()
            tail = next((words[-k:] for k in range(1, len(words) + 1)
                         if words[-k][:1].isupper() and _initials_match(m.group(2), words[-k:])), None)
            if tail:
                out.setdefault(m.group(2), " ".join(tail))
    return out


def _initials_match(acronym: str, words: list[str]) -> bool:
    capitals = "".join(w[0] for w in words if w[:1].isupper())
    return capitals.upper() == acronym or "".join(w[0] for w in words).upper() == acronym
