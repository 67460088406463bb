"""Chunking: exact offsets, bounded sizes, full coverage, deterministic ids, segment boundaries."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from conftest import assert_provenance
from index.ingest.chunk import chunk_doc, index_text, make_splitter
from index.types import LoadedDoc, Segment

pytestmark = pytest.mark.unit  # the fast tier: `pytest -m unit`


def make_doc(text: str, source: str = "doc.txt", segments=None) -> LoadedDoc:
    """A LoadedDoc over `text` with one whole-text segment unless `segments` are given."""
    return LoadedDoc(source, text, "Title", "2024-01-01", {}, tuple(segments or [Segment(0, len(text))]))


def assert_covered(doc: LoadedDoc, chunks) -> None:
    """Every non-whitespace character of every segment lies inside some chunk."""
    covered = set()
    for c in chunks:
        covered.update(range(c.start, c.end))
    for seg in doc.segments:
        missing = [i for i in range(seg.start, seg.end) if not doc.text[i].isspace() and i not in covered]
        assert not missing, f"uncovered text at {missing[:5]}: {doc.text[missing[0]:missing[0] + 30]!r}"


def sentences(n: int, per_paragraph: int = 4) -> str:
    """`n` distinct sentences grouped into paragraphs (0: one paragraph)."""
    out = []
    for i in range(n):
        out.append(f"Sentence number {i} talks about topic {i * 7 % 13} in some detail.")
        out.append("\n\n" if per_paragraph and i % per_paragraph == per_paragraph - 1 else " ")
    return "".join(out).strip() + "\n"


def test_sizes_overlap_and_coverage():
    doc = make_doc(sentences(120, per_paragraph=0))
    chunks = chunk_doc(doc, "f" * 64, 300, 60)
    assert_provenance(doc, chunks)
    assert_covered(doc, chunks)
    assert len(chunks) > 10
    assert all(len(c.text) <= 300 for c in chunks)
    assert [c.start for c in chunks] == sorted(c.start for c in chunks)
    overlapping = sum(1 for a, b in zip(chunks, chunks[1:]) if b.start < a.end)
    assert overlapping == len(chunks) - 1  # overlap is really applied
    assert all(c.text.startswith("Sentence") and c.text.endswith(".") for c in chunks)


def test_chunks_end_on_sentence_or_paragraph_boundaries():
    doc = make_doc(sentences(60))
    chunks = chunk_doc(doc, "f" * 64, 400, 0)
    assert all(c.text.endswith(".") for c in chunks)


def test_ids_deterministic_unique_and_content_addressed():
    doc = make_doc(sentences(40))
    first = [c.id for c in chunk_doc(doc, "a" * 64, 200, 20)]
    assert first == [c.id for c in chunk_doc(doc, "a" * 64, 200, 20)]
    assert len(set(first)) == len(first)
    assert not set(first) & {c.id for c in chunk_doc(doc, "b" * 64, 200, 20)}  # new file version
    assert not set(first) & {c.id for c in chunk_doc(make_doc(doc.text, "other.txt"), "a" * 64, 200, 20)}


def test_chunks_never_cross_segments():
    pages = [sentences(8), sentences(5), sentences(9)]
    text = "\n\n".join(pages)
    segs, pos = [], 0
    for n, page in enumerate(pages, 1):
        segs.append(Segment(pos, pos + len(page.rstrip()), n))
        pos += len(page) + 2
    doc = make_doc(text, "book.pdf", segs)
    chunks = chunk_doc(doc, "c" * 64, 250, 50)
    assert_provenance(doc, chunks)
    assert_covered(doc, chunks)
    assert {c.page for c in chunks} == {1, 2, 3}


def test_repeated_paragraphs_map_to_distinct_places():
    text = "\n\n".join(["The same paragraph repeats, word for word, again."] * 12) + "\n"
    doc = make_doc(text)
    chunks = chunk_doc(doc, "d" * 64, 120, 30)
    assert_provenance(doc, chunks)
    assert_covered(doc, chunks)
    assert len({c.start for c in chunks}) == len(chunks)


def test_unbroken_word_and_crlf_lines():
    text = "Intro line.\r\n\r\n" + "x" * 700 + "\r\nsecond line here\r\nthird line\r\n"
    doc = make_doc(text)
    chunks = chunk_doc(doc, "e" * 64, 200, 0)
    assert_provenance(doc, chunks)
    assert_covered(doc, chunks)
    assert all(len(c.text) <= 200 for c in chunks)
    run = [c for c in chunks if set(c.text) == {"x"}]
    assert sum(len(c.text) for c in run) == 700 and all(c.start_line == c.end_line == 3 for c in run)
    assert (chunks[-1].text, chunks[-1].start_line, chunks[-1].end_line) == (
        "second line here\r\nthird line", 4, 5)


def test_index_text_prefixes_title_site_date():
    meta = {"title": "Harbour", "site": "Coastal Times", "published": "2024-01-01", "source": "a.md"}
    assert index_text("Body.", meta) == "Harbour | Coastal Times | 2024-01-01\nBody."
    assert index_text("Body.", {"title": ""}) == "Body."


WORDS = st.sampled_from(["alpha", "Beta", "gamma.", "delta,", "ok?", "e!", "x" * 40, "é", "日本", "—"])
SEPS = st.sampled_from(["", " ", "  ", "\n", "\n\n", "\r\n", "\t", "; ", ". ", "\n\n\n\n"])


@settings(max_examples=150, deadline=None)
@given(words=st.lists(st.tuples(WORDS, SEPS), min_size=1, max_size=150), size=st.integers(20, 300),
       data=st.data())
def test_property_distinct_words_exact_and_complete(words, size, data):
    """With no repeated text the mapping is unambiguous: exact, ordered, bounded and complete."""
    text = "".join(f"{w}{n}{sep}" for n, (w, sep) in enumerate(words))
    doc = make_doc(text)
    chunks = chunk_doc(doc, "9" * 64, size, data.draw(st.integers(0, size // 3)))
    assert_provenance(doc, chunks)
    assert_covered(doc, chunks)
    assert all(len(c.text) <= size for c in chunks)
    assert all(a.start <= b.start for a, b in zip(chunks, chunks[1:]))


@settings(max_examples=150, deadline=None)
@given(words=st.lists(st.tuples(WORDS, SEPS), min_size=1, max_size=150), size=st.integers(20, 300),
       data=st.data())
def test_property_repeated_text_still_exact(words, size, data):
    """Repeated words may map a piece to an identical earlier copy, but every piece is kept, exact and ordered."""
    text = "".join(w + sep for w, sep in words)
    if not text.strip():
        return
    overlap = data.draw(st.integers(0, size // 3))
    doc = make_doc(text)
    chunks = chunk_doc(doc, "9" * 64, size, overlap)
    assert_provenance(doc, chunks)
    assert [c.text for c in chunks] == make_splitter(size, overlap, prose=True).split_text(text)
    assert all(a.start <= b.start for a, b in zip(chunks, chunks[1:]))
