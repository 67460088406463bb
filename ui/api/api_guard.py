"""What `/v1` checks before it computes anything: where the request comes from, what it carries, how big it is.

* Origin: a browser names the page that sends a request in `Origin`. Only the server's own pages (the
  `Origin` names the `Host` the request was sent to) and the hosts the user allowed (QA_ALLOWED_HOSTS) may
  call; a foreign page gets 403, as `/mcp` refuses one. Clients that are not browsers send no `Origin`.
* Content type: a POST must be `application/json`. A foreign page can send a "simple" cross-site POST
  (text/plain, form data) without the browser asking first; requiring JSON makes the browser ask, and the
  answer (no CORS headers) stops it.
* Size: the body is read up to QA_API_MAX_BODY_MB (413 beyond, from the `Content-Length` alone when it is
  announced, so a huge body is never read); the messages and the conversation's characters are capped by
  QA_API_MAX_MESSAGES and QA_API_MAX_HISTORY_CHARS (checked by `ui.api.openai_api.read_request`).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from ui.server.guard import same_site
from ui.settings import ServeSettings


@dataclass(frozen=True)
class Limits:
    """The `/v1` request caps (from `ServeSettings`; the defaults are its defaults)."""

    body_bytes: int = int(ServeSettings().api_max_body_mb * 2**20)
    messages: int = ServeSettings().api_max_messages
    history_chars: int = ServeSettings().api_max_history_chars
    allowed_hosts: tuple[str, ...] = ()

    @classmethod
    def of(cls, settings: ServeSettings) -> "Limits":
        """The caps `settings` set."""
        return cls(int(settings.api_max_body_mb * 2**20), settings.api_max_messages, settings.api_max_history_chars,
                   tuple(h.lower() for h in settings.allowed_hosts))


class Refused(Exception):
    """A request refused before it is read: the status, the message, OpenAI's error code."""

    def __init__(self, status: int, message: str, code: str):
        super().__init__(message)
        self.status, self.code = status, code


def check_origin(request: Request, limits: Limits) -> None:
    """Refuse (403) a request a foreign web page sent: its `Origin` is not this server nor an allowed host."""
    origin = request.headers.get("origin")
    if origin is None:
        return
    if same_site(origin, request.headers.get("host", ""), limits.allowed_hosts):
        return
    raise Refused(403, f"requests from the web page at Origin {origin[:100]!r} are refused: only this server's "
                  "own pages (or QA_ALLOWED_HOSTS) may call the API", "forbidden_origin")


async def read_json(request: Request, limits: Limits) -> Any:
    """The request's JSON body, refused (415) unless it is `application/json`, refused (413) past the cap
    without reading more than the cap, refused (400) when it is not valid JSON."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        raise Refused(415, f"the request body must be sent as application/json, not {kind[:60] or 'untyped'}",
                      "unsupported_media_type")
    too_big = Refused(413, f"the request body is larger than {limits.body_bytes / 2**20:g} MB "
                      "(QA_API_MAX_BODY_MB)", "request_too_large")
    announced = request.headers.get("content-length", "")
    if announced.isdigit() and int(announced) > limits.body_bytes:
        raise too_big
    body, size = [], 0
    async for piece in request.stream():
        size += len(piece)
        if size > limits.body_bytes:
            raise too_big
        body.append(piece)
    try:
        return json.loads(b"".join(body))
    except ValueError:
        raise Refused(400, "the request body is not valid JSON", "invalid_json") from None
