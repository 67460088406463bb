"""Real documents of every supported format, written with each format's own library, for the tests and
the ingestion benchmark (shared here because tests/ and bench/ never import each other).

Scanned pages are text rendered to an image with Pillow (its bundled font) and saved as an image-only
PDF, TIFF, PNG or JPEG: no text layer, so only OCR can read them. fpdf2 (the `[test]` extra) writes the
text PDFs; everything else uses the product's own dependencies.
"""
from __future__ import annotations

import datetime as dt
import io
import textwrap
import zipfile
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

SCAN_WIDTH, SCAN_FONT = 1700, 40


def write_pdf(path: Path, pages: list[str], title: str | None = None) -> Path:
    """A PDF with a text layer (fpdf2), one page per string."""
    from fpdf import FPDF

    pdf = FPDF()
    if title:
        pdf.set_title(title)
    pdf.set_font("Helvetica", size=11)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 7, text)
    pdf.output(str(path))
    return path


def write_pdf_table(path: Path, intro: str, rows: list[list[str]]) -> Path:
    """A PDF page with a paragraph and a ruled table (fpdf2's table)."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=10)
    pdf.add_page()
    pdf.multi_cell(0, 6, intro)
    pdf.ln(4)
    with pdf.table() as table:
        for row in rows:
            cells = table.row()
            for value in row:
                cells.cell(value)
    pdf.output(str(path))
    return path


def scan(text: str, width: int = SCAN_WIDTH, font_size: int = SCAN_FONT):
    """A white page image with `text` in black, as a scanner would give it (no text layer)."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=font_size)
    lines = [line for para in text.split("\n") for line in (textwrap.wrap(para, 60) or [""])]
    height = max(400, 120 + len(lines) * int(font_size * 1.5))
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    for n, line in enumerate(lines):
        draw.text((80, 60 + n * int(font_size * 1.5)), line, fill=0, font=font)
    return image


def write_scanned_pdf(path: Path, pages: list[str]) -> Path:
    """An image-only PDF: each page a scanned picture of its text."""
    images = [scan(t).convert("RGB") for t in pages]
    images[0].save(path, "PDF", resolution=150, save_all=True, append_images=images[1:])
    return path


def write_image(path: Path, text: str | list[str]) -> Path:
    """A PNG, JPEG or TIFF (by extension) of `text`; a list gives a multi-page TIFF."""
    pages = [scan(t) for t in ([text] if isinstance(text, str) else text)]
    fmt = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".tif": "TIFF", ".tiff": "TIFF"}[path.suffix.lower()]
    pages[0].save(path, fmt, save_all=len(pages) > 1, append_images=pages[1:])
    return path


def write_docx(path: Path, heading: str | None, paragraphs: list[str], core_title: str | None = None,
               table: list[list[str]] | None = None) -> Path:
    """A Word document (python-docx): a title heading, paragraphs, then a table when given."""
    import docx

    document = docx.Document()
    if core_title:
        document.core_properties.title = core_title
    if heading:
        document.add_heading(heading, level=0)
    for p in paragraphs:
        document.add_paragraph(p)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    document.save(str(path))
    return path


def write_pptx(path: Path, slides: list[tuple[str, str, str]]) -> Path:
    """A PowerPoint deck (python-pptx): one (title, body, speaker notes) per slide."""
    from pptx import Presentation

    prs = Presentation()
    for title, body, notes in slides:
        slide = prs.slides.add_slide(prs.slide_layouts[1])
        slide.shapes.title.text = title
        slide.placeholders[1].text = body
        if notes:
            slide.notes_slide.notes_text_frame.text = notes
    prs.save(str(path))
    return path


def write_xlsx(path: Path, sheets: dict[str, list[list]]) -> Path:
    """An Excel workbook (openpyxl): one sheet per name, rows from row 1."""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(str(path))
    return path


def write_csv(path: Path, rows: list[list[str]], delimiter: str = ",") -> Path:
    """Delimited text (the standard csv module)."""
    import csv

    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, delimiter=delimiter).writerows(rows)
    return path


def write_epub(path: Path, title: str, chapters: list[tuple[str, str]], author: str = "Ann Author") -> Path:
    """An EPUB (ebooklib): one XHTML document per (heading, text) chapter, in the spine in order."""
    from ebooklib import epub

    book = epub.EpubBook()
    book.set_identifier(f"sample-{path.stem}")
    book.set_title(title)
    book.set_language("en")
    book.add_author(author)
    items = []
    for n, (heading, text) in enumerate(chapters, 1):
        item = epub.EpubHtml(title=heading, file_name=f"chap_{n}.xhtml", lang="en")
        item.content = f"<html><body><h1>{heading}</h1><p>{text}</p></body></html>"
        book.add_item(item)
        items.append(item)
    book.toc = items
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = items
    epub.write_epub(str(path), book)
    return path


