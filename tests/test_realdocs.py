"""Real documents read as a person reads them: wrapped lines joined into sentences with exact offsets (a PDF made
with fpdf2, a real man page as text), HTML main content without navigation and with inline code inside its
sentence, running PDF headers dropped, headings and titles kept out of answers (with the real model)."""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import assert_provenance
from index.formats.html import extract_html
from index.ingest import sentences
from index.ingest.chunk import chunk_doc
from index.ingest.discover import file_hash
from index.ingest.load import load

DATA = Path(__file__).parent / "data"
PARAGRAPH = ("The harbour authority charges a mooring fee of forty euros per night for every vessel longer than "
             "twelve metres, payable at the office beside the north pier before departure. Smaller boats moor "
             "free of charge on the east pontoon, where the water is calm even in a westerly gale.")


def sentence_texts(text: str) -> list[str]:
    return [" ".join(text[s:e].split()) for s, e in sentences.split(text)]


def write_wrapped_pdf(path: Path, pages: int = 4) -> Path:
    """A manual whose paragraphs wrap over several lines, with a running header and a page footer."""
    from fpdf import FPDF

    class Manual(FPDF):
        def header(self):
            self.set_font("Helvetica", size=9)
            self.cell(0, 6, "Harbour Handbook, edition 2", new_x="LMARGIN", new_y="NEXT")

        def footer(self):
            self.set_y(-15)
            self.set_font("Helvetica", size=9)
            self.cell(0, 6, f"Page {self.page_no()} of {pages}", align="C")

    pdf = Manual()
    for n in range(1, pages + 1):
        pdf.add_page()
        pdf.set_font("Helvetica", size=11)
        pdf.multi_cell(120, 6, f"Chapter {n}.\n" + PARAGRAPH.replace("forty", f"{n * 10 + 30}"))
    pdf.output(str(path))
    return path


def test_pdf_wrapped_lines_read_as_sentences_on_their_page(tmp_path):
    doc = load(write_wrapped_pdf(tmp_path / "handbook.pdf"), "handbook.pdf")
    assert "Harbour Handbook" not in doc.text and "Page 2 of 4" not in doc.text  # running header and footer
    assert [s.page for s in doc.segments] == [1, 2, 3, 4]
    third = next(s for s in doc.segments if s.page == 3)
    body = doc.text[third.start:third.end]
    assert body.count("\n") >= 3, "the paragraph should come out wrapped, as in the file"
    said = sentence_texts(body)
    assert said[1].startswith("The harbour authority charges a mooring fee of 60 euros") and said[1].endswith(
        "before departure."), said
    chunks = chunk_doc(doc, file_hash(tmp_path / "handbook.pdf"), 300, 50)
    assert_provenance(doc, chunks)
    assert all(c.page == 3 for c in chunks if "60 euros" in c.text)


PAGE = """<!DOCTYPE html><html><head><title>venv — virtual environments</title><script>var x = 1;</script></head>
<body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/docs">Docs</a></li><li><a href="/blog">Blog</a></li></ul></nav>
<div class="navheader"><a href="prev.html">Prev</a> Up <a href="next.html">Next</a></div>
<main>
<h1>Creating virtual environments</h1>
<p>To make one, run <code>python3 -m venv env</code> in the project folder, then
   <a href="activate.html">activate it</a> with <kbd>source env/bin/activate</kbd>.
   The environment is <em>not</em> moved when you move the folder.</p>
<pre>python3 -m venv env
source env/bin/activate
    pip install requests</pre>
<dl><dt><code>-s</code><br><code>--schema-only</code></dt>
<dd><p>Dump only the object definitions, not data.</p></dd></dl>
<table><tr><th>Item</th><th>Upper limit</th></tr><tr><td>columns per table</td><td>1,600</td></tr></table>
</main>
<footer>Copyright 2024 Example Org. <a href="/privacy">Privacy</a></footer>
</body></html>"""


def test_html_main_content_inline_code_in_its_sentence_pre_whole_rows_kept():
    title, text = extract_html(PAGE)
    assert title == "venv — virtual environments"
    for nav in ("Home", "Blog", "Prev", "Privacy", "Copyright", "var x"):
        assert nav not in text, nav
    said = sentence_texts(text)
    assert ("To make one, run python3 -m venv env in the project folder, then activate it with "
            "source env/bin/activate.") in said
    assert "python3 -m venv env\nsource env/bin/activate\n    pip install requests" in text  # the pre block whole
    assert "columns per table | 1,600" in text.split("\n")
    assert "-s --schema-only: Dump only the object definitions, not data." in text.split("\n")  # term with its text
    assert sentences.is_label("Creating virtual environments")


