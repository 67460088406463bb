"""Issue #24, session 30: the context a multi-sentence answer reads beyond the sentence that matches best, each
mechanism checked with the real model over a real store, on documents written here (not the dev sets'):

* a list's items and an explanation's steps sit in the paragraph of the best sentence, before it as well as after;
* a sentence that opens by pointing back ("This followed ...") goes on with the claim before it;
* the words of a document's title count for a summary's topic; the names in it for a yes/no question;
* "did he actually play" needs no "actually", and "returned to play" asserts the playing (an implicative verb);
* "What attractions does X offer?" (a plural object) asks for a list.
"""
from __future__ import annotations

import pytest

from conftest import assert_well_formed
from index.builds.build import build
from index.settings import IndexSettings
from qa.extractive.forms import FACT, HOW, LIST, WHY, form_of
from qa.pipeline import build_assistant

TOWN = """Millbrook

Millbrook is a market town on the river Esk, with about twelve thousand residents and a Victorian railway station.

The old mill now houses a bakery, a pottery studio and a small museum of local history. The high street holds a \
farmers' market every Saturday morning. Boat trips leave from the quay each hour in summer. Millbrook offers \
visitors several attractions that make a pleasant day trip.

The town council meets monthly to discuss roads, schools and the budget. Council elections are held every four \
years, and turnout is usually low.

The Harlow dam, upstream of the town, was closed to traffic in 2019. This followed the discovery of deep cracks in \
its concrete wall by a team of inspectors. The road across it has been rebuilt on a new bridge downstream.
"""

MATCH = """---
title: "Rovers vs Albion: Okafor back as Rovers edge a tight derby"
source: "Town Sports"
published: "2024-03-02T18:00:00+00:00"
---

# Rovers vs Albion: Okafor back as Rovers edge a tight derby

Okafor, who had been injured for a month, returned to play the whole second half. Rovers won by a single goal \
scored ten minutes from time. The crowd of nine thousand was the largest of the season.
"""

FLOUR = """---
title: "Oakfield sues Brennan Foods over contaminated flour"
source: "Town Business"
published: "2024-04-10T09:00:00+00:00"
---

# Oakfield sues Brennan Foods over contaminated flour

Oakfield Bakeries filed its complaint against Brennan Foods in the county court on Monday. Oakfield says three \
shipments from Brennan failed its own laboratory tests last winter. Brennan Foods denies any fault and says its \
mills passed every state inspection. A first hearing is set for June, the court said.
"""

OTHER = """---
title: "Harbour festival returns with a longer programme"
source: "Town Life"
published: "2024-05-01T09:00:00+00:00"
---

# Harbour festival returns with a longer programme

The harbour festival comes back this summer with four days of music instead of three. Organisers expect more \
visitors than last year, when rain cut the final day short.
"""


@pytest.fixture(scope="module")
def town(tmp_path_factory, embedder):
    """A real index of the documents above."""
    root = tmp_path_factory.mktemp("forms-context")
    docs = root / "docs"
    docs.mkdir()
    for name, text in [("millbrook.txt", TOWN), ("derby.md", MATCH), ("flour.md", FLOUR), ("festival.md", OTHER)]:
        (docs / name).write_text(text, "utf-8")
    settings = IndexSettings(seeds_dir=docs, db_dir=root / "db")
    build(settings, embedder=embedder)
    return build_assistant(settings, embedder=embedder), settings


@pytest.mark.parametrize("question, form", [
    ("What attractions does Millbrook offer visitors?", LIST), ("Which rivers does the canal join?", LIST),
    ("What prizes did the bakery win?", LIST), ("What is the name of the mill?", FACT),
    ("What does the council discuss?", FACT), ("What was the crowd?", FACT),
])
def test_a_plural_object_of_the_question_asks_for_a_list(question, form):
    assert form_of(question) == form


@pytest.mark.slow
def test_a_lists_items_are_taken_from_the_paragraph_before_the_sentence_that_names_them(town):
    assistant, settings = town
    a = assistant.answer("What attractions does Millbrook offer visitors?")
    assert_well_formed(a, settings.seeds_dir)
    quotes = " ".join(c.quote for c in a.citations)
    assert a.form == LIST
    assert "pottery studio" in quotes and "farmers' market" in quotes, a.text
    assert "Council elections" not in quotes


@pytest.mark.slow
def test_an_explanation_goes_on_into_the_sentence_that_points_back_to_the_claim(town):
    assistant, settings = town
    a = assistant.answer("Why was the Harlow dam closed?")
    assert_well_formed(a, settings.seeds_dir)
    assert not a.abstained and any("deep cracks" in c.quote for c in a.citations), a.text


@pytest.mark.slow
def test_a_summary_topic_counts_the_words_of_a_documents_title(town):
    assistant, settings = town
    a = assistant.answer("Summarize the coverage of Oakfield's contaminated flour case.")
    assert_well_formed(a, settings.seeds_dir)
    assert not a.abstained, a.text
    assert all(c.source == "flour.md" for c in a.citations)
    assert assistant.answer("Summarize the coverage of the Millbrook marathon doping case.").abstained


@pytest.mark.slow
def test_yes_from_a_sentence_that_asserts_it_in_an_article_whose_title_names_the_game(town):
    assistant, settings = town
    a = assistant.answer("Did Okafor actually play for Rovers against Albion?")
    assert_well_formed(a, settings.seeds_dir)
    assert a.verdict == "yes" and a.text.startswith("Yes. "), a.text
    assert "returned to play" in a.citations[0].quote


