"""The `Answerer` protocol, the `Search` an answerer is given, and the one registry of answerers. The CLI's
`--llm` choices, the chat's Answerer menu, the accepted `QA_LLM` values and the README's table are all
generated from `ANSWERERS`.

To add an answerer: write a class implementing `Answerer` (over a `Search`), and register an
`AnswererSpec` below.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Generator, Protocol, Sequence

from qa.history import History
from qa.types import Answer, Passage

if TYPE_CHECKING:
    import numpy as np

    from index.snapshot.lexical import LexicalIndex
    from qa.retrieval.filters import Filter
    from qa.retrieval.hybrid import Query
    from qa.settings import AnswerSettings


class Search(Protocol):
    """The search an answerer is given (`qa.retrieval.hybrid.HybridSearch`, or `ScopedSearch` when a filter narrows
    the question): everything an answerer may ask of the index."""

    def search(self, query: Query, k: int, where: Filter | None = None) -> list[Passage]:
        """The top `k` passages for `query`, best first (only from documents the filters admit)."""

    def embed_query(self, text: str) -> Query:
        """`text` and its vector, computed once."""

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of `texts`, in one batch."""

    @property
    def lexical(self) -> LexicalIndex:
        """The live generation's BM25 snapshot: every chunk's text and metadata, and its sentence vectors."""

    @property
    def seeds_dir(self) -> Path:
        """The documents folder, to read a cited file whole."""


class Answerer(Protocol):
    """Answers a question (with the conversation so far) from the documents, with citations. Everything
    `qa.pipeline` calls is declared here."""

    name: str

    def stream(self, question: str, history: History | None, k: int) -> Generator[str, None, Answer]:
        """Yield the answer's text as it is produced; return the final `Answer`."""

    def standalone(self, question: str, history: History | None, k: int) -> str:
        """`question` as understood in the conversation `history` (what it is searched with); the question
        itself when there is no history."""

    def warm_up(self) -> None:
        """Prepare what the first questions need (called once, in the background, when a server starts)."""


@dataclass(frozen=True)
class Parts:
    """What an answerer factory is given: the search, the answering settings, an optional chat model."""

    search: Search
    settings: "AnswerSettings"
    chat_model: Any = None


@dataclass(frozen=True)
class AnswererSpec:
    """A registered answerer: its name, a one-line summary, whether it needs an LLM endpoint, its factory."""

    name: str
    summary: str
    needs_endpoint: bool
    make: Callable[[Parts], Answerer]


def _extractive(parts: Parts) -> Answerer:
    from qa.extractive.answerer import ExtractiveAnswerer

    return ExtractiveAnswerer(parts.search)


def _llm(backend: str) -> Callable[[Parts], Answerer]:
    def make(parts: Parts) -> Answerer:
        from qa.llm.answerer import LLMAnswerer, chat_model

        model = parts.chat_model or chat_model(backend, parts.settings)
        return LLMAnswerer(backend, parts.search, model, parts.settings)
    return make


ANSWERERS: dict[str, AnswererSpec] = {spec.name: spec for spec in (
    AnswererSpec("extractive", "quotes the sentences that answer, verbatim, with citations (offline, the default)",
                 False, _extractive),
    AnswererSpec("openai", "writes a cited answer with any OpenAI-compatible server (QA_LLM_BASE_URL)",
                 True, _llm("openai")),
    AnswererSpec("ollama", "writes a cited answer with an Ollama server (QA_LLM_BASE_URL)", True, _llm("ollama")),
)}
NAMES = tuple(ANSWERERS)
DEFAULT = "extractive"


def available(has_endpoint: bool) -> list[str]:
    """Answerers usable now: those needing an LLM endpoint only when one is configured."""
    return [name for name, spec in ANSWERERS.items() if has_endpoint or not spec.needs_endpoint]
