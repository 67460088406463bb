"""An OpenAI-compatible API beside the chat, for the clients people already use (Open WebUI, LibreChat, the
`openai` library): `GET /v1/models` and `POST /v1/chat/completions`, streamed (server-sent events) or not.

* The models are the answerers (`qa/answerers.py`) usable with this configuration.
* The last message is the question; the messages before it are the conversation, so follow-ups work.
* The reply's text is the short answer's line (`Answer: Chris Cavoli [1]`, when there is one), the answer with
  its `[n]` markers, then a short list of the sources (`qa.sharing.export.reply_text`). The structured answer (citations with quotes, offsets and locations; `qa.types.answer_dict`) travels in an
  extra top-level field, `seedqa`, which OpenAI clients ignore (in a stream: on the last chunk).
* Optional extra body fields: `k` (passages searched), `collection` (a named collection), `where` (a filter:
  `{"source", "title", "type", "after", "before"}`, see `qa/retrieval/filters.py`).
* `usage` counts tokens as words and punctuation marks (`ui/api/openai_usage.py`; with `stream_options.include_usage`
  a stream ends with it too); `max_tokens` (or `max_completion_tokens`) cuts the reply, `finish_reason` "length".
  System messages, `temperature`, `top_p`, `n`, `stop` and tools are ignored (the answer is extractive or the
  configured answerer's); the README says so.
* Errors have OpenAI's shape (`{"error": {"message", "type", "param", "code"}}`) and status codes; the bearer
  key (`ui/api/bearer.py`) guards every route.
"""
from __future__ import annotations

import contextlib
import functools
import json
import logging
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, AsyncIterator, Iterator

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Mount, Route

from index.errors import IndexMissingError, QAError, UsageError
from qa.answerers import available
from qa.errors import LLMError
from qa.history import text_of
from qa.pipeline import Assistant
from qa.retrieval.filters import Filter, of as read_filter
from qa.sharing.export import answer_of_reply, reply_head, reply_note, reply_sources, reply_text
from qa.types import Answer, answer_dict
from ui.api import openai_usage as tokens
from ui.api.api_guard import Limits, Refused, check_origin, read_json
from ui.api.bearer import BearerGuard, api_key, error_body
from ui.server import guard
from ui.settings import Config

PREFIX = "/v1"
OWNER = "seedqa"
EXTRA = "seedqa"  # the extra field carrying the structured answer
log = logging.getLogger(__name__)


class ApiError(Exception):
    """A request the API refuses, with OpenAI's error type and code."""

    def __init__(self, status: int, message: str, kind: str = "invalid_request_error", code: str | None = None,
                 param: str | None = None):
        super().__init__(message)
        self.status, self.kind, self.code, self.param = status, kind, code, param

    def response(self) -> JSONResponse:
        """The error as OpenAI's API sends it."""
        return JSONResponse(error_body(str(self), self.kind, self.code, self.param), status_code=self.status)


@dataclass(frozen=True)
class ChatRequest:
    """What a chat-completion request asks: which answerer, the question, the conversation before it."""

    model: str
    question: str
    history: list[dict]
    stream: bool
    k: int | None
    collection: str | None = None
    where: Filter | None = None
    max_tokens: int | None = None  # the reply is cut after this many tokens (`ui/api/openai_usage.py`)
    include_usage: bool = False  # a stream ends with a chunk carrying `usage`
    prompt_tokens: int = 0


def routes(cfg: Config, assistant: Assistant) -> list[BaseRoute]:
    """The `/v1` routes, behind the bearer key, to mount in the chat's app."""
    api = OpenAIApi(cfg, assistant)
    inner = Starlette(routes=[Route("/models", api.models, methods=["GET"]),
                              Route("/models/{model:path}", api.model, methods=["GET"]),
                              Route("/chat/completions", api.completions, methods=["POST"])],
                      exception_handlers={404: _not_found, 405: _not_allowed})
    return [Mount(PREFIX, app=BearerGuard(inner, api_key(cfg.serve), guard.failures_for(cfg.serve)))]


