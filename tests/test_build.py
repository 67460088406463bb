"""Incremental builds against a real Chroma store and the real embedding model."""
from __future__ import annotations

import subprocess
import sys

import pytest

import index.builds.build
import index.vectorstore.chroma
from conftest import index_state
from index.builds.build import build
from index.errors import IndexBusyError
from index.generations import generation, manifest as mf
from index.snapshot import lexical
from index.vectorstore.live_store import ChromaStore

EXTRA = {
    "harbour.md": "---\ntitle: Harbour Trade\nsource: Coastal Times\n---\n\n" + "Merchants trade salt and copper. " * 60,
    "observatory.txt": "The old observatory recorded comets for three centuries. " * 40,
    "notes/river.html": "<html><head><title>River</title></head><body>" + "<p>The delta floods in spring.</p>" * 50
                        + "</body></html>",
}


class CountingEmbedder:
    """Delegates to the real embedder and records how many texts each call embedded."""

    def __init__(self, real):
        self.real, self.name, self.calls = real, real.name, []

    @property
    def dimension(self):
        return self.real.dimension

    def embed(self, texts):
        self.calls.append(len(texts))
        return self.real.embed(texts)

    def embed_spans(self, texts, spans):
        self.calls.append(len(texts))
        return self.real.embed_spans(texts, spans)


class RefusingEmbedder:
    """An embedder that fails the test if the build tries to embed (or load a model) at all."""

    name = "refusing"

    def embed(self, texts):
        raise AssertionError(f"the model was used to embed {len(texts)} texts on a no-op build")


@pytest.fixture
def corpus(seeds_copy):
    """The repo's seeds plus a few more files (markdown, text, HTML in a subfolder)."""
    for name, text in EXTRA.items():
        (seeds_copy / name).parent.mkdir(exist_ok=True)
        (seeds_copy / name).write_text(text, "utf-8")
    return seeds_copy


def live_lexical(settings):
    """The BM25 snapshot of the live generation."""
    ptr = generation.read(settings)
    return lexical.load(ptr.live.lexical, ptr.fingerprint)


def chunks_of(settings, source):
    """Chunk ids the manifest holds for `source`."""
    return mf.read(settings.db_dir).files[source].ids


def test_first_build_indexes_everything(corpus, make_settings, embedder):
    settings = make_settings(corpus, chunk_size=400, chunk_overlap=50)
    report = build(settings, embedder=embedder)
    assert (report.files, report.added, report.updated, report.removed, report.skipped) == (4, 4, 0, 0, ())
    st = index_state(settings)
    st.assert_consistent()
    assert report.chunks == len(st.store_ids) > 4
    ids, docs, metas = ChromaStore(settings).records()
    by_id = dict(zip(ids, zip(docs, metas)))
    for source in ["harbour.md", "notes/river.html"]:
        for cid in chunks_of(settings, source):
            text, meta = by_id[cid]
            assert meta["source"] == source and text.strip()
    assert {m["site"] for m in metas if m["source"] == "harbour.md"} == {"Coastal Times"}


