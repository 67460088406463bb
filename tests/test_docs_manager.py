"""The document manager (index.manager.catalog, `qa docs`): statuses, exclusion honoured by both retrieval sides,
removal and re-indexing, `.qaignore`, cancelled builds, OCR retried once available. Real Chroma and the
real model, except where a test only needs the build's bookkeeping."""
from __future__ import annotations

import json
import os

import pytest

from conftest import index_state
from index.builds.build import build
from index.errors import UsageError
from index.generations import manifest as mf
from index.manager import catalog
from index.settings import IndexSettings
from index.vectorstore.live_store import ChromaStore
from qa.pipeline import build_assistant
from testkit.samples import write_scanned_pdf

FERRY = "The Varnholt ferry crossing was closed in 1931 after the pier collapsed in a winter storm.\n"
FERRY_COPY = "Harbour gossip: the Varnholt ferry crossing was closed in 1931 when its pier collapsed.\n"
SEALS = "Grey seals were counted on the Skerry rocks: the wardens found 212 pups in November.\n"


def make_seeds(root):
    root.mkdir()
    (root / "ferry.txt").write_text(FERRY, "utf-8")
    (root / "gossip.txt").write_text(FERRY_COPY, "utf-8")
    (root / "seals.md").write_text("# Seals\n\n" + SEALS, "utf-8")
    (root / "noise.txt").write_bytes(bytes(range(0x80, 0x100)) * 20)
    (root / "tool.exe").write_bytes(b"MZ" + b"\0" * 64)
    (root / "drafts").mkdir()
    (root / "drafts" / "idea.txt").write_text("An idea nobody should index.\n", "utf-8")
    (root / "scratch.tmp.txt").write_text("Scratch.\n", "utf-8")
    (root / ".qaignore").write_text("drafts/\n*.tmp.txt\n", "utf-8")
    return root


@pytest.fixture
def settings(tmp_path, embedder):
    s = IndexSettings(seeds_dir=make_seeds(tmp_path / "seeds"), db_dir=tmp_path / "db")
    build(s, embedder=embedder)
    return s


def statuses(settings) -> dict[str, tuple[str, bool, str]]:
    return {d.source: (d.status, d.excluded, d.reason) for d in catalog.documents(settings)}


def test_every_document_has_a_status_and_skips_their_reason(settings):
    got = statuses(settings)
    assert got["ferry.txt"][:2] == ("indexed", False) and got["seals.md"][0] == "indexed"
    assert got["noise.txt"][0] == "skipped" and "binary" in got["noise.txt"][2]
    assert got["tool.exe"][0] == "skipped" and "unsupported" in got["tool.exe"][2]
    assert got["drafts/"] == ("skipped", False, "ignored by .qaignore")
    assert got["scratch.tmp.txt"] == ("skipped", False, "ignored by .qaignore")
    ferry = next(d for d in catalog.documents(settings) if d.source == "ferry.txt")
    assert ferry.chunks == 1 and ferry.title.startswith("The Varnholt ferry") and ferry.indexed_at

    (settings.seeds_dir / "new.txt").write_text(SEALS, "utf-8")
    (settings.seeds_dir / "gossip.txt").write_text(FERRY_COPY + "More gossip.\n", "utf-8")
    (settings.seeds_dir / "seals.md").unlink()
    got = statuses(settings)
    assert got["new.txt"] == ("pending", False, "new")
    assert got["gossip.txt"] == ("pending", False, "changed since it was indexed")
    assert got["seals.md"][0] == "pending" and "deleted" in got["seals.md"][2]


