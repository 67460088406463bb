"""A hostile seeds folder: 50+ broken, strange or dangerous files beside 3 good ones.

Every bad file is either reported in `report.skipped` with a non-empty reason or (when it
really is text) indexed; nothing crashes the run; the good files are indexed and answered
with exact citations. The same corpus goes through the real `qa index --json` subprocess.
"""
from __future__ import annotations

import gzip
import io
import json
import os
import random
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import index_state
from index.builds.build import build
from index.generations import manifest as mf
from index.ingest.load import load
from index.vectorstore.live_store import ChromaStore
from qa.pipeline import build_assistant
from test_load import write_docx, write_pdf

SKIP, INDEX, EITHER = "skip", "index", "either"


@dataclass(frozen=True)
class Expect:
    """What must happen to one file: `skip` (with `reason` in the reason), `index`, or `either`."""

    outcome: str
    reason: str = ""


GOOD_TXT = ("date 2021-06-14 The Varnholt ferry crossing was closed in 1931 after the pier collapsed in a "
            "winter storm. Travellers afterwards used the coastal road through Pellmark. The old ferry house "
            "became a small museum of boats and nets.\n")
GOOD_PDF = ["The Ostrava glassworks exported cobalt-blue bottles to Lisbon from 1874. The furnaces burned "
            "beech wood from the nearby hills, and the bottles were packed in straw for the long voyage."]
GOOD_DOCX = ["Marisol Ventura designed the suspension bridge over the Tolen river in 1952.",
             "Her design used two granite towers and steel cables spun on site by the Arvika works."]
GOOD = {  # file -> (question, words the answer's first citation must quote)
    "good ferry.txt": ("When was the Varnholt ferry crossing closed?", "closed in 1931"),
    "good glass.pdf": ("What did the Ostrava glassworks export to Lisbon?", "cobalt-blue bottles"),
    "good bridge.docx": ("Who designed the suspension bridge over the Tolen river?", "Marisol Ventura"),
}
SECRET = "The vault combination is 7391-alpha; root:x:0:0 must never be quoted.\n"
PROSE = "The harbour master logged every ship that entered the bay, with its cargo and its port of origin. "


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def _pdf_bytes(text: str, **encryption) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    pdf.add_page()
    if text:
        pdf.multi_cell(0, 7, text)
    else:
        pdf.rect(20, 20, 50, 30)  # a page with a drawing and no text
    if encryption:
        pdf.set_encryption(**encryption)
    return bytes(pdf.output())


def _docx_bytes(paragraphs: list[str]) -> bytes:
    import docx

    document, buffer = docx.Document(), io.BytesIO()
    for p in paragraphs:
        document.add_paragraph(p)
    document.save(buffer)
    return buffer.getvalue()


