"""Hybrid retrieval: dense search in Chroma fused with BM25 over the lexical snapshot."""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass, replace

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from index import exclusions, lexical
from index.embed import Embedder
from index.settings import IndexSettings
from index.store import Store, missing
from qa.sentscore import Terms, score_sentences
from qa.sources import boost, lead_with_sites, named_days, named_sites, site_candidates
from qa.types import Passage

# First stage: a weighted sum of normalised BM25 and dense scores picks RERANK candidates.
# Second stage: each candidate is scored by its best sentence (term coverage + late-chunking
# similarity) plus a little BM25. Weights chosen with bench/tune*.py on the dev sets.
LEXICAL_WEIGHT = 0.6
CANDIDATES = 50
RERANK = 30
RERANK_LEXICAL = 0.3
SENT_COVERAGE = 0.75
SENT_SIMILARITY = 2.0
# Sources and dates the question names (qa/sources.py): passages from a named source, from a
# source named in the same clause, or published on a named day score higher.
SITE_BONUS = 0.5
CLAUSE_SITE_BONUS = 1.0
DAY_BONUS = 0.5
# A compound question's clauses are searched one by one and the rankings fused by reciprocal rank,
# the whole question counting FULL_WEIGHT times.
RRF_K = 1.0
FULL_WEIGHT = 2
# Documents excluded from answers (the document manager) are filtered from both sides; the dense search
# asks for as many more hits as the excluded documents hold, up to this many.
MAX_EXCLUDED_EXTRA = 1000


@dataclass(frozen=True)
class Query:
    """A query and its embedding (computed once, reused by the answerer)."""

    text: str
    vector: np.ndarray


@dataclass(frozen=True)
class Scope:
    """What the whole question names: sources (sites) and days of publication."""

    sites: tuple[str, ...] = ()
    days: frozenset[str] = frozenset()


