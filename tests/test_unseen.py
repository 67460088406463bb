"""Questions over documents nobody tuned for (issue #23), over the real news corpus (MultiHop-RAG articles,
vendored in qa/evalsets/multihop-dev) with the real model and a real Chroma store: an outlet named in a
question is a source constraint, a terse follow-up keeps its frame, a near miss abstains, a short answer is
the thing asked for or none, and a metadata question names the conversation's document."""
from __future__ import annotations

import pytest

from conftest import EVAL, assert_well_formed, converse
from index.settings import IndexSettings
from qa.evaluation import metrics
from qa.evaluation.runner import evaluate_conversations, read_questions
from qa.extractive.shortanswer import Phrase, kind_phrase, shown
from qa.pipeline import Assistant, build_assistant

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_torch_thread")]

NEWS = EVAL / "multihop-dev" / "corpus"
UBER = "TechCrunch_Uber_sexual_assault_survivors_call_for_in_car_cameras_tech_upgrades.md"
BEEPER = "TechCrunch_Beeper_reversed_engineered_iMessage_to_bring_blue_bubble_texts_to_And.md"
PRIVACY = "TechCrunch_California_s_privacy_watchdog_eyes_AI_rules_with_opt_out_and_access_r.md"


@pytest.fixture(scope="module")
def news(tmp_path_factory, embedder) -> tuple[Assistant, IndexSettings]:
    """The whole vendored news corpus (326 articles), indexed once for the module."""
    from index.builds.build import build

    settings = IndexSettings(seeds_dir=NEWS, db_dir=tmp_path_factory.mktemp("news") / "db")
    build(settings, embedder=embedder)
    return build_assistant(settings, embedder=embedder), settings



def test_a_headline_is_quoted_only_beside_a_sentence_of_its_article(news):
    """The fact is only in the title line: it is quoted, with the best sentence under it (never alone)."""
    assistant, settings = news
    answer = assistant.answer("Who did the Mayo Clinic appoint as its chief AI officer?")
    assert_well_formed(answer, settings.seeds_dir)
    assert not answer.abstained and "Bhavik Patel" in answer.text
    heading, body = answer.citations
    assert heading.quote.startswith("# ") and not body.quote.startswith("#") and heading.source == body.source


def test_a_follow_up_quotes_a_headline_only_beside_a_sentence_of_its_article(news):
    """A follow-up answered by a title line quotes it with the best-scored sentence of the same article."""
    assistant, settings = news
    _, follow = converse(assistant, "According to TechCrunch, what did the team behind Beeper Mini reverse-engineer "
                                    "to make the app possible?", "So who does it bring the blue bubble texts to?")
    assert_well_formed(follow, settings.seeds_dir)
    assert not follow.abstained and "Android users" in follow.text
    assert len(follow.citations) >= 2 and any(not c.quote.startswith("#") for c in follow.citations)
    assert {c.source for c in follow.citations} == {BEEPER}


# (1) an outlet, author or day in the question constrains the source; it is no reason to abstain

@pytest.mark.parametrize("question, source, gold", [
    ("According to TechCrunch, what did the team behind Beeper Mini reverse-engineer to make the app possible?",
     BEEPER, "iMessage protocol"),
    ("Which Bulldogs AFLW player was chaired off the ground after announcing her retirement, according to The Age?",
     "The_Age_Ground_breaking_Gold_Coast_Suns_make_AFLW_finals_for_a_second_time.md", "Richelle Cranston"),
])
def test_an_outlet_or_day_in_the_question_is_a_source_constraint(news, question, source, gold):
    assistant, settings = news
    answer = assistant.answer(question)
    assert_well_formed(answer, settings.seeds_dir)
    assert not answer.abstained, question
    assert any(c.source == source for c in answer.citations) and gold in answer.text


# (3) a terse follow-up keeps the previous question's frame and document

