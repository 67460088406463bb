"""Upload checks: names are sanitised, bad types and sizes refused, nothing written outside the seeds dir."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from index.errors import UsageError
from ui.web.upload import safe_name, save_upload

LIMIT_MB = 1.0


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    """An empty seeds dir two levels down, so `../..` would land inside tmp_path."""
    path = tmp_path / "a" / "b" / "seeds"
    path.mkdir(parents=True)
    return path


@pytest.fixture
def upload(tmp_path: Path):
    """`upload(content)` -> a temp file standing for what the browser sent."""
    def make(content: bytes = b"The lighthouse was painted teal.\n") -> Path:
        path = tmp_path / "incoming" / f"blob{len(list(tmp_path.glob('incoming/*')))}"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(content)
        return path
    return make


def files_under(root: Path) -> set[str]:
    """Every file and symlink under `root`, relative."""
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() or p.is_symlink()}


def save(src: Path, name: str, seeds: Path):
    return save_upload(src, name, seeds, LIMIT_MB)


@pytest.mark.parametrize("name, expected", [
    ("../../x.txt", "x.txt"),
    ("/etc/passwd.txt", "passwd.txt"),
    ("C:\\Users\\eve\\..\\notes.md", "notes.md"),
    ("..\\..\\evil.html", "evil.html"),
    (".hidden.txt", "hidden.txt"),
    ("Report FINAL.PDF", "Report FINAL.pdf"),
    ("a<b>|c?*:.txt", "a_b_c_.txt"),
    ("résumé 2024.docx", "résumé 2024.docx"),
    ("x" * 300 + ".md", "x" * 117 + ".md"),
])
def test_names_are_sanitised_to_a_safe_basename(name, expected):
    assert safe_name(name) == expected


@pytest.mark.parametrize("name", ["virus.exe", "notes", "x.txt.exe", "archive.tar.gz", "..", "../", "", ".txt",
                                  "....txt", "/"])
def test_wrong_type_or_unusable_names_are_refused(name):
    with pytest.raises(UsageError):
        safe_name(name)


@pytest.mark.parametrize("name", ["../../x.txt", "/tmp/x.txt", "..\\..\\x.txt", "../seeds/../../x.txt"])
def test_path_traversal_writes_only_inside_seeds(tmp_path, seeds, upload, name):
    src = upload()
    before = files_under(tmp_path)
    saved = save(src, name, seeds)
    assert saved.path == seeds.resolve() / "x.txt" and saved.path.read_bytes() == src.read_bytes()
    assert files_under(tmp_path) - before == {"a/b/seeds/x.txt"}
    assert not Path("/tmp/x.txt").exists() or Path("/tmp/x.txt").read_bytes() != src.read_bytes()


@pytest.mark.parametrize("name", ["tool.exe", "page.php", "notes"])
def test_wrong_type_is_refused_and_nothing_is_written(tmp_path, seeds, upload, name):
    src = upload()
    before = files_under(tmp_path)
    with pytest.raises(UsageError, match="not allowed"):
        save(src, name, seeds)
    assert files_under(tmp_path) == before


def test_oversize_and_empty_files_are_refused(tmp_path, seeds, upload):
    big, empty = upload(b"x" * int(LIMIT_MB * 2**20 + 1)), upload(b"")
    before = files_under(tmp_path)
    with pytest.raises(UsageError, match="too large"):
        save(big, "big.txt", seeds)
    with pytest.raises(UsageError, match="empty"):
        save(empty, "empty.txt", seeds)
    assert files_under(tmp_path) == before and not any(seeds.iterdir())


def test_an_upload_exactly_at_the_limit_is_accepted(seeds, upload):
    assert save(upload(b"x" * int(LIMIT_MB * 2**20)), "edge.txt", seeds).path.is_file()


def test_same_name_different_content_gets_a_new_name_and_says_so(seeds, upload):
    (seeds / "notes.txt").write_text("original")
    saved = save(upload(b"new content"), "notes.txt", seeds)
    assert saved.name == "notes-2.txt" and "renamed" in saved.message and "notes-2.txt" in saved.message
    assert (seeds / "notes.txt").read_text() == "original"
    assert save(upload(b"third"), "notes.txt", seeds).name == "notes-3.txt"


def test_identical_reupload_is_not_saved_twice(seeds, upload):
    (seeds / "notes.txt").write_bytes(b"same")
    saved = save(upload(b"same"), "notes.txt", seeds)
    assert saved.path is None and "identical" in saved.message
    assert sorted(os.listdir(seeds)) == ["notes.txt"]


def test_a_symlink_in_seeds_is_never_written_through(tmp_path, seeds, upload):
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me")
    (seeds / "link.txt").symlink_to(outside)
    saved = save(upload(b"attack"), "link.txt", seeds)
    assert outside.read_text() == "keep me"
    assert saved.name == "link-2.txt" and (seeds / "link-2.txt").read_bytes() == b"attack"


# --- content checks, conflicts and per-upload caps (issue #11 row 9, issue #14) --------------------------

from index.formats.limits import ReadOptions  # noqa: E402
from testkit.samples import write_docx, write_pdf  # noqa: E402
from ui.settings import ServeSettings  # noqa: E402
from ui.web.documents_panel import check_caps, save_all  # noqa: E402

pytestmark = pytest.mark.unit  # the fast tier: `pytest -m unit`

OPTIONS = ReadOptions()


def checked(src: Path, name: str, seeds: Path, **kw):
    return save_upload(src, name, seeds, LIMIT_MB, OPTIONS, **kw)


@pytest.mark.parametrize("name, content, reason", [
    ("noise.txt", os.urandom(4000), "binary"),
    ("fake.pdf", b"\x89PNG\r\n\x1a\n" + b"\x00" * 300, "the content is a Portable Network Graphics"),
    ("fake.docx", b"MZ\x90\x00" + b"\x00" * 300, "the content is a Windows Executable"),
    ("zip.docx", None, "not a valid .docx: no word/document.xml inside"),
    ("broken.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\ngarbage", "broken PDF"),
    ("elf.md", b"\x7fELF\x02\x01\x01" + b"\x00" * 300, "binary"),
    ("empty.html", b"<html><body><script>x()</script></body></html>", "empty: no text to index"),
])
def test_content_that_does_not_match_or_cannot_be_read_is_refused_and_nothing_written(
        tmp_path, seeds, upload, name, content, reason):
    import zipfile

    if content is None:
        src = tmp_path / "incoming.zip"
        with zipfile.ZipFile(src, "w") as zf:
            zf.writestr("hello.txt", "just a zip")
    else:
        src = upload(content)
    before = files_under(tmp_path)
    with pytest.raises(UsageError) as err:
        checked(src, name, seeds)
    assert reason in str(err.value) and name in str(err.value)
    assert files_under(tmp_path) == before and not any(seeds.iterdir())


def test_real_documents_pass_the_check(tmp_path, seeds, upload):
    pdf = write_pdf(tmp_path / "real.pdf", ["A real report about harbour fees."])
    docx = write_docx(tmp_path / "real.docx", "Real", ["A real Word document."])
    assert checked(pdf, "report.pdf", seeds).path == seeds.resolve() / "report.pdf"
    assert checked(docx, "notes.docx", seeds).path == seeds.resolve() / "notes.docx"
    assert checked(upload(), "plain.txt", seeds).path.read_bytes() == upload().read_bytes()


def test_a_name_conflict_asks_then_replaces_or_keeps_both(seeds, upload):
    (seeds / "notes.txt").write_text("original\n")
    asked = checked(upload(b"new content\n"), "notes.txt", seeds, on_conflict=None)
    assert asked.conflict and asked.path is None and (seeds / "notes.txt").read_text() == "original\n"
    assert sorted(os.listdir(seeds)) == ["notes.txt"]
    both = checked(upload(b"second\n"), "notes.txt", seeds, on_conflict="keep both")
    assert both.name == "notes-2.txt" and (seeds / "notes.txt").read_text() == "original\n"
    replaced = checked(upload(b"replacement\n"), "notes.txt", seeds, on_conflict="replace")
    assert replaced.path == seeds.resolve() / "notes.txt" and (seeds / "notes.txt").read_text() == "replacement\n"
    assert sorted(os.listdir(seeds)) == ["notes-2.txt", "notes.txt"]  # no temp file left behind


def test_replacing_a_symlinked_document_never_writes_through_it(tmp_path, seeds, upload):
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me")
    (seeds / "link.txt").symlink_to(outside)
    checked(upload(b"new text\n"), "link.txt", seeds, on_conflict="replace")
    assert outside.read_text() == "keep me" and not (seeds / "link.txt").is_symlink()


def test_too_many_files_or_bytes_in_one_upload_are_refused_whole(tmp_path, upload):
    from index.settings import IndexSettings

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    settings = IndexSettings(seeds_dir=seeds, db_dir=tmp_path / "db")
    files = [str(upload(f"Document {n} about harbours.\n".encode())) for n in range(300)]
    result = save_all(files, settings, ServeSettings(upload_max_files=20))
    assert result.saved == [] and len(result.refused) == 300 and len(result.messages) == 1
    assert "300 files in one upload; the limit is 20" in result.messages[0]
    big = [str(upload(b"x" * 600_000)) for _ in range(2)]
    with pytest.raises(UsageError, match="MB in one upload; the limit is 1 MB"):
        check_caps(big, ServeSettings(upload_total_mb=1))
    assert not any(seeds.iterdir())
    fine = save_all([(files[0], "one.txt"), (files[1], "two.txt")], settings, ServeSettings())
    assert fine.saved == ["one.txt", "two.txt"] and fine.summary() == "Upload: 2 saved"