def test_man_page_as_text_paragraphs_and_sections():
    path = DATA / "ls.1.txt"
    doc = load(path, "ls.1.txt")
    assert doc.text == path.read_text("utf-8")  # plain text: offsets are the file's own
    said = sentence_texts(doc.text)
    assert "NAME ls - list directory contents" in said  # a section name starts the text right under it
    assert "DESCRIPTION List information about the FILEs (the current directory by default)." in said
    assert "-c with -lt: sort by, and show, ctime (time of last modification of file status information); with -l: " \
           "show ctime and sort by name; otherwise: sort by ctime, newest first" in said
    assert "-a, --all do not ignore entries starting with ." in said  # an option with its description
    for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "-a, --all"):
        assert section not in said and sentences.is_label(section), section
    assert not sentences.is_label("ls - list directory contents")
    assert_provenance(doc, chunk_doc(doc, file_hash(path), 1000, 200))


@pytest.mark.parametrize("text, label", [
    ("jq", True), ("==", True), ("Usage\n-----", True), ("EXTRACT_ALL", True), ("1.5 Who makes curl?", True), ("# Taylor Swift tops the charts", True),
    ("2.11 Schannel TLS 1.2 handshake bug in old Windows versions", True),
    ("VACUUM [ ( option [, ...] ) ] [ table_and_columns [, ...] ]", True),
    ("VACUUM [ ( option [, ...] ) ]\nVACUUM [ FULL ] [ FREEZE ] [ VERBOSE ] [ ANALYZE ] [ table [, ...] ]", True),
    ("twopi − filter for radial layouts of graphs", False), ("columns per table | 1,600", False),
    ("jq is a lightweight and flexible command-line JSON processor.", False),
])
def test_labels_are_headings_titles_terms_and_questions(text, label):
    assert sentences.is_label(text) is label


def test_wrapped_plain_text_joins_but_lists_code_and_headings_stay_apart():
    text = ("Overview\n\n"
            "  The quick tool reads a file and writes a summary of what it holds, one\n"
            "  line per record, to standard output. It never changes the input.\n"
            "  - first item of a list that is quite long and goes on for a while here\n"
            "  - second item\n\n"
            "      $ quick --all input.txt\n"
            "      $ quick --none\n")
    assert sentence_texts(text) == [
        "Overview",
        "The quick tool reads a file and writes a summary of what it holds, one line per record, to standard output.",
        "It never changes the input.",
        "- first item of a list that is quite long and goes on for a while here", "- second item",
        "$ quick --all input.txt", "$ quick --none"]


@pytest.mark.slow
def test_what_is_answered_by_the_defining_sentence_not_the_heading(tmp_path, make_settings, embedder):
    from index.builds.build import build
    from qa.pipeline import build_assistant

    seeds = tmp_path / "docs"
    seeds.mkdir()
    (seeds / "quick.md").write_text(
        "# quick\n\nquick is a small command-line tool that summarises log files by severity.\n\n"
        "## Install\n\nRun the installer from the release page.\n", "utf-8")
    (seeds / "other.txt").write_text("Harbour fees are paid at the office beside the north pier.\n", "utf-8")
    settings = make_settings(seeds)
    build(settings, embedder=embedder)
    answer = build_assistant(settings, embedder=embedder).answer("What is quick?")
    assert not answer.abstained and "summarises log files" in answer.text, answer.text
    assert all(not sentences.is_label(c.quote) for c in answer.citations)


@pytest.mark.parametrize("question, sentence, defining", [
    ("What is flex?", "flex is a tool for generating scanners: programs which recognize lexical patterns.", True),
    ("What is flex?", "The flex distribution contains the following files which may be of interest:", False),
    ("What is a coroutine in Lua?", "A coroutine in Lua represents an independent thread of execution.", True),
    ("what does VACUUM actually do in postgres?", "VACUUM reclaims storage occupied by dead tuples.", True),
    ("What's quilt, in the context of Debian packaging?", "• quilt - this package helps you manage patches.", True),
    ("What's quilt, in the context of Debian packaging?", "The quilt command is explained in quilt(1).", False),
    ("What is Tesla's most famous invention?", "Tesla is known for alternating current.", False),
])
def test_what_is_prefers_the_defining_sentence(question, sentence, defining):
    from qa.extractive.answerer import defined_term, defines

    assert (defines(defined_term(question), sentence) == 1.0) is defining


