"""Loading every supported format into exact text + metadata, and chunking it with exact provenance."""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import EVAL, SEEDS, assert_provenance, copy_files
from index.ingest.chunk import chunk_doc
from index.ingest.discover import file_hash
from index.ingest.load import load
from testkit.samples import write_docx, write_pdf  # noqa: F401 (other tests import them from here)

PARAS = [
    "Alpha paragraph: the river delta floods every spring, and farmers plant rice on the new silt.",
    "Bravo paragraph: merchants in the harbour trade salt, copper and dyed wool with northern towns.",
    "Charlie paragraph: the old observatory recorded comets for three centuries before it closed.",
]
BODY = "\n\n".join(p + " " + p for p in PARAS) + "\n"


def load_chunks(path: Path, size: int = 300, overlap: int = 50):
    """Load `path` (source = its name) and chunk it; returns (doc, chunks)."""
    doc = load(path, path.name)
    return doc, chunk_doc(doc, file_hash(path), size, overlap)


def test_txt_date_header_becomes_published_and_is_not_indexed():
    seed = sorted(SEEDS.glob("*.txt"))[0]
    doc, chunks = load_chunks(seed, size=1000, overlap=200)
    assert_provenance(doc, chunks)
    header = f"date {doc.published}"
    assert doc.published == "2024-04-13"
    assert doc.text == seed.read_bytes().decode("utf-8")  # offsets index the file as it is on disk
    assert doc.text.lstrip().startswith(header)
    assert doc.segments[0].start >= doc.text.index(header) + len(header)
    assert not any(header in c.text for c in chunks)
    assert doc.title.startswith("Moscow [Russia]") and len(doc.title) <= 100


def test_txt_without_header_keeps_all_text(tmp_path):
    path = tmp_path / "plain.txt"
    path.write_text("Date palms grow here.\n\n" + BODY, "utf-8")
    doc, chunks = load_chunks(path)
    assert_provenance(doc, chunks)
    assert doc.published == "" and doc.segments[0].start == 0
    assert chunks[0].text.startswith("Date palms grow here.")


def test_markdown_front_matter_is_metadata(tmp_path):
    path = tmp_path / "story.md"
    path.write_text('---\ntitle: "Harbour Trade"\nsource: "The Coastal Times"\nauthor: Ann Lee\n'
                    'published: "2023-10-08"\nurl: https://example.org/harbour\n---\n\n# Ignored Heading\n\n'
                    + BODY, "utf-8")
    doc, chunks = load_chunks(path)
    assert_provenance(doc, chunks)
    assert (doc.title, doc.published) == ("Harbour Trade", "2023-10-08")
    meta = chunks[0].metadata()
    assert meta["source"] == "story.md"  # the file, not the front-matter source
    assert (meta["site"], meta["author"], meta["url"]) == ("The Coastal Times", "Ann Lee", "https://example.org/harbour")
    assert not any("author:" in c.text or "---" in c.text for c in chunks)
    assert len(chunks) > 1


def test_markdown_without_front_matter_takes_first_heading(tmp_path):
    path = tmp_path / "notes.markdown"
    path.write_text("Intro line.\n\n## Field Notes ##\n\n" + BODY, "utf-8")
    doc, chunks = load_chunks(path)
    assert_provenance(doc, chunks)
    assert doc.title == "Field Notes" and doc.meta == {}


def test_real_corpus_markdown(tmp_path):
    corpus = EVAL / "multihop-dev" / "corpus"
    name = "Business_World_A_deficit_budget_for_2024.md"
    [path] = copy_files(corpus, tmp_path, [name])
    doc, chunks = load_chunks(path, size=1000, overlap=200)
    assert_provenance(doc, chunks)
    assert doc.title == "A deficit budget for 2024"
    assert doc.published.startswith("2023-10-08")
    assert chunks[0].metadata()["site"] == "Business World"


def test_html_visible_text_only(tmp_path):
    path = tmp_path / "page.htm"
    path.write_text(
        "<!doctype html><html><head><title> Harbour Page </title><style>.secret-style{color:red}</style>"
        "<script>var secretToken = 42;</script></head><body><h1>Welcome</h1>"
        + "".join(f"<p>{p}</p>" for p in PARAS)
        + "<script>alert('evil popup')</script><noscript>enable javascript</noscript>"
        "<template><p>hidden template</p></template></body></html>", "utf-8")
    doc, chunks = load_chunks(path)
    assert_provenance(doc, chunks)
    assert doc.title == "Harbour Page"
    for hidden in ("secretToken", "secret-style", "evil popup", "enable javascript", "hidden template"):
        assert hidden not in doc.text
    assert all(p in doc.text for p in PARAS) and "Welcome" in doc.text


def test_pdf_text_per_page_with_page_numbers(tmp_path):
    words = ["alpha", "bravo", "charlie"]
    pages = [f"Page about {w}. " + f"The {w} topic is discussed at length here. " * 12 for w in words]
    path = write_pdf(tmp_path / "report.pdf", pages, title="Quarterly Report")
    doc, chunks = load_chunks(path)
    assert_provenance(doc, chunks)
    assert doc.title == "Quarterly Report"
    assert [s.page for s in doc.segments] == [1, 2, 3]
    assert {c.page for c in chunks} == {1, 2, 3}
    for c in chunks:
        others = [w for n, w in enumerate(words, 1) if n != c.page]
        assert words[c.page - 1] in c.text and not any(w in c.text for w in others)
        assert c.metadata()["page"] == c.page


def test_pdf_without_title_uses_first_line(tmp_path):
    doc = load(write_pdf(tmp_path / "untitled.pdf", ["Harvest Notes\n" + PARAS[0]]), "untitled.pdf")
    assert doc.title == "Harvest Notes"


@pytest.mark.parametrize("core_title, expected", [(None, "Ledger of the Harbour"), ("Core Title", "Core Title")])
def test_docx_paragraphs_and_title(tmp_path, core_title, expected):
    path = write_docx(tmp_path / "ledger.docx", "Ledger of the Harbour", PARAS + ["", "   "], core_title)
    doc, chunks = load_chunks(path, size=200, overlap=20)
    assert_provenance(doc, chunks)
    assert doc.title == expected
    assert doc.text == "\n\n".join(["Ledger of the Harbour"] + PARAS)


FRENCH = ("Le café de la gare était fermé. Nous avons mangé une crème brûlée à côté du théâtre, "
          "où les élèves étudiaient leur leçon de français.\n\nÇa a été une journée très agréable; "
          "même le garçon était poli. Le père a dû rester à la fenêtre.\n")


@pytest.mark.parametrize("encoding, bom", [
    ("utf-8", b"\xef\xbb\xbf"), ("utf-8", b""), ("latin-1", b""),
    ("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff"),
])
def test_text_encodings(tmp_path, encoding, bom):
    path = tmp_path / "encoded.txt"
    path.write_bytes(bom + FRENCH.encode(encoding))
    doc, chunks = load_chunks(path, size=120, overlap=20)
    assert doc.text == FRENCH  # BOM dropped, characters exact
    assert_provenance(doc, chunks)
    assert "".join(c.text for c in chunks).count("é") >= FRENCH.count("é")


def test_uppercase_extension_is_supported(tmp_path):
    path = tmp_path / "SHOUT.TXT"
    path.write_text(BODY, "utf-8")
    assert load(path, path.name).text == BODY
