"""A damaged index is detected and repaired by `qa index`; a store that cannot be opened is moved aside.

Before: with the BM25 snapshot deleted or garbled, or `chroma.sqlite3` emptied, `qa ask` said "run
`qa index`" and `qa index` said "unchanged"; with `chroma.sqlite3` truncated even `--rebuild` failed,
hinting "check that the directory is writable". The seeds are never touched.
"""
from __future__ import annotations

import json
import os
import shutil

import pytest

from conftest import SEEDS, index_state
from index.builds.build import build
from index.generations import generation
from index.ids import prefix_of
from index.settings import IndexSettings
from index.vectorstore.chroma import chroma_dir
from qa.pipeline import build_assistant
from test_build import CountingEmbedder, RefusingEmbedder
from testkit.servers import XI_QUESTION, XI_QUOTE

EXTRA = {"tides.md": "# Tides\n\n" + "The tide turns twice a day in the bay of Quillmere. " * 30,
         "ferry.txt": "The Varnholt ferry crossing was closed in 1931 after the pier collapsed. " * 20}
CHUNKING = {"QA_CHUNK_SIZE": "400", "QA_CHUNK_OVERLAP": "40"}


@pytest.fixture
def index(seeds_copy, tmp_path, embedder) -> IndexSettings:
    """A built index of the seeds plus two files (400-character chunks)."""
    for name, text in EXTRA.items():
        (seeds_copy / name).write_text(text, "utf-8")
    settings = IndexSettings(seeds_dir=seeds_copy, db_dir=tmp_path / "db", chunk_size=400, chunk_overlap=40)
    build(settings, embedder=embedder)
    return settings


def live(settings: IndexSettings) -> generation.Generation:
    return generation.read(settings).live


def seeds_unchanged(settings: IndexSettings) -> None:
    """No seed was harmed."""
    for original in SEEDS.iterdir():
        assert (settings.seeds_dir / original.name).read_bytes() == original.read_bytes()
    for name, text in EXTRA.items():
        assert (settings.seeds_dir / name).read_text("utf-8") == text


def answers(settings: IndexSettings, embedder) -> None:
    assistant = build_assistant(settings, embedder=embedder)
    try:
        answer = assistant.answer(XI_QUESTION)
        assert not answer.abstained and XI_QUOTE in answer.citations[0].quote
    finally:
        assistant.store.close()


@pytest.mark.parametrize("damage", ["deleted", "garbled", "truncated"])
def test_a_damaged_bm25_snapshot_is_rebuilt_without_the_model(index, embedder, damage):
    snapshot = live(index).lexical
    if damage == "deleted":
        shutil.rmtree(snapshot)
    elif damage == "garbled":
        (snapshot / "chunks.json").write_text('{"ids": [1, 2', "utf-8")
    else:
        with open(snapshot / "sentences" / "vecs.npy", "r+b") as fh:
            fh.truncate(100)
    report = build(index, embedder=RefusingEmbedder())  # repairing the snapshot needs no model
    assert report.repaired and "BM25 snapshot" in report.repaired[0], report
    assert (report.added, report.updated, report.removed) == (0, 0, 0) and report.rebuilt_because is None
    index_state(index).assert_consistent()
    answers(index, embedder)
    assert build(index, embedder=RefusingEmbedder()).repaired == ()  # and then it is a no-op again
    seeds_unchanged(index)


def test_lost_sentence_vectors_are_embedded_again_for_that_file_only(index, embedder):
    entry = generation.manifest(live(index)).files["tides.md"]
    (live(index).dir / "sentences" / f"{prefix_of(entry.ids[0])}.npz").unlink()
    counting = CountingEmbedder(embedder)
    report = build(index, embedder=counting)
    assert report.repaired and "sentence vectors of 1 file" in report.repaired[0]
    assert sum(counting.calls) == len(entry.ids) and report.updated == 1
    index_state(index).assert_consistent()
    assert build(index, embedder=RefusingEmbedder()).repaired == ()


