"""Bounded work per file (issue #11, row 4): zip bombs, entry-count bombs, page, object, time and memory caps.
Each hostile file is real (generated here) and costs one skipped file with the reason, never the run or
the memory of the process that indexes."""
from __future__ import annotations

import os

import psutil
import pytest

from index.builds.build import build
from index.formats.limits import ReadOptions
from index.generations import manifest as mf
from index.ingest.isolate import Reader
from index.ingest.load import load
from index.settings import IndexSettings
from index.types import SkipFile
from testkit.fakes import HashEmbedder, MemoryStore
from testkit.samples import many_entries_zip, pdf_bomb, write_docx, write_pdf, zip_bomb_docx

GOOD = "The Varnholt ferry crossing was closed in 1931 after the pier collapsed. " * 5


def build_with(seeds, tmp_path, **settings):
    """A build with the in-memory fakes (the caps are what is tested, not the model)."""
    s = IndexSettings(seeds_dir=seeds, db_dir=tmp_path / "db", **settings)
    return build(s, embedder=HashEmbedder(), store=MemoryStore(s)), s


@pytest.fixture
def seeds(tmp_path):
    path = tmp_path / "seeds"
    path.mkdir()
    (path / "good.txt").write_text(GOOD, "utf-8")
    return path


def reasons(report) -> dict[str, str]:
    return {s.path: s.reason for s in report.skipped}


def test_a_zip_bomb_docx_is_skipped_before_it_is_parsed(seeds, tmp_path):
    bomb = zip_bomb_docx(seeds / "bomb.docx", expanded_mb=24)
    assert bomb.stat().st_size < 200_000  # ~120 KB on disk, 24 MB of XML inside
    report, settings = build_with(seeds, tmp_path)
    assert "zip bomb" in reasons(report)["bomb.docx"] and "expands" in reasons(report)["bomb.docx"]
    assert set(mf.read(settings.db_dir).files) == {"good.txt"}


def test_too_many_zip_entries_is_skipped(seeds, tmp_path):
    many_entries_zip(seeds / "parts.docx", 12_000)
    report, _ = build_with(seeds, tmp_path)
    assert "too many parts: 12,0" in reasons(report)["parts.docx"]


def test_the_unzipped_size_cap_is_a_setting(seeds, tmp_path):
    words = [f"word{n}" for n in range(40_000)]  # little repetition: expands ~3x, no bomb, but 1.6 MB of XML
    write_docx(seeds / "large.docx", "Large", [" ".join(words[i:i + 40]) for i in range(0, len(words), 40)])
    report, settings = build_with(seeds, tmp_path, max_unzipped_mb=1)
    assert "too large unpacked" in reasons(report)["large.docx"] and "QA_MAX_UNZIPPED_MB" in reasons(report)["large.docx"]
    report, settings = build_with(seeds, tmp_path, max_unzipped_mb=10)
    assert "large.docx" in mf.read(settings.db_dir).files


def test_a_pdf_over_the_page_cap_is_skipped(seeds, tmp_path):
    write_pdf(seeds / "long.pdf", [f"Page {n} of the harbour log." for n in range(6)])
    report, _ = build_with(seeds, tmp_path, max_pages=5)
    assert reasons(report)["long.pdf"].startswith("too many pages: 6 (the limit is 5")


def test_a_pdf_over_the_object_cap_is_skipped(tmp_path):
    path = write_pdf(tmp_path / "objects.pdf", [f"Page {n}." for n in range(30)])
    assert load(path, "objects.pdf").pages == 30
    with pytest.raises(SkipFile, match="too many PDF objects"):
        load(path, "objects.pdf", ReadOptions(max_pdf_objects=50))


def test_a_pdf_bomb_is_stopped_at_the_time_limit(seeds, tmp_path):
    pdf_bomb(seeds / "bomb.pdf")  # 400 pages of 50,000 operators: pdfium spends about 16 s on it
    report, settings = build_with(seeds, tmp_path, read_timeout=2)
    assert reasons(report)["bomb.pdf"] == "took longer than 2 s to read (QA_READ_TIMEOUT)"
    assert set(mf.read(settings.db_dir).files) == {"good.txt"}


def test_the_reader_recovers_after_a_killed_file(tmp_path):
    bomb = pdf_bomb(tmp_path / "bomb.pdf")
    (tmp_path / "good.txt").write_text(GOOD, "utf-8")
    with Reader(ReadOptions(timeout=1)) as reader:
        with pytest.raises(SkipFile, match="took longer than 1 s"):
            reader.load(bomb, "bomb.pdf")
        assert reader.load(tmp_path / "good.txt", "good.txt").text == GOOD  # a fresh worker took over


def test_a_file_needing_too_much_memory_is_skipped_and_the_indexing_process_stays_small(tmp_path):
    bomb = zip_bomb_docx(tmp_path / "bomb.docx", expanded_mb=24)
    lifted = ReadOptions(max_zip_ratio=1e9, max_unzipped_mb=1e6, memory_mb=300)  # only the memory cap left
    before = psutil.Process(os.getpid()).memory_info().rss
    with Reader(lifted) as reader, pytest.raises(SkipFile) as err:
        reader.load(bomb, "bomb.docx")
    assert "needs more than 300 MB of memory" in str(err.value) or "the reader crashed" in str(err.value)
    grown = psutil.Process(os.getpid()).memory_info().rss - before
    assert grown < 100 * 2**20, f"the indexing process grew by {grown / 2**20:.0f} MB"
