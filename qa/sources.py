"""Questions that name their sources ("according to The Verge ... while TechCrunch ...").

When a question names publications found in the documents' metadata (front-matter `source`,
stored as `site`), each named source's best passages join the candidates, and the final
ranking leads with the best passage of each named source, so a question comparing two
reports retrieves both.
"""
from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

from qa.types import Passage

PER_SITE = 3  # extra BM25 candidates per named source


@lru_cache(maxsize=4)
def _site_rows(version: str, sites: tuple) -> dict[str, np.ndarray]:
    rows: dict[str, list[int]] = {}
    for n, site in enumerate(sites):
        if site:
            rows.setdefault(site, []).append(n)
    return {s: np.asarray(r) for s, r in rows.items()}


def _aliases(site: str) -> list[str]:
    # "The Independent - Life and Style" is usually named "The Independent"; "Cnbc | World ..." as "Cnbc".
    head = re.split(r"\s[-|]\s", site)[0].strip()
    return [a for a in {site, head} if len(a) >= 3]


def site_rows(lex) -> dict[str, np.ndarray]:
    """Snapshot rows per site (cached per snapshot version)."""
    return _site_rows(lex.version, tuple(str(m.get("site") or "") for m in lex.metas))


def named_sites(question: str, lex) -> list[str]:
    """Sites of the corpus that the question names, in the order it names them."""
    found = []
    lowered = question.lower()
    for site in site_rows(lex):
        positions = [lowered.find(a.lower()) for a in _aliases(site) if re.search(
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
