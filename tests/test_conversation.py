"""The pure parts of a conversation: how a turn leans on the history (cues, fragments), what a history says
(turns), mentions, enumerations and acronyms, questions about the documents (slots and exact spans), short
answers (types, exact spans) and type-aware abstention. No model, no store."""
from __future__ import annotations

import pytest

from conftest import SEEDS, file_text
from index.ingest.load import load
from qa.conversation.question import expand
from qa.conversation.turns import cues, expand_contractions, is_fragment, leans_on_history
from qa.extractive import abstain, metadata
from qa.extractive.resolver import turns_of
from qa.extractive.shortanswer import answer_type, question_type, short_answer, short_of
from qa.knowledge.mentions import acronyms, list_items, mentions
from qa.types import Citation

SEED_FILE = "000_ce4e22ba4c4cf3bd.txt"


# --- how a turn leans on the conversation ---------------------------------------------------------------

@pytest.mark.parametrize("question", [
    "When did he say that?", "What did they produce?", "What does that abbreviation stand for?",
    "When was it founded?", "And what about the second one?", "Why did this happen?",
])
def test_references_are_cues(question):
    assert cues(question).any and leans_on_history(question)


@pytest.mark.parametrize("question", [
    "Who built the turbines?",                                        # short, but self-contained
    "Which general told lawmakers that Russia has rebuilt its army?",  # "that" as a complementiser
    "Where did Paul Baran do his research?",                          # "his" bound inside the question
    "What is the capital of Australia?",
    "Who is the commander of US European Command?",
])
def test_self_contained_questions_have_no_cue(question):
    assert not cues(question).any and not is_fragment(question)
    assert not leans_on_history(question)


@pytest.mark.parametrize("question", ["And Blinken?", "And in 1911?", "What about Warsaw?", "Made worse by whom?",
                                      "Continuing today as what?", "Why?", "When exactly?", "And where?"])
def test_fragments(question):
    assert is_fragment(question) and leans_on_history(question)


def test_a_continuation_marker_is_a_cue():
    assert cues("So in which year?").continuation and leans_on_history("So in which year?")


@pytest.mark.parametrize("question", ["Any good sushi places?", "Tell me a joke.", "Who followed?", "Which one?"])
def test_not_fragments(question):
    # "Who followed?" and "Which one?" have a fronted wh-word and words of their own: the evidence decides
    assert not is_fragment(question)


def test_ordinal_used_as_a_noun_phrase():
    assert cues("And the second?").ordinal == "second"
    assert cues("What are the main sources of the first one?").ordinal == "first"
    assert cues("When was the first railway journey?").ordinal is None


def test_contractions_expose_the_auxiliary():
    assert expand_contractions("What's the title?") == "What is the title?"
    assert not is_fragment("What's the title of that article?")


def test_llm_fallback_expands_only_follow_ups():
    history = [{"role": "user", "content": "Who commands US European Command?"}, {"role": "assistant", "content": "x"}]
    assert expand("Who built the turbines?", history) == "Who built the turbines?"
    assert expand("When did he say that?", history) == "When did he say that? Who commands US European Command?"
    assert expand("When did he say that?", None) == "When did he say that?"


@pytest.mark.parametrize("history, expected", [
    (None, ()),
    ([{"role": "user", "content": "q1"}, {"role": "assistant", "content": "a1"}, {"role": "user", "content": "q2"},
      {"role": "assistant", "content": [{"type": "text", "text": "a2"}]}], (("q1", "a1"), ("q2", "a2"))),
    ([("q1", "a1"), ("q2", None)], (("q1", "a1"), ("q2", ""))),
    ([{"role": "user", "content": "q1"}, {"role": "user", "content": "q2"}], (("q1", ""), ("q2", ""))),
    ([{"role": "assistant", "content": "greeting"}, {"role": "user", "content": "q1"}], (("q1", ""),)),
], ids=["none", "messages-and-parts", "pairs", "unanswered", "leading-assistant"])
def test_turns_of_every_history_shape(history, expected):
    assert turns_of(history) == expected


# --- mentions, enumerations, acronyms ----------------------------------------------------------------------

def test_mentions_use_the_corpus_capitalisation():
    capitals = {"harvard": 1.0, "the": 0.05}
    assert mentions("Harvard was founded by the Massachusetts legislature.", capitals) == [
        "Harvard", "Massachusetts"]
    assert mentions("The Duke of Normandy met Rollo.", capitals) == ["Duke of Normandy", "Rollo"]
    assert mentions("X.25 and Frame Relay compete.", {}) == ["X.25", "Frame Relay"]


