"""Filters (file, title, date range, type) and collections (several folders, one index location), on a real
Chroma store and the real model: both sides of hybrid search honour a filter, a document that only BM25
would find is never cited when excluded, and each collection answers from its own folder only."""
from __future__ import annotations

import functools
import json

import numpy as np
import pytest

from index.builds.build import build
from index.errors import UsageError
from index.manager import collections
from index.settings import IndexSettings
from index.vectorstore.store import Match
from qa.pipeline import build_assistant
from qa.retrieval import filters
from qa.retrieval.filters import Filter
from qa.retrieval.hybrid import Narrow
from qa.sharing.evidence import bundle, verify
from qa.sharing.export import Turn

pytestmark = pytest.mark.usefixtures("one_torch_thread")
DOCS = {
    "budget.md": "---\ntitle: City budget 2024\npublished: 2024-03-01\n---\nThe council set the city budget at 40 "
                 "million crowns. Most of it pays for schools, and the harbour ferry gets 2 million crowns.\n",
    "ferry.html": "<html><head><title>Harbour ferry timetable</title></head><body><p>The harbour ferry leaves "
                  "every twenty minutes from the north pier.</p></body></html>",
    "notes/festival.md": "---\ntitle: Spring notes\npublished: 2022-07-01\n---\nThe Zorblax festival takes place "
                         "every April in the old harbour, with boats and lanterns.\n",
    "ferry-history.txt": " date 2023-05-02 The first harbour ferry sailed in 1911, a steam boat named Gull.\n",
}
PAPERS = {"glacier.md": "---\ntitle: Glacier survey\npublished: 2023-09-09\n---\nThe Halvard glacier retreated "
                        "40 metres in 2023, the surveyors measured.\n"}
ZORBLAX = "When does the Zorblax festival take place?"
GLACIER = "How far did the Halvard glacier retreat?"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, embedder):
    """The default folder and a collection `papers` in one index location, both built."""
    root = tmp_path_factory.mktemp("filters")
    for folder, docs in (("seeds", DOCS), ("papers", PAPERS)):
        for name, text in docs.items():
            (root / folder / name).parent.mkdir(parents=True, exist_ok=True)
            (root / folder / name).write_text(text, "utf-8")
    settings = IndexSettings(seeds_dir=root / "seeds", db_dir=root / "db")
    build(settings, embedder=embedder)
    build(collections.register(settings, "papers", root / "papers"), embedder=embedder)
    return settings


@pytest.fixture(scope="module")
def assistant(corpus, embedder):
    return build_assistant(corpus, embedder=embedder)


def sources(passages) -> set[str]:
    return {p.source for p in passages}


@pytest.mark.parametrize("where, admitted", [
    ({"source": "budget.md"}, {"budget.md"}),
    ({"source": "notes/*"}, {"notes/festival.md"}),
    ({"title": ["timetable", "BUDGET"]}, {"budget.md", "ferry.html"}),
    ({"type": "md"}, {"budget.md", "notes/festival.md"}),
    ({"after": "2023"}, {"budget.md", "ferry-history.txt"}),
    ({"after": "2023-01-01", "before": "2023-12"}, {"ferry-history.txt"}),
    ({"type": ["txt", "html"], "before": "2024"}, {"ferry-history.txt"}),
])
def test_each_kind_of_filter_narrows_both_sides_alike(assistant, where, admitted):
    lex = assistant.search.lexical
    narrow = assistant.search.narrow(filters.of(where), lex)
    assert {lex.metas[i]["source"] for i in np.flatnonzero(narrow.rows)} == admitted  # BM25 side
    assert narrow.where == Match("source", tuple(sorted(admitted)))  # the store's side
    query = assistant.search.embed_query("the harbour ferry")
    hits = assistant.store.search(query.vector, 10, narrow.where)
    assert hits and {h.metadata["source"] for h in hits} <= admitted
    found = assistant.retrieve("the harbour ferry", k=10, where=where)
    assert found and sources(found) <= admitted


def test_a_document_only_bm25_finds_is_not_cited_when_excluded(assistant):
    lex = assistant.search.lexical
    scores = lex.scores(ZORBLAX)
    festival = [i for i, m in enumerate(lex.metas) if m["source"] == "notes/festival.md"]
    assert scores[festival].max() == scores.max() > 0  # the made-up word is a BM25 match, and the best one
    assert "notes/festival.md" in {c.source for c in assistant.answer(ZORBLAX).citations}
    where = Filter(type=("txt", "html"))
    # had only Chroma's `where` been applied, the BM25 side would still have brought the festival in
    query = assistant.search.embed_query(ZORBLAX)
    dense_only = Narrow(assistant.search.narrow(where, lex).where, None)
    assert "notes/festival.md" in sources(assistant.search._candidates(query, 4, [], lex, dense_only))
    answer = assistant.answer(ZORBLAX, where=where)
    assert "notes/festival.md" not in {c.source for c in answer.citations}
    assert "notes/festival.md" not in sources(answer.passages) | sources(answer.related)
    assert "notes/festival.md" not in sources(assistant.retrieve(ZORBLAX, k=20, where=where))
    streamed = list(assistant.answer_stream(ZORBLAX, where=["type=txt", "type=html"]))
    assert "notes/festival.md" not in {c.source for c in streamed[-1].citations}