class HybridSearch:
    """Dense (Chroma) + lexical (BM25) search with a weighted sum of normalised scores."""

    def __init__(self, settings: IndexSettings, embedder: Embedder, store: Store):
        self.settings, self.embedder, self.store = settings, embedder, store
        self._lexical: lexical.LexicalIndex | None = None
        self._stamp: tuple | None = None
        self._lock = threading.Lock()
        self.excluded = exclusions.Watch(settings.db_dir)

    @property
    def lexical(self) -> lexical.LexicalIndex:
        """The current lexical snapshot, reloaded when `qa index` has flipped the pointer (one stat a call)."""
        stamp = lexical.pointer_stamp(self.settings.db_dir)
        with self._lock:
            if self._lexical is None or (stamp is not None and stamp != self._stamp):
                version = lexical.current_version(self.settings.db_dir)
                if self._lexical is None or version != self._lexical.version:
                    loaded = lexical.load(self.settings.db_dir)
                    if loaded is None and self._lexical is None:
                        raise missing(self.settings)
                    self._lexical = loaded or self._lexical
                self._stamp = stamp
            return self._lexical

    def embed_query(self, text: str) -> Query:
        """Embed `text` once."""
        return Query(text, self.embedder.embed([text])[0])

    def search(self, query: Query, k: int) -> list[Passage]:
        """The top `k` passages for `query`, best first; a compound question also searches its clauses."""
        lex = self.lexical
        scope = Scope(tuple(named_sites(query.text, lex)), named_days(query.text))
        parts = split_parts(query.text)
        if len(parts) < 2:
            return self._search_one(query, k, scope, lex)
        vectors = self.embedder.embed(parts)
        rankings = [self._search_one(Query(p, v), k, scope, lex, clause=True) for p, v in zip(parts, vectors)]
        merged = rrf_merge(rankings + [self._search_one(query, k, scope, lex)] * FULL_WEIGHT, k)
        # Sentence evidence is judged against the whole question (the answerer and abstention use it),
        # whichever clause found the passage; p.lexical is the clause's BM25, so it is left out here.
        return self._rescore(merged, query, lex, 0.0)

    def _search_one(self, query: Query, k: int, scope: Scope, lex, clause: bool = False) -> list[Passage]:
        if not lex.ids:
            return []
        sites = named_sites(query.text, lex) if clause else list(scope.sites)
        ranked = boost(self._rerank(self._candidates(query, k, sites, lex), query, lex), SITE_BONUS, sites=scope.sites)
        ranked = boost(ranked, CLAUSE_SITE_BONUS if clause else 0.0, sites=sites)
        return lead_with_sites(boost(ranked, DAY_BONUS, days=scope.days), sites)[:k]

    def _candidates(self, query: Query, k: int, sites: list[str], lex) -> list[Passage]:
        """First stage: the best fused dense + BM25 passages, plus the best BM25 rows of each named site."""
        n = min(CANDIDATES, len(lex.ids))
        excluded, hidden = self._hidden(lex)
        dense = {h.id: h for h in self.store.search(query.vector, n + min(len(hidden), MAX_EXCLUDED_EXTRA))
                 if h.metadata.get("source") not in excluded}
        bm25 = lex.scores(query.text)
        if len(hidden):
            bm25 = bm25.copy()
            bm25[hidden] = 0.0
        top_lex = np.argpartition(-bm25, n - 1)[:n] if len(bm25) > n else np.arange(len(bm25))  # O(N), unordered
        ids = list(dict.fromkeys(list(dense) + [lex.ids[i] for i in top_lex if bm25[i] > 0]))
        fused = self._fuse(ids, dense, bm25, lex)[:max(k, RERANK)]
        taken = {p.id for p in fused}
        extra = [lex.ids[i] for i in site_candidates(sites, bm25, lex)
                 if lex.ids[i] not in taken and lex.metas[i].get("source") not in excluded]
        return fused + self._fuse(extra, dense, bm25, lex)

    def _hidden(self, lex) -> tuple[frozenset[str], np.ndarray]:
        """The excluded sources and their snapshot rows."""
        excluded = self.excluded()
        if not excluded:
            return excluded, np.zeros(0, np.int64)
        rows = lex.rows_by("source")
        found = [rows[s] for s in excluded if s in rows]
        return excluded, np.concatenate(found) if found else np.zeros(0, np.int64)

    def _rerank(self, passages: list[Passage], query: Query, lex) -> list[Passage]:
        """Add each passage's best sentence evidence to its score (and keep the sentence scores)."""
        return sorted(self._rescore(passages, query, lex, RERANK_LEXICAL), key=lambda p: -p.score)

    def _rescore(self, passages: list[Passage], query: Query, lex, lexical_weight: float) -> list[Passage]:
        """`passages` in the same order, with sentence scores and second-stage scores for `query`."""
        terms = Terms(query.text, lex.idf)
        out = []
        for p in passages:
            sents = score_sentences(p.text, p.start, lex.row(p.id), lex, terms, query.vector, p.dense)
            best = max((SENT_COVERAGE * s.coverage + SENT_SIMILARITY * s.similarity for s in sents), default=0.0)
            out.append(replace(p, score=lexical_weight * p.lexical + best, sentences=sents))
        return out

    def _fuse(self, ids, dense, bm25, lex) -> list[Passage]:
        sims = np.array([h.similarity for h in dense.values()]) if dense else np.zeros(1)
        floor, top = float(sims.min()), float(sims.max())
        lmax = float(bm25.max()) or 1.0
        out = []
        for pid in ids:
            row = lex.row(pid)
            d = dense[pid].similarity if pid in dense else floor
            lscore = float(bm25[row]) / lmax if row is not None else 0.0
            dn = (d - floor) / (top - floor) if top > floor else 1.0
            score = LEXICAL_WEIGHT * lscore + (1 - LEXICAL_WEIGHT) * dn
            text, meta = (dense[pid].text, dense[pid].metadata) if pid in dense else (lex.texts[row], lex.metas[row])
            out.append(Passage.from_record(pid, text, meta, score=score, dense=d, lexical=lscore))
        return sorted(out, key=lambda p: -p.score)


_CLAUSE_BREAK = re.compile(r",\s+(?:and\s+|while\s+|whereas\s+|but\s+|or\s+)?|;\s+|\?\s+|\s+(?:while|whereas)\s+",
                           re.I)
MIN_QUESTION_WORDS = 14
MIN_PART_WORDS = 6


def split_parts(question: str) -> list[str]:
    """The clauses of a long compound question ("Which company, reported by X for A, and by Y for B, ...")."""
    if len(question.split()) < MIN_QUESTION_WORDS:
        return [question]
    parts = [p.strip() for p in _CLAUSE_BREAK.split(question) if p and len(p.split()) >= MIN_PART_WORDS]
    return parts if len(parts) >= 2 else [question]


def rrf_merge(rankings: list[list[Passage]], k: int) -> list[Passage]:
    """Reciprocal-rank fusion of several rankings (a ranking listed twice counts twice)."""
    scores: dict[str, float] = {}
    first: dict[str, Passage] = {}
    for ranking in rankings:
        for rank, p in enumerate(ranking):
            scores[p.id] = scores.get(p.id, 0.0) + 1.0 / (RRF_K + rank)
            first.setdefault(p.id, p)
    return [first[i] for i in sorted(scores, key=lambda i: -scores[i])][:k]


class SeedRetriever(BaseRetriever):
    """The hybrid search as a LangChain retriever, for use in users' own chains."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    search: HybridSearch
    k: int = 4

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        passages = self.search.search(self.search.embed_query(query), self.k)
        return [Document(page_content=p.text, id=p.id,
                         metadata={**p.meta, "score": p.score, "dense": p.dense, "lexical": p.lexical})
                for p in passages]
