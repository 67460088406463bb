"""Upload checks: names are sanitised, bad types and sizes refused, nothing written outside the seeds dir."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from index.errors import UsageError
from ui.upload import safe_name, save_upload

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