def test_an_elided_how_many_follow_up_stays_with_the_conversation(news):
    assistant, settings = news
    first, _, sued, checks = converse(
        assistant, "In TechCrunch's story on Uber sexual assault survivors, by how much does Uber say the rate of "
                   "reported sexual assaults fell between its first and second safety reports?",
        "what are the survivors asking it to install in cars?", "How many have sued so far?",
        "And the background checks?")
    assert first.short is not None and first.short.text == "38%"
    assert sued.citations and sued.citations[0].source == UBER and "Hundreds" in sued.text
    # the fragment takes over "how many" as a guess, and does not abstain for want of a number
    assert not checks.abstained and metrics.contains_gold(checks.text, ["fast and shallow", "substandard"])
    for a in (sued, checks):
        assert_well_formed(a, settings.seeds_dir)


GOOGLE = "TechCrunch_5_things_we_learned_so_far_about_the_Google_antitrust_case.md"
SAFETY = "TechCrunch_OpenAI_buffs_safety_team_and_gives_board_veto_power_on_risky_AI.md"
ADOBE = "TechCrunch_Adobe_Thanksgiving_US_online_sales_nudge_up_to_5_6B_Salesforce_31_7B_.md"


def test_a_wh_phrase_alone_asks_the_previous_question_again():
    """"On what date?" has no clause of its own: a fragment whose noun names the answer's kind ("date" is
    no content to look for); a full question with its own verb is not one."""
    from qa.conversation.turns import is_fragment, wh_lead

    for q in ("On what date?", "and in which country?", "For how long?"):
        assert is_fragment(q) and wh_lead(q) is not None, q
    assert wh_lead("On what date?") == "on"
    for q in ("In which city was that concert?", "On what date did the crisis start?", "Which city?"):
        assert not is_fragment(q) and wh_lead(q) is None, q
    assert is_fragment("why the bump?") and not is_fragment("Why is the price up?")


def test_on_what_date_takes_the_previous_questions_frame(news):
    assistant, settings = news
    *_, when = converse(assistant, "Per TechCrunch, how much did Google pay in 2021 to be the default search engine?",
                        "Who revealed that in court?", "On what date?")
    assert_well_formed(when, settings.seeds_dir)
    assert not when.abstained and "October 28" in when.text and when.citations[0].source == GOOGLE


@pytest.mark.parametrize("first, why, source, gold", [
    ("What power over risky AI did OpenAI give its board when it beefed up its safety team?", "Why now?", SAFETY,
     "leadership fracas"),
    ("According to Adobe, how much did US shoppers spend online on Thanksgiving 2023?", "why the bump?", ADOBE,
     "discounts"),
])
def test_why_stays_in_the_previous_answers_article(news, first, why, source, gold):
    """A fragment naming nothing new ("Why now?", "why the bump?": "why" before a noun phrase, no verb) asks
    about what the previous answer told, in its article."""
    assistant, settings = news
    _, answer = converse(assistant, first, why)
    assert_well_formed(answer, settings.seeds_dir)
    assert not answer.abstained and {c.source for c in answer.citations} == {source}
    assert gold in answer.text


# (4) a near miss: the question's focus is not in the cited sentence, so it abstains

def test_a_share_nobody_reports_is_not_answered_with_another_number(news):
    assistant, _ = news
    answer = assistant.answer("What percentage stake in Manchester United is Ratcliffe buying?")
    assert answer.abstained


# (5) a short answer is the thing asked for, or none

def test_short_answers_are_the_thing_asked_for(news):
    assistant, _ = news
    share = assistant.answer("In TechCrunch's story on Uber sexual assault survivors, by how much does Uber say "
                             "the rate of reported sexual assaults fell between its first and second safety reports?")
    assert share.short is not None and share.short.text.endswith("%")


