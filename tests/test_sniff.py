"""The upload check's idea of each content family comes from the one registry, `index.ingest.load.FORMATS`
(issue #27): every registered format's real sample passes it, and a format registered there alone (an
OpenDocument spreadsheet, written with odfpy) is accepted without touching `index.ingest.sniff`."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from index.ingest import load, sniff
from index.types import SkipFile
from testkit.samples import format_corpus

pytestmark = pytest.mark.unit

# The sample corpus writes one file per format; these extensions share a sample of another spelling.
ALIASES = {".text": ".txt", ".markdown": ".md", ".htm": ".html", ".xhtml": ".html", ".jpeg": ".jpg",
           ".tif": ".tiff"}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("formats")
    by_ext = {}
    for probe in format_corpus(root):
        by_ext.setdefault(Path(probe.source).suffix, root / probe.source)
    return by_ext


@pytest.mark.parametrize("ext", sorted(load.FORMATS))
def test_every_registered_format_passes_the_upload_check(ext, corpus, tmp_path):
    sample = tmp_path / ("sample" + ext)
    shutil.copy(corpus[ALIASES.get(ext, ext)], sample)
    sniff.check(sample, ext, load.FORMATS[ext].content)


def test_a_mismatch_is_still_refused(corpus, tmp_path):
    fake = tmp_path / "photo.docx"
    shutil.copy(corpus[".png"], fake)
    with pytest.raises(SkipFile, match="not a .docx file"):
        sniff.check(fake, ".docx", load.FORMATS[".docx"].content)


def write_ods(path: Path, rows: list[list[str]]) -> Path:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    table = Table(name="Sheet1")
    for row in rows:
        tr = TableRow()
        for value in row:
            cell = TableCell(valuetype="string")
            cell.addElement(P(text=value))
            tr.addElement(cell)
        table.addElement(tr)
    doc.spreadsheet.addElement(table)
    doc.save(str(path))
    return path


def test_a_format_registered_only_in_FORMATS_is_accepted(tmp_path, monkeypatch):
    sheet = write_ods(tmp_path / "tides.ods", [["Port", "Tide"], ["Ostrava Point", "nine metres"]])
    assert sniff.guess(sheet)[0] == ".ods"  # puremagic names the bytes an OpenDocument spreadsheet
    ods = load.Format("OpenDocument spreadsheet", load.load_odt, "odfpy", "lines", "zip")
    monkeypatch.setitem(load.FORMATS, ".ods", ods)
    sniff.check(sheet, ".ods", "zip")
