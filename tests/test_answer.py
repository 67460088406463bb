"""`Assistant.answer`, `qa.answer`, streaming, follow-ups, the LangChain retriever and bad input, on a real index."""
from __future__ import annotations

import json

import pytest
from langchain_core.documents import Document
from langchain_core.runnables import RunnableLambda

import qa
from conftest import EVAL, assert_well_formed, file_text
from index.builds.build import build
from index.embedding.embedders import resolve_model
from index.errors import IndexMismatchError, IndexMissingError, QAError, UsageError
from index.settings import DEFAULT_MODEL, IndexSettings
from qa.evaluation import metrics
from qa.pipeline import Assistant, build_assistant
from qa.retrieval.hybrid import SeedRetriever
from qa.types import Answer

pytestmark = pytest.mark.usefixtures("one_torch_thread")

QUESTIONS = EVAL / "seed-dev" / "questions.jsonl"
ROWS = [json.loads(line) for line in QUESTIONS.read_text("utf-8").splitlines() if line.strip()] \
    if QUESTIONS.is_file() else []
ANSWERABLE = [r for r in ROWS if not r["unanswerable"]]
OFF_TOPIC = [r for r in ROWS if r["unanswerable"]]
SEED_FILE = "000_ce4e22ba4c4cf3bd.txt"
XI = "What did Xi herald during his call with Putin?"
XI_GOLD = ["growing coordination with Russia"]

@pytest.fixture(scope="module")
def assistant(seed_index, embedder) -> Assistant:
    """One warm assistant over the module's index."""
    return build_assistant(seed_index, embedder=embedder)


def test_seed_dev_set_is_present():
    assert len(ANSWERABLE) == 10 and len(OFF_TOPIC) == 2, QUESTIONS


@pytest.mark.parametrize("row", ANSWERABLE, ids=[r["id"] for r in ANSWERABLE])
def test_answerable_question_is_answered_with_the_gold_and_a_valid_citation(assistant, seed_index, row):
    answer = assistant.answer(row["question"])
    assert_well_formed(answer, seed_index.seeds_dir)
    assert not answer.abstained, f"abstained on {row['question']!r}"
    assert metrics.contains_gold(answer.text, row["answers"]), (answer.text, row["answers"])
    assert any(c.source == SEED_FILE for c in answer.citations)
    # The gold is in what is quoted (the text is built from the quotes), not only in surrounding words.
    assert any(metrics.contains_gold(c.quote, row["answers"]) for c in answer.citations)
    # ... and a citation is a hit on the gold evidence (same file, overlapping span), as the shared metrics define it.
    assert any(metrics.is_hit(c, e) for c in answer.citations for e in row["evidence"]), (
        [(c.start, c.end) for c in answer.citations], row["evidence"])
    assert answer.question == row["question"] and answer.backend == "extractive"
    assert answer.passages and answer.seconds > 0


@pytest.mark.parametrize("row", OFF_TOPIC, ids=[r["id"] for r in OFF_TOPIC])
def test_off_topic_question_abstains_with_related_passages(assistant, seed_index, row):
    answer = assistant.answer(row["question"])
    assert_well_formed(answer, seed_index.seeds_dir)
    assert answer.abstained and answer.citations == ()
    assert "[1]" not in answer.text
    assert answer.related, "an abstention shows the closest passages"
    text = file_text(seed_index.seeds_dir, SEED_FILE)
    for p in answer.related:
        assert p.source == SEED_FILE and text[p.start:p.end] == p.text


def test_every_citation_and_passage_points_at_the_exact_file_text(assistant, seed_index):
    text = file_text(seed_index.seeds_dir, SEED_FILE)
    for row in ROWS:
        answer = assistant.answer(row["question"])
        assert_well_formed(answer, seed_index.seeds_dir)
        for c in answer.citations:
            assert c.context == text[c.context_start:c.context_start + len(c.context)]
            assert c.context_start <= c.start and c.end <= c.context_start + len(c.context)
            assert c.published == "2024-04-13"
        for p in answer.passages:
            assert text[p.start:p.end] == p.text
        scores = [p.score for p in answer.passages]
        assert scores == sorted(scores, reverse=True)


def test_module_level_answer_function(seed_index, assistant):
    """`qa.answer(question, index=...)` composes its own assistant (its own model) and answers the same."""
    got = qa.answer(XI, index=seed_index)
    assert isinstance(got, Answer) and not got.abstained
    assert metrics.contains_gold(got.text, XI_GOLD)
    assert_well_formed(got, seed_index.seeds_dir)
    warm = assistant.answer(XI)
    assert (warm.text, warm.citations) == (got.text, got.citations)


def test_answer_stream_yields_text_then_the_answer(assistant, seed_index):
    items = list(assistant.answer_stream(XI))
    assert len(items) >= 2
    *pieces, final = items
    assert all(isinstance(p, str) for p in pieces)
    assert isinstance(final, Answer)
    assert "".join(pieces) == final.text
    assert_well_formed(final, seed_index.seeds_dir)
    assert final.text == assistant.answer(XI).text
    assert metrics.contains_gold(final.text, XI_GOLD)


def test_answer_stream_checks_the_question_before_yielding(assistant):
    stream = assistant.answer_stream("   ")
    with pytest.raises(UsageError):
        next(stream)


