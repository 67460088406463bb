"""`qa ask --server URL`: ask a running `qa serve` instead of opening the index here.

The question goes to the server's OpenAI-compatible API (`POST /v1/chat/completions`), whose reply
carries the structured answer (`seedqa`): the server's warm model and index answer at once, and the
terminal shows what `qa ask` shows. Only the standard library is used, so asking costs no imports.
"""
from __future__ import annotations

import json
import urllib.error
import urllib.request

from index.errors import QAError, UsageError
from qa.retrieval.filters import Filter
from qa.types import Answer, answer_from_dict
from ui.errors import ServeError

TIMEOUT = 600.0  # seconds: a generative answerer on a slow machine can take minutes


def ask(url: str, question: str, *, key: str | None, k: int | None = None, answerer: str | None = None,
        collection: str | None = None, where: Filter | None = None) -> Answer:
    """The answer of the `qa serve` at `url` (`http://` may be left out) to `question`. A refused question or
    flag is a `UsageError` with the server's message; anything else that goes wrong, a `ServeError`."""
    url = url if "://" in url else f"http://{url}"
    body = {"messages": [{"role": "user", "content": question}], "k": k, "collection": collection,
            "model": answerer, "where": where.to_json() if where else None}
    data = json.dumps({name: v for name, v in body.items() if v is not None}).encode()
    request = urllib.request.Request(_endpoint(url), data=data, method="POST",
                                     headers={"Content-Type": "application/json"} | _auth(key))
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            reply = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        raise _refused(url, exc) from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise _unreachable(url, exc) from None
    if not isinstance(reply, dict) or not isinstance(reply.get("seedqa"), dict):
        raise ServeError(f"{url} answered, but not as `qa serve` does", hint="check the address")
    return answer_from_dict(reply["seedqa"])


def _unreachable(url: str, exc: Exception) -> ServeError:
    if isinstance(exc, json.JSONDecodeError):
        return ServeError(f"{url} answered, but not as `qa serve` does", hint="check the address")
    return ServeError(f"cannot reach a qa server at {url} ({getattr(exc, 'reason', exc)})",
                      hint="start one with `qa serve`, or leave out --server to answer here")


def _endpoint(url: str) -> str:
    return url.rstrip("/") + "/v1/chat/completions"


def _auth(key: str | None) -> dict:
    return {"Authorization": f"Bearer {key}"} if key else {}


def _refused(url: str, exc: urllib.error.HTTPError) -> QAError:
    """The server's own message (OpenAI's error shape): a usage error (exit 2, as `qa ask` here) when the
    question or its flags were refused, a server error otherwise, each with what to do about it."""
    try:
        message = json.loads(exc.read())["error"]["message"]
    except (ValueError, KeyError, TypeError):
        message = f"HTTP {exc.code}"
    if exc.code == 401:
        return ServeError(f"the qa server at {url} refused the key: {message}",
                          hint="set QA_API_KEY (or QA_AUTH / QA_AUTH_FILE) to the server's key")
    if exc.code < 500 and exc.code != 429:
        return UsageError(f"{message} (the qa server at {url})")
    return ServeError(f"the qa server at {url} could not answer: {message}", hint="see the server's log")