def test_list_items_of_the_last_enumeration():
    text = "The three sources of European Union law are primary law, secondary law and supplementary law."
    assert list_items(text) == ["primary law", "secondary law", "supplementary law"]
    assert list_items("No list here.") == []


def test_acronyms_are_defined_only_when_the_initials_match():
    found = acronyms(["Russia relies on PRC (People's Republic of China) inputs.",
                      "Members of the Organization of Arab Petroleum Exporting Countries (OAPEC, then) met.",
                      "The XYZ (nothing like it) came."])
    assert found["PRC"] == "People's Republic of China"
    assert found["OAPEC"] == "Organization of Arab Petroleum Exporting Countries"
    assert "XYZ" not in found


# --- questions about the documents ------------------------------------------------------------------------

@pytest.mark.parametrize("question, slot", [
    ("Which news agency filed the report?", "source"),
    ("Which news network reported the story, citing senior administration officials?", "source"),
    ("When was this article published?", "date"),
    ("When was it published?", "date"),
    ("What's the title of the article you're quoting from?", "title"),
    ("Where is this article datelined?", "dateline"),
    ("Which documents are indexed?", "documents"),
    ("Which wire service filed this?", "source"), ("Who published this?", "source"), ("Who's the author?", "source"),
    ("Who is behind this piece?", "source"), ("Which paper ran this story?", "source"),
    ("When did this come out?", "date"), ("How old is this article?", "date"), ("What date is on this article?", "date"),
    ("Where was this reported from?", "dateline"), ("What's the headline?", "title"),
])
def test_questions_about_the_documents(question, slot):
    assert metadata.slot(expand_contractions(question)) == slot


@pytest.mark.parametrize("question", [
    "Who reported that Xi heralded a new year?", "Who wrote the play Hamlet?", "When was this proclamation issued?",
    "What was a first for this network", "Who operated the vBSN network", "When was Harvard founded?",
    "What is the source of European Union law?", "What was it called at first?", "When was the treaty published?",
    "Which agency did the Americans create in 1958?", "Who published the first edition?",
])
def test_content_questions_are_not_about_the_documents(question):
    assert metadata.slot(expand_contractions(question)) is None


def seed_doc():
    return load(SEEDS / SEED_FILE, SEED_FILE)


def assert_exact(doc, span):
    assert span.text and doc.text[span.start:span.end] == span.text


def test_seed_article_facts_are_exact_spans():
    doc = seed_doc()
    line, parts = metadata.dateline(doc)
    assert line.text == "Moscow [Russia], April 13 (ANI):"
    assert {k: v.text for k, v in parts.items()} == {"place": "Moscow [Russia]", "date": "April 13", "agency": "ANI"}
    date = metadata.facts("date", doc)
    assert [f.short.text for f in date] == ["2024-04-13", "April 13"] and date[0].span.text == "date 2024-04-13"
    filed = metadata.facts("source", doc, "Which news agency filed the report?")
    assert filed[0].short.text == "ANI"
    broke = metadata.facts("source", doc, "Which news network reported the story?")
    assert broke[0].short.text == "CNN" and broke[0].span.text.startswith("CNN reported")
    for f in date + filed + broke:
        assert_exact(doc, f.span) and assert_exact(doc, f.short)
        assert f.span.start <= f.short.start and f.short.end <= f.span.end


def test_front_matter_facts_are_exact_spans(tmp_path):
    path = tmp_path / "a.md"
    path.write_text('---\ntitle: "Steam Deck OLED review"\nsource: "Engadget"\nauthor: Jane Doe\n'
                    'published: "2023-11-09T15:00:00+00:00"\n---\n\n# Steam Deck OLED review\n\nIt is better.\n',
                    "utf-8")
    doc = load(path, "a.md")
    date = metadata.facts("date", doc)[0]
    assert date.label == "Published 2023-11-09" and date.short.text == "2023-11-09"
    assert date.span.text == 'published: "2023-11-09T15:00:00+00:00"'
    assert metadata.facts("title", doc)[0].short.text == "Steam Deck OLED review"
    assert metadata.facts("source", doc, "Who wrote this article?")[0].short.text == "Jane Doe"
    assert metadata.facts("source", doc, "Which site published it?")[0].short.text == "Engadget"
    for name in ("date", "title", "source"):
        for f in metadata.facts(name, doc):
            assert_exact(doc, f.span) and assert_exact(doc, f.short)


