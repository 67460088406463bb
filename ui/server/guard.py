"""What guards the web server's door: the Host check and the login, as ASGI middleware for Gradio's app.

* Host check (Starlette's `TrustedHostMiddleware`): only requests naming the bind address, localhost or
  a name the user allowed (`--allowed-host`, QA_ALLOWED_HOSTS) are served. A page from another site
  that rebinds its own name to 127.0.0.1 (DNS rebinding) sends its own name and gets 400.
* Origin (`OriginGuard`): another site's page cannot post to the chat (forms, multipart uploads to
  `/gradio_api/upload`), and an upload larger than QA_UPLOAD_TOTAL_MB is refused before it is stored.
* Login attempts: a client gets at most `MAX_FAILURES` failed logins (and wrong API keys for `/v1` and
  `/mcp`, counted together: `Failures`) in any `WINDOW` seconds; further
  attempts get 429 (with Retry-After) until the oldest of those failures is `WINDOW` seconds old. A
  success clears its record. (Behind a reverse proxy every user shares the proxy's address.)
* The password comes from QA_AUTH or a file (QA_AUTH_FILE / --auth-file), never from the command line,
  which other users can read in `ps`.
"""
from __future__ import annotations

import functools
import ipaddress
import socket
import threading
import time
from collections import deque
from pathlib import Path
from urllib.parse import urlsplit

from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.responses import JSONResponse

from index.errors import UsageError
from ui.settings import ServeSettings

LOCAL_NAMES = ("localhost", "127.0.0.1", "[::1]")
MAX_FAILURES = 5
WINDOW = 60.0  # seconds


class Failures:
    """Failed logins and wrong API keys per client address, counted together for the chat's login, `/v1`
    and `/mcp` (one count per server: `failures_for`): a client gets `max_failures` in any `window`
    seconds at all doors together, then waits until the oldest is `window` seconds old. A success clears
    its record."""

    def __init__(self, max_failures: int = MAX_FAILURES, window: float = WINDOW):
        self.max_failures, self.window = max_failures, window
        self._failures: dict[str, deque] = {}
        self._lock = threading.Lock()

    def locked_for(self, client: str) -> float:
        """Seconds `client` must still wait (0: it may try)."""
        now = time.monotonic()
        with self._lock:
            failures = self._failures.get(client)
            while failures and now - failures[0] > self.window:
                failures.popleft()
            if not failures or len(failures) < self.max_failures:
                return 0.0
            return self.window - (now - failures[0])

    def record(self, client: str, ok: bool) -> None:
        """Count a failure of `client`, or clear its record after a success."""
        with self._lock:
            if ok:
                self._failures.pop(client, None)
                return
            now = time.monotonic()
            if len(self._failures) > 10_000:  # many addresses: forget those with no recent failure
                self._failures = {c: f for c, f in self._failures.items() if f and now - f[-1] < self.window}
            self._failures.setdefault(client, deque(maxlen=self.max_failures)).append(now)


@functools.lru_cache(maxsize=None)
def failures_for(settings: ServeSettings) -> Failures:
    """The one count of failures of the server `settings` describe (shared by its login, `/v1`, `/mcp`)."""
    return Failures()


def middleware(settings: ServeSettings) -> list[Middleware]:
    """The guards for `settings`, for `launch(app_kwargs={"middleware": ...})`."""
    return [Middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts(settings), www_redirect=False),
            Middleware(OriginGuard, allowed=tuple(h.lower() for h in settings.allowed_hosts),
                       upload_bytes=int(settings.upload_total_mb * 2**20)),
            Middleware(LoginLimiter, failures=failures_for(settings))]


def same_site(origin: str, host: str, allowed: tuple[str, ...]) -> bool:
    """Whether a browser's `Origin` header names this server (the `Host` it was sent to) or an allowed host."""
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and (parts.netloc.lower() == host.lower() or
                                                   (parts.hostname or "") in allowed)


