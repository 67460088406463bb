"""Retrieval that follows what the question names: sources (front-matter `source`), days of publication,
and the clauses of a compound question. A real index of small news articles built with the real model."""
from __future__ import annotations

from pathlib import Path

import pytest

from index.builds.build import build
from index.settings import IndexSettings
from qa.pipeline import build_assistant
from qa.retrieval.hybrid import rrf_merge, split_parts
from qa.retrieval.sources import named_days
from qa.types import Passage

pytestmark = pytest.mark.usefixtures("one_torch_thread")

# (file, source, published, body). The Daily Ledger pieces use the questions' own words, so plain
# relevance alone would rank them first; only the named source or day points at the right one.
ARTICLES = [
    ("ledger-bridge.md", "Daily Ledger", "2024-03-01",
     "The bridge repair will finish in May, the city engineer said. The bridge repair costs 4 million."),
    ("harbor-bridge-early.md", "Harbor Times", "2024-03-03",
     "Crews on the river crossing expect to wrap up the work in June, later than planned."),
    ("harbor-bridge-late.md", "Harbor Times", "2024-04-19",
     "The river crossing reopened to cyclists while crews finished the deck; the bridge repair "
     "will finish in May, the bridge repair team said."),
    ("valley-library.md", "Valley Post", "2024-03-03",
     "The new library branch opened with 40,000 books and a maker space for teenagers."),
    ("ledger-library.md", "Daily Ledger", "2024-02-11",
     "The library branch opened early; the library holds 40,000 books, the library director said."),
    ("valley-market.md", "Valley Post", "2024-05-02",
     "The farmers market moved to the old rail yard, where 60 stalls now trade on Saturdays."),
]


def article(title: str, source: str, published: str, body: str) -> str:
    return (f'---\ntitle: "{title}"\nsource: "{source}"\npublished: "{published}T09:00:00+00:00"\n---\n\n'
            f"# {title}\n\n{body}\n")


@pytest.fixture(scope="module")
def news(tmp_path_factory, embedder):
    root = tmp_path_factory.mktemp("news")
    seeds = root / "seeds"
    seeds.mkdir()
    for name, source, published, body in ARTICLES:
        (seeds / name).write_text(article(name[:-3].replace("-", " ").title(), source, published, body), "utf-8")
    settings = IndexSettings(seeds_dir=seeds, db_dir=root / "db")
    build(settings, embedder=embedder)
    return build_assistant(settings, embedder=embedder)


def top_files(assistant, question: str, k: int = 4) -> list[str]:
    passages = assistant.search.search(assistant.search.embed_query(question), k)
    return [Path(p.source).name for p in passages]


def test_the_named_source_comes_first(news):
    assert top_files(news, "When will the bridge repair finish, according to the Harbor Times?")[0] \
        .startswith("harbor-bridge")


def test_the_named_day_picks_that_days_article(news):
    question = "What did the Harbor Times report on March 3 about when the bridge repair will finish?"
    assert top_files(news, question)[0] == "harbor-bridge-early.md"
    iso = "What did the Harbor Times report on 2024-03-03 about when the bridge repair will finish?"
    assert top_files(news, iso)[0] == "harbor-bridge-early.md"


def test_without_a_source_or_day_plain_relevance_decides(news):
    assert top_files(news, "When will the bridge repair finish?")[0] in {"ledger-bridge.md", "harbor-bridge-late.md"}


def test_a_compound_question_retrieves_each_clause_from_its_source(news):
    question = ("Did the Valley Post report that the library branch opened with a maker space for teenagers, "
                "while the Harbor Times reported that crews on the river crossing expect to finish in June?")
    assert set(top_files(news, question, k=2)) == {"valley-library.md", "harbor-bridge-early.md"}


@pytest.mark.parametrize(("question", "days"), [
    ("published on November 1, 2023", {"11-01"}),
    ("on 2023-11-24 and on December 15th", {"11-24", "12-15"}),
    ("on October 1st, after the May 9 report", {"10-01", "05-09"}),
    ("in 2023, during May", set()),
])
def test_named_days(question, days):
    assert named_days(question) == days


def test_split_parts_keeps_short_questions_whole_and_splits_long_compound_ones():
    assert split_parts("Who kept the red ledger, and where?") == ["Who kept the red ledger, and where?"]
    long = ("Which company, reported by TechCrunch as spending billions on default search deals, "
            "and accused by The Verge of harming app developers through its store rules, is it?")
    assert split_parts(long) == ["reported by TechCrunch as spending billions on default search deals",
                                 "accused by The Verge of harming app developers through its store rules"]


def passage(pid: str) -> Passage:
    return Passage(id=pid, text=pid, source=f"{pid}.txt", title=pid, start=0, end=len(pid), start_line=1, end_line=1)


def test_rrf_merge_counts_repeated_rankings_and_drops_duplicates():
    a, b, c = passage("a"), passage("b"), passage("c")
    full = [c, a]
    merged = rrf_merge([[b, a], full, full], k=3)  # c: 1 + 1, a: 3 x 1/2, b: 1
    assert [p.id for p in merged] == ["c", "a", "b"]
