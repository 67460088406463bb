"""Compose the parts in one place (`build_assistant`) and answer questions: `Assistant`, `answer()`."""
from __future__ import annotations

import time
from dataclasses import replace
from typing import Iterator, Union

from index.embedding.embedders import Embedder, mismatch, open_embedder
from index.errors import IndexMismatchError, UsageError
from index.manager import collections
from index.settings import IndexSettings
from index.vectorstore.store import Store, open_store
from qa.answerers import ANSWERERS, DEFAULT, Answerer, Parts
from qa.conversation import question as q
from qa.history import History
from qa.retrieval import filters
from qa.retrieval.hybrid import HybridSearch, ScopedSearch
from qa.settings import MAX_K, AnswerSettings
from qa.types import Answer, Passage
from qa.wording import NOT_FOUND


class Assistant:
    """Keeps the model, store and lexical index open for repeated questions. The documents of other named
    collections (`index.manager.collections`) are answered by assistants sharing this one's model (`collection`)."""

    def __init__(self, index: IndexSettings, answer: AnswerSettings, embedder: Embedder, store: Store,
                 chat_model=None, name: str = collections.DEFAULT):
        self.index_settings, self.settings = index, answer
        self.embedder, self.store = embedder, store
        self.search = HybridSearch(index, embedder, store, answer.weights)
        self.name = name
        self._chat_model = chat_model
        self._answerers: dict[str, Answerer] = {}
        self._collections: dict[str, Assistant] = {name: self}
        self._checked = False

    def collection(self, name: str | None) -> "Assistant":
        """The assistant of collection `name` (None: this one), opened once, sharing this one's model."""
        if not name or name == self.name:
            return self
        if name not in self._collections:
            settings = collections.settings_for(self.index_settings, name)
            self._collections[name] = Assistant(settings, self.settings, self.embedder, open_store(settings),
                                                self._chat_model, name)
        return self._collections[name]

    def answerer(self, name: str | None = None) -> Answerer:
        """The registered answerer `name` (default: the configured one), built once."""
        name = name or self.settings.answerer
        if name not in ANSWERERS:
            raise UsageError(f"unknown answerer {name!r}", hint=f"choose one of {', '.join(ANSWERERS)}")
        if name not in self._answerers:
            self._answerers[name] = ANSWERERS[name].make(Parts(self.search, self.settings, self._chat_model))
        return self._answerers[name]

    def warm_up(self) -> None:
        """Load what the first questions need before they come: the model, the BM25 snapshot and what the
        answerer prepares for a conversation (the extractive one's sentence table: seconds at 100,000
        chunks, otherwise paid by the first follow-up)."""
        self.embedder.embed(["warm up"])
        self.answerer().warm_up()

    @property
    def chain(self):
        """The assistant as a LangChain `Runnable` (`qa.chain.AnswerChain`): `{"question", "history"}` in,
        the `Answer` out (`.as_dicts()` for its dict)."""
        from qa.chain import AnswerChain

        return AnswerChain(self)

    def retriever(self, k: int | None = None, where=None, collection: str | None = None):
        """The hybrid search as a LangChain `BaseRetriever` (`qa.retrieval.langchain_retriever.SeedRetriever`), narrowed
        by `where`, in `collection`."""
        from qa.retrieval.langchain_retriever import SeedRetriever

        return SeedRetriever(search=self.collection(collection).search, k=self._k(k), where=filters.of(where))

    def answer(self, question: str, history: History | None = None, k: int | None = None,
               backend: str | None = None, where=None, collection: str | None = None) -> Answer:
        """Answer `question` (optionally following up on `history`) with cited passages, from the documents
        of `collection` that the filter `where` admits (`qa.retrieval.filters.of`: a `Filter`, a JSON object or
        `KEY=VALUE` terms)."""
        final = None
        for final in self.answer_stream(question, history, k, backend, where, collection):
            pass
        return final

    def answer_stream(self, question: str, history: History | None = None, k: int | None = None,
                      backend: str | None = None, where=None,
                      collection: str | None = None) -> Iterator[Union[str, Answer]]:
        """Yield text pieces as they are produced, then the final `Answer`."""
        if collection and collection != self.name:
            return (yield from self.collection(collection).answer_stream(question, history, k, backend, where))
        started = time.perf_counter()
        text, k, where = q.clean(question), self._k(k), filters.of(where)
        answerer = self.answerer(backend) if where is None else self._scoped(backend, where)
        self._check_model()
        if where is not None:
            # A filter that admits nothing is refused here, not in the search: questions about the documents
            # themselves (who filed it, when) are answered without one and would abstain silently.
            self.search.narrow(where, self.search.lexical)
        result = yield from answerer.stream(text, history, k)
        named = "" if self.name == collections.DEFAULT else self.name
        yield replace(within(result, where), seconds=time.perf_counter() - started, collection=named)

    def retrieve(self, question: str, history: History | None = None, k: int | None = None, where=None,
                 collection: str | None = None) -> list[Passage]:
        """The top `k` passages for a (cleaned) question, as the conversation so far resolves it."""
        if collection and collection != self.name:
            return self.collection(collection).retrieve(question, history, k, where)
        k = self._k(k)
        self._check_model()
        text = self.answerer(DEFAULT).standalone(q.clean(question), history, k)
        return self.search.search(self.search.embed_query(text), k, filters.of(where))

    def _scoped(self, name: str | None, where: filters.Filter) -> Answerer:
        """Answerer `name` over the search narrowed by `where` (made per question: answerers are cheap)."""
        self.answerer(name)  # checks the name
        spec = ANSWERERS[name or self.settings.answerer]
        return spec.make(Parts(ScopedSearch(self.search, where), self.settings, self._chat_model))

    def _k(self, k: int | None) -> int:
        k = self.settings.k if k is None else k
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
            raise UsageError(f"k must be a whole number between 1 and {MAX_K}, not {k!r}")
        return k

    def _check_model(self) -> None:
        """Refuse a missing or mismatched index before the model loads (and before a store client could
        create anything): the lexical snapshot is the cheap proof that an index exists."""
        if self._checked:
            return
        self.search.lexical  # noqa: B018 (raises IndexMissingError when there is no index)
        wrong = mismatch(self.store.recorded_key(), self.index_settings)
        if wrong:
            raise IndexMismatchError(wrong, hint="run `qa index` to rebuild it, or set QA_EMBED_MODEL / "
                                                 "QA_ENCODER to what it was built with")
        self._checked = True


