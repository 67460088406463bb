"""The document viewer (text around the quote, a PDF page drawn with the quote marked, nothing read outside
the seeds folder) and the example questions drawn from the index."""
from __future__ import annotations

import io
import os

import numpy as np
from fpdf import FPDF
from PIL import Image

from index.builds.build import build
from index.ingest.load import load
from qa import AnswerSettings, build_assistant
from qa.sharing.export import Source
from qa.types import Citation, Short
from ui.web.examples import ExampleQuestions, names
from ui.web.viewer import Documents, page_png, view_html

PAGE2 = "The lighthouse keeper Odile Franck painted the tower teal in 1897."


def cite_in(path, source: str, quote: str, page: int | None = None, n: int = 1) -> Citation:
    text = load(path, source).text
    start = text.index(quote)
    return Citation(n=n, source=source, title="", published="", start=start, end=start + len(quote), start_line=1,
                    end_line=1, quote=quote, score=1.0, page=page, context=quote, context_start=start)


def test_text_is_escaped_and_the_quote_and_short_answer_are_marked(tmp_path):
    (tmp_path / "a.md").write_text("# Notes <b>\n\nIntro line.\n\nThe tower is teal <img src=x>.\n", "utf-8")
    c = cite_in(tmp_path / "a.md", "a.md", "The tower is teal <img src=x>.")
    short = Short("teal", c.start + 13, c.start + 17, 1, "colour")
    html = view_html(Documents(tmp_path), Source(1, (c,)), short)
    assert "<img" not in html and "&lt;img src=x&gt;" in html and "Notes &lt;b&gt;" in html
    assert '<mark class="qa-quote">The tower is <mark class="qa-short-mark">teal</mark> &lt;img' in html


