"""The LLM answerer: rewrite a follow-up, retrieve, stream a cited answer from an OpenAI-compatible or
Ollama server, releasing only the sentences whose `[n]` citations the passages support; bounded in time
and length, cancelled upstream when abandoned, replaced by the extractive answer when nothing holds."""
from __future__ import annotations

import time
from dataclasses import replace
from typing import Generator

import httpx

from index.errors import QAError, UsageError
from qa import wording
from qa.answerers import Search
from qa.conversation import question as q
from qa.errors import LLMError
from qa.history import History, messages
from qa.llm import prompt
from qa.llm.upstream import HEARTBEAT, Budget, Call, CancellableTransport
from qa.llm.verified import Verified
from qa.settings import AnswerSettings
from qa.types import Answer, Citation, Passage
from qa.wording import NOT_FOUND

OPENAI_URL = "https://api.openai.com/v1"
OLLAMA_URL = "http://localhost:11434"
DEFAULT_MODELS = {"openai": "gpt-4o-mini", "ollama": "llama3.2"}
STALL_MARGIN = 5.0  # seconds the HTTP client waits beyond QA_LLM_TIMEOUT before giving up by itself


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
    """A LangChain chat model for backend "openai" (any OpenAI-compatible server) or "ollama", asking for at
    most `llm_max_tokens` tokens, over a transport whose requests `qa.llm.upstream.Call` can cancel."""
    url = endpoint(name, settings)
    model = settings.llm_model or served_model(name, url, settings) or DEFAULT_MODELS.get(name)
    # The client's own read timeout is only a backstop: `qa.llm.upstream.Call` ends a stalled stream at
    # QA_LLM_TIMEOUT itself, with what was verified so far, and cancels the request.
    timeout = settings.llm_timeout + STALL_MARGIN
    if name == "openai":
        from langchain_openai import ChatOpenAI

        # ChatOpenAI sends the cap as `max_completion_tokens`, which some local servers ignore: they read
        # `max_tokens`, sent too (but not to api.openai.com, whose newer models refuse it).
        extra = {} if url == OPENAI_URL else {"max_tokens": settings.llm_max_tokens}
        return ChatOpenAI(base_url=url, model=model, api_key=settings.llm_api_key or "not-needed",
                          timeout=timeout, max_retries=0, max_tokens=settings.llm_max_tokens,
                          extra_body=extra or None, stream_usage=False,
                          http_client=httpx.Client(transport=CancellableTransport(), timeout=timeout))
    if name == "ollama":
        from langchain_ollama import ChatOllama

        return ChatOllama(base_url=url, model=model, num_predict=settings.llm_max_tokens,
                          client_kwargs={"timeout": timeout},
                          sync_client_kwargs={"transport": CancellableTransport()})
    raise UsageError(f"{name!r} is not an LLM answerer", hint="choose openai or ollama")


def served_model(name: str, url: str, settings: AnswerSettings) -> str | None:
    """The model a server offers (the first of `/v1/models`, or of Ollama's `/api/tags`), asked once at start
    when QA_LLM_MODEL is empty; None when it cannot say (unreachable, another API): the question then
    reports what is wrong."""
    if not settings.llm_base_url:
        return None  # api.openai.com: never guessed
    path, key, field = ("/models", "data", "id") if name == "openai" else ("/api/tags", "models", "name")
    headers = {"Authorization": f"Bearer {settings.llm_api_key}"} if settings.llm_api_key else {}
    try:
        listed = httpx.get(url + path, headers=headers, timeout=min(5.0, settings.llm_timeout)).json()[key]
        return next(str(m[field]) for m in listed if isinstance(m, dict) and m.get(field))
    except Exception:  # noqa: BLE001 - any failure: no name learnt, the default stands
        return None


