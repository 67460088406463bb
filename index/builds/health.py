"""Is the live generation whole? `qa index` asks before deciding there is nothing to do.

The store, the BM25 snapshot and the sentence vectors must agree with the manifest. The checks are
cheap and load neither the model nor a store client: the store looks at its own files (`Store.state`;
Chroma reads its sqlite file with Python's sqlite3), the snapshot's files are checked against the sizes
and digests recorded when it was written, the sidecars by their zip directory.
"""
from __future__ import annotations

from dataclasses import dataclass

from index.generations import manifest as mf
from index.generations.generation import Pointer
from index.ids import prefix_of
from index.snapshot import lexical, sentvec
from index.vectorstore.store import Store


@dataclass(frozen=True)
class Health:
    """What is wrong with a generation: `damaged` (its store cannot be opened: rebuild from scratch),
    `problems` (an incremental build repairs them), `stale` (files whose sentence vectors are lost)."""

    damaged: str | None = None
    problems: tuple[str, ...] = ()
    stale: frozenset[str] = frozenset()

    @property
    def ok(self) -> bool:
        """Nothing to repair."""
        return self.damaged is None and not self.problems


def check(store: Store, ptr: Pointer, manifest: mf.Manifest) -> Health:
    """The health of the live generation of `ptr` in `store`, whose manifest is `manifest`."""
    gen = ptr.live
    state = store.state(gen)
    if state.damaged:
        return Health(damaged=state.damaged)
    problems = []
    if state.count is not None and state.count != manifest.chunk_count():
        problems.append(f"the store holds {state.count} chunks where the manifest lists {manifest.chunk_count()}")
    snapshot = lexical.damage(gen.lexical, ptr.fingerprint)
    if snapshot:
        problems.append(snapshot)
    prefixes = {prefix_of(e.ids[0]): source for source, e in manifest.files.items() if e.ids}
    stale = frozenset(prefixes[p] for p in sentvec.unusable(gen.dir, set(prefixes)))
    if stale:
        problems.append(f"the sentence vectors of {len(stale)} file(s) are missing or damaged")
    return Health(None, tuple(problems), stale)
