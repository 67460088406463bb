"""Compose the pipeline in one place and answer questions: `Assistant`, `answer()`, `answer_stream()`."""
from __future__ import annotations

import time
from dataclasses import replace
from typing import Iterator, Union

from index.embed import Embedder, SentenceTransformerEmbedder
from index.errors import IndexMismatchError, UsageError
from index.settings import Settings
from index.store import VectorStore
from qa import question as q
from qa.extractive import ExtractiveAnswerer
from qa.retrieve import HybridSearch, SeedRetriever
from qa.types import Answer, Passage

BACKENDS = ("extractive", "openai", "ollama")


class Assistant:
    """Keeps the model, store and lexical index open for repeated questions."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None, store: VectorStore | None = None,
                 llm=None):
        self.settings = settings
        self.embedder = embedder or SentenceTransformerEmbedder(settings.embed_model)
        self.store = store or VectorStore(settings)
        self.search = HybridSearch(settings, self.embedder, self.store)
        self.extractive = ExtractiveAnswerer()
        self._llm = llm
        self._checked = False

    def retriever(self, k: int | None = None) -> SeedRetriever:
        """The hybrid search as a LangChain `BaseRetriever`."""
        return SeedRetriever(search=self.search, k=_check_k(self.settings.k if k is None else k))

    def answer(self, question: str, history: q.History | None = None, k: int | None = None,
               backend: str | None = None) -> Answer:
        """Answer `question` (optionally following up on `history`) with cited passages."""
        final = None
        for final in self.answer_stream(question, history, k, backend):
            pass
        return final

    def answer_stream(self, question: str, history: q.History | None = None, k: int | None = None,
                      backend: str | None = None) -> Iterator[Union[str, Answer]]:
        """Yield text pieces as they are produced, then the final `Answer`."""
        started = time.perf_counter()
        text = q.clean(question)
        k = _check_k(self.settings.k if k is None else k)
        name = backend or self.settings.llm
        self._check_model()
        if name == "extractive":
            result = self._extractive(text, history, k)
            yield result.text
        else:
            result = yield from self.llm(name).stream(text, history, k)
        yield replace(result, seconds=time.perf_counter() - started)

    def retrieve(self, question: str, history: q.History | None = None, k: int | None = None) -> list[Passage]:
        """The top `k` passages for a (cleaned, history-expanded) question."""
        query = self.search.embed_query(q.expand(q.clean(question), history))
        self._check_model()
        return self.search.search(query, _check_k(self.settings.k if k is None else k))

    def _extractive(self, text: str, history, k: int) -> Answer:
        query = self.search.embed_query(q.expand(text, history))
        passages = self.search.search(query, max(k, 5))
        return self.extractive.answer(query.text, passages)

    def llm(self, name: str):
        """The LLM answerer for backend `name` (built once)."""
        from qa.llm import LLMAnswerer, chat_model

        if name not in BACKENDS:
            raise UsageError(f"unknown answerer {name!r}", hint=f"choose one of {', '.join(BACKENDS)}")
        if self._llm is None or self._llm.backend != name:
            self._llm = LLMAnswerer(name, self.search, chat_model(name, self.settings), self.settings)
        return self._llm

    def _check_model(self) -> None:
        if self._checked:
            return
        recorded = self.store.recorded_key()
        if recorded and recorded.get("embed_model") != self.settings.embed_model:
            raise IndexMismatchError(
                f"the index was built with embedding model {recorded.get('embed_model')!r}, "
                f"not {self.settings.embed_model!r}", hint="run `qa index` to rebuild it, or use the same model")
        self._checked = True


def _check_k(k: int) -> int:
    if not isinstance(k, int) or not 1 <= k <= 50:
        raise UsageError(f"k must be between 1 and 50, not {k!r}")
    return k


def build_pipeline(settings: Settings, embedder: Embedder | None = None, store: VectorStore | None = None,
                   llm=None) -> Assistant:
    """The one place the parts are composed; every entry point goes through it."""
    return Assistant(settings, embedder=embedder, store=store, llm=llm)


_default: dict[Settings, Assistant] = {}


def answer(question: str, history: q.History | None = None, settings: Settings | None = None) -> Answer:
    """Answer one question from the index described by `settings` (defaults: ./seeds, ./.qa-index)."""
    settings = settings or Settings()
    if settings not in _default:
        _default[settings] = build_pipeline(settings)
    return _default[settings].answer(question, history)
