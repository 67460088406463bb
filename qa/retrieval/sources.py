"""Questions that name their sources and dates ("The Verge ... on November 1, 2023, while TechCrunch ...").

When a question names publications found in the documents' metadata (front-matter `source`,
stored as `site`), each named source's best passages join the candidates, passages from the
named sources score higher, and the final ranking leads with the best passage of each named
source, so a question comparing two reports retrieves both. A date the question names
("November 1", "2023-11-01") raises passages published on that day.
"""
from __future__ import annotations

import re
from dataclasses import replace

import numpy as np

from qa.types import Passage

PER_SITE = 3  # extra BM25 candidates per named source
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
          "october", "november", "december")
_ISO_DATE = re.compile(r"\b\d{4}-(\d{2})-(\d{2})\b")
_WORD_DATE = re.compile(r"\b(" + "|".join(MONTHS) + r")\s+(\d{1,2})(?:st|nd|rd|th)?\b", re.I)


def aliases(site: str) -> list[str]:
    """The names a question may use for `site` (its full name and the part before a dash or bar)."""
    # "The Independent - Life and Style" is usually named "The Independent"; "Cnbc | World ..." as "Cnbc".
    head = re.split(r"\s[-|]\s", site)[0].strip()
    return [a for a in {site, head} if len(a) >= 3]


def site_rows(lex) -> dict[str, np.ndarray]:
    """Snapshot rows per site (computed once per snapshot)."""
    return lex.rows_by("site")


def named_sites(question: str, lex) -> list[str]:
    """Sites of the corpus that the question names, in the order it names them."""
    found = []
    lowered = question.lower()
    for site in site_rows(lex):
        positions = [lowered.find(a.lower()) for a in aliases(site) if re.search(
            r"(?<!\w)" + re.escape(a.lower()) + r"(?!\w)", lowered)]
        if positions:
            found.append((min(p for p in positions if p >= 0), site))
    return [s for _, s in sorted(found)]


def site_candidates(sites: list[str], bm25: np.ndarray, lex) -> list[int]:
    """The best BM25 rows within each named site."""
    rows = site_rows(lex)
    out: list[int] = []
    for site in sites:
        r = rows[site]
        out += [int(i) for i in r[np.argsort(-bm25[r])[:PER_SITE]]]
    return out


def lead_with_sites(passages: list[Passage], sites: list[str]) -> list[Passage]:
    """Put the best passage of each named site first (in score order), then the rest."""
    if not sites:
        return passages
    leaders = []
    for site in sites:
        best = next((p for p in passages if p.meta.get("site") == site and p not in leaders), None)
        if best is not None:
            leaders.append(best)
    leaders.sort(key=lambda p: -p.score)
    return leaders + [p for p in passages if p not in leaders]


def named_days(question: str) -> frozenset[str]:
    """The days of the year ("11-01") the question names, as ISO dates or "November 1st"."""
    days = {f"{m}-{d}" for m, d in _ISO_DATE.findall(question)}
    days |= {f"{MONTHS.index(m.lower()) + 1:02d}-{int(d):02d}" for m, d in _WORD_DATE.findall(question)}
    return frozenset(days)


def without_days(question: str) -> str:
    """`question` without the days it names ("on March 10" -> "on "): a day constrains the source (its
    publication day), so the documents' text need not name it."""
    return _ISO_DATE.sub(" ", _WORD_DATE.sub(" ", question))


def boost(passages: list[Passage], bonus: float, sites=(), days=frozenset()) -> list[Passage]:
    """Add `bonus` to passages from one of `sites` or published on one of `days`; re-sort."""
    if not bonus or not (sites or days):
        return passages
    out = [replace(p, score=p.score + bonus) if p.meta.get("site") in sites
           or p.published[5:10] in days else p for p in passages]
    return sorted(out, key=lambda p: -p.score)