class OpenAIApi:
    """The endpoints' handlers around the app's one `Assistant`."""

    def __init__(self, cfg: Config, assistant: Assistant):
        self.assistant = assistant
        self.names = available(cfg.answer.has_endpoint)
        self.default = cfg.answer.answerer if cfg.answer.answerer in self.names else self.names[0]
        self.limits = Limits.of(cfg.serve)
        # the server's own folders never reach a client (its messages name them for the terminal)
        folders = {cfg.index.db_dir: "the index folder", cfg.index.seeds_dir: "the documents folder"}
        self.private = sorted(((str(p), name) for f, name in folders.items()
                               for p in {Path(f), Path(f).absolute()}), key=lambda pair: -len(pair[0]))
        self.concurrency = cfg.serve.api_concurrency
        self._slots: anyio.CapacityLimiter | None = None

    async def _run(self, fn, *args):
        """`fn(*args)` on a worker thread, at most QA_API_CONCURRENCY at once: forty requests at once would
        otherwise run forty answers at once, and the memory they take (ONNX Runtime's arenas, glibc's
        heaps) stays with the process after the burst."""
        if self._slots is None:  # created in the event loop
            self._slots = anyio.CapacityLimiter(self.concurrency)
        return await anyio.to_thread.run_sync(functools.partial(fn, *args), limiter=self._slots)

    async def models(self, request: Request) -> Response:
        """`GET /v1/models`: the answerers, as models."""
        try:
            check_origin(request, self.limits)
        except Refused as exc:
            return api_error(exc).response()
        return JSONResponse({"object": "list", "data": [_model(name) for name in self.names]})

    async def model(self, request: Request) -> Response:
        """`GET /v1/models/{id}`: one answerer, or OpenAI's 404."""
        try:
            check_origin(request, self.limits)
        except Refused as exc:
            return api_error(exc).response()
        name = request.path_params["model"]
        if name not in self.names:
            return _unknown_model(name, self.names).response()
        return JSONResponse(_model(name))

    async def completions(self, request: Request) -> Response:
        """`POST /v1/chat/completions`: a cited answer to the last message, streamed or not."""
        try:
            check_origin(request, self.limits)
            asked = read_request(await read_json(request, self.limits), self.names, self.default, self.limits)
            if asked.stream:
                return await self._streamed(asked)
            answer = await self._run(self.assistant.answer, asked.question, asked.history, asked.k,
                                             asked.model, asked.where, asked.collection)
            return JSONResponse(completion(asked.model, answer, asked))
        except Exception as exc:  # the edge: every failure becomes an OpenAI-shaped error
            return self._private(api_error(exc)).response()

    def _private(self, err: ApiError) -> ApiError:
        """`err` with the server's folders named, not shown."""
        message = str(err)
        for path, name in self.private:
            message = message.replace(path, name)
        return err if message == str(err) else ApiError(err.status, message, err.kind, err.code, err.param)

    async def _streamed(self, asked: ChatRequest) -> Response:
        pieces = self.assistant.answer_stream(asked.question, asked.history, asked.k, asked.model, asked.where,
                                              asked.collection)
        first = await self._run(next, pieces, None)  # errors before the stream starts get a status
        return StreamingResponse(_events(asked, first, pieces, self._run), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


def read_request(body: Any, names: list[str], default: str, limits: Limits = Limits()) -> ChatRequest:
    """The request's model, question, history and options; an `ApiError` naming what is wrong (also when
    the messages or the conversation's characters pass `limits`)."""
    if not isinstance(body, dict):
        raise ApiError(400, "the request body must be a JSON object")
    model = body.get("model") or default
    if model not in names:
        raise _unknown_model(model, names)
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages or not all(isinstance(m, dict) for m in messages):
        raise ApiError(400, "messages must be a non-empty list of {role, content} objects", param="messages")
    if len(messages) > limits.messages:
        raise ApiError(400, f"{len(messages)} messages are more than {limits.messages} (QA_API_MAX_MESSAGES); "
                       "start a new conversation", code="context_length_exceeded", param="messages")
    turns = [{"role": m.get("role"), "content": _content(m)} for m in messages if m.get("role") in
             ("user", "assistant")]
    if not turns or turns[-1]["role"] != "user" or not turns[-1]["content"].strip():
        raise ApiError(400, "the last message must be the user's question", param="messages")
    chars = sum(len(t["content"]) for t in turns[:-1])
    if chars > limits.history_chars:
        raise ApiError(400, f"the conversation before the question has {chars:,} characters, more than "
                       f"{limits.history_chars:,} (QA_API_MAX_HISTORY_CHARS); start a new conversation",
                       code="context_length_exceeded", param="messages")
    k = body.get("k")
    if k is not None and (isinstance(k, bool) or not isinstance(k, int)):
        raise ApiError(400, f"k must be a whole number, not {k!r}", param="k")
    collection = body.get("collection")
    if collection is not None and not isinstance(collection, str):
        raise ApiError(400, f"collection must be a name, not {collection!r}", param="collection")
    try:
        where = read_filter(body.get("where"))
    except UsageError as exc:
        raise ApiError(400, _said(exc), param="where") from None
    options = body.get("stream_options") or {}
    return ChatRequest(model, turns[-1]["content"], turns[:-1], bool(body.get("stream")), k, collection or None, where,
                       _max_tokens(body), isinstance(options, dict) and bool(options.get("include_usage")),
                       sum(tokens.count(text_of(m.get("content"))) for m in messages))


def _max_tokens(body: dict) -> int | None:
    """`max_completion_tokens` (OpenAI's current name) or `max_tokens`: a positive whole number, or None."""
    param = "max_completion_tokens" if body.get("max_completion_tokens") is not None else "max_tokens"
    limit = body.get(param)
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ApiError(400, f"{param} must be a whole number of at least 1, not {limit!r}", param=param)
    return limit


def _unknown_model(model: str, names: list[str]) -> ApiError:
    return ApiError(404, f"The model {model!r} does not exist; choose one of: {', '.join(names)}",
                    code="model_not_found", param="model")


def _model(name: str) -> dict:
    return {"id": name, "object": "model", "created": 0, "owned_by": OWNER}


def _content(message: dict) -> str:
    """A message's text; our own earlier replies without their short-answer line and list of sources."""
    text = text_of(message.get("content"))
    return answer_of_reply(text) if message.get("role") == "assistant" else text


def completion(model: str, answer: Answer, asked: ChatRequest | None = None) -> dict:
    """A `chat.completion` object for `answer` (cut to the request's `max_tokens`, with its `usage`), with the
    structured answer in the extra field."""
    reply = reply_text(answer)
    limit = asked.max_tokens if asked else None
    content = tokens.cut(reply, limit)
    return {"id": _id(), "object": "chat.completion", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                         "finish_reason": "length" if content != reply else "stop", "logprobs": None}],
            "usage": tokens.usage(asked.prompt_tokens if asked else 0, tokens.count(content)),
            EXTRA: answer_dict(answer)}