def test_incremental_steps(corpus, make_settings, embedder, monkeypatch):
    settings = make_settings(corpus, chunk_size=400, chunk_overlap=50)
    build(settings, embedder=embedder)

    # No change: no model, no store client (the store's self-check reads its files only).
    with monkeypatch.context() as m:
        m.setattr(index.vectorstore.chroma, "open_client", lambda *a, **k: pytest.fail("no-op build opened a store client"))
        report = build(settings, embedder=RefusingEmbedder())
    assert (report.unchanged, report.added, report.updated, report.removed) == (4, 0, 0, 0)
    index_state(settings).assert_consistent()

    # Edit one file: only its chunks are embedded, its old ids are gone.
    old_ids = set(chunks_of(settings, "observatory.txt"))
    with open(corpus / "observatory.txt", "a", encoding="utf-8") as fh:
        fh.write("A new telescope arrived in 1890.\n")
    counting = CountingEmbedder(embedder)
    report = build(settings, embedder=counting)
    assert (report.updated, report.added, report.removed, report.unchanged) == (1, 0, 0, 3)
    new_ids = set(chunks_of(settings, "observatory.txt"))
    assert sum(counting.calls) == len(new_ids) and not old_ids & new_ids
    st = index_state(settings)
    st.assert_consistent()
    assert not old_ids & st.store_ids

    # Add one file.
    (corpus / "notes" / "added.txt").write_text("Freshly added notes about lighthouses. " * 20, "utf-8")
    counting = CountingEmbedder(embedder)
    report = build(settings, embedder=counting)
    assert (report.added, report.updated, report.removed, report.unchanged) == (1, 0, 0, 4)
    assert sum(counting.calls) == len(chunks_of(settings, "notes/added.txt"))
    index_state(settings).assert_consistent()

    # Remove one file: its chunk ids leave the Chroma collection.
    gone = set(chunks_of(settings, "harbour.md"))
    (corpus / "harbour.md").unlink()
    report = build(settings, embedder=RefusingEmbedder())
    assert (report.removed, report.added, report.updated, report.unchanged, report.files) == (1, 0, 0, 4, 4)
    st = index_state(settings)
    st.assert_consistent()
    assert gone and not gone & st.store_ids
    assert "harbour.md" not in {m["source"] for m in ChromaStore(settings).records()[2]}


def test_chunking_change_rebuilds_everything(corpus, make_settings, embedder):
    build(make_settings(corpus, chunk_size=400, chunk_overlap=50), embedder=embedder)
    settings = make_settings(corpus, chunk_size=250, chunk_overlap=50)
    counting = CountingEmbedder(embedder)
    report = build(settings, embedder=counting)
    assert report.rebuilt_because and "chunk_size 400 -> 250" in report.rebuilt_because
    assert report.added == report.files == 4 and sum(counting.calls) == report.chunks
    index_state(settings).assert_consistent()
    assert ChromaStore(settings).recorded_key()["chunk_size"] == 250

    report = build(settings, embedder=CountingEmbedder(embedder), rebuild=True)
    assert report.rebuilt_because and "--rebuild" in report.rebuilt_because
    assert report.added == 4
    index_state(settings).assert_consistent()


def test_chunking_change_gives_a_new_lexical_version(seeds_copy, make_settings, embedder):
    """Readers reload the BM25 snapshot only when its version changes, so new chunk texts need a new version.

    The seed file makes five chunks at both sizes: the same chunk ids, but different texts.
    """
    build(make_settings(seeds_copy, chunk_size=1000), embedder=embedder)
    before = live_lexical(make_settings(seeds_copy))
    settings = make_settings(seeds_copy, chunk_size=1100)
    build(settings, embedder=embedder)
    after = live_lexical(settings)
    assert sorted(before.ids) == sorted(after.ids) and before.texts != after.texts
    assert after.version != before.version
    index_state(settings).assert_consistent()


def test_bad_file_is_remembered_not_retried(corpus, make_settings, embedder):
    (corpus / "blank.md").write_text("   \n\n  ", "utf-8")
    settings = make_settings(corpus, chunk_size=400, chunk_overlap=50)
    first = build(settings, embedder=embedder)
    second = build(settings, embedder=RefusingEmbedder())
    for report in (first, second):
        assert [(s.path, s.reason) for s in report.skipped] == [("blank.md", "empty: no text to index")]
    (corpus / "blank.md").write_text("Now it has real words in it.", "utf-8")
    report = build(settings, embedder=embedder)
    assert report.added == 1 and report.skipped == ()
    index_state(settings).assert_consistent()


def test_second_writer_is_refused(corpus, make_settings, embedder):
    settings = make_settings(corpus)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; from index.generations.locking import write_lock\n"
                               "with write_lock(Path(sys.argv[1])):\n print('locked', flush=True); time.sleep(60)",
         str(settings.db_dir)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(IndexBusyError, match="another `qa index` is writing"):
            build(settings, embedder=embedder)
    finally:
        holder.kill()
        holder.wait()
    assert build(settings, embedder=embedder).added == 4
