"""The `index.vectorstore.store.Store` contract, one suite for every registered store (`QA_STORE`): the in-memory store on
the hashing embedder (a fast unit test) and real Chroma in a temp folder on the real embedding model.

A store is driven the way a build drives it: a generation is created (named by `vectors_name`), staged,
written, closed and published; readers see only published generations. Filters are the store's own
(`Match`, `All`), translated by each store.
"""
from __future__ import annotations

import pytest

from index.errors import IndexMissingError, UsageError
from index.generations import generation, manifest as mf
from index.settings import IndexSettings
from index.types import Chunk
from index.vectorstore.store import NAMES, STORES, All, Match, open_store
from testkit.fakes import HashEmbedder

TEXTS = {
    "harbour.md": ["The harbour lighthouse was painted teal by its keeper in 1897.",
                   "Fishing boats leave the harbour before dawn in winter."],
    "orchard.md": ["The orchard grows forty kinds of apple and pear trees.",
                   "Its cider press was built of oak in 1921."],
    "notes.txt": ["A teal kettle sits on the kitchen stove."],
}


def chunks() -> list[Chunk]:
    """Two or one chunks per file; the first chunk of each file is on page 1, the others have no page."""
    out = []
    for f, (source, texts) in enumerate(TEXTS.items()):
        for n, text in enumerate(texts):
            out.append(Chunk(f"f{f}-{n:05d}", source, text, n * 100, n * 100 + len(text), n + 1, n + 1,
                             source.split(".")[0].title(), "2024-0%d-01" % (f + 1), page=1 if n == 0 else None))
    return out


@pytest.fixture(params=NAMES)
def kit(request, tmp_path):
    """(settings, store, embedder) for each registered store: memory on the hashing embedder, Chroma on the
    real model (the contract says nothing of the model; each store is tried where it is used)."""
    settings = IndexSettings(seeds_dir=tmp_path / "seeds", db_dir=tmp_path / "db", store=request.param)
    embed = HashEmbedder() if request.param == "memory" else request.getfixturevalue("embedder")
    store = open_store(settings)
    yield settings, store, embed
    store.close()


def write(settings, store, rows, vectors, base=None, delete=()):
    """A generation written as a build writes one (from `base`'s vectors, or empty), not yet published."""
    ptr = generation.read(settings)
    gen = generation.create(settings, ptr, base is None, settings.chunking_key, store.vectors_name)
    writer = store.stage(gen, base)
    generation.seal(gen, mf.Manifest(key=settings.chunking_key))
    if rows:
        writer.upsert(rows, vectors)
    writer.delete(list(delete))
    writer.close()
    return gen


def publish(settings, gen) -> None:
    generation.publish(settings, gen, "fp-" + gen.name, mf.Manifest(key=settings.chunking_key, complete=True))


def indexed(settings, store, embed):
    rows = chunks()
    gen = write(settings, store, rows, embed.embed([c.text for c in rows]))
    publish(settings, gen)
    return rows, gen


def nearest(store, embed, text, k=5, where=None) -> list:
    return store.search(embed.embed([text])[0], k, where)


def test_every_registered_store_is_tried_and_qa_store_names_them(tmp_path):
    assert set(NAMES) == set(STORES) >= {"chroma", "memory"}
    assert type(open_store(IndexSettings.from_env({"QA_STORE": "memory"}))).__name__ == "MemoryStore"
    with pytest.raises(UsageError, match="QA_STORE must be one of chroma, memory"):
        IndexSettings.from_env({"QA_STORE": "qdrant"})


def test_a_store_without_an_index_says_so(kit):
    settings, store, embed = kit
    assert store.recorded_key() is None
    with pytest.raises(IndexMissingError):
        nearest(store, embed, "teal")


def test_what_is_written_is_read_back_whole(kit):
    settings, store, embed = kit
    rows, gen = indexed(settings, store, embed)
    ids, texts, metas = store.records()
    assert sorted(ids) == sorted(c.id for c in rows) and store.ids() == {c.id for c in rows}
    by_id = {c.id: c for c in rows}
    assert all(by_id[i].text == t and by_id[i].metadata() == m for i, t, m in zip(ids, texts, metas))
    assert store.recorded_key() == settings.chunking_key
    state = store.state(gen)
    assert state.damaged is None and state.count in (len(rows), None)
    assert state.count == len(rows) or store.external