class LLMAnswerer:
    """Answers from retrieved passages with a chat model; citations are checked, never trusted. Only
    sentences that a passage they cite supports reach the user (`qa.llm.verified`); a reply with none is
    replaced by the extractive answer (or an abstention), labelled with the reason. The model's time
    (`llm_budget`) and length (`llm_max_tokens`) are bounded, and an abandoned request is cancelled."""

    def __init__(self, backend: str, search: Search, chat_model, settings: AnswerSettings, fallback=None):
        self.name = self.backend = backend
        self.search, self.model, self.settings = search, chat_model, settings
        self.url = endpoint(backend, settings)
        self._fallback = fallback

    @property
    def fallback(self):
        """The extractive answerer over the same search, for replies that cannot be shown."""
        if self._fallback is None:
            from qa.extractive.answerer import ExtractiveAnswerer

            self._fallback = ExtractiveAnswerer(self.search)
        return self._fallback

    def stream(self, question: str, history: History | None, k: int) -> Generator[str, None, Answer]:
        """Yield the verified text as the model produces it ("" while there is none, so the caller can stop
        the stream); return the validated `Answer`."""
        budget = Budget(self.settings.llm_budget)
        standalone = yield from self._rewrite(question, history, budget)
        passages = self.search.search(self.search.embed_query(standalone), k)
        if not passages:
            yield NOT_FOUND
            return Answer(standalone, NOT_FOUND, (), True, self.backend)
        reply, verified = prompt.ReplyFilter(len(passages)), Verified(passages, standalone)
        call = Call(lambda: self.model.stream(prompt.answer_messages(question, standalone, passages)), budget,
                    self.settings.llm_timeout)
        cut, pieces, beat = "", 0, time.monotonic()
        for chunk in self._guarded(call):
            if chunk is not None:
                piece = _text(chunk.content)
                pieces += bool(piece)
                reply.feed(piece)
                cut = self._over(pieces, reply, chunk)
                if reply.decided and reply.abstained:
                    break  # the refusal: nothing more to read
                released = verified.feed(reply.text) if reply.decided else ""
                if released:
                    yield released
                    beat = time.monotonic()
                    continue
                if verified.markup:
                    cut = "markup"
            if cut:
                break
            if time.monotonic() - beat >= HEARTBEAT:
                yield ""  # nothing new to show for a while: the caller may stop here
                beat = time.monotonic()
        cut = cut or call.stopped
        reply.close()
        if not reply.text.strip() and not reply.abstained:
            if cut:
                raise LLMError(f"LLM server at {self.url} did not answer within "
                               f"{min(self.settings.llm_budget, self.settings.llm_timeout):g} s",
                               hint="check the server, or raise QA_LLM_BUDGET / QA_LLM_TIMEOUT")
            raise LLMError(f"LLM server at {self.url} returned an empty reply", hint="check the model's log")
        if reply.abstained:
            yield NOT_FOUND
            return _abstain(standalone, passages, self.backend)
        released = verified.close(reply.text, cut=bool(cut))
        if released:
            yield released
        if verified.citations:
            cites = tuple(citation(n, passages[n - 1]) for n in verified.citations)
            return Answer(standalone, verified.text, cites, False, self.backend, tuple(passages),
                          flagged=self._note(cut, verified.dropped))
        reason = "markup" if verified.markup else cut if cut in wording.LLM_FAILED else "uncited"
        return (yield from self._fall_back(question, history, k, reason))

    def _over(self, pieces: int, reply: prompt.ReplyFilter, chunk) -> str:
        """"tokens" once the reply reaches the token cap: the server said so, or it ignores the cap (as many
        pieces as tokens allowed - servers stream a token a piece -, or far more characters)."""
        meta = getattr(chunk, "response_metadata", None) or {}
        limit = self.settings.llm_max_tokens
        if "length" in (meta.get("finish_reason"), meta.get("done_reason")):
            return "tokens"
        return "tokens" if pieces >= limit or len(reply.text) > 8 * limit else ""

    def _facts(self) -> dict:
        return {"budget": self.settings.llm_budget, "tokens": self.settings.llm_max_tokens,
                "stall": self.settings.llm_timeout}

    def _note(self, cut: str, dropped: int) -> str | None:
        """The note on an answer that was cut short or left sentences out (None: nothing to say)."""
        notes = [wording.llm_note(wording.LLM_CUT[cut], **self._facts())] if cut in wording.LLM_CUT else []
        if dropped:
            notes.append(wording.llm_note(wording.LLM_DROPPED, n=dropped, s="" if dropped == 1 else "s",
                                          were="was" if dropped == 1 else "were"))
        return "; ".join(notes) or None

    def _fall_back(self, question: str, history: History | None, k: int, reason: str) -> Generator[str, None, Answer]:
        """The extractive answer instead of a reply that cannot be shown, labelled with why; or its
        abstention, with the reason."""
        why = wording.llm_note(wording.LLM_FAILED[reason], **self._facts())
        answer = yield from self.fallback.stream(question, history, k)
        note = wording.LLM_ABSTAIN if answer.abstained else wording.LLM_FALLBACK
        return replace(answer, flagged=wording.llm_note(note, reason=why))

    def warm_up(self) -> None:
        """Nothing to prepare: the model is the server's (the extractive fallback warms on first use)."""

    def standalone(self, question: str, history: History | None, k: int) -> str:
        """`question` rewritten by the model to stand alone when there is a conversation; else unchanged
        (`k` is unused: the model reads the history, not passages)."""
        gen = self._rewrite(question, history, Budget(self.settings.llm_budget))
        try:
            while True:
                next(gen)
        except StopIteration as done:
            return done.value

    def _rewrite(self, question: str, history: History | None, budget: Budget) -> Generator[str, None, str]:
        """The standalone question: the first line the model writes (read as it streams, then the request
        is cancelled), or the question expanded from the history when the line is unusable."""
        turns = [(m.role, m.text) for m in messages(history)]
        if not turns:
            return question
        call = Call(lambda: self.model.stream(prompt.rewrite_messages(question, turns)), budget,
                    self.settings.llm_timeout)
        text = ""
        for chunk in self._guarded(call):
            if chunk is None:
                yield ""
                continue
            text += _text(chunk.content)
            if "\n" in text.strip():
                break
        if call.stopped and not text.strip():
            raise LLMError(f"LLM server at {self.url} did not answer within "
                           f"{min(self.settings.llm_budget, self.settings.llm_timeout):g} s",
                           hint="check the server, or raise QA_LLM_BUDGET / QA_LLM_TIMEOUT")
        try:
            return q.clean(prompt.read_rewrite(text))
        except UsageError:
            return q.expand(question, history)

    def _guarded(self, call: Call) -> Generator:
        """The call's items; any client/transport/parse failure becomes an `LLMError`. Leaving early
        cancels the request."""
        items = iter(call)
        try:
            yield from items
        except QAError:
            raise
        except Exception as exc:  # noqa: BLE001 - any client/transport/parse failure becomes an LLMError
            raise llm_error(exc, self.url, self.settings.llm_timeout) from exc
        finally:
            call.close()


def _abstain(question: str, passages: list[Passage], backend: str) -> Answer:
    return Answer(question, NOT_FOUND, (), True, backend, tuple(passages), tuple(passages[:3]))


def citation(n: int, p: Passage) -> Citation:
    """An LLM cites whole passages: the quote is the passage text with its exact offsets."""
    return Citation(n=n, source=p.source, title=p.title, published=p.published, start=p.start, end=p.end,
                    start_line=p.start_line, end_line=p.end_line, quote=p.text, score=round(p.score, 4),
                    page=p.page, passage_id=p.id, context=p.text, context_start=p.start, unit=p.unit(),
                    heading=p.heading_at(p.start))


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
