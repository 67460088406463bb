"""The chat's port: refused at once, with a free one to use instead, when something already listens on it.

Checked before the index and the model are opened (that can take minutes on a first start), and again when
Gradio cannot bind (something took the port in between), so a busy port is one line, never a traceback.
"""
from __future__ import annotations

import errno
import socket

from ui.errors import PortInUse

TRIES = 100  # ports after the busy one looked at for a suggestion


def check_free(host: str, port: int) -> None:
    """Return when `port` on `host` can be bound; raise `PortInUse` (exit 2) naming a free one otherwise."""
    if not can_bind(host, port):
        raise in_use(host, port)


def in_use(host: str, port: int) -> PortInUse:
    """The error for a busy `port`, suggesting the next free one on `host`."""
    free = next((p for p in range(port + 1, min(port + TRIES, 65535) + 1) if can_bind(host, p)), None)
    return PortInUse(f"port {port} is in use" + (f"; use --port {free}" if free else ""),
                     hint=f"stop what listens on {host}:{port}, or choose another port with --port or QA_PORT")


def can_bind(host: str, port: int) -> bool:
    """Whether a server could listen on `host`:`port` now (as uvicorn binds: SO_REUSEADDR, so a port left
    in TIME_WAIT by a server just stopped counts as free)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror:
        return True  # an unknown host is Gradio's to report
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            return exc.errno != errno.EADDRINUSE
    return True
