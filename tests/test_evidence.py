"""Evidence bundles and `qa verify`: quotes checked against the files as they are now, stale ones named; the
chat's mark on an answer whose cited file changed since; the chat's JSON export is a bundle. Fast: the
in-memory fakes (`testkit.fakes`) answer, and `qa verify` reads no model."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import SEEDS
from index.builds.build import build
from index.errors import UsageError
from index.ingest.discover import file_hash
from index.settings import IndexSettings
from qa.pipeline import build_assistant
from qa.sharing.evidence import FORMAT, ChangeCheck, bundle, read_bundle, verify
from qa.sharing.export import Turn
from testkit.fakes import HashEmbedder, MemoryStore
from ui.web import render

pytestmark = pytest.mark.unit  # the fast tier: `pytest -m unit`

SEED = "000_ce4e22ba4c4cf3bd.txt"
XI = "What did Xi herald during his call with Putin?"
YELLEN = "What did Janet Yellen warn China about?"


@pytest.fixture
def answered(tmp_path):
    """Two answers from a fake index of a copy of the seeds: (seeds folder, turns)."""
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    settings = IndexSettings(seeds_dir=seeds, db_dir=tmp_path / "db")
    embedder, store = HashEmbedder(), MemoryStore(settings)
    build(settings, embedder=embedder, store=store)
    assistant = build_assistant(settings, embedder=embedder, store=store)
    turns = [Turn(q, assistant.answer(q)) for q in (XI, YELLEN)]
    assert all(t.answer.citations for t in turns)
    return seeds, turns


def write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(data), "utf-8")
    return path


def test_a_bundle_holds_each_quote_with_offsets_and_each_files_sha256(answered):
    seeds, turns = answered
    data = bundle("Xi", turns, seeds)
    assert data["format"] == FORMAT and data["version"] == 1
    assert data["documents"] == [{"source": SEED, "title": data["documents"][0]["title"], "published": "2024-04-13",
                                  "sha256": file_hash(seeds / SEED), "bytes": (seeds / SEED).stat().st_size}]
    text = (seeds / SEED).read_text("utf-8")
    quotes = [q for t in data["turns"] for s in t["sources"] for q in s["quotes"]]
    assert len(quotes) == sum(len(t.answer.citations) for t in turns)
    assert all(text[q["start"]:q["end"]] == q["quote"] for q in quotes)
    verdict = verify(data, seeds)
    assert verdict.ok and len(verdict.quotes) == len(quotes) and verdict.files[0].unchanged


def test_an_edit_makes_the_quote_it_touches_stale_and_only_that(answered, qa_cli, tmp_path):
    seeds, turns = answered
    path = write(tmp_path, bundle("Xi", turns, seeds))
    assert qa_cli("verify", path, "--seeds", seeds).returncode == 0
    text = (seeds / SEED).read_text("utf-8")
    (seeds / SEED).write_text(text.replace("Xi heralded a new year", "Xi welcomed a new year"), "utf-8")  # same length
    done = qa_cli("verify", path, "--seeds", seeds)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "stale: answer 1, source [1] 000_ce4e22ba4c4cf3bd.txt" in done.stdout
    assert "heralded" in done.stdout and "Yellen" not in done.stdout
    assert f"changed since: {SEED}" in done.stdout
    report = json.loads(qa_cli("verify", path, "--seeds", seeds, "--json").stdout)
    assert not report["ok"] and [q["turn"] for q in report["stale"]] == [0]
    assert report["stale"][0]["reason"] == "the file no longer holds the quote"


def test_text_added_before_a_quote_moves_it(answered):
    seeds, turns = answered
    data = bundle("Xi", turns, seeds)
    text = (seeds / SEED).read_text("utf-8")
    (seeds / SEED).write_text(text.replace("\n\n", "\n\nA new paragraph.\n\n", 1), "utf-8")
    verdict = verify(data, seeds)
    assert not verdict.ok and all(q.reason.startswith("the quote moved: it is now at line") for q in verdict.stale)
    (seeds / SEED).write_text(text + "\nA line added at the end.\n", "utf-8")  # changed, but every quote holds
    verdict = verify(data, seeds)
    assert verdict.ok and not verdict.files[0].unchanged


def test_a_missing_file_or_a_name_outside_the_folder_is_stale(answered, tmp_path):
    seeds, turns = answered
    data = bundle("Xi", turns, seeds)
    outside = tmp_path / "outside.txt"
    shutil.copyfile(seeds / SEED, outside)
    for s in data["turns"][0]["sources"]:
        s["source"] = "../outside.txt"  # an edited bundle must not make verify read outside the folder
    verdict = verify(data, seeds)
    assert {q.source for q in verdict.stale} == {"../outside.txt"}
    (seeds / SEED).unlink()
    assert all(q.reason == "the file is gone or can no longer be read" for q in verify(data, seeds).stale)


def test_what_is_not_a_bundle_is_refused_with_a_reason(tmp_path, qa_cli):
    for body in ("not json", json.dumps({"format": "other"}), json.dumps([1])):
        (tmp_path / "b.json").write_text(body, "utf-8")
        with pytest.raises(UsageError):
            read_bundle(tmp_path / "b.json")
    with pytest.raises(UsageError, match="lacks"):
        verify({"turns": [{"sources": [{"n": 1, "quotes": [{"quote": "x"}]}]}]}, tmp_path)
    done = qa_cli("verify", tmp_path / "missing.json")
    assert done.returncode == 2 and "cannot read the bundle" in done.stderr


def test_the_chat_marks_an_answer_whose_cited_file_changed_since(answered):
    seeds, turns = answered
    check = ChangeCheck(seeds)
    assert check(turns[0].answer) == ()
    before = render.conversation(turns, check)
    assert "Changed since" not in json.dumps(before)
    text = (seeds / SEED).read_text("utf-8")
    (seeds / SEED).write_text(text + "\nEdited.\n", "utf-8")
    assert check(turns[0].answer) == (SEED,)
    shown = render.conversation(turns, check)[1]["content"]
    assert f"Changed since this answer: {SEED}" in shown
    assert 'class="qa-cite qa-turn-0 qa-n-1"' in shown  # the citation buttons the chat's script reads stay


def test_the_chats_json_export_is_a_bundle(answered, tmp_path):
    from ui.settings import Config
    from ui.web import browser_chats as chats
    from ui.web.chat import Chat

    seeds, turns = answered
    cfg = Config(index=IndexSettings(seeds_dir=seeds, db_dir=tmp_path / "db"))
    chat = Chat(cfg, assistant=None, examples=type("NoExamples", (), {"get": lambda self: []})())
    store = chats.empty()
    for t in turns:
        store = chats.add_turn(store, t.question, t.answer)
    md, js = chat.export(store)
    data = read_bundle(Path(js))
    assert data["format"] == FORMAT and verify(data, seeds).ok
    assert "Xi heralded" in Path(md).read_text("utf-8")
