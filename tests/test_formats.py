"""Every supported format, written with its own library: exact text, a location per passage (slide, sheet
and row, chapter, message, page), metadata; scanned pages read by OCR with the real tesseract; and, with
the real model, each format indexed and answered with its location."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from conftest import assert_provenance
from index.formats.limits import ReadOptions
from index.ingest.chunk import chunk_doc
from index.ingest.discover import file_hash
from index.ingest.load import FORMATS, load
from index.types import SkipFile
from qa import wording
from testkit.samples import (
    format_corpus,
    message,
    write_csv,
    write_docx,
    write_eml,
    write_epub,
    write_image,
    write_mbox,
    write_odt,
    write_pdf,
    write_pdf_table,
    write_pptx,
    write_scanned_pdf,
    write_xlsx,
)

NO_OCR = ReadOptions(tesseract="")


def chunks_of(path: Path, size: int = 300, overlap: int = 50, options: ReadOptions = ReadOptions()):
    doc = load(path, path.name, options)
    chunks = chunk_doc(doc, file_hash(path), size, overlap)
    assert_provenance(doc, chunks)
    return doc, chunks


def unit_of(chunk, line: int | None = None) -> str:
    """The unit a citation of `line` (default: the chunk's first line) inside `chunk` would show."""
    line = line or chunk.start_line
    return wording.unit(chunk.metadata(), chunk.start_line, line, line)


def test_pptx_one_segment_per_slide_with_notes(tmp_path):
    path = write_pptx(tmp_path / "deck.pptx", [("Overview", "Quarterly review.", ""),
                                                ("Cargo", "Copper ingots to Bergen.\nTin to Leith.", "Mention tin.")])
    doc, chunks = chunks_of(path)
    assert [s.label for s in doc.segments] == ["slide 1", "slide 2"] and doc.pages == 2
    assert doc.title == "Overview"
    second = doc.text[doc.segments[1].start:doc.segments[1].end]
    assert second == "Cargo\nCopper ingots to Bergen.\nTin to Leith.\nNotes: Mention tin."
    assert [unit_of(c) for c in chunks] == ["slide 1", "slide 2"]


def test_xlsx_rows_with_headers_and_their_numbers(tmp_path):
    path = write_xlsx(tmp_path / "fleet.xlsx", {
        "Notes": [["Fleet register"]],
        "Fleet": [["Register of ships"], [], ["Ship", "Captain", "Tonnes", "Launched"],
                  ["Albatross", "Jonas Reed", 120.0, dt.datetime(1901, 3, 4)], [],
                  ["Kestrel", None, 75.5, None]]})
    doc, chunks = chunks_of(path)
    assert doc.pages == 2 and {s.label for s in doc.segments} == {"Notes", "Fleet"}
    lines = doc.text.split("\n")
    assert "Ship: Albatross | Captain: Jonas Reed | Tonnes: 120 | Launched: 1901-03-04" in lines
    assert "Ship: Kestrel | Tonnes: 75.5" in lines  # empty cells left out, the row still has its headers
    fleet = [c for c in chunks if c.label == "Fleet"]
    kestrel = next(c for c in fleet if "Kestrel" in c.text)
    line = kestrel.start_line + kestrel.text[:kestrel.text.index("Ship: Kestrel")].count("\n")
    assert unit_of(kestrel, line) == "Fleet row 6"  # the empty row 5 is skipped, the numbering holds
    albatross = next(c for c in fleet if "Albatross" in c.text)
    line = albatross.start_line + albatross.text[:albatross.text.index("Ship: Albatross")].count("\n")
    assert unit_of(albatross, line) == "Fleet row 4"
    assert wording.unit(albatross.metadata(), albatross.start_line, line, line + 1) == f"Fleet rows 4{wording.DASH}5"


@pytest.mark.parametrize("name, delimiter", [("catch.csv", ","), ("catch.tsv", "\t"), ("semi.csv", ";")])
def test_csv_and_tsv_records_with_headers(tmp_path, name, delimiter):
    rows = [["Boat", "Fish", "Note"], ["Sula", "herring", "small, silver"], ["Tern", "cod", "two\nlines"]]
    doc, chunks = chunks_of(write_csv(tmp_path / name, rows, delimiter))
    assert doc.text.split("\n") == ["Boat | Fish | Note", "Boat: Sula | Fish: herring | Note: small, silver",
                                    "Boat: Tern | Fish: cod | Note: two lines"]
    assert doc.title == Path(name).stem
    [chunk] = chunks
    assert unit_of(chunk, chunk.start_line + 2) == "row 3"


def test_epub_chapters_title_and_author(tmp_path):
    path = write_epub(tmp_path / "voyage.epub", "The Long Voyage",
                      [("Departure", "The crew left Hull."), ("Ice", "Trapped in pack ice.")], author="Ann Ross")
    doc, chunks = chunks_of(path)
    assert (doc.title, doc.meta["author"], doc.pages) == ("The Long Voyage", "Ann Ross", 2)
    assert [unit_of(c) for c in chunks] == ["chapter 1", "chapter 2"]
    assert "Trapped in pack ice." in chunks[1].text and "Hull" not in chunks[1].text


def test_odt_headings_paragraphs_and_table(tmp_path):
    path = write_odt(tmp_path / "mill.odt", "Arvika Mill", ["It pressed rag paper."],
                     table=[["Year", "Reams"], ["1890", "4000"]])
    doc, _ = chunks_of(path)
    assert doc.title == "Arvika Mill"
    assert doc.text == "Arvika Mill\n\nIt pressed rag paper.\n\nYear | Reams\nYear: 1890 | Reams: 4000"


def test_docx_tables_in_reading_order_rows_whole(tmp_path):
    table = [["Port", "Berth fee"]] + [[f"Harbour town number {n}", f"{100 + n} crowns per night"]
                                       for n in range(30)]
    path = write_docx(tmp_path / "fees.docx", "Fees", ["Paragraph before the table."], table=table)
    doc, chunks = chunks_of(path, size=120, overlap=20)
    assert doc.text.startswith("Fees\n\nParagraph before the table.\n\nPort | Berth fee\nPort: Harbour town")
    rows = [line for line in doc.text.split("\n") if line.startswith("Port: ")]
    assert len(rows) == 30
    for row in rows:  # every row lies whole inside some chunk: the chunker never cut one
        assert any(row in c.text for c in chunks), row


def test_pdf_table_rows_stay_on_their_lines(tmp_path):
    rows = [["Port", "Fee", "Currency"]] + [[f"Port{n}", str(100 + n), "EUR"] for n in range(25)]
    doc, chunks = chunks_of(write_pdf_table(tmp_path / "fees.pdf", "Harbour fees.", rows), size=100, overlap=10)
    for port, fee, currency in rows[1:]:
        line = f"{port} {fee} {currency}"
        assert line in doc.text.split("\n") and any(line in c.text for c in chunks), line


def test_eml_headers_become_metadata(tmp_path):
    msg = message("Alice Moreau <alice@example.org>", "Bob Tan <bob@example.org>", dt.date(2023, 5, 2),
                  "Harbour budget", "The budget is 12 million crowns.")
    doc, chunks = chunks_of(write_eml(tmp_path / "budget.eml", msg))
    assert (doc.title, doc.published) == ("Harbour budget", "2023-05-02")
    assert (doc.meta["author"], doc.meta["to"]) == ("Alice Moreau <alice@example.org>", "Bob Tan <bob@example.org>")
    meta = chunks[0].metadata()
    assert (meta["author"], meta["to"], meta["published"]) == (doc.meta["author"], doc.meta["to"], "2023-05-02")
    assert doc.text.startswith("From: Alice Moreau <alice@example.org>\nTo: Bob Tan <bob@example.org>\nDate: ")
    assert doc.text.endswith("Subject: Harbour budget\n\nThe budget is 12 million crowns.")


def test_eml_html_body_is_visible_text_only(tmp_path):
    msg = message("a@example.org", "b@example.org", dt.date(2024, 1, 2), "Hi",
                  "Seals <b>everywhere</b><script>alert('x')</script>", html=True)
    doc = load(write_eml(tmp_path / "hi.eml", msg), "hi.eml")
    assert "Seals everywhere" in doc.text and "alert" not in doc.text


def test_mbox_one_segment_per_message(tmp_path):
    day = dt.date(2023, 1, 9)
    path = write_mbox(tmp_path / "letters.mbox", [message("Ann <a@x.org>", "Ben <b@x.org>", day, "Nets", "Nets."),
                                                  message("Cy <c@x.org>", "Di <d@x.org>", day, "Seals", "212 pups.")])
    doc, chunks = chunks_of(path)
    assert [unit_of(c) for c in chunks] == ["message 1", "message 2"] and doc.pages == 2
    assert chunks[1].text.startswith("From: Cy <c@x.org>") and chunks[1].text.endswith("212 pups.")
    assert doc.published == "2023-01-09"


def test_rst_title_and_plain_text_variants(tmp_path):
    (tmp_path / "guide.rst").write_text("=====\nGuide\n=====\n\nIntro text.\n\nPart\n----\n\nMore.\n", "utf-8")
    (tmp_path / "notes.text").write_text("Plain notes.\n\nSecond paragraph.\n", "utf-8")
    assert load(tmp_path / "guide.rst", "guide.rst").title == "Guide"
    assert load(tmp_path / "notes.text", "notes.text").text == "Plain notes.\n\nSecond paragraph.\n"


def test_scanned_pdf_is_read_by_ocr_page_by_page(tmp_path):
    path = write_scanned_pdf(tmp_path / "scan.pdf", ["Parish register of births.",
                                                     "The Quillmere lighthouse was painted teal in 1897."])
    doc, chunks = chunks_of(path)
    assert [(s.page, s.ocr) for s in doc.segments] == [(1, True), (2, True)] and doc.ocr_pages == 2
    page2 = next(c for c in chunks if c.page == 2)
    assert "lighthouse was painted teal in 1897" in page2.text and page2.metadata()["ocr"] is True


def test_pdf_with_text_and_scanned_pages_reads_both(tmp_path):
    from pypdf import PdfReader, PdfWriter

    write_pdf(tmp_path / "text.pdf", ["Typed page about cobalt-blue bottles."])
    write_scanned_pdf(tmp_path / "scan.pdf", ["Scanned page about oak barrels."])
    writer = PdfWriter()
    for part in ("text.pdf", "scan.pdf"):
        for page in PdfReader(tmp_path / part).pages:
            writer.add_page(page)
    writer.write(tmp_path / "mixed.pdf")
    doc = load(tmp_path / "mixed.pdf", "mixed.pdf")
    assert [(s.page, s.ocr) for s in doc.segments] == [(1, False), (2, True)]
    assert "oak barrels" in doc.text and not doc.notes
    no_ocr = load(tmp_path / "mixed.pdf", "mixed.pdf", NO_OCR)  # without OCR: indexed, with a note
    assert "oak barrels" not in no_ocr.text and "pages 2 scanned, no OCR" in no_ocr.notes[0]


@pytest.mark.parametrize("name", ["sign.png", "notice.jpg", "fax.tiff"])
def test_images_are_read_by_ocr(tmp_path, name):
    pages = ["Fax cover page.", "The cooper Tobias Hale built oak barrels."] if name.endswith("tiff") else \
        "Harbour office closed on Sundays."
    doc, chunks = chunks_of(write_image(tmp_path / name, pages))
    assert all(s.ocr for s in doc.segments)
    if name.endswith("tiff"):
        assert doc.pages == 2 and next(c for c in chunks if c.page == 2).text == pages[1]
    else:
        assert doc.text == pages


@pytest.mark.parametrize("name", ["scan.pdf", "sign.png"])
def test_without_ocr_a_scan_is_reported_never_silently_dropped(tmp_path, name):
    path = tmp_path / name
    write_scanned_pdf(path, ["Some scanned words."]) if name.endswith(".pdf") else write_image(path, "Words.")
    with pytest.raises(SkipFile, match="scanned, no OCR") as err:
        load(path, name, NO_OCR)
    assert "tesseract" in str(err.value)


def test_the_corpus_covers_every_registered_format(tmp_path):
    probes = format_corpus(tmp_path)
    covered = {Path(p.source).suffix for p in probes}
    aliases = {".text": ".txt", ".markdown": ".md", ".htm": ".html", ".xhtml": ".html", ".jpeg": ".jpg",
               ".tif": ".tiff"}
    assert {aliases.get(ext, ext) for ext in FORMATS} == covered
    for p in probes:
        assert p.words in load(tmp_path / p.source, p.source).text, p.source


@pytest.mark.slow
def test_each_format_is_indexed_and_answered_with_its_location(tmp_path, qa_cli, embedder, clean_qa_env):
    from index.settings import IndexSettings
    from qa.pipeline import build_assistant

    seeds, db = tmp_path / "seeds", tmp_path / "db"
    probes = format_corpus(seeds)
    done = qa_cli("index", "--seeds", seeds, "--db", db, "--json")
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert report["files"] == len(probes) and report["skipped"] == []
    assert {o["path"]: o["pages"] for o in report["ocr"]} == {"scanned.pdf": 2, "sign.png": 1, "notice.jpg": 1,
                                                              "fax.tiff": 2}
    assert report["ocr_pages"] == 6
    assistant = build_assistant(IndexSettings(seeds_dir=seeds, db_dir=db), embedder=embedder)
    wrong = []
    for p in probes:
        answer = assistant.answer(p.question)
        cited = [c for c in answer.citations if c.source == p.source and p.words in c.quote]
        where = [c.unit or (f"p. {c.page}" if c.page else "") for c in cited]
        if not cited or p.where not in where:
            wrong.append((p.source, p.question, [c.location() for c in answer.citations], answer.text[:200]))
        for c in answer.citations:
            assert load(seeds / c.source, c.source).text[c.start:c.end] == c.quote
        if cited and p.where:
            assert cited[0].location() == f"{p.source}, {p.where}"
    assert not wrong, wrong