class OriginGuard:
    """ASGI middleware: a request that changes something (not GET/HEAD/OPTIONS) sent by another site's page
    (its `Origin` is not this server) gets 403; forms and multipart uploads are "simple" cross-site requests
    a browser sends without asking. An upload larger than QA_UPLOAD_TOTAL_MB gets 413 from its
    `Content-Length`, before Gradio writes any of it to its cache. `/v1` and `/mcp` answer in their own
    protocols' shapes (`ui/api/api_guard.py`, the MCP SDK)."""

    def __init__(self, app, allowed: tuple[str, ...] = (), upload_bytes: int | None = None):
        self.app, self.allowed, self.upload_bytes = app, allowed, upload_bytes

    async def __call__(self, scope, receive, send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS") or \
                path.startswith(("/v1/", "/mcp")):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers") or ()}
        origin, length = headers.get("origin"), headers.get("content-length", "")
        if origin is not None and not same_site(origin, headers.get("host", ""), self.allowed):
            refusal = JSONResponse({"detail": "requests from another site's page are refused"}, status_code=403)
        elif self.upload_bytes and path.endswith("/upload") and length.isdigit() and int(length) > self.upload_bytes:
            refusal = JSONResponse({"detail": f"the upload is larger than {self.upload_bytes / 2**20:g} MB "
                                              "(QA_UPLOAD_TOTAL_MB)"}, status_code=413)
        else:
            await self.app(scope, receive, send)
            return
        await refusal(scope, receive, send)


def allowed_hosts(settings: ServeSettings) -> list[str]:
    """Host names requests may carry: localhost, the bind address and the configured names (when bound to
    every interface, also this machine's name and addresses)."""
    names = [*LOCAL_NAMES, _bracketed(settings.host), *settings.allowed_hosts]
    if settings.host in ("0.0.0.0", "::"):
        names += _this_machine()
    return list(dict.fromkeys(n.lower() for n in names if n))


def _bracketed(host: str) -> str:
    try:
        return f"[{host}]" if ipaddress.ip_address(host).version == 6 else host
    except ValueError:
        return host


def _this_machine() -> list[str]:
    name = socket.gethostname()
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(name, None)}
    except OSError:
        addresses = set()
    return [name, socket.getfqdn(name), *sorted(_bracketed(a) for a in addresses)]


def login(settings: ServeSettings) -> tuple[str, str] | None:
    """The (user, password) pair from QA_AUTH or the QA_AUTH_FILE file; None when no login is wanted."""
    if settings.auth_file is not None:
        return parse_login(_read_secret(settings.auth_file), f"the first line of {settings.auth_file}")
    return parse_login(settings.auth)


def parse_login(raw: str | None, where: str = "QA_AUTH") -> tuple[str, str] | None:
    """`"user:password"` as Gradio's (user, password) pair; None when no login is wanted."""
    if not raw:
        return None
    user, sep, password = raw.partition(":")
    if not sep or not user or not password:
        raise UsageError(f"{where} must look like user:password", hint="for example alice:s3cret")
    return user, password


def _read_secret(path: Path) -> str:
    try:
        lines = path.read_text("utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read the login file {path}: {getattr(exc, 'strerror', None) or exc}",
                         hint="QA_AUTH_FILE must name a readable file holding user:password") from None
    return lines[0].strip() if lines else ""


class LoginLimiter:
    """ASGI middleware counting failed logins (Gradio answers 400) per client address, in `failures`
    (shared with the API keys' guard)."""

    def __init__(self, app, max_failures: int = MAX_FAILURES, window: float = WINDOW,
                 failures: Failures | None = None):
        self.app = app
        self.failures = failures or Failures(max_failures, window)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST" or \
                not scope.get("path", "").rstrip("/").endswith("/login"):
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("?", 0))[0]
        wait = self.failures.locked_for(client)
        if wait:
            response = JSONResponse({"detail": f"Too many failed logins; try again in {wait:.0f} s."},
                                    status_code=429, headers={"Retry-After": str(int(wait) + 1)})
            await response(scope, receive, send)
            return

        async def record(message) -> None:
            if message["type"] == "http.response.start":
                self.failures.record(client, ok=200 <= message["status"] < 400)
            await send(message)

        await self.app(scope, receive, record)