def test_the_held_out_set_is_named_and_its_keys_are_whole_sentences_of_its_corpus():
    """nonfactoid-own (written before session 30's tuning) is a vendored set: every key is a sentence of the
    file it names, an off-topic row has none, a comparison's sides index its keys."""
    import json

    from qa import evalsets

    rows = [json.loads(line) for line in evalsets.questions("nonfactoid-own").read_text("utf-8").splitlines()]
    assert len(rows) == 24 and len({r["id"] for r in rows}) == 24
    for r in rows:
        if r["kind"] == "off-topic":
            assert r["unanswerable"] and not r["key"]
            continue
        assert len(r["key"]) >= r["need"] >= 1
        for k in r["key"]:
            text = (evalsets.corpus(r["corpus"]) / k["source"]).read_text("utf-8")[k["start"]:k["end"]]
            assert text[:1].isupper() or text[:1] in "“\"", text
            assert text.rstrip("”\"’")[-1] in ".!?", text
        for side in r.get("sides") or []:
            assert all(0 <= j < len(r["key"]) for j in side)


LOCK = """Kettle Lock

Kettle Lock is a canal lock on the upper river, built in 1794 by the canal company.

The Kettle lock lifts boats four metres between the lower and the upper river. A boat enters the chamber and the \
lower gates are shut behind it. Paddles in the upper gates are then opened, and water pours into the chamber until \
it is level with the upper river. The upper gates swing open and the boat sails on.

The lock keeper's cottage dates from 1820 and is now a tea room. It opens at weekends from Easter to October.
"""


@pytest.fixture(scope="module")
def lock(tmp_path_factory, embedder):
    """A real index of a document whose steps share no words with the question."""
    root = tmp_path_factory.mktemp("forms-explain")
    docs = root / "docs"
    docs.mkdir()
    (docs / "lock.txt").write_text(LOCK, "utf-8")
    (docs / "festival.md").write_text(OTHER, "utf-8")
    settings = IndexSettings(seeds_dir=docs, db_dir=root / "db")
    build(settings, embedder=embedder)
    return build_assistant(settings, embedder=embedder), settings


@pytest.mark.slow
def test_how_is_answered_from_the_passage_of_the_best_sentence_with_a_step_that_shares_no_word(lock):
    """The explanation's passage, not the fact path's sentences: the sentence that matches and the step most like
    it, in the document's order, at most two, nothing from the paragraph about the cottage."""
    assistant, settings = lock
    a = assistant.answer("How does the Kettle lock raise boats?")
    assert_well_formed(a, settings.seeds_dir)
    quotes = [c.quote for c in a.citations]
    assert a.form == HOW and not a.abstained, a.text
    assert any("lifts boats" in q for q in quotes) and any("water pours" in q or "gates are shut" in q for q in quotes), a.text
    assert not any("cottage" in q or "tea room" in q or "1794" in q for q in quotes), a.text
    assert [c.start for c in a.citations] == sorted(c.start for c in a.citations)


def test_an_author_is_named_by_the_name_as_written_or_after_by_not_by_a_common_word():
    """An outlet that signs its articles "News" is not named by "the news coverage of ..." (which then summarised
    that outlet's articles only); "by News" still names it, and a person's name as written does."""
    from qa.extractive.compose import named_documents
    meta = {"a.md": {"author": "News"}, "b.md": {"author": "Kyle Wiggers"}, "c.md": {}}.get
    sources = ["a.md", "b.md", "c.md"]
    assert named_documents("Summarize the news coverage of the fraud trial.", sources, meta)[0] is None
    assert named_documents("Summarize the articles by news.", sources, meta)[0] == ["a.md"]
    named, rest = named_documents("What did Kyle Wiggers write about the trial?", sources, meta)
    assert named == ["b.md"] and "Kyle" not in rest


GAZETTE = """---
title: "Esk footbridge collapses after storm"
source: "Town Gazette"
published: "2024-02-03T08:00:00+00:00"
---

# Esk footbridge collapses after storm

The Esk footbridge collapsed on Friday night after two days of storms. Flood water scoured the riverbed around its \
central pier until the pier tilted and the deck fell into the river. Nobody was on the bridge at the time.
"""

POST = """---
title: "Council blamed for footbridge failure"
source: "River Post"
published: "2024-02-05T08:00:00+00:00"
---

# Council blamed for footbridge failure

Engineers say the Esk footbridge fell because its central pier had not been inspected for eleven years. A report \
in 2012 had warned that the pier's foundations were shallow and exposed to floods. The council has promised a review.
"""


@pytest.fixture(scope="module")
def outlets(tmp_path_factory, embedder):
    """A real index of two outlets' articles about one event (and one unrelated article)."""
    root = tmp_path_factory.mktemp("forms-outlets")
    docs = root / "docs"
    docs.mkdir()
    for name, text in [("gazette.md", GAZETTE), ("post.md", POST), ("festival.md", OTHER)]:
        (docs / name).write_text(text, "utf-8")
    settings = IndexSettings(seeds_dir=docs, db_dir=root / "db")
    build(settings, embedder=embedder)
    return build_assistant(settings, embedder=embedder), settings


@pytest.mark.slow
def test_an_explanation_according_to_two_outlets_gives_each_outlets_account_grouped_under_it(outlets):
    assistant, settings = outlets
    a = assistant.answer("Why did the Esk footbridge collapse, according to the Town Gazette and the River Post?")
    assert_well_formed(a, settings.seeds_dir)
    assert a.form == WHY and not a.abstained, a.text
    assert [g.label for g in a.groups] == ["Town Gazette", "River Post"], a.groups
    by_n = {c.n: c for c in a.citations}
    assert {by_n[n].source for n in a.groups[0].citations} == {"gazette.md"}
    assert {by_n[n].source for n in a.groups[1].citations} == {"post.md"}
    assert any("not been inspected" in c.quote for c in a.citations), a.text
