"""Answers of more than one sentence (issue #24): the question-form classifier, and each form answered by the
real model over a real store (summary, list, why, how, yes/no, comparison), every sentence a cited quote; the
Answer's public dict keeps forms, verdicts and groups; the chat renders bullets and sides; the LLM prompt
asks for the form; `qa eval nonfactoid-dev` scores as shared/README.md defines it."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import assert_well_formed
from index.builds.build import build
from index.settings import IndexSettings
from qa import evalsets
from qa.evaluation.nonfactoid import score, verdict_of
from qa.extractive.forms import COMPARE, FACT, HOW, LIST, SUMMARY, WHY, YESNO, form_of
from qa.llm.prompt import FORM_GUIDE, answer_messages
from qa.pipeline import build_assistant
from qa.types import Answer, Citation, Group, answer_dict, answer_from_dict


@pytest.mark.parametrize("question, form", [
    ("Summarise this report for me.", SUMMARY), ("What is this paper about?", SUMMARY),
    ("Give me the gist of the memo.", SUMMARY), ("What do the documents say about budgets?", SUMMARY),
    ("What kinds of fuel does the plant burn?", LIST), ("List the members of the board.", LIST),
    ("What has the council done about housing?", LIST),
    ("Why did the bridge close?", WHY), ("What caused the outage?", WHY),
    ("How does the pump move water?", HOW), ("How many pumps are there?", FACT), ("How long is the bridge?", FACT),
    ("Is the bridge open?", YESNO), ("Did the council approve it?", YESNO), ("Is it red or blue?", FACT),
    ("How do the two pumps differ?", COMPARE), ("Compare the old plan with the new one.", COMPARE),
    ("Who built the bridge?", FACT), ("When did it open?", FACT), ("What is the capital of Ruritania?", FACT),
])
def test_the_form_of_a_question_is_read_from_its_grammar(question, form):
    assert form_of(question) == form


@pytest.fixture(scope="module")
def seed_assistant(seed_index, embedder):
    return build_assistant(seed_index, embedder=embedder)


@pytest.fixture(scope="module")
def harvard(tmp_path_factory, embedder):
    """A real index of one SQuAD article (Harvard University), kept out of the dev set's questions."""
    root = tmp_path_factory.mktemp("forms-harvard")
    shutil.copy(evalsets.corpus("squad-dev") / "Harvard_University.txt", root / "Harvard_University.txt")
    settings = IndexSettings(seeds_dir=root, db_dir=root / ".db")
    build(settings, embedder=embedder)
    return build_assistant(settings, embedder=embedder), settings


@pytest.mark.slow
def test_a_summary_is_the_documents_central_sentences_as_cited_bullets_in_document_order(seed_assistant, seed_index):
    a = seed_assistant.answer("Summarize the article.")
    assert_well_formed(a, seed_index.seeds_dir)
    assert a.form == SUMMARY and not a.abstained
    assert 3 <= len(a.citations) <= 7
    assert a.text.splitlines()[0].startswith("- ") and len(a.text.splitlines()) == len(a.citations)
    starts = [c.start for c in a.citations]
    assert starts == sorted(starts)                       # document order
    assert a.citations[0].start < 400                     # the lead: news puts its point first


@pytest.mark.slow
def test_a_list_gathers_several_items_each_cited(seed_assistant, seed_index):
    a = seed_assistant.answer("What kinds of help is China giving Russia's defence industry?")
    assert_well_formed(a, seed_index.seeds_dir)
    assert a.form == LIST and len(a.citations) >= 2
    assert all(line.startswith("- ") for line in a.text.splitlines())
    assert len({c.quote for c in a.citations}) == len(a.citations)          # no item twice


@pytest.mark.slow
def test_why_and_how_quote_one_to_three_explaining_sentences(harvard):
    assistant, settings = harvard
    for question, form in [("Why is Harvard able to offer generous financial aid?", WHY),
                           ("How did Charles W. Eliot change Harvard's curriculum?", HOW)]:
        a = assistant.answer(question)
        assert_well_formed(a, settings.seeds_dir)
        assert a.form == form and 1 <= len(a.citations) <= 3, a.text
    a = assistant.answer("Why is Harvard able to offer generous financial aid?")
    assert any("endowment" in c.quote for c in a.citations)


@pytest.mark.slow
def test_yes_no_gives_a_verdict_only_when_the_deciding_sentence_decides(harvard):
    assistant, settings = harvard
    a = assistant.answer("Was Harvard ever formally affiliated with a religious denomination?")
    assert_well_formed(a, settings.seeds_dir)
    assert a.form == YESNO and a.verdict == "no" and a.text.startswith("No. ")
    assert "never" in a.citations[0].quote and "affiliated" in a.citations[0].quote
    undecided = assistant.answer("Did the Harvard Crimson win a regatta?")
    assert undecided.verdict is None
    assert undecided.abstained or undecided.text.startswith("The documents say:")