def chunk(cid: str, model: str, delta: dict, finish: str | None = None, extra: dict | None = None) -> dict:
    """One `chat.completion.chunk` of a stream."""
    out = {"id": cid, "object": "chat.completion.chunk", "created": int(time.time()), "model": model,
           "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]}
    return out | ({EXTRA: extra} if extra is not None else {})


async def _events(asked: ChatRequest, first, pieces: Iterator, run=run_in_threadpool) -> AsyncIterator[str]:
    """The stream: the role, each text piece, the sources, a last chunk with the structured answer, then (when
    asked) the usage, and [DONE]. Each piece is sent once the next one is there: an answer in one piece (the
    extractive answerer's) is then known whole before it is sent, so its short-answer line can lead it, as in
    the reply that is not streamed. A client that hangs up mid-way closes `pieces` (what the answer held is
    let go at once)."""
    cid, model, budget = _id(), asked.model, tokens.Budget(asked.max_tokens)
    held, piece = None, first

    def send(text: str) -> str | None:
        fits = budget.take(text)
        return _sse(chunk(cid, model, {"content": fits})) if fits else None

    try:
        yield _sse(chunk(cid, model, {"role": "assistant", "content": ""}))
        while isinstance(piece, str):
            if held is not None and (out := send(held)):
                yield out
            held, piece = piece, await run(next, pieces, None)
    except Exception as exc:  # after the headers: the error travels as an event, as OpenAI sends them
        err = api_error(exc)
        yield _sse(error_body(str(err), err.kind, err.code))
        return
    finally:
        if hasattr(pieces, "close"):
            with contextlib.suppress(ValueError):  # still running on its thread: it ends with that step
                pieces.close()
    if isinstance(piece, Answer):
        rest = (held or "") + reply_note(piece) + reply_sources(piece)
        head = reply_head(piece) if not budget.sent else ""
        if out := send(head + rest):
            yield out
        yield _sse(chunk(cid, model, {}, "length" if budget.cut else "stop", answer_dict(piece)))
        if asked.include_usage:
            yield _sse({"id": cid, "object": "chat.completion.chunk", "created": int(time.time()), "model": model,
                        "choices": [], "usage": tokens.usage(asked.prompt_tokens, budget.tokens)})
    yield "data: [DONE]\n\n"


def api_error(exc: Exception) -> ApiError:
    """The OpenAI-shaped error for any failure (no traceback leaves the server)."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, Refused):
        return ApiError(exc.status, str(exc), code=exc.code)
    if isinstance(exc, UsageError):
        return ApiError(400, _said(exc))
    if isinstance(exc, IndexMissingError):
        return ApiError(503, _said(exc), "server_error", "index_missing")
    if isinstance(exc, LLMError):
        return ApiError(502, _said(exc), "server_error", "upstream_error")
    if isinstance(exc, QAError):
        return ApiError(500, _said(exc), "server_error")
    log.exception("chat completion failed")
    return ApiError(500, f"Something went wrong ({type(exc).__name__}).", "server_error")


def _said(exc: QAError) -> str:
    return exc.message + (f" ({exc.hint})" if exc.hint else "")


def _sse(data: dict) -> str:
    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"


def _id() -> str:
    return "chatcmpl-" + uuid.uuid4().hex


async def _not_found(request: Request, exc: Exception) -> Response:
    return ApiError(404, f"Unknown endpoint {request.url.path}", code="unknown_url").response()


async def _not_allowed(request: Request, exc: Exception) -> Response:
    return ApiError(405, f"{request.method} is not allowed on {request.url.path}", code="method_not_allowed"
                    ).response()