def within(answer: Answer, where: filters.Filter | None) -> Answer:
    """`answer`, or an abstention if it cites a document `where` excludes: whatever an answerer consulted
    beside the search, a filtered question never cites an excluded document."""
    if where is None or all(where.admits(c.source, c.title, c.published) for c in answer.citations):
        return answer
    kept = tuple(p for p in answer.passages if where.admits(p.source, p.title, p.published))
    return replace(answer, text=NOT_FOUND, citations=(), abstained=True, passages=kept, related=kept[:3], short=None)


def build_assistant(index: IndexSettings | None = None, answer: AnswerSettings | None = None, *,
                    embedder: Embedder | None = None, store: Store | None = None, chat_model=None) -> Assistant:
    """The one place the parts are composed; every entry point goes through it. Defaults: the bundled
    model, the store `index.vectorstore.store` names (Chroma unless QA_STORE says otherwise), the answerer named in
    `answer`."""
    index = index or IndexSettings()
    return Assistant(index, answer or AnswerSettings(), embedder or open_embedder(index),
                     store or open_store(index), chat_model)


def answer(question: str, history: History | None = None, index: IndexSettings | None = None,
           settings: AnswerSettings | None = None) -> Answer:
    """Answer one question from the index (defaults: ./seeds, ./.qa-index). This loads the model each
    call; keep an `Assistant` (from `build_assistant`) to ask many."""
    return build_assistant(index, settings).answer(question, history)