@pytest.mark.slow
def test_a_comparison_groups_each_sides_sentences_under_it(harvard):
    assistant, settings = harvard
    a = assistant.answer("How did Eliot and Conant differ as presidents of Harvard?")
    assert_well_formed(a, settings.seeds_dir)
    assert a.form == COMPARE and len(a.groups) == 2
    eliot, conant = a.groups
    assert "Eliot" in eliot.label and "Conant" in conant.label
    by_n = {c.n: c.quote for c in a.citations}
    assert any("Eliot" in by_n[n] for n in eliot.citations) and any("Conant" in by_n[n] for n in conant.citations)
    assert f"{eliot.label}:" in a.text and f"{conant.label}:" in a.text


@pytest.mark.slow
def test_off_topic_summaries_and_explanations_still_abstain(harvard):
    assistant, _ = harvard
    for question in ("Summarize the article about the French Revolution.", "Why did the Titanic sink?"):
        assert assistant.answer(question).abstained, question


def test_the_public_dict_carries_form_verdict_and_groups_and_reads_back():
    c = Citation(1, "a.txt", "A", "", 0, 5, 1, 1, "Hello", 1.0)
    d = Citation(2, "b.txt", "B", "", 0, 5, 1, 1, "World", 1.0)
    a = Answer("q", "A:\n- Hello [1]\nB:\n- World [2]", (c, d), False, "extractive", form="compare",
               groups=(Group("A", (1,)), Group("B", (2,))))
    data = answer_dict(a)
    assert data["form"] == "compare" and data["groups"] == [{"label": "A", "citations": [1]},
                                                            {"label": "B", "citations": [2]}]
    back = answer_from_dict(data)
    assert back.groups == a.groups and back.form == "compare" and back.verdict is None
    old = {k: v for k, v in data.items() if k not in ("form", "verdict", "groups")}   # an older server's reply
    assert answer_from_dict(old).form == "fact" and answer_from_dict(old).groups == ()


def test_the_chat_renders_bullets_verdicts_and_sides():
    from ui.web.render import answer_html

    c = Citation(1, "a.txt", "A", "", 0, 5, 1, 1, "Hello", 1.0)
    d = Citation(2, "b.txt", "B", "", 0, 5, 1, 1, "World", 1.0)
    side = answer_html(0, Answer("q", "A:\n- Hello [1]\nB:\n- World [2]", (c, d), False, "x", form="compare",
                                 groups=(Group("A", (1,)), Group("B", (2,)))))
    assert side.count('class="qa-side"') == 2 and "<li>Hello" in side and "qa-cite" in side
    bullets = answer_html(0, Answer("q", "- Hello [1]\n- World [2]", (c, d), False, "x", form="summary"))
    assert bullets.count("<li>") == 2 and "qa-bullets" in bullets
    verdict = answer_html(0, Answer("q", "No. Hello [1]", (c,), False, "x", form="yesno", verdict="no"))
    assert 'qa-verdict-no' in verdict and ">No<" in verdict


def test_the_llm_prompt_asks_for_the_questions_form():
    user = answer_messages("Summarize the article.", "Summarize the article.", [])[1][1]
    assert FORM_GUIDE["summary"] in user
    fact = answer_messages("Who is the commander?", "Who is the commander?", [])[1][1]
    assert not any(g in fact for g in FORM_GUIDE.values())
    assert FORM_GUIDE["yesno"] in answer_messages("Is it open?", "Is it open?", [])[1][1]


def test_nonfactoid_scoring_follows_the_shared_definition():
    c1 = Citation(1, "f.txt", "", "", 0, 10, 1, 1, "x" * 10, 1.0)
    c2 = Citation(2, "f.txt", "", "", 50, 60, 1, 1, "x" * 10, 1.0)
    row = {"id": "t", "kind": "yesno", "key": [{"source": "f.txt", "start": 0, "end": 10}], "need": 1,
           "verdict": "no"}
    right = score(row, Answer("q", "Answer: No. x [1] y [2]", (c1, c2), False, "x"))
    assert right.right and right.verdict == "no" and right.precision == 0.5
    wrong = score(row, Answer("q", "y [1]", (c2,), False, "x"))
    assert not wrong.right and wrong.verdict is None and wrong.key_recall == 0.0
    assert verdict_of("Yes. It is.") == "yes" and verdict_of("Yesterday it was.") is None
    off = {"id": "o", "kind": "off-topic", "key": [], "need": 0, "unanswerable": True}
    assert score(off, Answer("q", "none", (), True, "x")).right


