"""The default `Store` (`ChromaStore`): reads the live generation and follows the generation pointer.

One `os.stat` per query; when a build elsewhere published a new generation, one thread opens it with a new
client while the others keep answering from the old one, which is closed once its last query is done. A
build writes only a new generation (`ChromaStore.stage`), so nothing a reader holds ever changes
underneath it.
"""
from __future__ import annotations

import sqlite3
import threading
import time
from typing import Callable, TypeVar

import numpy as np

from index.errors import IndexMissingError, QAError, StoreDamagedError
from index.generations import generation
from index.generations.generation import Generation
from index.memory import release_memory
from index.settings import IndexSettings
from index.vectorstore.chroma import (
    ChromaGeneration,
    chroma_dir,
    collection_for,
    copy_chroma,
    drop_collections,
    has_store,
    store_state,
    where_of,
)
from index.vectorstore.store import Hit, StoreState, Where, missing

T = TypeVar("T")


class _Handle:
    """One generation opened for reading: its store, a lease count, and the readers' lock on it."""

    def __init__(self, settings: IndexSettings, gen: Generation):
        self.gen, self.leases, self.retired, self.closing = gen, 0, False, False
        try:
            self._lock = generation.hold(gen)
        except FileNotFoundError:
            raise _gone(settings, gen) from None
        if not settings.chroma_host and not has_store(gen):
            generation.release(self._lock)
            raise _gone(settings, gen)
        self.store = ChromaGeneration(settings, gen, reading=True)

    def warm(self) -> None:
        """Open and load the generation; on failure release everything and raise."""
        try:
            self.store.warm()
        except QAError:
            self.close()
            raise

    def close(self) -> None:
        """Close the client, hand its memory back, release the lock."""
        self.store.close()
        release_memory()
        generation.release(self._lock)
        self._lock = None


def _gone(settings: IndexSettings, gen: Generation) -> IndexMissingError:
    return IndexMissingError(f"the index in {settings.db_dir} lost its store ({gen.label} is missing)",
                             hint="run `qa index`: it rebuilds what is missing")


class ChromaStore:
    """The default `Store`: reads the live generation, switching when a build publishes a new one.
    Thread-safe; one per process is enough (the web app shares it with the builds it runs)."""

    def __init__(self, settings: IndexSettings):
        self.settings = settings
        self.where = where_of(settings)
        self.external = bool(settings.chroma_host)  # a server keeps collections outside the index folder
        self._lock = threading.Lock()  # guards _current, _stamp and the leases
        self._switching = threading.Lock()  # one thread opens a new generation at a time
        self._current: _Handle | None = None
        self._stamp: object = None
        self._retry_at = 0.0
        self.switches = 0

    def _acquire(self) -> _Handle:
        stamp = generation.stamp(self.settings)
        with self._lock:
            if self._current is not None and stamp == self._stamp:
                return self._lease(self._current)
        if not self._switching.acquire(blocking=False):
            with self._lock:  # another thread is opening the new generation: answer from the old one
                if self._current is not None:
                    return self._lease(self._current)
            self._switching.acquire()
        try:
            return self._switch(stamp)
        finally:
            self._switching.release()

    def _lease(self, handle: _Handle) -> _Handle:
        handle.leases += 1
        return handle

    def _switch(self, stamp) -> _Handle:
        ptr = generation.read(self.settings)
        cur = self._current
        if ptr is None:
            if cur is None:
                raise missing(self.settings)
        elif cur is None or ptr.live != cur.gen:
            if cur is not None and time.monotonic() < self._retry_at:
                with self._lock:
                    return self._lease(cur)
            try:
                new = _Handle(self.settings, ptr.live)
                new.warm()
            except QAError:
                if cur is None:
                    raise
                self._retry_at = time.monotonic() + 1.0  # keep answering from the old one meanwhile
                with self._lock:
                    return self._lease(cur)
            with self._lock:
                old, self._current = self._current, new
                self.switches += old is not None
                idle = old is not None and self._retire(old)
            if idle:
                self._close(old)
        with self._lock:
            self._stamp = stamp
            return self._lease(self._current)

    def _release(self, handle: _Handle) -> None:
        with self._lock:
            handle.leases -= 1
            idle = handle.retired and handle.leases == 0 and not handle.closing
            handle.closing |= idle
        if idle:
            self._close(handle)

    @staticmethod
    def _retire(handle: _Handle) -> bool:
        """Mark `handle` superseded (the caller holds the lock); True when nobody uses it: close it now."""
        handle.retired = True
        idle = handle.leases == 0 and not handle.closing
        handle.closing |= idle
        return idle

    def _close(self, handle: _Handle) -> None:
        # Outside the lock: stopping a Chroma System takes a while. Generations this one kept alive are
        # removed by the next build's collection step.
        handle.close()

    def _read(self, fn: Callable[[ChromaGeneration], T]) -> T:
        """`fn(store)` on the live generation; once more on the newer one if the pointer moved meanwhile."""
        handle = self._acquire()
        try:
            return fn(handle.store)
        except QAError:
            ptr = generation.read(self.settings)
            if ptr is None or ptr.live == handle.gen:
                raise
        finally:
            self._release(handle)
        handle = self._acquire()
        try:
            return fn(handle.store)
        finally:
            self._release(handle)

    def generation(self) -> Generation | None:
        """The generation queries are answered from right now (None before the first query)."""
        return self._current.gen if self._current else None

    def recorded_key(self) -> dict | None:
        """The chunking key of the live generation (from the pointer: no store is opened)."""
        ptr = generation.read(self.settings)
        return ptr.key if ptr else None

    def search(self, vector: np.ndarray, k: int, where: Where | None = None) -> list[Hit]:
        """The `k` nearest chunks of the live generation (among those `where` admits)."""
        return self._read(lambda s: s.search(vector, k, where))

    def records(self) -> tuple[list[str], list[str], list[dict]]:
        """All records of the live generation."""
        return self._read(lambda s: s.records())

    def ids(self) -> set[str]:
        """All chunk ids of the live generation."""
        return self._read(lambda s: s.ids())

    def stage(self, gen: Generation, base: Generation | None) -> ChromaGeneration:
        """The vectors of a generation being built (embedded: copied from `base` unless `gen` has some)."""
        if not self.settings.chroma_host and base is not None and not has_store(gen):
            try:
                copy_chroma(chroma_dir(base), chroma_dir(gen))
            except sqlite3.DatabaseError as exc:
                raise StoreDamagedError(f"{type(exc).__name__}: {exc}") from exc
        return ChromaGeneration(self.settings, gen)

    def vectors_name(self, name: str, base: Generation | None) -> str:
        """The collection of a new generation (`index.vectorstore.chroma.collection_for`)."""
        return collection_for(self.settings, name, base)

    def state(self, gen: Generation) -> StoreState:
        """The embedded store checked without a client (`index.vectorstore.chroma.store_state`); a server is not checked."""
        return store_state(self.settings, gen)

    def forget(self, names: set[str]) -> None:
        """Drop the server collections of removed generations (embedded: they went with their folders)."""
        drop_collections(self.settings, names)

    def close(self) -> None:
        """Close the generation held (after its queries in flight); the next query opens the live one."""
        with self._lock:
            cur, self._current, self._stamp = self._current, None, None
            idle = cur is not None and self._retire(cur)
        if idle:
            self._close(cur)
