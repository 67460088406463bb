"""Fast unit tests of the contracts, on the in-memory fakes (`testkit.fakes`): no model, no Chroma. Seconds."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index import ids
from index.builds.build import build
from index.errors import IndexMissingError, QAError, UsageError
from index.settings import IndexSettings
from qa.answerers import ANSWERERS, available
from qa.errors import AnswerError, LLMError
from qa.history import as_dicts, messages, user_turns
from qa.pipeline import build_assistant
from qa.settings import AnswerSettings
from qa.wording import NOT_FOUND, location
from testkit.fakes import HashEmbedder, MemoryStore
from ui import docs
from ui.errors import ServeError, UploadRefused
from ui.settings import Config, ServeSettings

pytestmark = pytest.mark.unit  # the fast tier: `pytest -m unit`

DOCS = {
    "lighthouse.txt": "The Quillmere lighthouse was painted teal in 1897 by its keeper, Odile Franck.\n\n"
                      "Fishing crews said the colour could be seen from the far side of the bay.",
    "orchard.md": "# Orchard notes\n\nThe old orchard grows forty kinds of apple. Its cider press dates from 1921.",
}


@pytest.fixture
def fake_index(tmp_path) -> tuple[IndexSettings, HashEmbedder, MemoryStore]:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for name, text in DOCS.items():
        (seeds / name).write_text(text, "utf-8")
    settings = IndexSettings(seeds_dir=str(seeds), db_dir=str(tmp_path / "db"))  # str paths are accepted
    embedder, store = HashEmbedder(), MemoryStore(settings)
    build(settings, embedder=embedder, store=store)
    return settings, embedder, store


def test_a_question_is_answered_from_the_fakes(fake_index):
    settings, embedder, store = fake_index
    assistant = build_assistant(settings, embedder=embedder, store=store)
    answer = assistant.answer("What colour was the Quillmere lighthouse painted?")
    assert not answer.abstained and "teal" in answer.text
    c = answer.citations[0]
    assert c.source == "lighthouse.txt" and DOCS["lighthouse.txt"][c.start:c.end] == c.quote
    assert assistant.answer("Who won the 1954 football world cup in Switzerland?").text == NOT_FOUND


def test_an_empty_store_means_no_index(tmp_path):
    settings = IndexSettings(seeds_dir=tmp_path, db_dir=tmp_path / "db")
    with pytest.raises(IndexMissingError, match="no index found"):
        MemoryStore(settings).search(np.zeros(4, np.float32), 3)


def test_hash_embedder_vectors_are_unit_and_span_vectors_follow_words():
    e = HashEmbedder(dimension=32)
    vectors, spans = e.embed_spans(["red apple. green pear."], [[(0, 10), (11, 22)]])
    assert vectors.shape == (1, 32) and abs(np.linalg.norm(vectors[0]) - 1) < 1e-5
    assert spans[0].shape == (2, 32)
    assert float(e.embed(["red apple"])[0] @ spans[0][0]) > 0.99


def test_chunk_ids_are_made_and_read_in_one_place():
    prefix = ids.file_prefix("dir/a.txt", "ab" * 32)
    cid = ids.chunk_id(prefix, 7)
    assert cid == f"{prefix}-00007" and ids.prefix_of(cid) == prefix and ids.number_of(cid) == 7
    assert prefix.endswith("-" + "ab" * 6) and len(prefix) == 25


def test_settings_come_from_variables_then_flags():
    env = {"QA_SEEDS": "docs", "QA_K": "6", "QA_CHUNK_SIZE": "500", "QA_CHUNK_OVERLAP": "50", "QA_LLM": "ollama",
           "QA_LLM_API_KEY_ENV": "MY_KEY", "MY_KEY": "sk-1", "QA_PORT": "8080", "QA_AUTH": "a:b"}
    cfg = Config.from_env(env, db_dir="idx", k=3, seeds_dir=None)
    assert cfg.index.seeds_dir == Path("docs") and cfg.index.db_dir == Path("idx") and cfg.index.chunk_size == 500
    assert (cfg.answer.k, cfg.answer.answerer, cfg.answer.llm_api_key) == (3, "ollama", "sk-1")
    assert (cfg.serve.port, cfg.serve.auth) == (8080, "a:b") and "a:b" not in repr(cfg)
    assert cfg.feedback_log == Path("idx") / "feedback.jsonl"
    assert IndexSettings.from_env({}, seeds_dir="docs", db_dir=".idx").db_dir == Path(".idx")


@pytest.mark.parametrize("env, named", [
    ({"QA_K": "abc"}, "QA_K"), ({"QA_K": "0"}, "QA_K"), ({"QA_K": "1.7"}, "QA_K"),
    ({"QA_MAX_FILE_MB": "x"}, "QA_MAX_FILE_MB"), ({"QA_CHROMA_PORT": "abc"}, "QA_CHROMA_PORT"),
    ({"QA_CHUNK_SIZE": "0"}, "QA_CHUNK_SIZE"), ({"QA_CHUNK_OVERLAP": "1000"}, "QA_CHUNK_OVERLAP"),
    ({"QA_LLM": "gpt"}, "QA_LLM"), ({"QA_PORT": "70000"}, "QA_PORT"), ({"QA_LLM_TIMEOUT": "-1"}, "QA_LLM_TIMEOUT"),
])
def test_bad_settings_are_usage_errors_naming_the_variable(env, named):
    with pytest.raises(UsageError) as err:
        Config.from_env(env)
    assert named in str(err.value) and err.value.exit_code == 2


def test_settings_from_code_are_checked_too():
    for bad in (dict(k=0), dict(k=1.7), dict(k=True), dict(answerer="nope")):
        with pytest.raises(UsageError):
            AnswerSettings(**bad)
    assert AnswerSettings().replace(llm_model="m").replace(llm_model=None).llm_model is None


def test_the_error_tree_has_a_branch_per_layer():
    assert issubclass(IndexMissingError, QAError) and issubclass(LLMError, AnswerError)
    assert issubclass(AnswerError, QAError) and issubclass(ServeError, QAError)
    assert issubclass(UploadRefused, UsageError) and UploadRefused("x").exit_code == 2


def test_history_is_read_in_one_place():
    from langchain_core.messages import AIMessage, HumanMessage

    shapes = [
        [{"role": "user", "content": [{"type": "text", "text": "Who?"}]}, {"role": "assistant", "content": "Xi [1]."}],
        [("Who?", "Xi [1].")],
        [HumanMessage("Who?"), AIMessage("Xi [1].")],
    ]
    for history in shapes:
        assert as_dicts(history) == [{"role": "user", "content": "Who?"}, {"role": "assistant", "content": "Xi [1]."}]
        assert user_turns(history) == ["Who?"]
    assert messages([{"role": "user", "content": None}, 42, "text"]) == []


def test_answerers_come_from_one_registry():
    assert list(ANSWERERS) == ["extractive", "openai", "ollama"]
    assert available(False) == ["extractive"] and available(True) == list(ANSWERERS)
    assert all(f"`{name}`" in docs.answerers_table() for name in ANSWERERS)


def test_locations_are_written_one_way():
    assert location("a.txt", 3, 3) == "a.txt, line 3"
    assert location("a.txt", 3, 5) == "a.txt, lines 3–5"
    assert location("a.pdf", 1, 9, page=2) == "a.pdf, p. 2"


def test_the_readme_tables_are_generated_from_the_code():
    table = docs.config_table()
    for kind in (IndexSettings, AnswerSettings, ServeSettings):
        for row in kind.documented():
            assert f"`{row['env']}`" in table
    assert docs.main(["--check"]) == 0, "README.md is out of date: run `python -m ui.docs`"