@pytest.mark.parametrize("history", [
    [{"role": "user", "content": "Who is Chris Cavoli?"}, {"role": "assistant", "content": "..."}],
    [("Who is Chris Cavoli?", "...")],
], ids=["messages", "pairs"])
def test_follow_up_question_uses_the_history(assistant, seed_index, history):
    answer = assistant.answer("What did he tell lawmakers?", history=history)
    assert_well_formed(answer, seed_index.seeds_dir)
    assert not answer.abstained
    assert "lawmakers" in answer.text
    cavoli = [c for c in answer.citations if "lawmakers" in c.quote]
    assert cavoli, answer.citations
    text = file_text(seed_index.seeds_dir, SEED_FILE)
    sentence = text.index("Chris Cavoli")
    assert any(c.start <= sentence < c.end or "Cavoli" in c.quote for c in cavoli)
    top = assistant.retrieve("What did he tell lawmakers?", history=history, k=1)
    assert "Cavoli" in top[0].text


def test_seed_retriever_returns_documents_with_provenance(assistant, seed_index):
    retriever = assistant.retriever(k=3)
    assert isinstance(retriever, SeedRetriever)
    docs = retriever.invoke("Who said Russia would struggle without PRC inputs?")
    assert len(docs) == 3 and all(isinstance(d, Document) for d in docs)
    text = file_text(seed_index.seeds_dir, SEED_FILE)
    for d in docs:
        meta = d.metadata
        assert meta["source"] == SEED_FILE
        assert text[meta["start"]:meta["end"]] == d.page_content
        assert isinstance(meta["score"], float)
    assert [d.metadata["score"] for d in docs] == sorted((d.metadata["score"] for d in docs), reverse=True)
    assert any("PRC inputs" in d.page_content for d in docs)
    assert len(assistant.retriever().invoke("drones")) == assistant.settings.k


def test_seed_retriever_composes_in_an_lcel_chain(assistant):
    retriever = assistant.retriever(k=2)
    assert (retriever | RunnableLambda(len)).invoke("What did Xi herald?") == 2
    chain = retriever | RunnableLambda(lambda docs: [d.metadata["source"] for d in docs])
    assert chain.batch(["drones", "artillery rounds"]) == [[SEED_FILE] * 2] * 2


@pytest.mark.parametrize("question", ["", " ", "\t\n  \r", "\x00\x07\x1b", "\u200b\u2028 \u3000"],
                         ids=["empty", "space", "whitespace", "control-only", "unicode-blank"])
def test_empty_question_is_a_usage_error(assistant, question):
    with pytest.raises(UsageError) as err:
        assistant.answer(question)
    assert err.value.exit_code == 2 and "empty" in str(err.value)


def test_over_long_question_is_a_usage_error(assistant):
    question = ("Why " * 1250)[:5000]
    assert len(question) == 5000
    with pytest.raises(UsageError, match="limit") as err:
        assistant.answer(question)
    assert err.value.hint and err.value.exit_code == 2


def test_non_text_question_is_a_usage_error(assistant):
    with pytest.raises(UsageError):
        assistant.answer(None)  # type: ignore[arg-type]


def test_control_characters_are_stripped_and_the_question_answered(assistant, seed_index):
    answer = assistant.answer("\x00What did Xi\x07 herald during\x1b his call\r\nwith Putin?\x7f\u200b")
    assert_well_formed(answer, seed_index.seeds_dir)
    assert answer.question == XI
    assert not answer.abstained and metrics.contains_gold(answer.text, XI_GOLD)


@pytest.mark.parametrize("question", [
    "Qu'a annoncé Xi lors de son appel avec Vladimir Poutine ?",
    "习近平在与普京通话时宣布了什么？",
    "Что Си объявил во время разговора с Путиным?",
    "ما الذي أعلنه شي خلال مكالمته مع بوتين؟",
], ids=["french", "chinese", "russian", "arabic"])
def test_question_in_another_language_is_answered_right_or_abstains(assistant, seed_index, question):
    """The bundled model is English-only: a foreign question may abstain, but must never cite a wrong passage."""
    answer = assistant.answer(question)
    assert_well_formed(answer, seed_index.seeds_dir)
    assert answer.abstained or any("Xi heralded" in c.quote for c in answer.citations), answer.text


def test_bad_k_is_a_usage_error(assistant):
    for k in (51, -1, 2.5):
        with pytest.raises(UsageError):
            assistant.answer(XI, k=k)


def test_missing_index_is_reported_with_a_hint(tmp_path, embedder, seed_index):
    settings = IndexSettings(seeds_dir=seed_index.seeds_dir, db_dir=tmp_path / "empty-db")
    (tmp_path / "empty-db").mkdir()
    fresh = build_assistant(settings, embedder=embedder)
    with pytest.raises(IndexMissingError) as err:
        fresh.answer(XI)
    assert "qa index" in str(err.value) and "qa index" in err.value.hint
    assert err.value.exit_code == 1
    with pytest.raises(IndexMissingError):
        fresh.retrieve(XI)


def test_index_built_with_another_model_name_is_a_mismatch(tmp_path, embedder, seed_index):
    db = tmp_path / "db"
    by_path = IndexSettings(seeds_dir=seed_index.seeds_dir, db_dir=db, embed_model=resolve_model(DEFAULT_MODEL))
    assert by_path.embed_model != DEFAULT_MODEL
    build(by_path, embedder=embedder)
    assert build_assistant(by_path, embedder=embedder).answer(XI).citations  # the recorded name answers
    asked = IndexSettings(seeds_dir=seed_index.seeds_dir, db_dir=db)
    with pytest.raises(IndexMismatchError) as err:
        build_assistant(asked, embedder=embedder).answer(XI)
    assert by_path.embed_model in str(err.value) and DEFAULT_MODEL in str(err.value)
    assert "qa index" in err.value.hint
    assert isinstance(err.value, QAError) and err.value.exit_code == 1