def make_hostile(root: Path) -> dict[str, Expect]:
    """Write the good files and 50+ bad ones into `root`; return {source: Expect} for the bad ones."""
    root.mkdir(parents=True)
    (root / "good ferry.txt").write_text(GOOD_TXT, "utf-8")
    write_pdf(root / "good glass.pdf", GOOD_PDF, title="Glassworks")
    write_docx(root / "good bridge.docx", "Tolen Bridge", GOOD_DOCX)

    rng = random.Random(1234)
    noise = rng.randbytes(8000)
    real_pdf, real_docx = _pdf_bytes(PROSE * 5), _docx_bytes([PROSE * 5])
    files: dict[str, tuple[bytes, Expect]] = {
        # binary content under text extensions
        "random.txt": (noise, Expect(SKIP, "binary")),
        "random.md": (noise[::-1], Expect(SKIP, "binary")),
        "random.html": (noise[1000:], Expect(SKIP, "binary")),
        "png header.txt": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + noise[:2000], Expect(SKIP, "binary")),
        "elf.md": (b"\x7fELF\x02\x01\x01" + b"\x00" * 9 + noise[:3000], Expect(SKIP, "binary")),
        "gzip.txt": (gzip.compress(PROSE.encode() * 50, mtime=0), Expect(SKIP, "binary")),
        "nul heavy.txt": (b"text\x00\x00\x00more\x00" * 300, Expect(SKIP, "binary")),
        "control chars.txt": (bytes(range(1, 9)) * 500, Expect(SKIP, "binary")),
        # empty and whitespace-only
        "empty.txt": (b"", Expect(SKIP, "empty")),
        "empty.md": (b"", Expect(SKIP, "empty")),
        "empty.html": (b"", Expect(SKIP, "empty")),
        "empty.pdf": (b"", Expect(SKIP, "empty")),
        "empty.docx": (b"", Expect(SKIP, "empty")),
        "spaces.txt": (b" " * 4000, Expect(SKIP, "empty")),
        "blank lines.md": (b"\n\r\n\t\n   \n" * 100, Expect(SKIP, "empty")),
        "nbsp only.txt": ("\u00a0\u2003\u3000\n".encode() * 50, Expect(SKIP, "empty")),
        "bom only.txt": (b"\xef\xbb\xbf", Expect(SKIP, "empty")),
        "whitespace body.html": (b"<html><body>  \n\t  <p> </p><div>\n</div></body></html>", Expect(SKIP, "empty")),
        "front matter only.md": (b"---\ntitle: Nothing here\nauthor: Nobody\n---\n", Expect(SKIP, "empty")),
        "date header only.txt": (b" date 2024-01-01 ", Expect(SKIP, "empty")),
        # encodings: legitimately text, so indexing is fine; otherwise a reason
        "invalid utf8.txt": (PROSE.encode() + b"\xff\xfe\xfd broken \xc3\x28 bytes \xe2\x82 " + PROSE.encode(),
                             Expect(EITHER)),
        "latin1.txt": ("Caf\u00e9 cr\u00e8me on the quay, na\u00efve d\u00e9j\u00e0 vu. ".encode("latin-1") * 20,
                       Expect(EITHER)),
        "utf16 le no bom.txt": ((PROSE * 3).encode("utf-16-le"), Expect(EITHER)),
        "utf16 be no bom.md": ((PROSE * 3).encode("utf-16-be"), Expect(EITHER)),
        "utf16 odd length.txt": (b"\xff\xfe" + PROSE.encode("utf-16-le") + b"x", Expect(EITHER)),
        "utf32.txt": ((PROSE * 2).encode("utf-32"), Expect(EITHER)),
        "encoded surrogate.txt": (PROSE.encode() + b"\xed\xa0\x80" + PROSE.encode(), Expect(EITHER)),
        # PDFs
        "broken.pdf": (b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >>\nendobj\ngarbage", Expect(SKIP, "PDF")),
        "header only.pdf": (b"%PDF-1.4\n", Expect(SKIP, "PDF")),
        "truncated.pdf": (real_pdf[: len(real_pdf) // 2], Expect(EITHER)),
        "text as.pdf": (PROSE.encode() * 10, Expect(SKIP, "PDF")),
        "encrypted.pdf": (_pdf_bytes(PROSE, owner_password="owner", user_password="secret"),
                          Expect(SKIP, "encrypted")),
        "owner only encrypted.pdf": (_pdf_bytes(PROSE * 3, owner_password="owner"), Expect(EITHER)),
        "no text.pdf": (_pdf_bytes(""), Expect(SKIP, "no extractable text")),
        "zip as.pdf": (_zip({"a.txt": b"hello"}), Expect(SKIP, "PDF")),
        # Word documents
        "zip renamed.docx": (_zip({"hello.txt": PROSE.encode()}), Expect(SKIP, "not a valid .docx")),
        "text as.docx": (PROSE.encode() * 5, Expect(SKIP, "not a valid .docx")),
        "truncated.docx": (real_docx[: len(real_docx) // 2], Expect(SKIP, "not a valid .docx")),
        "bad xml.docx": (_zip({"[Content_Types].xml": b"<Types", "word/document.xml": b"<<<not xml"}),
                         Expect(SKIP, "not a valid .docx")),
        "no paragraphs.docx": (_docx_bytes([]), Expect(SKIP, "empty")),
        # HTML
        "scripts no body.html": (b"<html><head><script>var token = 'x';</script><style>p{color:red}</style>"
                                 b"<script src='https://example.com/track.js'></script></head></html>",
                                 Expect(SKIP, "empty")),
        "only comments.htm": (b"<!-- nothing to see --><!-- still nothing -->", Expect(SKIP, "empty")),
        "noscript template.html": (b"<body><noscript>enable js</noscript><template><p>x</p></template></body>",
                                   Expect(SKIP, "empty")),
        "deeply nested.html": (b"<div>" * 5000 + PROSE.encode() + b"</div>" * 5000, Expect(EITHER)),
        "unclosed tags.html": (b"<html><body><p>" + PROSE.encode() + b"<b><i><table><tr><td>cell", Expect(EITHER)),
        # other formats with broken content; unsupported types (reported, never opened)
        "program.exe": (b"MZ" + noise[:1000], Expect(SKIP, "unsupported")),
        "photo.jpg": (b"\xff\xd8\xff\xe0" + noise[:1000], Expect(SKIP, "not a valid image")),
        "table.csv": (b"a,b,c\n1,2,3\n", Expect(INDEX)),
        "data.json": (b'{"a": 1}', Expect(SKIP, "unsupported")),
        "old word.doc": (b"\xd0\xcf\x11\xe0" + noise[:1000], Expect(SKIP, "unsupported")),
        "sheet.xlsx": (_zip({"xl/workbook.xml": b"<x/>"}), Expect(SKIP, "not a valid .xlsx")),
        "deck.pptx": (_zip({"hello.txt": b"not a deck"}), Expect(SKIP, "not a valid .pptx")),
        "book.epub": (noise[:3000], Expect(SKIP, "not a valid .epub")),
        "mail.eml": (noise[:3000], Expect(SKIP, "binary")),
        "scan.tiff": (b"II*\x00" + noise[:2000], Expect(SKIP, "not a valid image")),
        "archive.tar.gz": (gzip.compress(b"x", mtime=0), Expect(SKIP, "unsupported")),
        "README": (PROSE.encode(), Expect(SKIP, "unsupported")),
        "notes.rtf": (b"{\\rtf1 hello}", Expect(SKIP, "unsupported")),
        "trailing dot.": (PROSE.encode(), Expect(SKIP, "unsupported")),
        # strange names with good text: must be indexed
        "name with  spaces .txt": (PROSE.encode() * 3, Expect(INDEX)),
        "naïve ☃ 文件 émoji 🚢.md": ("# Ünïcode\n\n".encode() + PROSE.encode() * 3, Expect(INDEX)),
        "new\nline.txt": (PROSE.encode() * 3, Expect(INDEX)),
        "tab\tand 'quotes' \"x\".txt": (PROSE.encode() * 3, Expect(INDEX)),
        "-rf --rebuild.txt": (PROSE.encode() * 3, Expect(INDEX)),
        "SHOUT.TXT": (PROSE.upper().encode() * 3, Expect(INDEX)),
        "x" * 240 + ".txt": (PROSE.encode() * 3, Expect(INDEX)),
        "sub dir/deeper/inner.md": (b"# Inner\n\n" + PROSE.encode() * 3, Expect(INDEX)),
        # permissions (root ignores chmod 000, so reading may succeed)
        "unreadable.txt": (PROSE.encode() * 3, Expect(EITHER)),
        # oversized: a sparse 50 MB file, over the default 20 MB limit
        "huge.txt": (b"", Expect(SKIP, "too large")),
    }
    for name, (data, _) in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    with open(root / "huge.txt", "wb") as fh:
        fh.write(PROSE.encode())
        fh.truncate(50 * 2**20)  # sparse: 50 MB on paper, instantly
    (root / "unreadable.txt").chmod(0)
    expected = {name: e for name, (_, e) in files.items()}

    # a file name that is not valid UTF-8
    bad_name = os.fsencode(root) + b"/latin1 name \xe9\xff.txt"
    with open(bad_name, "wb") as fh:
        fh.write(PROSE.encode() * 3)
    expected["latin1 name \ufffd\ufffd.txt"] = Expect(SKIP, "not valid UTF-8")  # shown with U+FFFD

    # things that are not regular files, and links leading out of the folder (never followed: the corpus
    # is what is in seeds/), or to a file inside it (followed)
    outside = root.parent / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET, "utf-8")
    (outside / "secret.md").write_text(SECRET, "utf-8")
    links = {"loop a.txt": "loop b.txt", "loop b.txt": "loop a.txt", "self loop.md": "self loop.md",
             "dangling.pdf": "does/not/exist.pdf", "zero device.txt": "/dev/zero", "dir link.txt": "sub dir",
             "passwd.txt": "/etc/passwd", "secret link.txt": str(outside / "secret.txt"),
             "sub dir/up and out.md": "../../outside/secret.md", "inside link.txt": "sub dir/deeper/inner.md"}
    for name, target in links.items():
        os.symlink(target, root / name)
    os.symlink(".", root / "dir loop")
    os.symlink("..", root / "sub dir" / "up loop")
    os.mkfifo(root / "fifo.txt")
    expected |= {"loop a.txt": Expect(SKIP, "symlink"), "loop b.txt": Expect(SKIP, "symlink"),
                 "self loop.md": Expect(SKIP, "symlink"), "dangling.pdf": Expect(SKIP, "symlink"),
                 "zero device.txt": Expect(SKIP, "outside the seeds folder"),
                 "passwd.txt": Expect(SKIP, "outside the seeds folder"),
                 "secret link.txt": Expect(SKIP, "outside the seeds folder"),
                 "sub dir/up and out.md": Expect(SKIP, "outside the seeds folder"),
                 "inside link.txt": Expect(INDEX),
                 "dir link.txt": Expect(SKIP, "symlinked directory"),
                 "dir loop": Expect(SKIP, "symlinked directory"),
                 "sub dir/up loop": Expect(SKIP, "symlinked directory"),
                 "fifo.txt": Expect(SKIP, "not a regular file")}
    assert len(expected) >= 50
    return expected


def check_outcomes(expected: dict[str, Expect], skipped: dict[str, str], indexed: set[str]) -> None:
    """Every bad file is accounted for exactly as `expected` allows; collects all problems before failing."""
    problems = []
    for name, want in sorted(expected.items()):
        reason = skipped.get(name)
        if reason is not None and name in indexed:
            problems.append(f"{name!r}: both skipped and indexed")
        elif reason is not None:
            if want.outcome == INDEX:
                problems.append(f"{name!r}: should be indexed, skipped: {reason}")
            elif not reason.strip() or want.reason.lower() not in reason.lower():
                problems.append(f"{name!r}: reason {reason!r} lacks {want.reason!r}")
        elif name in indexed:
            if want.outcome == SKIP:
                problems.append(f"{name!r}: should be skipped ({want.reason}), was indexed")
        else:
            problems.append(f"{name!r}: neither skipped nor indexed")
    unknown = (set(skipped) | indexed) - set(expected) - set(GOOD)
    assert not unknown, f"unexpected entries: {sorted(unknown)}"
    assert not problems, "\n".join(problems)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> tuple[Path, dict[str, Expect]]:
    """The hostile seeds folder (written once for the module)."""
    root = tmp_path_factory.mktemp("hostile") / "seeds"
    expected = make_hostile(root)
    yield root, expected
    (root / "unreadable.txt").chmod(0o644)


def test_hostile_folder_is_indexed_without_a_crash(hostile, tmp_path, embedder):
    seeds, expected = hostile
    from index.settings import IndexSettings

    settings = IndexSettings(seeds_dir=seeds, db_dir=tmp_path / "db")
    report = build(settings, embedder=embedder)
    skipped = {s.path: s.reason for s in report.skipped}
    assert len(skipped) == len(report.skipped), "a file reported twice"
    indexed = set(mf.read(settings.db_dir).files)
    assert set(GOOD) <= indexed, sorted(skipped.items())
    check_outcomes(expected, skipped, indexed)
    assert all(r.strip() for r in skipped.values())
    state = index_state(settings)
    state.assert_consistent()
    records = ChromaStore(settings).records()
    assert {m["source"] for m in records[2]} == indexed
    assert not [d for d in records[1] if "vault combination" in d or "root:x:0:0" in d], "text from outside seeds/"

    assistant = build_assistant(settings, embedder=embedder)
    for source, (question, words) in GOOD.items():
        answer = assistant.answer(question)
        assert not answer.abstained, (question, answer.text)
        cited = [c for c in answer.citations if c.source == source]
        assert cited and words in cited[0].quote, (question, answer.citations)
        text = load(seeds / source, source).text
        for c in answer.citations:
            if c.source == source:
                assert text[c.start:c.end] == c.quote

    again = build(settings, embedder=embedder)  # a no-op run reports the same skips and changes nothing
    assert {s.path: s.reason for s in again.skipped} == skipped
    assert (again.added, again.updated, again.removed) == (0, 0, 0)


def test_hostile_folder_through_the_cli(hostile, tmp_path, qa_cli):
    seeds, expected = hostile
    done = qa_cli("index", "--seeds", seeds, "--db", tmp_path / "db", "--json")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    report = json.loads(done.stdout)
    skipped = {s["path"]: s["reason"] for s in report["skipped"]}
    indexed = set(mf.read(tmp_path / "db").files)
    assert set(GOOD) <= indexed
    check_outcomes(expected, skipped, indexed)
    assert report["files"] == len(indexed)

    asked = qa_cli("ask", GOOD["good bridge.docx"][0], "--seeds", seeds, "--db", tmp_path / "db", "--json")
    assert asked.returncode == 0 and "Traceback" not in asked.stderr, asked.stderr[-3000:]
    answer = json.loads(asked.stdout)
    assert not answer["abstained"] and "Marisol Ventura" in answer["citations"][0]["quote"]


@pytest.mark.parametrize("limit_mb, outcome", [(4, SKIP), (6, EITHER)])
def test_a_single_5mb_line(tmp_path, embedder, limit_mb, outcome):
    """One 5 MB line of words: over a 4 MB limit it is skipped with the reason; under a 6 MB limit, no crash."""
    from index.settings import IndexSettings

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "good ferry.txt").write_text(GOOD_TXT, "utf-8")
    rng = random.Random(5)
    words = "harbour tide ship coast river delta merchant salt copper wool town comet".split()
    line = " ".join(rng.choice(words) for _ in range(5 * 2**20 // 6))
    line = line[: 5 * 2**20 - 60] + " the keeper Quintus Brask rowed out alone"
    (seeds / "one line.txt").write_text(line, "utf-8")
    # Large chunks keep the embedding to ~260 passages (the model truncates each to 256 tokens).
    settings = IndexSettings(seeds_dir=seeds, db_dir=tmp_path / "db", max_file_mb=limit_mb,
                        chunk_size=20_000, chunk_overlap=0)
    report = build(settings, embedder=embedder)
    skipped = {s.path: s.reason for s in report.skipped}
    indexed = set(mf.read(settings.db_dir).files)
    check_outcomes({"one line.txt": Expect(outcome, "too large")}, skipped, indexed)
    index_state(settings).assert_consistent()
    if "one line.txt" in indexed:
        ids, docs, metas = ChromaStore(settings).records()
        pieces = [(d, m) for d, m in zip(docs, metas) if m["source"] == "one line.txt"]
        assert len(pieces) >= 5 * 2**20 // 20_000
        for doc, meta in pieces:
            assert line[meta["start"]:meta["end"]] == doc and meta["start_line"] == meta["end_line"] == 1
        assert max(m["end"] for _, m in pieces) == len(line)
