"""Near misses abstain: a sentence that shares only the subject with a question (none of what it asks about)
is not quoted; the sentence that holds the asked thing still is. A real index of documents written for this test
(no dev-set text), the real model and store."""
from __future__ import annotations

import pytest

from conftest import assert_well_formed
from index.builds.build import build
from index.settings import IndexSettings
from qa.evaluation import metrics
from qa.extractive.abstain import focus_words, reasons
from qa.pipeline import Assistant, build_assistant

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_torch_thread")]

REGATTA = """---
title: "Forty crews race at the Fjordvik Regatta"
source: "Harbour Gazette"
published: 2025-06-14
---
# Forty crews race at the Fjordvik Regatta

The Fjordvik Regatta drew forty crews to the harbour on Saturday.

Crews from Bergholm and Sandvika raced in light winds over a six-kilometre course.

The Bergholm crew crossed the line first, ahead of Sandvika by eleven seconds.

Spectators lined the quay from early morning, and the harbour master closed the inner basin to other boats.
"""

CLUB = """---
title: "Sandvika rowing club holds its annual dinner"
source: "Harbour Gazette"
published: 2025-11-02
---
# Sandvika rowing club holds its annual dinner

At the annual dinner, the Sandvika rowing club named Ingrid Halvorsen coach of the year.

Halvorsen has trained the club's junior squad since 2019 and will lead its first tour abroad next spring.

The club also thanked the volunteers who repaired its boathouse roof after the winter storms.
"""


DELAYED = """---
title: "Council puts off the harbour bridge vote again"
source: "Harbour Gazette"
published: 2025-03-03
---
# Council puts off the harbour bridge vote again

The city council put off its vote on the harbour bridge for the third time on Monday.

Councillors said they needed more time to compare the two designs on the table.
"""

DECIDED = """---
title: "Council settles on a design for the harbour bridge"
source: "Harbour Gazette"
published: 2025-03-10
---
# Council settles on a steel arch for the harbour bridge

Councillors voted nine to four on Monday for the steel arch design.

Work on the foundations is due to start in the autumn.
"""


@pytest.fixture(scope="module")
def assistant(tmp_path_factory, embedder) -> Assistant:
    root = tmp_path_factory.mktemp("near-miss")
    seeds = root / "seeds"
    seeds.mkdir()
    (seeds / "regatta.md").write_text(REGATTA, "utf-8")
    (seeds / "club-dinner.md").write_text(CLUB, "utf-8")
    (seeds / "bridge-vote-delayed.md").write_text(DELAYED, "utf-8")
    (seeds / "bridge-design.md").write_text(DECIDED, "utf-8")
    settings = IndexSettings(seeds_dir=seeds, db_dir=root / "db")
    build(settings, embedder=embedder)
    return build_assistant(settings, embedder=embedder)


@pytest.mark.parametrize("question", [
    "Who received the prize for the best-dressed sailor at the Fjordvik Regatta?",
    "How many medals did Bergholm bring home from Fjordvik?",
])
def test_a_sentence_sharing_only_the_subject_is_not_quoted(assistant, question):
    answer = assistant.answer(question)
    assert answer.abstained, answer.text
    assert answer.related, "an abstention still shows the closest passages"


@pytest.mark.parametrize("question, gold", [
    ("Who did the Sandvika rowing club name coach of the year?", ["Ingrid Halvorsen"]),
    ("How many crews raced at the Fjordvik Regatta?", ["forty"]),
    ("By how many seconds did the Bergholm crew beat Sandvika?", ["eleven seconds"]),
])
def test_the_sentence_holding_the_asked_thing_is_still_quoted(assistant, question, gold):
    answer = assistant.answer(question)
    assert not answer.abstained, question
    assert_well_formed(answer, assistant.index_settings.seeds_dir)
    assert metrics.contains_gold(answer.text, gold), answer.text


def test_an_outlet_in_the_question_is_not_its_focus(assistant):
    """"According to the Harbour Gazette" names the source: the asked thing is still found in the sentence."""
    answer = assistant.answer("According to the Harbour Gazette, how many crews raced at the Fjordvik Regatta?")
    assert not answer.abstained and metrics.contains_gold(answer.text, ["forty"]), answer.text


@pytest.mark.parametrize("day, gold", [("March 10", "steel arch"), ("March 3", "put off its vote")])
def test_a_day_the_question_names_picks_the_document_published_that_day(assistant, day, gold):
    """Neither the outlet nor the day is in the documents' text: both are source facts (front matter), a
    constraint on which document answers, never a reason to abstain."""
    answer = assistant.answer(f"What did the council vote for on {day}, according to the Harbour Gazette?")
    assert not answer.abstained and gold in answer.text, answer.text


def test_a_present_word_the_sentence_itself_uses_is_not_the_readers_today():
    sentence = ["The board is worried about Lundgren Partners' latest valuation of the Orchard Fund."]
    assert "present" not in reasons("Whose latest valuation of the Orchard Fund worries the board?", sentence)
    assert "present" in reasons("What is the Orchard Fund worth today?", sentence)


def test_focus_words_are_what_is_asked_beyond_names_and_function_words():
    assert focus_words("Who received the prize for the best-dressed sailor at the Fjordvik Regatta?") == [
        "received", "prize", "best-dressed", "sailor"]
    assert focus_words("Who is Ingrid Halvorsen?") == []
    assert focus_words("Did the Bergholm crew win?") == []  # yes/no questions compare; not checked here
