"""Keep glibc's heap small: hand freed memory back to the operating system between the big steps of a
build, and cap the number of malloc arenas in long-running processes."""
from __future__ import annotations

import ctypes
import ctypes.util
from functools import lru_cache

M_ARENA_MAX = -8  # mallopt's parameter number in glibc's malloc.h
ARENAS = 2


@lru_cache(maxsize=1)
def _glibc():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim, libc.mallopt  # noqa: B018 - both exist only in glibc
        return libc
    except (OSError, AttributeError):  # not glibc (macOS, musl, Windows): nothing to do
        return None


def _malloc_trim():
    libc = _glibc()
    return libc.malloc_trim if libc is not None else None


def limit_arenas(count: int = ARENAS) -> bool:
    """Let glibc keep at most `count` malloc arenas in this process; call it before threads start.

    By default glibc gives threads that allocate at once arenas of their own, up to eight per core, and
    each keeps its freed memory: the serving process at 100,000 chunks (ONNX Runtime's, Chroma's and the
    web server's threads) peaked at 586 MB with them and 560 MB with two (3 runs each, steady). Two cores are
    served as fast by two arenas. True when the limit was set (glibc only).
    """
    libc = _glibc()
    return libc is not None and libc.mallopt(M_ARENA_MAX, count) == 1


def release_memory() -> None:
    """Return free heap pages to the OS (glibc's `malloc_trim`); a no-op elsewhere.

    Encoding batches of varying length, and reading the store back page by page, leave glibc's heap
    full of free but unreturned blocks: `bench/scale_bench.py` at 100,000 chunks peaked at 2.1 GB
    without this and builds at 1.6 GB with it.
    """
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
