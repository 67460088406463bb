"""The lesser faults of issue #25, item 8: a collection name with a trailing newline, `qa verify` and negative
offsets, `qa serve --host 0.0.0.0` without a login, the summary of `qa docs list`."""
from __future__ import annotations

import pytest

from conftest import SEEDS
from index.errors import UsageError
from index.manager import collections
from qa.sharing.evidence import FORMAT, verify

SEED = sorted(p.name for p in SEEDS.iterdir())[0]


@pytest.mark.parametrize("name", ["papers\n", "papers\r\n", "\npapers", "pa pers"])
def test_a_collection_name_with_a_newline_is_refused(name):
    with pytest.raises(UsageError):
        collections.check_name(name)
    assert collections.check_name("papers") == "papers"


def bundle_quoting(start: int, end: int, quote: str) -> dict:
    return {"format": FORMAT, "turns": [{"sources": [{"n": 1, "source": SEED,
                                                      "quotes": [{"start": start, "end": end, "quote": quote}]}]}]}


def test_verify_refuses_negative_offsets():
    text = (SEEDS / SEED).read_text("utf-8")
    assert verify(bundle_quoting(0, 20, text[:20]), lambda c: SEEDS).ok
    with pytest.raises(UsageError, match="offsets"):
        verify(bundle_quoting(-20, -1, text[-20:-1]), lambda c: SEEDS)
    with pytest.raises(UsageError, match="offsets"):
        verify(bundle_quoting(30, 20, ""), lambda c: SEEDS)


def test_verify_reads_files_in_the_capped_reader(monkeypatch, tmp_path):
    """`qa verify` reads each cited file as indexing does: in the reader process with its memory and time
    caps (`index.ingest.isolate.Reader`), never in its own process."""

    def in_process(*args, **kwargs):
        raise AssertionError("read in-process")

    monkeypatch.setattr("qa.sharing.evidence.load", in_process, raising=False)
    text = (SEEDS / SEED).read_text("utf-8")
    assert verify(bundle_quoting(0, 20, text[:20]), lambda c: SEEDS).ok


def test_serve_on_every_interface_without_a_login_refuses(qa_cli):
    done = qa_cli("serve", "--host", "0.0.0.0", "--port", "1", "--db", "/nonexistent-qa-db", timeout=120)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "--insecure-no-auth" in done.stderr and "QA_AUTH" in done.stderr and "Traceback" not in done.stderr


def test_docs_list_ends_its_rows_before_the_summary(qa_cli, tmp_path, embedder):
    from index.builds.build import build
    from index.settings import IndexSettings

    settings = IndexSettings(seeds_dir=SEEDS, db_dir=tmp_path / "db")
    build(settings, embedder=embedder)
    done = qa_cli("docs", "list", "--seeds", SEEDS, "--db", settings.db_dir)
    assert done.returncode == 0 and done.stdout.endswith("\n"), done.stdout
    assert done.stderr.startswith("\n") and "1 indexed" in done.stderr, done.stderr