def test_shown_refuses_what_the_question_did_not_ask_for():
    def phrase(sentence: str, text: str, kind: str, label: str, found: tuple[int, int] | None = None) -> Phrase:
        start = sentence.index(text)
        return Phrase(start, start + len(text), kind, label, 0.0, found or (start, start + len(text)))

    s = "Approximately one million Protestants in modern France represent some 2% of its population."
    assert not shown("What percentage of France's population is protestant?",
                     phrase(s, "Approximately one million", "number", "CARDINAL"), s)
    assert shown("What percentage of France's population is protestant?", phrase(s, "2%", "number", "CARDINAL"), s)
    s = "However, the school was formed in the 19th century."
    assert not shown("In what year was the school formed?", phrase(s, "19th century", "date", "DATE"), s)
    assert not shown("Who founded the school?", phrase(s, "However", "person", "NAME"), s)
    s = "China's support is compensating for setbacks."
    assert not shown("Which setbacks is the Chinese support compensating for?", phrase(s, "China", "entity", "NAME"), s)
    s = "By 1974, Kissinger had negotiated a withdrawal from parts of the Sinai Peninsula."
    cut = phrase(s, "Peninsula", "person", "NAME", (s.index("Sinai"), s.index("Sinai") + len("Sinai Peninsula")))
    assert not shown("Who negotiated the withdrawal from the Sinai?", cut, s)
    assert shown("Who negotiated the withdrawal from the Sinai?", phrase(s, "Kissinger", "person", "NAME"), s)


def test_a_curly_negation_is_a_negation():
    from qa.extractive import abstain

    sentence = "If you bet on a player and they don’t play in the game, most sportsbooks void the bet."
    assert abstain.reasons("And if the player ends up not playing?", [sentence]) == []
    assert abstain.reasons("What happens if the player does not play?", ["Most sportsbooks void the bet."]) == ["negation"]


def test_which_kind_of_is_answered_by_the_kind():
    sentence = "Moscow is expanding its military manufacturing most ambitiously since the Soviet era."
    found = kind_phrase("Which kind of manufacturing is Moscow expanding most ambitiously?", sentence)
    assert found is not None and sentence[found.start:found.end] == "military manufacturing"
    assert kind_phrase("Which kind of manufacturing is Moscow expanding?", "Moscow makes drones.") is None


# (6) a metadata question refers to the conversation's document; an outlet it names picks among them

def test_the_techcrunch_piece_on_it_is_the_conversations_document(news):
    assistant, settings = news
    *_, author = converse(assistant, "Which subcommittee of California's privacy regulator drafted its proposed AI "
                                     "regulations?", "What rights do those rules give consumers?",
                          "Who wrote the TechCrunch piece on it?")
    assert_well_formed(author, settings.seeds_dir)
    assert author.short is not None and author.short.text == "Natasha Lomas"
    assert author.citations[0].source == PRIVACY


def test_that_outlets_live_blog_is_found_with_the_conversations_topic(news):
    """The conversation's document is the Guardian's; "that Sporting News live blog" is the Sporting News
    blog of the same game, found with what the conversation is about."""
    assistant, settings = news
    *_, date = converse(assistant, "According to the Guardian's Game 2 live blog, who was the Rangers' probable "
                                   "starting pitcher for World Series Game 3?",
                        "In that game, who did Arizona's starter walk in the sixth before his night ended?",
                        "When was that Sporting News live blog published?")
    assert_well_formed(date, settings.seeds_dir)
    assert date.citations[0].source.startswith("Sporting_News_World_Series_2023_live_score")
    assert "2023-10-30" in date.text


def test_a_long_question_naming_an_article_asks_about_its_content():
    from qa.extractive import metadata

    assert metadata.slot("When was that live blog published?") == "date"
    assert metadata.slot("Who wrote the explainer?") == "source"
    assert metadata.slot("When was the live blog published?") == "date"
    assert metadata.slot("when did that TechCrunch story run?") == "date"
    assert metadata.slot("Considering the financial performance outlined in the Bloomberg article and the strategic "
                         "partnerships mentioned in the Wall Street Journal, which letter grade was reported?") is None


def test_conversations_over_the_news_score_as_the_issue_asks(news, embedder):
    """`qa eval conversations-news-dev` and the held-out conversations (written before tuning): the share of
    turns right stays at or above what this work measured (0.82, 0.90 on the held-out news part, 0.72 on the
    unseen set written in session 30)."""
    assistant, settings = news
    for name, floor in (("conversations-news-dev", 0.80), ("conversations-heldout", 0.85),
                        ("conversations-unseen", 0.70)):
        rows = [c for c in read_questions(EVAL / name / "conversations.jsonl") if c["corpus"] == "multihop-dev"]
        report = evaluate_conversations(rows, lambda corpus: settings, embedder=embedder)
        assert report["overall"]["turns_right"] >= floor, (name, report["overall"])
