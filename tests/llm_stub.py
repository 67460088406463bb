"""A tiny real HTTP server speaking the OpenAI chat-completions and Ollama /api/chat protocols.

It answers with scripted replies (one per request, the last one repeating), records every
request body it receives, can stream slowly (`delay` seconds between pieces), and can misbehave on
purpose: `mode` "500", "garbage" or "hang" (no answer at all), or, streaming:

* "ramble": the reply over and over, never stopping, ignoring `max_tokens`;
* "stall": the reply's pieces, then nothing (the stream stays open);
* "deaf": like "ramble", but it goes on generating for `deaf_seconds` after the client has gone
  (a server that ignores cancellation).

In "ok" mode it honours `max_tokens` as a real server does: so many pieces, then `finish_reason: length`.
`disconnected` is set when the client closes a stream before its end; `sent` counts the pieces generated.
"""
from __future__ import annotations

import json
import re
import select
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODES = ("ok", "500", "garbage", "hang", "ramble", "stall", "deaf")


class StubLLM:
    """`with StubLLM(["reply"]) as stub: ...` serves on `stub.url` (OpenAI) / `stub.ollama_url`."""

    def __init__(self, replies: list[str] | str = "Hello [1].", mode: str = "ok", delay: float = 0.0,
                 deaf_seconds: float = 3.0, models: list[str] | None = None, failures: int = 0):
        assert mode in MODES, mode
        self.replies = [replies] if isinstance(replies, str) else list(replies)
        self.mode, self.delay, self.deaf_seconds = mode, delay, deaf_seconds
        self.models = models  # what GET /v1/models lists (None: 404, as a server without that route)
        self.failures = failures  # the first so many requests get HTTP 500, whatever the mode
        self.disconnected = threading.Event()
        self.sent = 0
        self.requests: list[dict] = []  # {"path": ..., "body": ...} in arrival order
        self._release = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """Base URL for OpenAI-compatible clients."""
        return f"http://127.0.0.1:{self._server.server_port}/v1"

    @property
    def ollama_url(self) -> str:
        """Base URL for Ollama clients."""
        return f"http://127.0.0.1:{self._server.server_port}"

    def next_reply(self) -> str:
        """The scripted reply for the request being served."""
        return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]

    def messages(self, i: int = -1) -> list[dict]:
        """The chat messages of request `i`."""
        return self.requests[i]["body"]["messages"]

    def __enter__(self) -> "StubLLM":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()


def pieces(text: str) -> list[str]:
    """Split a reply into several stream pieces (words with their following spaces)."""
    return re.findall(r"\S+\s*|\s+", text) or [""]


def _closed(conn: socket.socket) -> bool:
    """Whether the client has closed the connection (readable, with nothing to read)."""
    if not select.select([conn], [], [], 0)[0]:
        return False
    try:
        return conn.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


def _handler(stub: StubLLM):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # keep test output quiet
            pass

        def do_GET(self) -> None:
            if self.path.endswith("/models") and stub.models is not None:
                data = {"object": "list", "data": [{"id": m, "object": "model", "owned_by": "stub"}
                                                   for m in stub.models]}
                return self._send(200, "application/json", json.dumps(data).encode())
            self._send(404, "application/json", b'{"error": {"message": "not found"}}')

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                body = json.loads(raw)
            except ValueError:
                body = {"raw": raw.decode("utf-8", "replace")}
            stub.requests.append({"path": self.path, "body": body})
            if stub.mode == "hang":
                stub._release.wait(30)
                return
            if stub.mode == "500" or len(stub.requests) <= stub.failures:
                return self._send(500, "application/json", b'{"error": {"message": "boom"}}')
            if stub.mode == "garbage":
                return self._send(200, "application/json", b"<html>this is not json")
            reply = stub.next_reply()
            if self.path.endswith("/api/chat"):
                return self._ollama(body, reply)
            return self._openai(body, reply)

        def _openai(self, body: dict, reply: str) -> None:
            base = {"id": "chatcmpl-stub", "created": 0, "model": body.get("model", "stub")}
            if not body.get("stream"):
                data = {**base, "object": "chat.completion", "choices": [{
                    "index": 0, "message": {"role": "assistant", "content": reply}, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
                return self._send(200, "application/json", json.dumps(data).encode())
            cap = body.get("max_tokens") or body.get("max_completion_tokens")

            def chunk(piece: str | None, finish: str | None = None) -> str:
                delta = {} if piece is None else {"role": "assistant", "content": piece}
                event = {**base, "object": "chat.completion.chunk",
                         "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
                return f"data: {json.dumps(event)}\n\n"

            def lines():
                if stub.mode in ("ramble", "deaf"):
                    while True:
                        yield from (chunk(p) for p in pieces(reply))
                parts = pieces(reply)
                yield from (chunk(p) for p in parts[:cap])
                if stub.mode == "stall":
                    while not stub._release.wait(0.05):
                        if _closed(self.connection):
                            stub.disconnected.set()
                            return
                    return
                yield chunk(None, "length" if cap and len(parts) > cap else "stop")
                yield "data: [DONE]\n\n"

            self._stream("text/event-stream", lines())

        def _ollama(self, body: dict, reply: str) -> None:
            base = {"model": body.get("model", "stub"), "created_at": "2024-01-01T00:00:00Z"}
            done = {**base, "done": True, "done_reason": "stop", "total_duration": 1, "eval_count": 1,
                    "prompt_eval_count": 1}
            if body.get("stream") is False:
                data = {**done, "message": {"role": "assistant", "content": reply}}
                return self._send(200, "application/json", json.dumps(data).encode())
            lines = [json.dumps({**base, "message": {"role": "assistant", "content": p}, "done": False}) + "\n"
                     for p in pieces(reply)]
            lines.append(json.dumps({**done, "message": {"role": "assistant", "content": ""}}) + "\n")
            self._stream("application/x-ndjson", lines)

        def _send(self, status: int, kind: str, data: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _stream(self, kind: str, lines) -> None:
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            gone_at = None
            for line in lines:
                if stub.delay:
                    stub._release.wait(stub.delay)
                if stub._release.is_set() and stub.mode in ("ramble", "deaf"):
                    return
                data = line.encode()
                stub.sent += 1
                try:
                    self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                    self.wfile.flush()
                except OSError:  # the client went away
                    stub.disconnected.set()
                    if stub.mode != "deaf":
                        return
                    gone_at = gone_at or time.monotonic()  # a deaf server generates on regardless
                    time.sleep(0.01)
                    if time.monotonic() - gone_at > stub.deaf_seconds:
                        return
            try:
                self.wfile.write(b"0\r\n\r\n")
            except OSError:
                stub.disconnected.set()

    return Handler
