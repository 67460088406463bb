"""The LLM answerer: rewrite a follow-up, retrieve, stream a cited answer from an OpenAI-compatible or
Ollama server, then validate its `[n]` citations against the passages it was given."""
from __future__ import annotations

from typing import Generator

from index.errors import QAError, UsageError
from qa import prompt, support
from qa import question as q
from qa.errors import LLMError
from qa.history import History, messages
from qa.retrieve import HybridSearch
from qa.settings import AnswerSettings
from qa.types import Answer, Citation, Passage
from qa.wording import NOT_FOUND, UNCITED

OPENAI_URL = "https://api.openai.com/v1"
OLLAMA_URL = "http://localhost:11434"
DEFAULT_MODELS = {"openai": "gpt-4o-mini", "ollama": "llama3.2"}


def endpoint(name: str, settings: AnswerSettings) -> str:
    """The server URL backend `name` talks to; raises `LLMError` when none is configured."""
    if settings.llm_base_url:
        return settings.llm_base_url.rstrip("/")
    if name == "ollama":
        return OLLAMA_URL
    if settings.llm_api_key:
        return OPENAI_URL
    raise LLMError("no server configured for the openai answerer",
                   hint="set QA_LLM_BASE_URL to your OpenAI-compatible server (e.g. http://localhost:8080/v1), "
                        "or QA_LLM_API_KEY to use api.openai.com")


def chat_model(name: str, settings: AnswerSettings):
    """A LangChain chat model for backend "openai" (any OpenAI-compatible server) or "ollama"."""
    url, model = endpoint(name, settings), settings.llm_model or DEFAULT_MODELS.get(name)
    if name == "openai":
        from langchain_openai import ChatOpenAI

        return ChatOpenAI(base_url=url, model=model, api_key=settings.llm_api_key or "not-needed",
                          timeout=settings.llm_timeout, max_retries=0)
    if name == "ollama":
        from langchain_ollama import ChatOllama

        return ChatOllama(base_url=url, model=model, client_kwargs={"timeout": settings.llm_timeout})
    raise UsageError(f"{name!r} is not an LLM answerer", hint="choose openai or ollama")


class LLMAnswerer:
    """Answers from retrieved passages with a chat model; citations are checked, never trusted."""

    def __init__(self, backend: str, search: HybridSearch, chat_model, settings: AnswerSettings):
        self.name = self.backend = backend
        self.search, self.model, self.settings = search, chat_model, settings
        self.url = endpoint(backend, settings)

    def stream(self, question: str, history: History | None, k: int) -> Generator[str, None, Answer]:
        """Yield the answer's text pieces as the model produces them; return the validated `Answer`."""
        standalone = self.standalone(question, history)
        passages = self.search.search(self.search.embed_query(standalone), k)
        if not passages:
            yield NOT_FOUND
            return Answer(standalone, NOT_FOUND, (), True, self.backend)
        reply = prompt.ReplyFilter(len(passages))
        for piece in self._stream(prompt.answer_messages(question, standalone, passages)):
            shown = reply.feed(piece)
            if shown:
                yield shown
        shown = reply.close()
        if shown:
            yield shown
        if not reply.text.strip():
            raise LLMError(f"LLM server at {self.url} returned an empty reply", hint="check the model's log")
        if reply.abstained:
            yield NOT_FOUND
        return validate(standalone, reply.text, passages, self.backend, reply.abstained)

    def standalone(self, question: str, history: History | None) -> str:
        """`question` rewritten by the model to stand alone when there is a conversation; else unchanged."""
        turns = [(m.role, m.text) for m in messages(history)]
        if not turns:
            return question
        reply = self._call(lambda: self.model.invoke(prompt.rewrite_messages(question, turns)))
        try:
            return q.clean(prompt.read_rewrite(_text(reply.content)))
        except UsageError:
            return q.expand(question, history)

    def _stream(self, messages) -> Generator[str, None, None]:
        try:
            for chunk in self.model.stream(messages):
                text = _text(chunk.content)
                if text:
                    yield text
        except QAError:
            raise
        except Exception as exc:  # noqa: BLE001 - any client/transport/parse failure becomes an LLMError
            raise llm_error(exc, self.url, self.settings.llm_timeout) from exc

    def _call(self, fn):
        try:
            return fn()
        except QAError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise llm_error(exc, self.url, self.settings.llm_timeout) from exc