def test_an_excluded_document_is_left_out_of_both_retrieval_sides(settings, embedder):
    assistant = build_assistant(settings, embedder=embedder)
    question = "When was the Varnholt ferry crossing closed?"
    cited = {c.source for c in assistant.answer(question).citations}
    assert "ferry.txt" in cited or "gossip.txt" in cited

    assert catalog.exclude(settings, ["ferry.txt"]) == ["ferry.txt"]
    assert statuses(settings)["ferry.txt"][:2] == ("indexed", True)
    search = assistant.search
    # dense: the nearest chunks; BM25: a word only ferry.txt holds ("winter"); neither may return it
    for q in (question, "winter storm pier"):
        passages = search.search(search.embed_query(q), 10)
        assert passages and "ferry.txt" not in {p.source for p in passages}, q
    answer = assistant.answer(question)
    assert not answer.abstained and {c.source for c in answer.citations} == {"gossip.txt"}

    catalog.exclude(settings, ["ferry.txt"], excluded=False)
    passages = search.search(search.embed_query("winter storm pier"), 10)
    assert "ferry.txt" in {p.source for p in passages}


def test_unknown_or_escaping_names_are_refused(settings):
    for name in ("nope.txt", "../seeds/ferry.txt", "/etc/passwd", ""):
        with pytest.raises(UsageError):
            catalog.remove(settings, [name])
    assert (settings.seeds_dir / "ferry.txt").exists()


def test_remove_deletes_the_file_and_its_chunks(settings, embedder):
    report = catalog.remove(settings, ["seals.md", "noise.txt"], embedder=embedder)
    assert not (settings.seeds_dir / "seals.md").exists() and not (settings.seeds_dir / "noise.txt").exists()
    assert report.removed == 1 and "seals.md" not in mf.read(settings.db_dir).files
    index_state(settings).assert_consistent()
    assert "seals.md" not in {m["source"] for m in ChromaStore(settings).records()[2]}
    assert {"seals.md", "noise.txt"}.isdisjoint(statuses(settings))


def test_reindex_embeds_one_file_again(settings, embedder):
    report = catalog.reindex(settings, ["seals.md"], embedder=embedder)
    assert (report.added, report.updated, report.unchanged) == (0, 1, report.files - 1)
    index_state(settings).assert_consistent()


def test_a_qaignore_added_later_takes_files_out_of_the_index(settings, embedder):
    (settings.seeds_dir / ".qaignore").write_text("drafts/\n*.tmp.txt\ngossip.txt\n", "utf-8")
    report = build(settings, embedder=embedder)
    assert report.removed == 1 and "gossip.txt" not in mf.read(settings.db_dir).files
    assert {s.path: s.reason for s in report.skipped}["gossip.txt"] == "ignored by .qaignore"
    index_state(settings).assert_consistent()


def write_logs(seeds, numbers):
    seeds.mkdir(exist_ok=True)
    for n in numbers:
        (seeds / f"log{n}.txt").write_text(f"Harbour log {n}: the boat number {n} returned with herring.\n", "utf-8")


def test_a_build_cancelled_while_reading_stops_between_files_consistently(tmp_path, embedder):
    seeds = tmp_path / "seeds"
    write_logs(seeds, range(2))
    settings = IndexSettings(seeds_dir=seeds, db_dir=tmp_path / "db")
    build(settings, embedder=embedder)
    write_logs(seeds, range(2, 6))
    seen: list[str] = []
    report = build(settings, embedder=embedder, on_file=lambda source, n, total: seen.append(source),
                   cancel=lambda: len(seen) >= 2)
    assert report.cancelled and seen == ["log2.txt", "log3.txt"]  # no file read after the cancel
    assert set(mf.read(settings.db_dir).files) == {"log0.txt", "log1.txt"}
    index_state(settings).assert_consistent()  # manifest complete; store and BM25 snapshot agree
    assert [d.status for d in catalog.documents(settings)].count("pending") == 4
    rest = build(settings, embedder=embedder)
    assert (rest.added, rest.files, rest.cancelled) == (4, 6, False)
    index_state(settings).assert_consistent()


