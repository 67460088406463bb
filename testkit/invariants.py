"""Checks of an index's invariants, shared by the tests and the benchmarks (crash and scale runs).

Each function raises `AssertionError` with a message naming what disagrees.
"""
from __future__ import annotations

import collections
import json
from dataclasses import dataclass
from pathlib import Path

from index.generations import generation, manifest as mf
from index.ids import prefix_of
from index.settings import IndexSettings
from index.snapshot import lexical
from index.types import Chunk, LoadedDoc
from index.vectorstore.store import open_store


@dataclass
class IndexState:
    """What the three parts of an index hold: manifest ids (as listed), store ids, lexical ids (as listed)."""

    manifest: mf.Manifest
    manifest_ids: list[str]
    store_ids: set[str]
    lexical_ids: list[str]

    def assert_consistent(self) -> None:
        """Manifest, store and the lexical snapshot hold exactly the same chunk ids, each once."""
        assert self.manifest.complete, "manifest not marked complete"
        assert len(self.manifest_ids) == len(set(self.manifest_ids)), "duplicate ids in manifest"
        assert len(self.lexical_ids) == len(set(self.lexical_ids)), "duplicate ids in lexical snapshot"
        assert set(self.manifest_ids) == self.store_ids, "manifest and store disagree"
        assert set(self.lexical_ids) == self.store_ids, "lexical snapshot and store disagree"


def index_state(settings: IndexSettings) -> IndexState:
    """Read the live generation's manifest, stored vectors and lexical snapshot of `settings`."""
    ptr = generation.read(settings)
    assert ptr is not None, f"no index in {settings.db_dir}"
    manifest = generation.manifest(ptr.live)
    assert mf.read(settings.db_dir) == manifest, "the manifest mirror differs from the live generation's"
    snapshot = lexical.load(ptr.live.lexical, ptr.fingerprint)
    return IndexState(manifest, [i for e in manifest.files.values() for i in e.ids],
                      live_records(settings)[0], snapshot.ids if snapshot else [])


def live_records(settings: IndexSettings) -> tuple[set[str], tuple[list, list, list]]:
    """(ids, records) of the live generation's vectors, read with a store that is closed afterwards."""
    store = open_store(settings)
    try:
        records = store.records()
    finally:
        store.close()
    return set(records[0]), records


def manifest_view(db: Path):
    """(number of committed files, complete flag, raw text) of the manifest of the newest generation (the
    one being built, or else the live one), or None before there is one."""
    for folder in sorted(db.glob(generation.PREFIX + "*"), key=lambda p: -generation.number_of(p.name)):
        try:
            raw = (folder / mf.NAME).read_text("utf-8")
        except OSError:
            continue
        data = json.loads(raw)
        return len(data["files"]), data["complete"], raw
    return None


def assert_same_as_fresh(settings: IndexSettings, fresh: IndexSettings) -> None:
    """The index equals a fresh build: same ids, texts and metadata; one file version each; parts agree."""
    index_state(settings).assert_consistent()
    got, want = live_records(settings)[1], live_records(fresh)[1]
    assert len(got[0]) == len(set(got[0])), "duplicate ids in the store"
    assert dict(zip(got[0], zip(got[1], got[2]))) == dict(zip(want[0], zip(want[1], want[2]))), "records differ"
    versions = collections.defaultdict(set)
    for cid, meta in zip(got[0], got[2]):
        versions[meta["source"]].add(prefix_of(cid))
    assert all(len(v) == 1 for v in versions.values()), "chunks of two versions of a file"
    assert mf.read(settings.db_dir).files.keys() == mf.read(fresh.db_dir).files.keys(), "manifests differ"


def assert_provenance(doc: LoadedDoc, chunks: list[Chunk]) -> None:
    """Every chunk is an exact, stripped slice of `doc.text` inside one segment, with the right lines and page."""
    assert chunks, f"no chunks for {doc.source}"
    lines = doc.text.split("\n")
    for c in chunks:
        assert c.text and c.text == c.text.strip()
        assert doc.text[c.start:c.end] == c.text
        assert c.start_line == doc.text.count("\n", 0, c.start) + 1
        assert c.end_line == doc.text.count("\n", 0, c.end - 1) + 1
        assert c.text in "\n".join(lines[c.start_line - 1:c.end_line])
        seg = next(s for s in doc.segments if s.start <= c.start and c.end <= s.end)
        assert c.page == seg.page
        assert (c.source, c.title, c.published) == (doc.source, doc.title, doc.published)