def test_metadata_answer_cites_and_marks_the_short_answer():
    doc = seed_doc()
    ans = metadata.answer("When was this article published?", "date", [doc], "extractive")
    assert not ans.abstained and "2024-04-13" in ans.text and "[1]" in ans.text
    assert ans.short.text == "2024-04-13" and ans.short.n == 1
    text = file_text(SEEDS, SEED_FILE)
    for c in ans.citations:
        assert text[c.start:c.end] == c.quote and c.start_line == text.count("\n", 0, c.start) + 1
    assert text[ans.short.start:ans.short.end] == ans.short.text
    assert metadata.answer("What is its title?", "title", [doc], "extractive").citations  # the dateline instead


# --- short answers --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("question, kind", [
    ("When was Harvard founded?", "date"), ("In what year did the crisis begin?", "date"),
    ("How many layers does the model have?", "number"), ("What percentage of the vote?", "number"),
    ("Who is the commander of US European Command?", "person"), ("Where did he study?", "place"),
    ("Which country borders France?", "place"), ("Why did it fail?", None), ("What is packet switching?", None),
    ("When does it regard a problem as difficult?", None),   # a condition, not a time
])
def test_question_types(question, kind):
    assert question_type(question) == kind


def test_which_noun_questions_ask_for_an_entity():
    assert answer_type("Which news network reported the story?") == "entity"
    assert answer_type("What kind of manufacturing is expanding?") == "entity"
    assert answer_type("What is the capital?") is None


@pytest.mark.parametrize("question, sentence, expected", [
    ("Who is the commander of US European Command?",
     "Chris Cavoli, the commander of US European Command, told lawmakers that Russia has been successful.",
     "Chris Cavoli"),
    ("When was Harvard founded?", "Harvard was formed in 1636 by vote of the legislature.", "1636"),
    ("How many Huguenots lived there?", "About 2,000 Huguenots lived in the town by 1700.", "About 2,000"),
    ("When did Biden raise concerns?", "Biden raised concerns in a call earlier this month.", "earlier this month"),
])
def test_short_answer_is_the_typed_phrase(question, sentence, expected):
    phrase = short_answer(question, sentence)
    assert phrase is not None and sentence[phrase.start:phrase.end] == expected


def test_short_answer_needs_the_asked_type():
    assert short_answer("When was Harvard founded?", "Harvard was founded by the legislature.") is None
    assert short_answer("How many ships sailed?", "The ships sailed to France.") is None
    assert short_answer("Why did it fail?", "It failed in 1911.") is None


def test_short_of_is_an_exact_span_inside_its_citation():
    text = file_text(SEEDS, SEED_FILE)
    start = text.index("Chris Cavoli, the commander")
    end = text.index("before the invasion.", start) + len("before the invasion.")
    cite = Citation(1, SEED_FILE, "t", "", start, end, 1, 1, text[start:end], 1.0)
    short = short_of("Who is the commander of US European Command?", [cite])
    assert short.text == "Chris Cavoli" and text[short.start:short.end] == short.text and short.n == 1
    assert cite.start <= short.start < short.end <= cite.end and short.kind == "person"


# --- abstention ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("question, sentences, reason", [
    ("Who did not sign the treaty?", ["France signed the treaty in 1951."], "negation"),
    ("What happened in 1066?", ["The Normans conquered England in 1067."], "number"),
    ("When was the company founded?", ["The company was founded by two brothers."], "type"),
    ("How many engines were built?", ["Engines were built in Birmingham."], "type"),
])
def test_abstention_reasons(question, sentences, reason):
    assert reason in abstain.reasons(question, sentences, question_type(question))


@pytest.mark.parametrize("question, sentences", [
    ("Who did not sign the treaty?", ["Britain did not sign the treaty."]),
    ("What happened in 1066?", ["The Normans conquered England in 1066."]),
    ("How many engines were built?", ["Some twenty engines were built."]),
    ("When was the company founded?", ["The company was founded in 1886."]),
    ("Did the company not exist in 1800, and was it not founded later by two brothers who came from far away?",
     ["The company was founded by two brothers."]),  # yes/no and long questions are not checked
])
def test_no_abstention_reason(question, sentences):
    assert abstain.reasons(question, sentences, question_type(question)) == []
