"""Files that cannot be indexed are skipped with a reason; the good files beside them are indexed."""
from __future__ import annotations

import io
import json
import os
import random
import zipfile

import pytest

from conftest import index_state
from index.builds.build import build
from index.errors import NothingIndexedError, SeedsMissingError
from index.vectorstore.live_store import ChromaStore
from test_load import write_docx, write_pdf

GOOD = "Lighthouses guide ships past the rocky northern coast at night. " * 10


def write_encrypted_pdf(path):
    """A PDF that needs a user password to open."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    pdf.add_page()
    pdf.cell(text="Top secret harbour ledger.")
    pdf.set_encryption(owner_password="owner", user_password="user")
    pdf.output(str(path))


def make_bad_seeds(root):
    """A seeds dir with two good files and one of every kind of bad input; returns {path: expected reason}."""
    root.mkdir()
    (root / "good.txt").write_text(GOOD, "utf-8")
    write_docx(root / "good.docx", "Good Doc", [GOOD])
    rng = random.Random(7)
    files = {
        "empty.txt": (b"", "empty file"),
        "blank.md": (b"  \n\n\t \r\n", "empty: no text to index"),
        "random.txt": (bytes(rng.randrange(256) for _ in range(5000)), "binary"),
        "undecodable.txt": (bytes(range(0x80, 0x100)) * 20, "binary or undecodable"),
        "nul.txt": (b"text\x00\x00\x00with\x00nulls\x00" * 50, "binary content"),
        "broken.pdf": (b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\ngarbage", "broken PDF"),
        "fake.docx": (_zip_bytes(), "not a valid .docx"),
        "scripts.html": (b"<html><head><script>var a = 1;</script></head><body><script>run()</script>"
                         b"<style>p{}</style></body></html>", "empty: no text to index"),
        "big.txt": (b"word " * (2 * 1024 * 1024 // 5), "too large: 2.0 MB > 1 MB"),
        "image.png": (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "not a valid image"),
        "photo.heic": (b"\x00\x00\x00\x18ftypheic", "unsupported file type .heic"),
        "README": (b"no extension", "unsupported file type (no extension)"),
    }
    for name, (data, _) in files.items():
        (root / name).write_bytes(data)
    write_encrypted_pdf(root / "locked.pdf")
    write_pdf(root / "blank.pdf", [""])
    os.symlink("loop_b.txt", root / "loop_a.txt")
    os.symlink("loop_a.txt", root / "loop_b.txt")
    os.symlink(".", root / "selfdir")
    os.mkfifo(root / "pipe.txt")
    expected = {name: reason for name, (_, reason) in files.items()}
    expected |= {"locked.pdf": "encrypted PDF", "blank.pdf": "no extractable text in PDF",
                 "loop_a.txt": "looping symlink", "loop_b.txt": "looping symlink",
                 "selfdir": "symlinked directory not followed", "pipe.txt": "not a regular file"}
    return expected


def _zip_bytes() -> bytes:
    """The bytes of a valid zip archive that is not a Word document."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("hello.txt", "just a zip")
    return buffer.getvalue()


def test_every_bad_file_is_skipped_with_a_reason(tmp_path, make_settings, embedder):
    seeds = tmp_path / "seeds"
    expected = make_bad_seeds(seeds)
    settings = make_settings(seeds, max_file_mb=1)
    report = build(settings, embedder=embedder)
    reasons = {s.path: s.reason for s in report.skipped}
    assert set(reasons) == set(expected)
    for path, want in expected.items():
        assert want in reasons[path], (path, reasons[path])
    assert report.files == 2 and report.added == 2
    index_state(settings).assert_consistent()
    assert {m["source"] for m in ChromaStore(settings).records()[2]} == {"good.txt", "good.docx"}
    again = build(settings, embedder=embedder)  # a no-op still reports the same skips
    assert {s.path: s.reason for s in again.skipped} == reasons


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read a chmod 000 file")
def test_unreadable_file_is_skipped(tmp_path, make_settings, embedder):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "good.txt").write_text(GOOD, "utf-8")
    secret = seeds / "secret.txt"
    secret.write_text(GOOD, "utf-8")
    secret.chmod(0)
    try:
        report = build(make_settings(seeds), embedder=embedder)
    finally:
        secret.chmod(0o644)
    assert [(s.path, "unreadable" in s.reason) for s in report.skipped] == [("secret.txt", True)]


def test_missing_seeds_dir(tmp_path, make_settings, embedder):
    with pytest.raises(SeedsMissingError, match="does not exist") as err:
        build(make_settings(tmp_path / "nope"), embedder=embedder)
    assert err.value.hint


def test_nothing_indexable_raises_every_time(tmp_path, make_settings, embedder):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "blank.txt").write_text("   \n", "utf-8")
    (seeds / "photo.jpg").write_bytes(b"\xff\xd8\xff")
    settings = make_settings(seeds)
    for _ in range(2):  # the second run is a no-op build and must not report success
        with pytest.raises(NothingIndexedError, match="nothing could be indexed"):
            build(settings, embedder=embedder)


def test_cli_json_lists_skips_and_errors_are_messages(tmp_path, qa_cli):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "good.txt").write_text(GOOD, "utf-8")
    (seeds / "bad.txt").write_bytes(bytes(range(0x80, 0x100)) * 20)
    done = qa_cli("index", "--seeds", str(seeds), "--db", str(tmp_path / "db"), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["files"], report["added"]) == (1, 1)
    assert [s["path"] for s in report["skipped"]] == ["bad.txt"]

    missing = qa_cli("index", "--seeds", str(tmp_path / "nope"), "--db", str(tmp_path / "db2"))
    assert missing.returncode == 1 and "does not exist" in missing.stderr
    assert "Traceback" not in missing.stderr
