"""The short answer shown first (issue #23, class 5) is the thing asked for or none, on a constructed article
nobody tuned for (tests/data/shortanswers), with the real model and a real Chroma store: a year for "when", a
person for "who", a share for "what percentage", a count for "how many", the kind for "which kind of"; and no
short answer when the cited sentence holds no phrase of the asked kind."""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import assert_well_formed
from index.settings import IndexSettings
from qa.extractive.shortanswer import SURE_AT, WEIGHTS, found, sure
from qa.pipeline import Assistant, build_assistant

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_torch_thread")]

DOCS = Path(__file__).parent / "data" / "shortanswers"


@pytest.fixture(scope="module")
def light(tmp_path_factory, embedder) -> tuple[Assistant, IndexSettings]:
    from index.builds.build import build

    settings = IndexSettings(seeds_dir=DOCS, db_dir=tmp_path_factory.mktemp("short") / "db")
    build(settings, embedder=embedder)
    return build_assistant(settings, embedder=embedder), settings


@pytest.mark.parametrize("question, short, kind", [
    ("When was work on the tower completed?", "1868", "date"),
    ("Who designed the tower on Tern Island?", "Margaret Ellison", "person"),
    ("Who keeps the lamp working?", "Tern Island Heritage Trust", "person"),
    ("What percentage of the island's visitors arrive on the morning ferry?", "about 42 percent", "number"),
    ("How many steps lead up to the lantern room?", "214", "number"),
    ("Which kind of stone was the tower built of?", "pale coastal stone", "entity"),
])
def test_the_short_answer_is_the_thing_asked_for(light, question, short, kind):
    assistant, settings = light
    answer = assistant.answer(question)
    assert_well_formed(answer, settings.seeds_dir)
    assert answer.short is not None, (question, answer.text)
    assert (answer.short.text, answer.short.kind) == (short, kind)
    quote = answer.citations[answer.short.n - 1]
    assert quote.start <= answer.short.start < answer.short.end <= quote.end


@pytest.mark.parametrize("question", [
    "Who first lit the lamp?",                    # the sentence gives a time, no person
    "How many ships does the trust own?",         # a name nearby is no count
    "What percentage of the museum is charts?",   # a share elsewhere in the passage is not this one
])
def test_no_short_answer_when_the_sentence_holds_none_of_the_asked_kind(light, question):
    assistant, settings = light
    answer = assistant.answer(question)
    assert_well_formed(answer, settings.seeds_dir)
    assert answer.short is None, (question, answer.short)


def test_sureness_is_the_fitted_logistic_and_gates_the_short_answer(light):
    """`sure` is the logistic of `WEIGHTS` over `features`, and `found`'s phrase becomes the short answer only
    at or above `SURE_AT`: a right answer clears it, the same phrase without a type or closeness does not."""
    assistant, _ = light
    question = "Who designed the tower on Tern Island?"
    best = found(question, assistant.answer(question).citations)
    assert best is not None and len(best.features) == len(WEIGHTS)
    assert sure(best.features) >= SURE_AT
    weak = (1.0,) + (0.0,) * (len(WEIGHTS) - 1)  # the bias alone: no type, label, closeness or cover
    assert sure(weak) < SURE_AT


@pytest.mark.parametrize("sentence, amount", [
    ("The club was bought for £4.5bn in cash.", "£4.5bn"),
    ("The startup raised $22M from two funds.", "$22M"),
    ("Hundreds of keepers have served there.", "Hundreds"),
    ("Millions of visitors came by ferry.", "Millions"),
    ("The stair has 214 steps.", "214"),
])
def test_amounts_are_read_whole(sentence, amount):
    """A scale glued to the figure and a plural number word are part of the amount (not "4.5", "Hundred")."""
    from qa.extractive.shortanswer import short_answer

    phrase = short_answer("How much or how many was it?", sentence, "number")
    assert phrase is not None and sentence[phrase.start:phrase.end] == amount