def test_chunks_missing_from_the_store_are_embedded_again(index, embedder):
    import chromadb

    entry = generation.manifest(live(index)).files["ferry.txt"]
    client = chromadb.PersistentClient(path=str(chroma_dir(live(index))))
    client.get_collection(index.collection).delete(ids=entry.ids[:2])
    client.close()
    counting = CountingEmbedder(embedder)
    report = build(index, embedder=counting)
    assert report.repaired and "the store holds" in report.repaired[0]
    assert sum(counting.calls) == len(entry.ids)
    index_state(index).assert_consistent()


@pytest.mark.parametrize("damage", ["emptied", "truncated"])
def test_a_store_that_cannot_be_opened_is_moved_aside_and_rebuilt(index, embedder, damage):
    broken = live(index)
    sqlite = chroma_dir(broken) / "chroma.sqlite3"
    size = 0 if damage == "emptied" else sqlite.stat().st_size // 2
    os.truncate(sqlite, size)
    report = build(index, embedder=embedder)
    assert report.rebuilt_because and "could not be opened" in report.rebuilt_because, report
    assert "moved to" in report.rebuilt_because and report.added == 3
    moved = next((index.db_dir / generation.DAMAGED).iterdir())
    assert str(moved) in report.rebuilt_because and moved.name.startswith(broken.name)
    assert (moved / "chroma" / "chroma.sqlite3").stat().st_size == size  # kept as it was, for inspection
    assert not broken.dir.exists() and live(index) != broken
    index_state(index).assert_consistent()
    answers(index, embedder)
    seeds_unchanged(index)


def test_rebuild_works_over_a_truncated_store(index, embedder):
    sqlite = chroma_dir(live(index)) / "chroma.sqlite3"
    os.truncate(sqlite, sqlite.stat().st_size // 2)
    report = build(index, embedder=embedder, rebuild=True)
    assert report.added == 3
    index_state(index).assert_consistent()
    answers(index, embedder)


def test_the_cli_hints_are_true(index, qa_cli):
    """`qa ask` on a damaged index says to run `qa index`; `qa index` then repairs it, and `qa ask` answers."""
    db, seeds = index.db_dir, index.seeds_dir
    shutil.rmtree(live(index).lexical)
    asked = qa_cli("ask", XI_QUESTION, "--seeds", seeds, "--db", db, env=CHUNKING)
    assert asked.returncode == 1 and "`qa index`" in asked.stderr and "Traceback" not in asked.stderr, asked.stderr
    indexed = qa_cli("index", "--seeds", seeds, "--db", db, "--json", env=CHUNKING)
    assert indexed.returncode == 0, indexed.stderr[-2000:]
    assert json.loads(indexed.stdout)["repaired"] == ["the BM25 snapshot is missing"]
    asked = qa_cli("ask", XI_QUESTION, "--seeds", seeds, "--db", db, "--json", env=CHUNKING)
    assert asked.returncode == 0 and XI_QUOTE in json.loads(asked.stdout)["citations"][0]["quote"]

    sqlite = chroma_dir(live(index)) / "chroma.sqlite3"
    os.truncate(sqlite, sqlite.stat().st_size // 2)
    asked = qa_cli("ask", XI_QUESTION, "--seeds", seeds, "--db", db, env=CHUNKING)
    assert asked.returncode == 1 and "`qa index`" in asked.stderr and "Traceback" not in asked.stderr, asked.stderr
    assert "writable" not in asked.stderr
    indexed = qa_cli("index", "--seeds", seeds, "--db", db, env=CHUNKING)
    assert indexed.returncode == 0 and "could not be opened" in indexed.stdout, indexed.stdout + indexed.stderr
    asked = qa_cli("ask", XI_QUESTION, "--seeds", seeds, "--db", db, "--json", env=CHUNKING)
    assert asked.returncode == 0 and XI_QUOTE in json.loads(asked.stdout)["citations"][0]["quote"]
