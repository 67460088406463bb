"""The BM25 snapshot as a serving process holds it: metadata by column, sentence vectors read from disk
by row, and snapshots written before either still served."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from index.builds.build import build
from index.generations import generation
from index.settings import IndexSettings
from index.snapshot import lexical
from index.snapshot.columns import Metadata
from index.snapshot.vector_file import VectorFile
from qa.pipeline import build_assistant
from testkit.servers import XI_QUESTION, XI_QUOTE

ROWS = [{"source": "a.md", "start": 0, "end": 120, "title": "Tides", "page": None},
        {"source": "a.md", "start": 120, "end": 260, "title": "Tides", "published": "2024-01-02"},
        {"source": "b.pdf", "start": 0, "end": 2**40, "title": "", "page": 3, "score": 0.5, "ocr": True}]


def test_metadata_reads_back_as_the_rows_it_was_given():
    meta = Metadata(ROWS)
    assert len(meta) == 3 and list(meta) == ROWS and meta[-1] == ROWS[-1] and meta[1:] == ROWS[1:]
    assert [type(m["start"]) for m in meta] == [int, int, int] and meta[2]["ocr"] is True
    assert "published" not in meta[0] and "page" in meta[0] and meta[0]["page"] is None
    assert meta.column("source") == ["a.md", "a.md", "b.pdf"] and meta.column("published") == [None, "2024-01-02", None]
    assert meta.column("nowhere") == [None, None, None] and meta.column("start") == [0, 120, 0]
    with pytest.raises(IndexError):
        meta[3]


def test_metadata_shares_equal_values_and_keeps_types_apart():
    meta = Metadata([{"k": "same" + str(n % 1)} for n in range(3)] + [{"k": 1}, {"k": True}, {"k": 1.0}])
    assert meta[0]["k"] is meta[2]["k"]
    assert [type(m["k"]) for m in meta[3:]] == [int, bool, float]


def test_a_vector_file_reads_rows_and_slices(tmp_path):
    vecs = np.random.default_rng(3).random((50, 8)).astype(np.float16)
    np.save(tmp_path / "v.npy", vecs)
    rows = VectorFile(tmp_path / "v.npy")
    assert len(rows) == 50 and rows.shape == (50, 8) and rows.dtype == np.float16
    assert (rows[3] == vecs[3]).all() and (rows[-1] == vecs[-1]).all() and (rows[np.int64(7)] == vecs[7]).all()
    assert (rows[10:20] == vecs[10:20]).all() and rows[5:5].shape == (0, 8) and (rows[45:60] == vecs[45:]).all()
    for bad in (50, -51, slice(0, 10, 2)):
        with pytest.raises(IndexError):
            rows[bad]


def test_a_truncated_vector_file_is_refused(tmp_path):
    np.save(tmp_path / "v.npy", np.ones((40, 8), np.float16))
    with open(tmp_path / "v.npy", "r+b") as fh:
        fh.truncate(200)
    with pytest.raises(ValueError, match="shorter"):
        VectorFile(tmp_path / "v.npy")


@pytest.fixture
def index(seeds_copy, tmp_path, embedder) -> IndexSettings:
    settings = IndexSettings(seeds_dir=seeds_copy, db_dir=tmp_path / "db")
    build(settings, embedder=embedder)
    return settings


def _answer(settings: IndexSettings, embedder):
    assistant = build_assistant(settings, embedder=embedder)
    try:
        return assistant.answer(XI_QUESTION)
    finally:
        assistant.store.close()


def test_the_served_snapshot_reads_vectors_by_row(index, embedder):
    snapshot = generation.read(index).live.lexical
    lex = lexical.load(snapshot, None)
    vecs = lex.sentences["vecs"]
    assert isinstance(vecs, VectorFile) and len(vecs) == len(lex.sentences["start"]) > 0
    assert (vecs[0:len(vecs)] == np.load(snapshot / "sentences" / "vecs.npy")).all()
    answer = _answer(index, embedder)
    assert not answer.abstained and XI_QUOTE in answer.citations[0].quote


def test_a_snapshot_written_before_vectors_were_read_by_row_is_still_served(index, embedder):
    """Older snapshots hold their sentence rows in one `sentences.npz`: they load whole, as before."""
    snapshot = generation.read(index).live.lexical
    before = _answer(index, embedder)
    folder = snapshot / lexical.SENTENCES
    np.savez(snapshot / "sentences.npz", **{p.stem: np.load(p) for p in folder.glob("*.npy")})
    shutil.rmtree(folder)
    parts = json.loads((snapshot / lexical.PARTS).read_text("utf-8"))
    parts["files"] = lexical._parts(snapshot)
    (snapshot / lexical.PARTS).write_text(json.dumps(parts), "utf-8")
    assert lexical.damage(snapshot, parts["version"]) is None
    assert isinstance(lexical.load(snapshot, None).sentences["vecs"], np.ndarray)
    after = _answer(index, embedder)
    assert (after.text, after.citations, after.short) == (before.text, before.citations, before.short)


def test_the_sentence_table_holds_each_sentence_of_the_documents_once(seeds_copy, tmp_path, embedder):
    """Overlapping chunks share sentences: the table keeps one, in (file, position) order, exact spans."""
    from qa.knowledge.corpus import CorpusView
    from qa.knowledge.files import Documents

    settings = IndexSettings(seeds_dir=seeds_copy, db_dir=tmp_path / "db", chunk_size=400, chunk_overlap=120)
    build(settings, embedder=embedder)
    lex = lexical.load(generation.read(settings).live.lexical, None)
    corpus = CorpusView(lex, Documents(lex, seeds_copy))
    table = corpus.sents
    sents = list(table)
    assert len(sents) < len(lex.sentences["start"])  # the overlap made duplicates, kept once
    keys = [(s.source, s.start, s.end) for s in sents]
    assert keys == sorted(set(keys)) and [s.i for s in sents] == list(range(len(sents)))
    for s in sents:
        assert s.text == (seeds_copy / s.source).read_text("utf-8")[s.start:s.end]
        assert table.find(s.source, s.start, s.end) == s.i and s.i in corpus.with_text(s.text)
        assert table.document(s.source)[s.pos] == s.i
    assert table.find(sents[0].source, sents[0].start, sents[0].end + 1) is None
    assert table.find("nowhere.md", 0, 10) is None and table.document("nowhere.md") == range(0)
    assert corpus.with_text("not a sentence of the documents") == []
    last = sents[-1]
    assert corpus.neighbours(last.i, 2) == list(range(max(table.document(last.source).start, last.i - 2), last.i + 1))


def test_warming_up_prepares_the_conversation(index, embedder):
    """`qa serve` warms up in the background: the first follow-up then finds its sentence table built."""
    assistant = build_assistant(index, embedder=embedder)
    try:
        assistant.warm_up()
        views = assistant.answerer().views()
        assert views._corpus is not None and len(views._corpus.sents) > 0
        first = assistant.answer(XI_QUESTION)
        follow = assistant.answer("When did he say that?", history=[(XI_QUESTION, first.text)])
        assert assistant.answerer().views()._corpus is views._corpus and follow.text
    finally:
        assistant.store.close()


def test_the_malloc_arena_cap_is_set_on_glibc():
    """Linux with glibc (CI's machine): `limit_arenas` reaches mallopt; elsewhere it is a no-op."""
    import platform

    from index.memory import limit_arenas

    assert limit_arenas() is (platform.libc_ver()[0] == "glibc")