def test_filters_reach_the_chain_and_the_retriever(assistant):
    answer = assistant.chain.invoke({"question": ZORBLAX, "where": {"source": "budget.md"}})
    assert {c.source for c in answer.citations} <= {"budget.md"}
    docs = assistant.retriever(k=3, where="type=html").invoke("harbour ferry")
    assert {d.metadata["source"] for d in docs} == {"ferry.html"}


def test_bad_filters_say_what_is_wrong(assistant):
    for bad, wanted in ((["colour=teal"], "cannot read the filter"), ({"when": "2024"}, "unknown filter field"),
                        ({"after": "last year"}, "not a date"), ({"source": 3}, "string"),
                        ({"type": "pdf"}, "no indexed document matches the filter type=pdf")):
        with pytest.raises(UsageError, match=wanted):
            assistant.answer(ZORBLAX, where=bad)


def test_each_collection_answers_from_its_own_folder(assistant, corpus):
    papers = assistant.answer(GLACIER, collection="papers")
    assert papers.collection == "papers" and [c.source for c in papers.citations] == ["glacier.md"]
    assert "40 metres" in papers.text
    default = assistant.answer(GLACIER)
    assert default.collection == "" and "glacier.md" not in {c.source for c in default.citations}
    festival = assistant.answer(ZORBLAX, collection="papers")
    assert "notes/festival.md" not in {c.source for c in festival.citations}
    assert sources(assistant.retrieve(GLACIER, collection="papers", where={"after": "2023"})) == {"glacier.md"}
    folders = functools.partial(collections.folder, corpus)
    data = bundle("two collections", [Turn(GLACIER, papers), Turn(ZORBLAX, assistant.answer(ZORBLAX))], folders)
    assert [d.get("collection", "") for d in data["documents"]] == ["papers", ""]
    assert verify(data, folders).ok


def test_collections_are_named_and_registered_in_one_place(corpus, tmp_path):
    assert collections.names(corpus.db_dir) == ["default", "papers"]
    papers = collections.settings_for(corpus, "papers")
    assert papers.db_dir == corpus.db_dir / "collections" / "papers" and papers.seeds_dir.name == "papers"
    assert papers.collection != corpus.collection  # its own collection on a shared Chroma server
    assert collections.settings_for(corpus, "default") is corpus
    with pytest.raises(UsageError, match="there is no collection 'nope'.*default, papers"):
        collections.settings_for(corpus, "nope")
    with pytest.raises(UsageError, match="cannot name a collection"):
        collections.register(corpus, "../up", tmp_path)
    assert json.loads((corpus.db_dir / "collections.json").read_text())["papers"]["seeds"].endswith("papers")


def test_the_cli_indexes_lists_and_asks_a_collection(corpus, qa_cli, tmp_path):
    more = tmp_path / "more"
    more.mkdir()
    (more / "moon.md").write_text("# Moon log\n\nThe lunar rover Tamsin drove 3 kilometres on its first day.\n")
    db = corpus.db_dir
    done = qa_cli("index", "--collection", "moon", "--seeds", more, "--db", db)
    assert done.returncode == 0, done.stderr
    listed = qa_cli("collections", "--db", db).stdout
    assert "moon\t" in listed and "papers\t" in listed and "default\t" in listed
    asked = qa_cli("ask", "How far did the rover Tamsin drive?", "--collection", "moon", "--where", "type=md",
                   "--db", db, "--seeds", corpus.seeds_dir, "--json")
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    assert answer["collection"] == "moon" and [c["source"] for c in answer["citations"]] == ["moon.md"]
    docs = qa_cli("docs", "list", "--collection", "moon", "--db", db, "--seeds", corpus.seeds_dir, "--json")
    assert docs.returncode == 0, docs.stderr
    assert [(d["source"], d["status"]) for d in json.loads(docs.stdout)] == [("moon.md", "indexed")]
    wrong = qa_cli("ask", "Anything?", "--collection", "nope", "--db", db, "--seeds", corpus.seeds_dir)
    assert wrong.returncode == 2 and "qa index --collection nope --seeds FOLDER" in wrong.stderr
    bad = qa_cli("ask", "Anything?", "--where", "colour=teal", "--db", db, "--seeds", corpus.seeds_dir)
    assert bad.returncode == 2 and "cannot read the filter" in bad.stderr