def test_how_to_lead_in_scope_and_names_of_letters_and_digits():
    from qa.extractive import abstain
    from qa.extractive.answerer import asks_how_to

    assert asks_how_to("rsync: how do I get it to create the missing directories?")
    assert asks_how_to("m4 leaves an empty line. How do I get rid of it?") and asks_how_to("how to install it")
    assert not asks_how_to("How many fields make up one line?") and not asks_how_to("How did the war end?")
    assert sentences.is_lead_in("You can select it for a single run with the -p switch, for instance:")
    assert not sentences.is_lead_in("Ghostscript uses U.S. letter paper as its default page size.")
    assert abstain.scope("What is the default HISTSIZE in zsh?") == "zsh"
    assert abstain.scope("What is a coroutine in Lua?") == "lua" and abstain.scope("Where is it in?") is None
    assert abstain.unseen_scope("What is the default HISTSIZE in zsh?", abstain.words_of("The bash manual: HISTSIZE"))
    assert not abstain.unseen_scope("What is a coroutine in Lua?", abstain.words_of("Lua 5.1 Reference Manual"))
    said = "The default value is three connections per server."
    assert abstain.reasons("How many connections per server does aria2c open?", [said], "number", said) == ["name"]
    assert abstain.reasons("How many connections per server does the client open?", [said], "number", said) == []
    assert "readme" in abstain.front_matter([{"source": "docs/ssh-readme-tun.txt"}]).split()


HANDBOOK = """<!DOCTYPE html><html><head><title>quire — printing manual</title></head><body>
<nav><a href="/">Home</a> <a href="/docs">Docs</a></nav>
<main>
<h1>Choosing paper size</h1>
<p>quire is distributed configured to use A5 paper as its default page size.</p>
<p>If the desired paper size is listed in the section on paper sizes known to quire below, you can select it
as the default paper size for a single invocation of quire by using the -p switch, for instance:</p>
<pre>quire -p a4 report.txt
quire -p legal letter.txt</pre>
<h2>Blank lines</h2>
<p>The empty line in the output is there because the newline after a macro is not a part of the macro
definition, and it is consequently copied to the output. This can be avoided by use of the macro skipnl.</p>
<h2>Ledgers</h2>
<p>The quire ledger file format stores one entry per physical line in the file, with each field of the line
separated with a comma.</p>
<p>Each line of a quire ledger file that specifies a single entry consists of nine text fields separated with
commas.</p>
</main></body></html>"""


@pytest.mark.slow
def test_answer_choice_on_a_real_page(tmp_path, make_settings, embedder):
    """A lead-in sentence is no fact answer but, for a how-to question, is quoted with its command block; a
    how-to answer goes on to the next sentence that gives the means; a how-many question takes the sentence
    tied with the best that holds a number; a question about another program ("in groff?") or naming an unknown one
    ("lpx42") abstains. All but the first failed before: the how-to quote stopped at the colon, the blank-line
    question was answered with a code line, the fields question abstained, the other programs got answers."""
    from index.builds.build import build
    from qa.pipeline import build_assistant

    seeds = tmp_path / "docs"
    seeds.mkdir()
    (seeds / "quire-handbook.html").write_text(HANDBOOK, "utf-8")
    (seeds / "harbour.txt").write_text(PARAGRAPH + "\n", "utf-8")
    settings = make_settings(seeds)
    build(settings, embedder=embedder)
    assistant = build_assistant(settings, embedder=embedder)
    ask = assistant.answer

    fact = ask("quire default paper size?")
    assert "A5 paper as its default page size" in fact.text and "for instance:" not in fact.text, fact.text
    how = ask("How do I select a paper size for a single invocation of quire?")
    quoted = " ".join(c.quote for c in how.citations)
    assert "for instance:" in quoted and "quire -p a4 report.txt\nquire -p legal letter.txt" in quoted, quoted
    blank = ask("quire leaves an empty line in the output where my macro was. How do I get rid of it?")
    assert "skipnl" in blank.text, blank.text
    fields = ask("How many comma-separated fields make up one line of a quire ledger file?")
    assert not fields.abstained and "nine" in fields.text, fields.text
    assert ask("What is the default page size in groff?").abstained
    assert ask("Which paper size does lpx42 use by default?").abstained


@pytest.mark.parametrize("text, code", [
    ("quire -p a4 report.txt\nquire -p legal letter.txt", True),
    ("python3 -m venv env\nsource env/bin/activate\n    pip install requests", True),
    ("$ make\n$ make install", True),
    ("The quick tool reads a file and writes\na summary of what it holds.", False),
    ("- first item of a list\n- second item", False),
    ("quire -p a4 report.txt", False),  # one line: a label or a sentence, judged as such
])
def test_code_blocks_are_told_from_prose(text, code):
    assert sentences.is_code_block(text) is code
