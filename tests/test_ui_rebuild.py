"""The app's rebuild path with the real model: answering keeps working during and after a rebuild."""
from __future__ import annotations

import io
import threading

import pytest

from index.settings import IndexSettings
from qa.pipeline import build_assistant
from testkit.servers import XI_QUESTION, XI_QUOTE
from ui.web import documents_panel as documents
from ui.web.upload import save_upload

pytestmark = pytest.mark.slow

FACT = "date 2023-05-02 The Quillmere lighthouse was painted teal in 1897 by its keeper, Odile Franck.\n"


def test_answers_keep_coming_while_the_index_is_rebuilt(seeds_copy, tmp_path, embedder):
    settings = IndexSettings(seeds_dir=seeds_copy, db_dir=tmp_path / "db")
    assistant = build_assistant(settings, embedder=embedder)
    documents.ensure_index(settings, embedder=embedder, out=io.StringIO())
    base = (seeds_copy / "000_ce4e22ba4c4cf3bd.txt").read_text("utf-8")
    for n in range(12):
        (seeds_copy / f"copy{n:02}.txt").write_text(base.replace("Xi", f"President{n}"), "utf-8")
    (seeds_copy / "quillmere.txt").write_text(FACT, "utf-8")
    result: list[str] = []
    worker = threading.Thread(target=lambda: result.append(
        documents.run_build(settings, assistant.embedder, assistant.store)))
    worker.start()
    answers = 0
    while worker.is_alive() or answers == 0:
        answer = assistant.answer(XI_QUESTION)
        assert not answer.abstained and XI_QUOTE in answer.citations[0].quote
        answers += 1
    worker.join()
    print(f"{answers} answers during the rebuild")
    assert "14 files" in result[0] and "13 added" in result[0], result
    assert "teal" in assistant.answer("What colour was the Quillmere lighthouse painted?").text
    assert len(documents.table(settings)) == 14


def test_an_app_started_without_documents_works_after_an_upload(tmp_path, embedder):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    settings = IndexSettings(seeds_dir=seeds, db_dir=tmp_path / "db")
    assistant = build_assistant(settings, embedder=embedder)
    out = io.StringIO()
    documents.ensure_index(settings, embedder=embedder, out=out)
    assert "upload documents" in out.getvalue()
    assert assistant.answer("What colour was the lighthouse?").abstained
    src = tmp_path / "upload.txt"
    src.write_text(FACT, "utf-8")
    assert save_upload(src, "lighthouse.txt", seeds, 20).path == seeds / "lighthouse.txt"
    assert "1 added" in documents.run_build(settings, assistant.embedder, assistant.store)
    answer = assistant.answer("What colour was the Quillmere lighthouse painted?")
    assert "teal" in answer.text and answer.citations[0].source == "lighthouse.txt"