def validate(question: str, text: str, passages: list[Passage], backend: str, abstained: bool = False) -> Answer:
    """The `Answer` for a cleaned reply: citations for the passages that support the sentences citing them
    (qa/support.py), an uncited flag when it cites nothing, abstention when nothing it cites supports it."""
    numbers = [n for n in prompt.cited(text) if 1 <= n <= len(passages)]
    if abstained or (prompt.SENTINEL in text.upper() and not numbers):
        return _abstain(question, passages, backend)
    text = support.check(text, passages, question)
    kept = [n for n in prompt.cited(text) if 1 <= n <= len(passages)]
    if numbers and not kept:
        return _abstain(question, passages, backend)
    cites = tuple(citation(n, passages[n - 1]) for n in kept)
    return Answer(question, text.strip(), cites, False, backend, tuple(passages), flagged=None if cites else UNCITED)


def _abstain(question: str, passages: list[Passage], backend: str) -> Answer:
    return Answer(question, NOT_FOUND, (), True, backend, tuple(passages), tuple(passages[:3]))


def citation(n: int, p: Passage) -> Citation:
    """An LLM cites whole passages: the quote is the passage text with its exact offsets."""
    return Citation(n=n, source=p.source, title=p.title, published=p.published, start=p.start, end=p.end,
                    start_line=p.start_line, end_line=p.end_line, quote=p.text, score=round(p.score, 4),
                    page=p.page, passage_id=p.id, context=p.text, context_start=p.start, unit=p.unit())


def llm_error(exc: BaseException, url: str, timeout: float) -> LLMError:
    """A readable `LLMError` naming the endpoint, for any openai / httpx / ollama failure."""
    names = {c.__name__ for e in _chain(exc) for c in type(e).__mro__}
    detail = _detail(exc)
    status = next((s for e in _chain(exc) if isinstance(s := getattr(e, "status_code", None), int)), None)
    if any("Timeout" in n for n in names):
        return LLMError(f"LLM server at {url} did not answer within {timeout:g} s",
                        hint="check the server, or raise QA_LLM_TIMEOUT")
    if names & {"ConnectError", "APIConnectionError", "ConnectionError"}:
        return LLMError(f"LLM server at {url} unreachable: {detail}",
                        hint="start the server, or set QA_LLM_BASE_URL to where it listens")
    if status is not None:
        hint = {401: "check QA_LLM_API_KEY", 403: "check QA_LLM_API_KEY",
                404: "check QA_LLM_MODEL (for Ollama: `ollama pull <model>`) and that the URL ends in the API path "
                     "(e.g. /v1)"}.get(status, "check the server's log")
        return LLMError(f"LLM server at {url} returned HTTP {status}: {detail}", hint=hint)
    return LLMError(f"LLM server at {url} returned an unusable response: {detail}",
                    hint="check that QA_LLM_BASE_URL points to an OpenAI-compatible (or Ollama) API")


def _chain(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    while exc is not None and exc not in out and len(out) < 10:
        out.append(exc)
        exc = exc.__cause__ or exc.__context__
    return out


def _detail(exc: BaseException) -> str:
    text = next((str(e) for e in reversed(_chain(exc)) if str(e).strip()), "") or type(exc).__name__
    return " ".join(text.split())[:200]


def _text(content) -> str:
    if isinstance(content, str):
        return content
    return "".join(b.get("text", "") if isinstance(b, dict) else str(b) for b in content or ()
                   if not isinstance(b, dict) or b.get("type") == "text")
