"""Headings as structure (issue 22, item 3): every chunk carries the heading path in effect at its start and the
headings inside it; a quote's path shows on source cards and in the CLI; a heading line is never quoted alone.
Real files: the grep(1) manual page as text (sections and sub-sections), pip's Markdown guide on authentication
(three nested levels, code fences), and HTML pages with `h1`-`h3`."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import assert_provenance
from index.formats.html import extract_html_parts
from index.ingest import headings
from index.ingest.chunk import chunk_doc
from index.ingest.discover import file_hash
from index.ingest.load import load
from qa.types import Passage

DATA = Path(__file__).parent / "data"
MAN, GUIDE = DATA / "grep.1.txt", DATA / "pip-authentication.md"
LONG = "3.8 - Printing a ledger on paper of another size than the default size of the manual"


def chunks_of(path: Path, size: int = 1000, overlap: int = 200):
    doc = load(path, path.name)
    chunks = chunk_doc(doc, file_hash(path), size, overlap)
    assert_provenance(doc, chunks)
    return doc, chunks


def path_at(chunks, phrase: str) -> str:
    """The heading path a passage reports for the first place `phrase` appears."""
    c = next(c for c in chunks if phrase in c.text)
    return Passage.from_record(c.id, c.text, c.metadata()).heading_at(c.start + c.text.index(phrase))


def test_man_page_sections_and_sub_sections_make_the_path():
    doc, chunks = chunks_of(MAN)
    found = [(h.level, h.text) for h in doc.headings]
    assert found[:6] == [(1, "NAME"), (1, "SYNOPSIS"), (1, "DESCRIPTION"), (1, "OPTIONS"),
                         (2, "Generic Program Information"), (2, "Pattern Syntax")]
    assert (1, "REGULAR EXPRESSIONS") in found and (2, "Anchoring") in found and (1, "SEE ALSO") in found
    assert all(doc.text[h.start:h.end].strip() == h.text for h in doc.headings)  # the heading line, verbatim
    assert not any("GREP(1)" in h.text or h.text.startswith("-") for h in doc.headings)  # page header, options
    assert path_at(chunks, "Ignore case distinctions in patterns") == "OPTIONS › Matching Control"
    assert path_at(chunks, "are  meta-characters") == "REGULAR EXPRESSIONS › Anchoring"
    assert path_at(chunks, "PATTERNS is one or more") == "DESCRIPTION"
    metas = [c.metadata() for c in chunks]
    assert all(m.get("heading", "") == headings.Outline(doc.headings).at(c.start) for m, c in zip(metas, chunks))
    assert sum("heading" in m for m in metas) >= len(metas) - 1  # all but a first chunk above NAME


def test_markdown_nested_headings_outside_code_fences():
    doc, chunks = chunks_of(GUIDE, 400, 50)
    assert [(h.level, h.text) for h in doc.headings] == [
        (1, "Authentication"), (2, "Basic HTTP authentication"), (3, "Percent-encoding special characters"),
        (2, "netrc support"), (2, "Keyring Support")]  # `# install keyring ...` in a fenced block is code
    assert doc.title == "Authentication"  # the first level repeats the title: shown and indexed below it
    assert path_at(chunks, "percent-encoded") == "Basic HTTP authentication › Percent-encoding special characters"
    assert path_at(chunks, "Below is an example `.netrc`") == "netrc support"
    assert next(c for c in chunks if "Below is an example" in c.text).heading == "Authentication › netrc support"


def test_html_and_rst_headings_are_found_where_the_text_has_them():
    page = extract_html_parts(
        "<html><head><title>quire</title></head><body><nav><h2>Menu</h2></nav><main><h1>Printing ¶</h1>"
        "<p>Intro.</p><h2><a id='x'></a></h2><h2>Paper</h2><p>A5 by default.</p><h3>Sizes</h3><p>A4, A5.</p>"
        "<h2>Ledgers</h2><p>One entry a line.</p></main></body></html>")
    assert [(h.level, page.text[h.start:h.end]) for h in page.headings] == [
        (1, "Printing ¶"), (2, "Paper"), (3, "Sizes"), (2, "Ledgers")]  # navigation and empty headings left out
    outline = headings.Outline(page.headings)
    assert outline.at(page.text.index("A4, A5.")) == "Printing › Paper › Sizes"  # the permalink mark dropped
    assert outline.at(page.text.index("One entry")) == "Printing › Ledgers"
    assert outline.at(0) == "Printing" and headings.Outline(()).at(5) == ""
    rst = "Guide\n=====\n\nIntro.\n\nSetup\n-----\n\nRun it.\n\nMore\n====\n\nEnd.\n"
    assert [(h.level, h.text) for h in headings.rst(rst)] == [(1, "Guide"), (2, "Setup"), (1, "More")]


@pytest.mark.slow
def test_heading_path_on_citations_cards_and_cli_and_never_quoted_alone(tmp_path, make_settings, embedder):
    """A heading too long to look like one to the sentence rules (15 words) is still never the answer: before
    headings were structure, it was quoted alone, and first, for both questions on paper below."""
    from index.builds.build import build
    from qa.pipeline import build_assistant
    from ui.cli.main import main
    from ui.web import render

    seeds = tmp_path / "docs"
    seeds.mkdir()
    for path in (MAN, GUIDE):
        (seeds / path.name).write_bytes(path.read_bytes())
    (seeds / "quire-manual.html").write_text(
        "<html><head><title>quire manual</title></head><body><h1>quire</h1><h2>3.7 - Functions and Types</h2>"
        "<p>Every function of quire takes a ledger as its first argument.</p>"
        f"<h2>{LONG}</h2>"
        "<p>quire prints on A5 paper unless told otherwise.</p></body></html>", "utf-8")
    settings = make_settings(seeds)
    build(settings, embedder=embedder)
    assistant = build_assistant(settings, embedder=embedder)

    answer = assistant.answer("Which grep option ignores case distinctions in patterns and data?")
    cite = next(c for c in answer.citations if c.source == MAN.name)
    assert "ignore-case" in cite.quote and cite.heading == "OPTIONS › Matching Control", (answer.text, cite)
    card = render.sources_html(answer, 0)
    assert "OPTIONS › Matching Control" in card
    out = CliRunner().invoke(main, ["ask", "--seeds", str(seeds), "--db", str(settings.db_dir), "--",
                                    "Which grep option ignores case distinctions in patterns and data?"])
    assert out.exit_code == 0 and "grep.1.txt, lines" in out.output and "· OPTIONS › Matching Control" in out.output

    guide = assistant.answer("How do I percent-encode special characters in pip credentials?")
    assert any(c.heading.endswith("Percent-encoding special characters") for c in guide.citations), guide.citations

    for question in ("quire paper size?", "Printing a ledger on paper of another size", "quire functions and types?",
                     "3.7 - Functions and Types", "Percent-encoding special characters", "grep Anchoring"):
        got = assistant.answer(question)
        quoted = [" ".join(c.quote.split()) for c in got.citations]
        assert not {LONG, "3.7 - Functions and Types", "## Percent-encoding special characters", "Anchoring",
                    "quire"} & set(quoted), (question, quoted)
    assert "A5 paper" in assistant.answer("quire paper size?").text
    assert "takes a ledger" in assistant.answer("What does every quire function take as its first argument?").text


def test_index_text_has_the_path_but_not_a_title_twice(tmp_path):
    from index.ingest.chunk import index_text

    assert index_text("Body.", {"title": "Guide", "heading": "Guide › Setup › Proxy"}) == "Guide | Setup › Proxy\nBody."
    assert index_text("Body.", {"title": "Guide", "heading": "Guide"}) == "Guide\nBody."
    assert index_text("Body.", {"title": "Guide", "heading": "Setup"}) == "Guide | Setup\nBody."
    long = "A headline of a news story that goes on and on, well past the length that a heading path keeps for one level of it, in any language"
    page = tmp_path / "story.md"  # front matter's last field over its closing `---` is no setext heading
    page.write_text(f'---\ntitle: "{long} and more"\ncategory: "sports"\n---\n\n# {long} and more\n\nIt rained.\n',
                    "utf-8")
    doc, chunks = chunks_of(page)
    assert [h.text for h in doc.headings] == [f"{long} and more"]
    assert index_text(chunks[0].text, chunks[0].metadata()).startswith(f"{long} and more\n")
