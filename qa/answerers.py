"""The `Answerer` protocol and the one registry of answerers. The CLI's `--llm` choices, the chat's
Answerer menu, the accepted `QA_LLM` values and the README's table are all generated from `ANSWERERS`.

To add an answerer: write a class with `name` and `stream()`, and register an `AnswererSpec` below.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Generator, Protocol

from qa.history import History
from qa.types import Answer

if TYPE_CHECKING:
    from qa.retrieve import HybridSearch
    from qa.settings import AnswerSettings


class Answerer(Protocol):
    """Answers a question (with the conversation so far) from the documents, with citations."""

    name: str

    def stream(self, question: str, history: History, k: int) -> Generator[str, None, Answer]:
        """Yield the answer's text as it is produced; return the final `Answer`."""


@dataclass(frozen=True)
class Parts:
    """What an answerer factory is given: the search, the answering settings, an optional chat model."""

    search: "HybridSearch"
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
    from qa.extractive import ExtractiveAnswerer

    return ExtractiveAnswerer(parts.search)


def _llm(backend: str) -> Callable[[Parts], Answerer]:
    def make(parts: Parts) -> Answerer:
        from qa.llm import LLMAnswerer, chat_model

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
