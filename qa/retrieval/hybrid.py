"""Hybrid retrieval: dense search in the vector store fused with BM25 over the lexical snapshot."""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Sequence

import numpy as np

from index.embedding.embedders import Embedder
from index.errors import IndexMissingError
from index.generations import generation
from index.manager import exclusions
from index.settings import IndexSettings
from index.snapshot import lexical
from index.vectorstore.store import Store, Where, missing
from qa.retrieval import filters
from qa.retrieval.filters import Filter
from qa.retrieval.sentscore import Terms, score_sentences
from qa.retrieval.sources import boost, lead_with_sites, named_days, named_sites, site_candidates
from qa.types import Passage, Weights

# The two stages' weights are settings (qa.types.Weights, AnswerSettings: QA_LEXICAL_WEIGHT, ...).
# Sources and dates the question names (qa/retrieval/sources.py): passages from a named source, from a
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


@dataclass(frozen=True)
class Narrow:
    """A filter translated for both sides of the search: the store's `where` and the BM25 rows it admits."""

    where: Where | None = None
    rows: np.ndarray | None = None

    def admits(self, row: int) -> bool:
        """Whether snapshot row `row` may be searched."""
        return self.rows is None or bool(self.rows[row])


EVERYTHING = Narrow()


class HybridSearch:
    """Dense (the vector store) + lexical (BM25) search with a weighted sum of normalised scores."""

    def __init__(self, settings: IndexSettings, embedder: Embedder, store: Store, weights: Weights = Weights()):
        self.settings, self.embedder, self.store, self.weights = settings, embedder, store, weights
        self._lexical: lexical.LexicalIndex | None = None
        self._stamp: tuple | None = None
        self._loading = threading.Lock()
        self._narrows: dict[tuple, Narrow] = {}
        self.excluded = exclusions.Watch(settings.db_dir)

    @property
    def lexical(self) -> lexical.LexicalIndex:
        """The live generation's BM25 snapshot (one stat a call). When a build has published a new
        generation, one thread loads its snapshot while the others keep using the previous one."""
        stamp, current = generation.stamp(self.settings), self._lexical
        if current is not None and stamp == self._stamp:
            return current
        if not self._loading.acquire(blocking=current is None):
            return current
        try:
            if self._lexical is None or stamp != self._stamp:
                self._lexical, self._stamp = self._load(self._lexical, stamp)
            return self._lexical
        finally:
            self._loading.release()

    def _load(self, current: lexical.LexicalIndex | None, stamp) -> tuple[lexical.LexicalIndex, object]:
        ptr = generation.read(self.settings)
        if ptr is None and current is None:
            raise missing(self.settings)
        if ptr is None or (current is not None and current.version == ptr.fingerprint):
            return current, stamp
        try:
            with generation.holding(ptr.live):
                loaded = lexical.load(ptr.live.lexical, ptr.fingerprint)
        except FileNotFoundError:  # removed after a newer publish: the next call reads the new pointer
            loaded, stamp = None, None
        if loaded is not None:
            return loaded, stamp
        if current is None:
            raise IndexMissingError(f"the BM25 snapshot of the index in {self.settings.db_dir} cannot be read",
                                    hint="run `qa index`: it checks the index and rebuilds what is broken")
        return current, stamp

    def embed_query(self, text: str) -> Query:
        """Embed `text` once."""
        return Query(text, self.embedder.embed([text])[0])

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of `texts`, in one batch."""
        return self.embedder.embed(list(texts))

    @property
    def seeds_dir(self) -> Path:
        """The documents folder (answerers read cited files from it)."""
        return self.settings.seeds_dir

    def search(self, query: Query, k: int, where: Filter | None = None) -> list[Passage]:
        """The top `k` passages for `query`, best first, only from documents `where` admits; a compound
        question also searches its clauses."""
        lex = self.lexical
        narrow = self.narrow(where, lex)
        scope = Scope(tuple(named_sites(query.text, lex)), named_days(query.text))
        parts = split_parts(query.text)
        if len(parts) < 2:
            return self._search_one(query, k, scope, lex, narrow)
        vectors = self.embedder.embed(parts)
        rankings = [self._search_one(Query(p, v), k, scope, lex, narrow, clause=True) for p, v in zip(parts, vectors)]
        merged = rrf_merge(rankings + [self._search_one(query, k, scope, lex, narrow)] * FULL_WEIGHT, k)
        # Sentence evidence is judged against the whole question (the answerer and abstention use it),
        # whichever clause found the passage; p.lexical is the clause's BM25, so it is left out here.
        return self._rescore(merged, query, lex, 0.0)

    def narrow(self, where: Filter | None, lex) -> Narrow:
        """`where` translated once per snapshot, in one place for each side (`qa.retrieval.filters`)."""
        if where is None or where.empty:
            return EVERYTHING
        key = (lex.version, id(lex), where)
        if key not in self._narrows:
            files = {s: lex.metas[int(rows[0])] for s, rows in lex.rows_by("source").items()}
            admitted = filters.admitted(where, files)
            rows = filters.row_mask(admitted, [s or "" for s in lex.metas.column("source")])
            if len(self._narrows) > 64:
                self._narrows.clear()
            self._narrows[key] = Narrow(filters.store_where(admitted), rows)
        return self._narrows[key]

    def _search_one(self, query: Query, k: int, scope: Scope, lex, narrow: Narrow = EVERYTHING,
                    clause: bool = False) -> list[Passage]:
        if not lex.ids:
            return []
        sites = named_sites(query.text, lex) if clause else list(scope.sites)
        found = self._candidates(query, k, sites, lex, narrow)
        ranked = boost(self._rerank(found, query, lex), SITE_BONUS, sites=scope.sites)
        ranked = boost(ranked, CLAUSE_SITE_BONUS if clause else 0.0, sites=sites)
        return lead_with_sites(boost(ranked, DAY_BONUS, days=scope.days), sites)[:k]

    def _candidates(self, query: Query, k: int, sites: list[str], lex, narrow: Narrow = EVERYTHING) -> list[Passage]:
        """First stage: the best fused dense + BM25 passages, plus the best BM25 rows of each named site."""
        n = min(self.weights.candidates, len(lex.ids))
        excluded, hidden = self._hidden(lex)
        found = self.store.search(query.vector, n + min(len(hidden), MAX_EXCLUDED_EXTRA), narrow.where)
        dense = {h.id: h for h in found if h.metadata.get("source") not in excluded}
        bm25 = lex.scores(query.text)
        if narrow.rows is not None:
            bm25 = np.where(narrow.rows, bm25, 0.0)  # BM25 sees only what the store's `where` lets through
        if len(hidden):
            bm25 = bm25.copy()
            bm25[hidden] = 0.0
        top_lex = np.argpartition(-bm25, n - 1)[:n] if len(bm25) > n else np.arange(len(bm25))  # O(N), unordered
        ids = list(dict.fromkeys(list(dense) + [lex.ids[i] for i in top_lex if bm25[i] > 0]))
        fused = self._fuse(ids, dense, bm25, lex)[:max(k, self.weights.rerank)]
        taken = {p.id for p in fused}
        extra = [lex.ids[i] for i in site_candidates(sites, bm25, lex)
                 if lex.ids[i] not in taken and narrow.admits(i) and lex.metas[i].get("source") not in excluded]
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
        return sorted(self._rescore(passages, query, lex, self.weights.rerank_lexical), key=lambda p: -p.score)

    def _rescore(self, passages: list[Passage], query: Query, lex, lexical_weight: float) -> list[Passage]:
        """`passages` in the same order, with sentence scores and second-stage scores for `query`."""
        terms, w = Terms(query.text, lex.idf), self.weights
        out = []
        for p in passages:
            sents = score_sentences(p.text, p.start, lex.row(p.id), lex, terms, query.vector, p.dense)
            best = max((w.sentence_coverage * s.coverage + w.sentence_similarity * s.similarity for s in sents),
                       default=0.0)
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
            score = self.weights.lexical * lscore + (1 - self.weights.lexical) * dn
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


class ScopedSearch:
    """A `HybridSearch` narrowed by a filter, for answerers (a `qa.answerers.Search`): its `search(query, k)`
    sees only the documents `where` admits; the rest is the underlying search's."""

    def __init__(self, search: HybridSearch, where: Filter):
        self._search, self.where = search, where

    def search(self, query: Query, k: int, where: Filter | None = None) -> list[Passage]:
        """The underlying search, narrowed by this scope's filter."""
        return self._search.search(query, k, where or self.where)

    def embed_query(self, text: str) -> Query:
        """Embed `text` once."""
        return self._search.embed_query(text)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of `texts`, in one batch."""
        return self._search.embed(texts)

    @property
    def lexical(self) -> lexical.LexicalIndex:
        """The live BM25 snapshot (the whole of it: the filter narrows searches, not what is known)."""
        return self._search.lexical

    @property
    def seeds_dir(self) -> Path:
        """The documents folder."""
        return self._search.seeds_dir


def __getattr__(name: str):
    # The LangChain adapter lives in its own module so that answering does not import LangChain
    # (about a second); `from qa.retrieval.hybrid import SeedRetriever` still works.
    if name == "SeedRetriever":
        from qa.retrieval.langchain_retriever import SeedRetriever

        return SeedRetriever
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