def test_a_build_cancelled_while_embedding_keeps_the_committed_groups(tmp_path, embedder, monkeypatch):
    monkeypatch.setattr("index.builds.build.GROUP", 1)  # one file per commit group
    seeds = tmp_path / "seeds"
    write_logs(seeds, range(6))
    settings = IndexSettings(seeds_dir=seeds, db_dir=tmp_path / "db")
    done: list[int] = []
    report = build(settings, embedder=embedder, cancel=lambda: bool(done) and done[-1] >= 2,
                   progress=lambda stage, n, total: done.append(n) if stage == "embedding" else None)
    assert report.cancelled and report.files == 2 and len(mf.read(settings.db_dir).files) == 2
    index_state(settings).assert_consistent()
    assert build(settings, embedder=embedder).added == 4
    index_state(settings).assert_consistent()


def test_a_scan_skipped_without_ocr_is_read_once_ocr_is_there(tmp_path, embedder):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "ferry.txt").write_text(FERRY, "utf-8")
    write_scanned_pdf(seeds / "scan.pdf", ["The Quillmere lighthouse was painted teal in 1897."])
    no_ocr = IndexSettings(seeds_dir=seeds, db_dir=tmp_path / "db", tesseract="none")
    report = build(no_ocr, embedder=embedder)
    reason = {s.path: s.reason for s in report.skipped}["scan.pdf"]
    assert reason.startswith("scanned, no OCR") and "tesseract-ocr" in reason
    assert statuses(no_ocr)["scan.pdf"][0] == "skipped"
    with_ocr = no_ocr.replace(tesseract="tesseract")
    report = build(with_ocr, embedder=embedder)  # the OCR change alone makes the skipped file be read again
    assert report.added == 1 and report.ocr_pages == {"scan.pdf": 1} and not report.skipped
    doc = next(d for d in catalog.documents(with_ocr) if d.source == "scan.pdf")
    assert (doc.status, doc.ocr_pages) == ("indexed", 1)


@pytest.mark.slow
def test_qa_docs_from_the_terminal(tmp_path, qa_cli):
    seeds, db = make_seeds(tmp_path / "seeds"), tmp_path / "db"
    where = ["--seeds", seeds, "--db", db]
    assert qa_cli("index", *where).returncode == 0
    listed = qa_cli("docs", "list", "--json", *where)
    assert listed.returncode == 0, listed.stderr
    rows = {r["source"]: r for r in json.loads(listed.stdout)}
    assert rows["ferry.txt"]["status"] == "indexed" and rows["noise.txt"]["status"] == "skipped"
    assert "binary" in rows["noise.txt"]["reason"]
    skipped = json.loads(qa_cli("docs", "list", "--status", "skipped", "--json", *where).stdout)
    assert {r["status"] for r in skipped} == {"skipped"} and len(skipped) == 4

    assert "excluded from answers" in qa_cli("docs", "exclude", "ferry.txt", *where).stdout
    asked = json.loads(qa_cli("ask", "When was the Varnholt ferry crossing closed?", "--json", *where).stdout)
    assert {c["source"] for c in asked["citations"]} == {"gossip.txt"}
    assert "included in answers" in qa_cli("docs", "include", "ferry.txt", *where).stdout

    reindexed = qa_cli("docs", "reindex", "seals.md", "--json", *where)
    assert reindexed.returncode == 0 and json.loads(reindexed.stdout)["report"]["updated"] == 1
    removed = qa_cli("docs", "rm", "gossip.txt", "--json", *where)
    assert removed.returncode == 0, removed.stderr
    assert json.loads(removed.stdout)["report"]["removed"] == 1 and not (seeds / "gossip.txt").exists()
    assert "gossip.txt" not in {m["source"] for m in ChromaStore(IndexSettings(seeds_dir=seeds, db_dir=db)).records()[2]}

    bad = qa_cli("docs", "rm", "../../etc/passwd", *where)
    assert bad.returncode == 2 and "not a document name" in bad.stderr and "Traceback" not in bad.stderr
    missing = qa_cli("docs", "exclude", "nope.txt", *where)
    assert missing.returncode == 2 and "no document named 'nope.txt'" in missing.stderr
    assert os.path.exists("/etc/passwd")
