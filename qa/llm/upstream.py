"""Bounded, cancellable calls to the LLM server.

A model that does not stop, or a server that stalls, must not hold an answer (or the next one) hostage:

* `CancellableTransport` is the httpx transport the chat clients use. It notes the socket of every response
  opened while a `Call` is active, so the call can shut them down from another thread: the server sees the
  connection close and (llama.cpp, vLLM, Ollama) stops generating, instead of writing on for the next
  question to wait behind.
* `Call` runs the client's blocking iterator in a reader thread and hands its items over with a deadline: a
  total budget for the whole answer and a longest wait for the next piece. While nothing arrives it yields
  `None` every `HEARTBEAT` seconds, so whoever drives the stream (the web chat's Stop, a `/v1` client that
  disconnected) gets the chance to close it; closing it, or running out of time, cancels the request.
"""
from __future__ import annotations

import contextvars
import queue
import socket
import threading
import time
from typing import Callable, Iterable, Iterator

import httpcore
import httpx

HEARTBEAT = 1.0  # seconds between `None` items while the server sends nothing
_CALL: contextvars.ContextVar["Call | None"] = contextvars.ContextVar("seedqa_llm_call", default=None)


class _Backend(httpcore.SyncBackend):
    """httpcore's network backend, noting each new connection's socket with the active `Call`, so that a
    request still waiting for its response's headers (a busy server) can be cut off too."""

    def connect_tcp(self, *args, **kwargs) -> httpcore.NetworkStream:
        stream = super().connect_tcp(*args, **kwargs)
        call = _CALL.get()
        if call is not None:
            call.opened(stream.get_extra_info("socket"))
        return stream


class CancellableTransport(httpx.HTTPTransport):
    """An `httpx.HTTPTransport` whose connections and responses, opened inside a `Call`, that call can cut
    off."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # httpx offers no parameter for the network backend: set on its connection pool (httpcore's API)
        self._pool._network_backend = _Backend()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send `request`; register the response's socket with the active `Call` (if any)."""
        call = _CALL.get()
        if call is not None and call.cancelled:
            raise httpx.ReadError("cancelled", request=request)
        response = super().handle_request(request)
        stream = response.extensions.get("network_stream")
        sock = stream.get_extra_info("socket") if stream is not None else None
        if call is not None and sock is not None:
            call.opened(sock)
        return response


class Budget:
    """The time one answer may take from the model, started when the answer starts."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic):
        self.seconds, self._clock = seconds, clock
        self.ends = clock() + seconds

    def left(self) -> float:
        """Seconds left (never negative)."""
        return max(0.0, self.ends - self._clock())


class Call:
    """`for item in Call(lambda: model.stream(...), budget, stall): ...` - items, or `None` heartbeats.

    After the loop, `stopped` says why it ended early: "budget" (the answer's time ran out), "stall" (no
    piece for `stall` seconds) or "" (the iterator ended, or the consumer stopped). An exception raised by
    the iterator is raised here. `close()` (also on leaving the loop early) cancels the request.
    """

    def __init__(self, make: Callable[[], Iterable], budget: Budget, stall: float):
        self.budget, self.stall = budget, stall
        self.stopped = ""
        self.cancelled = False
        self._make = make
        self._items: queue.Queue = queue.Queue()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._read, name="seedqa-llm-read", daemon=True)
        self._iter: Iterator | None = None

    def __iter__(self) -> Iterator:
        self._iter = self._run()
        return self._iter

    def _run(self) -> Iterator:
        self._thread.start()
        last = time.monotonic()
        try:
            while True:
                wait = min(self.budget.left(), max(0.0, last + self.stall - time.monotonic()), HEARTBEAT)
                try:
                    kind, value = self._items.get(timeout=wait) if wait > 0 else self._items.get_nowait()
                except queue.Empty:
                    if self.budget.left() <= 0:
                        self.stopped = "budget"
                        return
                    if time.monotonic() - last >= self.stall:
                        self.stopped = "stall"
                        return
                    yield None
                    continue
                if kind == "end":
                    return
                if kind == "error":
                    raise value
                last = time.monotonic()
                yield value
        finally:
            self.close()

    def close(self) -> None:
        """Stop reading and shut down the call's connections (the server sees the client go)."""
        with self._lock:
            if self.cancelled:
                return
            self.cancelled = True
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:  # already closed by the client: nothing left to cancel
                pass

    def opened(self, sock: socket.socket) -> None:
        """Called by the transport for each response opened by this call."""
        with self._lock:
            if not self.cancelled:
                if sock is not None and sock not in self._sockets:
                    self._sockets.append(sock)
                return
        if sock is None:
            return
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _read(self) -> None:
        _CALL.set(self)
        try:
            items = self._make()
            try:
                for item in items:
                    if self.cancelled:
                        break
                    self._items.put(("item", item))
            finally:
                close = getattr(items, "close", None)
                if close is not None:
                    close()
            self._items.put(("end", None))
        except BaseException as exc:  # noqa: BLE001 - handed over to the consumer, raised there
            self._items.put(("error", exc))