def test_search_gives_the_nearest_with_their_cosine_similarity(kit):
    settings, store, embed = kit
    rows, _ = indexed(settings, store, embed)
    vector = embed.embed([rows[0].text])[0]
    hits = store.search(vector, 3)
    assert len(hits) == 3 and hits[0].id == rows[0].id and hits[0].text == rows[0].text
    assert hits[0].metadata == rows[0].metadata()
    sims = [h.similarity for h in hits]
    assert sims == sorted(sims, reverse=True)
    exact = {c.id: float(v @ vector) for c, v in zip(rows, embed.embed([c.text for c in rows]))}
    assert all(abs(h.similarity - exact[h.id]) < 1e-3 for h in hits)
    assert len(store.search(vector, 50)) == len(rows)


def test_filters_narrow_the_search(kit):
    settings, store, embed = kit
    rows, _ = indexed(settings, store, embed)
    one = nearest(store, embed, "teal", where=Match("source", ("notes.txt",)))
    assert [h.metadata["source"] for h in one] == ["notes.txt"]
    two = nearest(store, embed, "teal", where=Match("source", ("orchard.md", "notes.txt")))
    assert {h.metadata["source"] for h in two} == {"orchard.md", "notes.txt"} and len(two) == 3
    firsts = nearest(store, embed, "teal", where=Match("page", (1,)))  # chunks without the field never match
    assert {h.id for h in firsts} == {c.id for c in rows if c.page == 1}
    both = All((Match("source", ("harbour.md", "orchard.md")), Match("page", (1,))))
    assert {h.id for h in nearest(store, embed, "teal", where=both)} == {"f0-00000", "f1-00000"}
    assert nearest(store, embed, "teal", where=All((Match("source", ("harbour.md",)),))) != []
    assert nearest(store, embed, "teal", where=Match("source", ("gone.md",))) == []


def test_a_filter_admitting_nothing_is_refused_when_made():
    with pytest.raises(ValueError):
        Match("source", ())


def test_a_new_generation_starts_from_its_base_and_readers_see_it_only_once_published(kit):
    settings, store, embed = kit
    rows, first = indexed(settings, store, embed)
    changed = Chunk("f1-00001", "orchard.md", "Its cider press was rebuilt of steel in 2001.", 100, 146, 2, 2,
                    "Orchard", "2024-02-01")
    gen = write(settings, store, [changed], embed.embed([changed.text]), base=first,
                delete=["f0-00001", "never-there"])
    if not store.external:  # a server's incremental build updates the live collection in place
        assert store.ids() == {c.id for c in rows}
    publish(settings, gen)
    assert store.ids() == {c.id for c in rows} - {"f0-00001"}
    assert dict(zip(*store.records()[:2]))["f1-00001"] == changed.text
    assert nearest(store, embed, changed.text, k=1)[0].id == "f1-00001"


def test_a_full_generation_starts_empty(kit):
    settings, store, embed = kit
    rows, _ = indexed(settings, store, embed)
    fresh = write(settings, store, rows[:1], embed.embed([rows[0].text]))
    publish(settings, fresh)
    assert store.ids() == {rows[0].id}


def test_a_generation_left_half_written_is_resumed_as_it_is(kit):
    settings, store, embed = kit
    rows = chunks()
    gen = write(settings, store, rows[:2], embed.embed([c.text for c in rows[:2]]))
    again = store.stage(gen, None)  # the next build adopts it: what was written is kept
    assert again.ids() == {c.id for c in rows[:2]}
    again.upsert(rows[2:], embed.embed([c.text for c in rows[2:]]))
    again.close()
    publish(settings, gen)
    assert store.ids() == {c.id for c in rows}


def test_forgetting_unknown_vectors_is_harmless(kit):
    settings, store, embed = kit
    rows, gen = indexed(settings, store, embed)
    store.forget({"no-such-collection"})
    assert store.ids() == {c.id for c in rows}
