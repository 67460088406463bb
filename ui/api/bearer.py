"""The bearer key of the machine endpoints (`/v1`, `/mcp`): which key, and an ASGI wrapper that checks it.

The key is QA_API_KEY; when it is unset and the chat has a login (QA_AUTH), the login's password is the
key (QA_AUTH or the QA_AUTH_FILE file), so setting a login never leaves the API open. With neither, the endpoints are open, like the chat
(which listens on loopback unless told otherwise). Keys come from settings, never from the command line.
A client gets at most `MAX_FAILURES` wrong keys in any `WINDOW` seconds, counted with its failed logins to
the chat (`ui.server.guard.Failures`, one count per server); then 429 until the oldest is `WINDOW` seconds old;
the right key clears the count.
"""
from __future__ import annotations

import hmac

from starlette.responses import JSONResponse

from ui.server import guard
from ui.settings import ServeSettings

MAX_FAILURES = 5
WINDOW = 60.0  # seconds


def api_key(settings: ServeSettings) -> str | None:
    """The key requests must bear: QA_API_KEY, else the chat login's password, else None (open)."""
    if settings.api_key:
        return settings.api_key
    login = guard.login(settings)  # QA_AUTH or QA_AUTH_FILE
    return login[1] if login else None


def error_body(message: str, kind: str, code: str | None = None, param: str | None = None) -> dict:
    """An error as OpenAI's API shapes it (what OpenAI clients read and raise)."""
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


class BearerGuard:
    """ASGI wrapper: every HTTP request must carry `Authorization: Bearer <key>` when a key is set."""

    def __init__(self, app, key: str | None, failures: guard.Failures | None = None):
        self.app, self.key = app, key
        self.failures = failures or guard.Failures(MAX_FAILURES, WINDOW)  # the server's: shared with the login

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or not self.key:
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("?", 0))[0]
        wait = self.failures.locked_for(client)
        if wait:
            await _refuse(429, f"Too many wrong API keys; try again in {wait:.0f} s.", "rate_limit_exceeded",
                          {"Retry-After": str(int(wait) + 1)})(scope, receive, send)
        elif self._bears_key(scope):
            self.failures.record(client, ok=True)
            await self.app(scope, receive, send)
        else:
            self.failures.record(client, ok=False)
            await _refuse(401, "Missing or wrong API key: send `Authorization: Bearer <QA_API_KEY>`.",
                          "invalid_api_key", {"WWW-Authenticate": "Bearer"})(scope, receive, send)

    def _bears_key(self, scope) -> bool:
        headers = dict(scope.get("headers") or ())
        scheme, _, token = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), self.key.encode())


def _refuse(status: int, message: str, code: str, headers: dict) -> JSONResponse:
    kind = "rate_limit_error" if status == 429 else "authentication_error"
    return JSONResponse(error_body(message, kind, code), status_code=status, headers=headers)