def write_odt(path: Path, title: str, paragraphs: list[str], table: list[list[str]] | None = None) -> Path:
    """An OpenDocument text (odfpy): a heading, paragraphs, then a table when given."""
    from odf import dc, opendocument, table as odf_table, text

    doc = opendocument.OpenDocumentText()
    doc.meta.addElement(dc.Title(text=title))
    doc.text.addElement(text.H(outlinelevel=1, text=title))
    for p in paragraphs:
        doc.text.addElement(text.P(text=p))
    if table:
        grid = odf_table.Table(name="Table1")
        for row in table:
            tr = odf_table.TableRow()
            for value in row:
                cell = odf_table.TableCell()
                cell.addElement(text.P(text=value))
                tr.addElement(cell)
            grid.addElement(tr)
        doc.text.addElement(grid)
    doc.save(str(path))
    return path


def message(sender: str, to: str, day: dt.date, subject: str, body: str, html: bool = False) -> EmailMessage:
    """An e-mail message (standard library), plain or HTML body."""
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, subject
    msg["Date"] = format_datetime(dt.datetime.combine(day, dt.time(9, 30), tzinfo=dt.timezone.utc))
    if html:
        msg.set_content(f"<html><body><p>{body}</p></body></html>", subtype="html")
    else:
        msg.set_content(body)
    return msg


def write_eml(path: Path, msg: EmailMessage) -> Path:
    """One message as an .eml file."""
    path.write_bytes(bytes(msg))
    return path


def write_mbox(path: Path, messages: list[EmailMessage]) -> Path:
    """Messages in an mbox file (standard library mailbox)."""
    import mailbox

    box = mailbox.mbox(str(path), create=True)
    try:
        for msg in messages:
            box.add(msg)
        box.flush()
    finally:
        box.close()
    return path


