"""One writer per index: an exclusive lock file in the index directory, and, within a process, one thread lock
per index folder (a second build of the same collection waits; builds of different collections run side by
side)."""
from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from pathlib import Path
from typing import Iterator

from index.errors import IndexBusyError, StoreError

_thread_locks: dict[Path, threading.Lock] = {}
_thread_locks_guard = threading.Lock()


def _thread_lock(db_dir: Path) -> threading.Lock:
    """This process's lock of the index in `db_dir` (flock alone would refuse a second thread, not queue it)."""
    with _thread_locks_guard:
        return _thread_locks.setdefault(db_dir.resolve(), threading.Lock())


def require_writable(db_dir: Path) -> None:
    """Refuse (`StoreError`) to change an index whose folder cannot be written (a read-only mount), before
    anything else (a seeds file, say) is touched."""
    if db_dir.is_dir() and not os.access(db_dir, os.W_OK):
        raise StoreError(f"the index directory {db_dir} is read-only: it can be read, not changed",
                         hint="make it writable (or choose a writable --db directory) to change the index")


@contextlib.contextmanager
def write_lock(db_dir: Path) -> Iterator[None]:
    """Hold the index's write lock; another process holding it raises `IndexBusyError`."""
    try:
        db_dir.mkdir(parents=True, exist_ok=True)
        fh = open(db_dir / ".lock", "a+")
    except OSError as exc:
        raise StoreError(f"cannot write to the index directory {db_dir}: {exc.strerror}",
                         hint="choose a writable --db directory") from exc
    with _thread_lock(db_dir), fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IndexBusyError(f"another `qa index` is writing {db_dir}", hint="wait for it to finish")
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