def test_a_saved_conversation_keeps_its_forms_for_the_chat_to_draw_again():
    from qa.sharing.export import answer_from_dict as saved, answer_to_dict

    c = Citation(1, "a.txt", "A", "", 0, 5, 1, 1, "Hello", 1.0)
    a = Answer("q", "No. Hello [1]", (c,), False, "x", form="yesno", verdict="no", groups=(Group("A", (1,)),))
    back = saved(answer_to_dict(a))
    assert (back.form, back.verdict, back.groups) == ("yesno", "no", (Group("A", (1,)),))


NEWS = ["TechCrunch_A_timeline_of_Sam_Altman_s_firing_from_OpenAI_and_the_fallout.md",
        "TechCrunch_Early_impressions_of_Google_s_Gemini_aren_t_great.md",
        "Engadget_The_Steam_Deck_OLED_arrives_November_16_with_an_improved_screen_and_lon.md",
        "Polygon_The_best_video_games_of_the_year_so_far.md"]


@pytest.fixture(scope="module")
def news(tmp_path_factory, embedder):
    """A real index of four news articles with front matter (two by one author, each on its own day)."""
    root = tmp_path_factory.mktemp("forms-news")
    for name in NEWS:
        shutil.copy(evalsets.corpus("multihop-dev") / name, root / name)
    settings = IndexSettings(seeds_dir=root, db_dir=root / ".db")
    build(settings, embedder=embedder)
    return build_assistant(settings, embedder=embedder), settings


@pytest.mark.slow
def test_a_summary_of_the_documents_a_question_names_by_author_outlet_day_or_none(news):
    assistant, settings = news
    by_author = assistant.answer("Summarize the articles by Kyle Wiggers.")
    assert_well_formed(by_author, settings.seeds_dir)
    assert by_author.form == SUMMARY and {c.source for c in by_author.citations} <= set(NEWS[:2])
    by_outlet = assistant.answer("Summarize what Engadget reported.")
    assert {c.source for c in by_outlet.citations} == {NEWS[2]}
    by_day = assistant.answer("Summarize the article published on October 31, 2023.")
    assert {c.source for c in by_day.citations} == {NEWS[3]}
    everything = assistant.answer("What are these documents about?")
    assert everything.form == SUMMARY and len({c.source for c in everything.citations}) >= 3
    assert assistant.answer("Summarize the articles by Jane Nobodyhere.").abstained


@pytest.mark.slow
def test_qa_eval_nonfactoid_reports_right_recall_precision_and_verdicts_per_kind(tmp_path, shared_model):
    """`qa eval nonfactoid-dev` over its seed-article questions (the CLI, a real index)."""
    import json as _json

    from click.testing import CliRunner

    from ui.cli.main import main

    rows = [r for r in map(_json.loads, evalsets.questions("nonfactoid-dev").read_text("utf-8").splitlines())
            if r["corpus"] == "seeds"]
    questions = tmp_path / "seed-forms.jsonl"
    questions.write_text("".join(_json.dumps(r) + "\n" for r in rows), "utf-8")
    result = CliRunner().invoke(main, ["eval", str(questions), "--db", str(tmp_path / "db"), "--json"])
    assert result.exit_code == 0, result.output
    report = _json.loads(result.output[result.output.index("{"):])
    assert report["overall"]["questions"] == len(rows) and report["overall"]["citation_validity"] == 1.0
    assert {"summary", "list", "yesno", "compare"} <= set(report["by_type"])
    yesno = report["by_type"]["yesno"]
    assert yesno["verdicts_asked"] == 2 and yesno["verdicts_wrong"] == 0 and yesno["verdicts_given"] >= 1
    assert report["overall"]["right"] >= 4          # the one-sentence answerer alone got 2 of these 8


@pytest.mark.slow
def test_the_llm_answerer_is_asked_for_the_form_and_its_citations_are_still_checked(seed_index, embedder):
    """Through a real local server speaking the OpenAI protocol (tests/llm_stub.py)."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from llm_stub import StubLLM
    from qa.settings import AnswerSettings

    reply = ("- China is helping Russia ramp up its defence industrial base [1].\n"
             "- Lunar bases are built of cheese [2].")
    with StubLLM(reply) as stub:
        settings = AnswerSettings(answerer="openai", llm_base_url=stub.url, llm_model="stub")
        a = build_assistant(seed_index, settings, embedder=embedder).answer("Summarize the article.")
        sent = stub.requests[0]["body"]["messages"][-1]["content"]
    assert FORM_GUIDE["summary"] in sent
    assert [c.n for c in a.citations] == [1]          # the unsupported bullet lost its marker
    assert "[2]" not in a.text and not a.abstained