def zip_bomb_docx(path: Path, expanded_mb: int = 24) -> Path:
    """A small .docx whose document.xml expands to `expanded_mb` MB of (valid, repetitive) paragraphs."""
    buffer = io.BytesIO()
    write_docx_to = Path(path).with_suffix(".seed.docx")
    write_docx(write_docx_to, "Bomb", ["seed"])
    with zipfile.ZipFile(write_docx_to) as src, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED,
                                                                compresslevel=9) as out:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "word/document.xml":
                head, tail = data.split(b"<w:body>", 1)
                para = b"<w:p><w:r><w:t>all work and no play makes a dull document</w:t></w:r></w:p>"
                data = head + b"<w:body>" + para * (expanded_mb * 2**20 // len(para)) + tail
            out.writestr(info.filename, data)
    write_docx_to.unlink()
    path.write_bytes(buffer.getvalue())
    return path


def many_entries_zip(path: Path, entries: int) -> Path:
    """A .docx-named ZIP with `entries` tiny entries beside a real document (an entry-count bomb)."""
    write_docx(path, "Many parts", ["A document with very many parts."])
    with zipfile.ZipFile(path, "a") as zf:
        for n in range(entries):
            zf.writestr(f"filler/part{n}.xml", b"<x/>")
    return path


# --- a corpus with one file per format and one question each -------------------------------------------

@dataclass(frozen=True)
class Probe:
    """A question whose answer sits in one file at one place: `where` is the citation's unit or page
    (`slide 3`, `Fleet row 5`, `p. 2`) or "" for files located by lines; `words` must be in the quote."""

    source: str
    question: str
    words: str
    where: str


FILLER = ("The archive keeps letters, ledgers and maps from the coastal towns, sorted by year and by harbour. "
          "Visitors may read them in the reading room on weekdays.")


def format_corpus(root: Path) -> list[Probe]:
    """Write one document of every supported format into `root` (scanned pages included); return one probe
    per file."""
    root.mkdir(parents=True, exist_ok=True)
    day = dt.date(2023, 5, 2)
    (root / "ferry.txt").write_text(f"{FILLER}\n\nThe Varnholt ferry crossing was closed in 1931 after the "
                                    "pier collapsed in a winter storm.\n", "utf-8")
    (root / "keeper.md").write_text("# Keepers\n\nThe lighthouse keeper Ilse Brandt kept a diary of "
                                    f"ninety-one shipwrecks.\n\n{FILLER}\n", "utf-8")
    (root / "guide.rst").write_text("Guide\n=====\n\nThe Pellmark museum displays a whalebone sledge "
                                    f"from Greenland.\n\n{FILLER}\n", "utf-8")
    (root / "page.html").write_text(f"<html><head><title>Tides</title></head><body><p>{FILLER}</p><p>The spring "
                                    "tide at Ostrava Point rises nine metres above the reef.</p></body></html>")
    write_pdf(root / "report.pdf", [FILLER, "The Ostrava glassworks exported cobalt-blue bottles to Lisbon.",
                                    FILLER], title="Glassworks report")
    write_scanned_pdf(root / "scanned.pdf", ["Parish register of births and burials.",
                                             "The Quillmere lighthouse was painted teal in 1897."])
    write_docx(root / "bridge.docx", "Tolen Bridge", ["Marisol Ventura designed the suspension bridge over "
                                                      "the Tolen river.", FILLER],
               table=[["Port", "Berth fee"], ["Lisbon", "120 EUR"], ["Tromsdal", "340 NOK per night"]])
    write_odt(root / "mill.odt", "Mill", [FILLER, "The Arvika paper mill pressed rag paper for the royal mint."])
    write_pptx(root / "deck.pptx", [("Overview", "Quarterly review of the fleet.", ""),
                                    ("Harbours", "Four harbours were dredged this year.", ""),
                                    ("Cargo", "The schooner Mistral carried copper ingots to Bergen.", "Say it slowly.")])
    write_xlsx(root / "fleet.xlsx", {"Summary": [["Fleet register 2023"], ["Ships", 4]],
                                     "Fleet": [["Ship", "Captain", "Home port"], ["Albatross", "Jonas Reed", "Hull"],
                                               ["Mistral", "Oda Lind", "Bergen"], ["Kestrel", "Piet Vos", "Emden"],
                                               ["Halcyon", "Runa Falk", "Narvik"]]})
    write_csv(root / "catch.csv", [["Boat", "Fish", "Tonnes"], ["Sula", "herring", "12"], ["Merle", "cod", "7"],
                                   ["Tern", "mackerel", "31"]])
    write_csv(root / "lamps.tsv", [["Lamp", "Fuel"], ["North cape", "whale oil"], ["South cape", "paraffin"]],
              delimiter="\t")
    write_epub(root / "voyage.epub", "The Long Voyage", [("Departure", "The crew left Hull in April."),
                                                         ("Ice", "The brig Fortuna was trapped in pack ice for "
                                                                 "forty days.")])
    write_eml(root / "budget.eml", message("Alice Moreau <alice@example.org>", "Bob Tan <bob@example.org>", day,
                                           "Harbour budget", "The harbour dredging budget is 12 million crowns."))
    write_mbox(root / "letters.mbox", [message("Ann <ann@example.org>", "Ben <ben@example.org>", day, "Nets",
                                               "The nets arrive on Friday."),
                                       message("Cy <cy@example.org>", "Di <di@example.org>", day, "Seals",
                                               "Grey seals were counted on the Skerry rocks: 212 pups.")])
    write_image(root / "sign.png", "Harbour office closed on Sundays.")
    write_image(root / "notice.jpg", "Ferry tickets cost four crowns.")
    write_image(root / "fax.tiff", ["Fax cover page.", "The cooper Tobias Hale built oak barrels."])
    return [
        Probe("ferry.txt", "When was the Varnholt ferry crossing closed?", "closed in 1931", ""),
        Probe("keeper.md", "Who kept a diary of shipwrecks?", "Ilse Brandt", ""),
        Probe("guide.rst", "What does the Pellmark museum display?", "whalebone sledge", ""),
        Probe("page.html", "How high does the spring tide at Ostrava Point rise?", "nine metres", ""),
        Probe("report.pdf", "What did the Ostrava glassworks export to Lisbon?", "cobalt-blue bottles", "p. 2"),
        Probe("scanned.pdf", "What colour was the Quillmere lighthouse painted?", "teal", "p. 2"),
        Probe("bridge.docx", "What is the berth fee at Tromsdal?", "340 NOK", ""),
        Probe("mill.odt", "What did the Arvika paper mill press?", "rag paper", ""),
        Probe("deck.pptx", "What did the schooner Mistral carry to Bergen?", "copper ingots", "slide 3"),
        Probe("fleet.xlsx", "Who is the captain of the Kestrel?", "Piet Vos", "Fleet row 4"),
        Probe("catch.csv", "How many tonnes of mackerel did the Tern land?", "31", "row 4"),
        Probe("lamps.tsv", "What fuel did the South cape lamp burn?", "paraffin", "row 3"),
        Probe("voyage.epub", "How long was the brig Fortuna trapped in pack ice?", "forty days", "chapter 2"),
        Probe("budget.eml", "How big is the harbour dredging budget?", "12 million crowns", ""),
        Probe("letters.mbox", "How many grey seal pups were counted on the Skerry rocks?", "212 pups", "message 2"),
        Probe("sign.png", "On which day is the harbour office closed?", "Sundays", ""),
        Probe("notice.jpg", "How much do ferry tickets cost?", "four crowns", ""),
        Probe("fax.tiff", "What did the cooper Tobias Hale build?", "oak barrels", "p. 2"),
    ]


def pdf_bomb(path: Path, operators: int = 50_000, pages: int = 400) -> Path:
    """A PDF of a few tens of KB whose `pages` pages all draw one shared, compressed content stream of
    `operators` text operators (about 33 bytes each once inflated): each page takes pdfium tens of
    milliseconds (pypdf seconds) to extract, within its own per-stream parsing budget, so only a time
    limit stops the whole (about 16 s with pdfium)."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    font = DictionaryObject({NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
                             NameObject("/BaseFont"): NameObject("/Helvetica")})
    resources = DictionaryObject({NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})})
    stream = DecodedStreamObject()
    stream.set_data(b"BT /F1 12 Tf 10 10 Td (a) Tj ET\n" * operators)
    content = writer._add_object(stream.flate_encode())
    for _ in range(pages):
        page = writer.add_blank_page(612, 792)
        page[NameObject("/Resources")] = resources
        page[NameObject("/Contents")] = content
    writer.write(str(path))
    return path