def test_a_moved_quote_is_found_and_a_vanished_one_reported(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("First.\nThe quote.\n", "utf-8")
    c = cite_in(path, "a.txt", "The quote.")
    path.write_text("New first line.\nFirst.\nThe quote.\n", "utf-8")
    assert '<mark class="qa-quote">The quote.</mark>' in view_html(Documents(tmp_path), Source(1, (c,)))
    path.write_text("Nothing left.\n", "utf-8")
    assert "no longer in it" in view_html(Documents(tmp_path), Source(1, (c,)))


def test_nothing_outside_the_seeds_folder_is_read(tmp_path):
    seeds, outside = tmp_path / "seeds", tmp_path / "secret.txt"
    seeds.mkdir()
    outside.write_text("secret", "utf-8")
    os.symlink(outside, seeds / "link.txt")
    docs = Documents(seeds)
    for name in ("../secret.txt", str(outside), "link.txt", "", "."):
        assert docs.path(name) is None and docs.load(name) is None
    c = Citation(1, "../secret.txt", "", "", 0, 6, 1, 1, "secret", 1.0, context="secret")
    assert "no longer in the documents folder" in view_html(docs, Source(1, (c,)))


def _pdf(path) -> None:
    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    pdf.add_page()
    pdf.multi_cell(0, 8, "Page one is about something else entirely.")
    pdf.add_page()
    pdf.multi_cell(0, 8, "Harbour records.\n" + PAGE2)
    pdf.output(str(path))


def _marked_pixels(png: bytes) -> int:
    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    return int(((rgb[..., 0] > 200) & (rgb[..., 1] > 180) & (rgb[..., 2] < 160)).sum())


def test_a_pdf_shows_the_cited_page_with_the_quote_marked(tmp_path):
    _pdf(tmp_path / "log.pdf")
    c = cite_in(tmp_path / "log.pdf", "log.pdf", PAGE2, page=2)
    assert _marked_pixels(page_png(tmp_path / "log.pdf", 2, [PAGE2])) > 500
    assert _marked_pixels(page_png(tmp_path / "log.pdf", 2, [])) == 0
    html = view_html(Documents(tmp_path), Source(1, (c,)))
    assert '<img src="data:image/png;base64,' in html and "Page 2" in html
    shown = html.split('class="qa-doc"')[1]  # the text below the page image: that page only
    assert f'<mark class="qa-quote">{PAGE2}</mark>' in shown and "Page one" not in shown


def test_a_pdf_citation_reads_only_its_page_and_marks_the_short_answer(tmp_path, monkeypatch):
    """The whole document is never read for a PDF page (a 300-page manual would take seconds): the page's
    text comes from pypdf alone, the quote and short answer are marked in it, the drawn page comes first."""
    _pdf(tmp_path / "log.pdf")
    c = cite_in(tmp_path / "log.pdf", "log.pdf", PAGE2, page=2)
    short = Short("teal", c.start + PAGE2.index("teal"), c.start + PAGE2.index("teal") + 4, 1, "colour")

    def whole_document(*args, **kwargs):
        raise AssertionError("the viewer read the whole document")

    monkeypatch.setattr("ui.web.viewer.load", whole_document)
    html = view_html(Documents(tmp_path), Source(1, (c,)), short)
    assert html.index('<figure class="qa-page" data-fx=') < html.index('class="qa-doc"')
    assert '<mark class="qa-quote">The lighthouse keeper Odile Franck painted the tower <mark class="qa-short-mark">' \
           'teal</mark> in 1897.</mark>' in html
    assert "Page one" not in html and "no longer" not in html


def test_names_are_recurring_capitalised_phrases():
    text = "Gen. Chris Cavoli spoke. The Harbour Office agreed. Chris Cavoli left. In March nothing happened."
    assert names(text)[:2] == ["Chris Cavoli", "Harbour Office"]


def test_names_are_never_a_word_repeated_or_capitals_glued_across_lines():
    """A manual's running header read on every page, and its labels in capitals, recur more than any name:
    neither is offered as one."""
    page = "ACME MARINE\nACME MARINE\nWARNING\nCAUTION HOT SURFACE\nThe pump was serviced by Odile Franck.\n"
    found = names(page * 5)
    assert "Odile Franck" in found
    assert not [n for n in found if len(set(n.split())) < len(n.split()) or sum(w.isupper() for w in n.split()) > 1]
    assert names("Gen. Chris Cavoli, commander of US European Command.\n" * 2)[:2] == ["Chris Cavoli",
                                                                                      "US European Command"]


def test_example_questions_come_from_the_index_and_are_answerable(seeds_copy, make_settings, embedder):
    settings = make_settings(seeds_copy)
    assert ExampleQuestions(settings, None).get() == []  # no index yet: no examples, no error
    build(settings, embedder=embedder)
    assistant = build_assistant(settings, AnswerSettings(), embedder=embedder)
    questions = ExampleQuestions(settings, assistant).get()
    assert 3 <= len(questions) <= 4 and len(set(questions)) == len(questions)
    text = next(seeds_copy.iterdir()).read_text("utf-8")
    for q in questions:
        assert q.removeprefix("What do the documents say about ").rstrip("?") in text
        assert not assistant.answer(q).abstained


def test_the_viewer_shows_each_format_at_its_location(tmp_path, embedder):
    """Slides, sheet rows, e-book chapters, messages and scanned pages: the viewer's header names the place
    (as the citation does), the quote is marked in the document's text, and a PDF page is drawn."""
    from index.settings import IndexSettings
    from testkit.samples import format_corpus

    seeds = tmp_path / "seeds"
    probes = [p for p in format_corpus(seeds) if p.where]
    settings = IndexSettings(seeds_dir=seeds, db_dir=tmp_path / "db")
    build(settings, embedder=embedder)
    assistant = build_assistant(settings, AnswerSettings(), embedder=embedder)
    docs, shown = Documents(seeds), set()
    for p in probes:
        c = next(c for c in assistant.answer(p.question).citations if c.source == p.source)
        html = view_html(docs, Source(1, (c,)))
        assert f"{p.source}, {p.where}" in html, (p.source, html[:300])
        assert '<mark class="qa-quote">' in html and p.words in html
        if p.source.endswith(".pdf"):
            assert "<img" in html  # the cited page, drawn by pypdfium2
        shown.add(p.where.split()[0])
    assert shown == {"p.", "slide", "Fleet", "row", "chapter", "message"}
