"""Ingestion benchmark: every supported format, ours against LangChain's community loaders, plus one
cited question per format.

    .venv/bin/python bench/ingest_bench.py [--files 8] [--repeats 3] [--seed 0] [--no-questions]

1. Generates a mixed corpus in a temp dir: `--files` documents of every format (text, Markdown, rst,
   HTML, PDF with a text layer, scanned PDF, Word, OpenDocument, PowerPoint, Excel, CSV, TSV, EPUB,
   e-mail, mbox, PNG, JPEG, TIFF), each written with its own library from seeded random prose.
2. Reads every file with our loader (`index.ingest.load.load`, in this process), with the capped reader process
   the build uses (`index.ingest.isolate.Reader`), and with the LangChain community loader for the format where
   one exists without `unstructured` (TextLoader, BSHTMLLoader, PyPDFLoader, Docx2txtLoader, CSVLoader).
   The three are interleaved per format; each figure is the median of `--repeats` passes. Prints files/s
   and characters/s per format (characters: the text each loader returns).
3. Indexes `testkit.samples.format_corpus` (one document per format, one question each) with the real model
   and Chroma, asks each question, and checks that the first citation of the expected file is at the
   expected place (slide, sheet and row, chapter, message, page).
"""
from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import harness  # noqa: F401 (puts the checkout on sys.path)
from index.ingest.isolate import Reader
from index.ingest.load import FORMATS, load
from testkit import samples as s

WORDS = ("harbour tide ship coast river delta merchant salt copper wool town comet ledger keeper lamp ferry "
         "pier storm herring cargo schooner anchor beacon reef dredging crane warehouse customs pilot").split()


def prose(rng: random.Random, sentences: int) -> str:
    """Seeded random sentences."""
    out = []
    for _ in range(sentences):
        words = [rng.choice(WORDS) for _ in range(rng.randint(8, 16))]
        out.append(" ".join(words).capitalize() + ".")
    return " ".join(out)


def generate(root: Path, n: int, rng: random.Random) -> dict[str, list[Path]]:
    """`n` files of every format under `root`, by kind (the scanned PDF is its own kind)."""
    root.mkdir(parents=True, exist_ok=True)
    kinds: dict[str, list[Path]] = {}
    for i in range(n):
        for kind, path in _one_of_each(root, i, rng):
            kinds.setdefault(kind, []).append(path)
    return kinds


def _one_of_each(root: Path, i: int, rng: random.Random):
    paras = [prose(rng, 5) for _ in range(12)]
    text = "\n\n".join(paras)
    rows = [["Ship", "Captain", "Port", "Tonnes"]] + [[rng.choice(WORDS).title(), rng.choice(WORDS).title(),
                                                       rng.choice(WORDS).title(), str(rng.randint(1, 900))]
                                                      for _ in range(150)]
    day = dt.date(2023, 1, 1) + dt.timedelta(days=i)
    (root / f"t{i}.txt").write_text(text, "utf-8")
    (root / f"m{i}.md").write_text(f"# Log {i}\n\n" + text, "utf-8")
    (root / f"r{i}.rst").write_text(f"Log {i}\n======\n\n" + text, "utf-8")
    (root / f"h{i}.html").write_text("<html><head><title>Log</title></head><body>"
                                     + "".join(f"<p>{p}</p>" for p in paras) + "</body></html>", "utf-8")
    yield "txt", root / f"t{i}.txt"
    yield "md", root / f"m{i}.md"
    yield "rst", root / f"r{i}.rst"
    yield "html", root / f"h{i}.html"
    yield "pdf", s.write_pdf(root / f"p{i}.pdf", [" ".join(paras[k:k + 3]) for k in range(0, 12, 3)])
    yield "pdf (scanned)", s.write_scanned_pdf(root / f"scan{i}.pdf", [prose(rng, 3), prose(rng, 3)])
    yield "docx", s.write_docx(root / f"d{i}.docx", f"Log {i}", paras, table=rows[:20])
    yield "odt", s.write_odt(root / f"o{i}.odt", f"Log {i}", paras, table=rows[:20])
    yield "pptx", s.write_pptx(root / f"deck{i}.pptx", [(f"Slide {k}", paras[k], "") for k in range(10)])
    yield "xlsx", s.write_xlsx(root / f"x{i}.xlsx", {"Fleet": rows, "Crew": rows[:50]})
    yield "csv", s.write_csv(root / f"c{i}.csv", rows)
    yield "tsv", s.write_csv(root / f"c{i}.tsv", rows, delimiter="\t")
    yield "epub", s.write_epub(root / f"e{i}.epub", f"Book {i}", [(f"Chapter {k}", paras[k]) for k in range(6)])
    yield "eml", s.write_eml(root / f"mail{i}.eml", s.message("a@example.org", "b@example.org", day, f"Log {i}",
                                                              text))
    yield "mbox", s.write_mbox(root / f"box{i}.mbox", [s.message("a@example.org", "b@example.org", day, f"M{k}",
                                                                 paras[k]) for k in range(6)])
    yield "png", s.write_image(root / f"img{i}.png", prose(rng, 2))
    yield "jpg", s.write_image(root / f"img{i}.jpg", prose(rng, 2))
    yield "tiff", s.write_image(root / f"img{i}.tiff", [prose(rng, 2), prose(rng, 2)])


def langchain_loader(kind: str, path: Path):
    """LangChain's community loader for `kind`, or None where only an `unstructured`-based one exists."""
    from langchain_community import document_loaders as dl

    if kind in ("txt", "md", "rst"):
        return dl.TextLoader(str(path), encoding="utf-8")
    if kind == "html":
        return dl.BSHTMLLoader(str(path), open_encoding="utf-8")
    if kind.startswith("pdf"):
        return dl.PyPDFLoader(str(path))
    if kind == "docx":
        return dl.Docx2txtLoader(str(path))
    if kind in ("csv", "tsv"):
        return dl.CSVLoader(str(path), csv_args={"delimiter": "\t" if kind == "tsv" else ","})
    return None


def run_ours(paths: list[Path]) -> int:
    return sum(len(load(p, p.name).text) for p in paths)


def run_isolated(paths: list[Path], reader: Reader) -> int:
    return sum(len(reader.load(p, p.name).text) for p in paths)


def run_langchain(kind: str, paths: list[Path]) -> int:
    return sum(len(d.page_content) for p in paths for d in langchain_loader(kind, p).load())


def timed(fn) -> tuple[float, int]:
    started = time.perf_counter()
    chars = fn()
    return time.perf_counter() - started, chars


def measure(kinds: dict[str, list[Path]], repeats: int) -> list[dict]:
    """Per format: median seconds and characters for ours, ours isolated, and LangChain (interleaved)."""
    rows = []
    with Reader() as reader:
        run_isolated(kinds["txt"][:1], reader)  # start the worker outside the timings
        for kind, paths in kinds.items():
            runs: dict[str, list[tuple[float, int]]] = {"ours": [], "isolated": [], "langchain": []}
            has_lc = langchain_loader(kind, paths[0]) is not None
            run_ours(paths[:1]), run_isolated(paths[:1], reader)  # libraries imported outside the timings
            if has_lc:
                run_langchain(kind, paths[:1])
            for _ in range(repeats):
                runs["ours"].append(timed(lambda: run_ours(paths)))
                runs["isolated"].append(timed(lambda: run_isolated(paths, reader)))
                if has_lc:
                    runs["langchain"].append(timed(lambda: run_langchain(kind, paths)))
            rows.append({"kind": kind, "files": len(paths),
                         **{k: (statistics.median(t for t, _ in v), v[0][1]) if v else None for k, v in runs.items()}})
            print(f"  measured {kind}", file=sys.stderr, flush=True)
    return rows


def show(rows: list[dict]) -> None:
    def cell(m, files):
        if m is None:
            return f"{'—':>10} {'—':>12}"
        seconds, chars = m
        return f"{files / seconds:>10.1f} {chars / seconds:>12,.0f}"

    print(f"\n{'format':<15}{'files':>6}   {'ours files/s':>10} {'chars/s':>12}   {'isolated':>10} {'chars/s':>12}"
          f"   {'LangChain':>10} {'chars/s':>12}   {'chars ours / LangChain':>22}")
    for r in rows:
        ratio = f"{r['ours'][1]:,} / {r['langchain'][1]:,}" if r["langchain"] else "(no loader without unstructured)"
        print(f"{r['kind']:<15}{r['files']:>6}   {cell(r['ours'], r['files'])}   {cell(r['isolated'], r['files'])}"
              f"   {cell(r['langchain'], r['files'])}   {ratio:>22}")


def ask_each(root: Path) -> int:
    """Index the one-per-format corpus and ask its questions; returns the number answered at the right place."""
    from index.builds.build import build
    from index.settings import IndexSettings
    from qa.pipeline import build_assistant

    probes = s.format_corpus(root / "seeds")
    settings = IndexSettings(seeds_dir=root / "seeds", db_dir=root / "db")
    started = time.perf_counter()
    report = build(settings)
    print(f"\nindexed {report.files} files ({report.chunks} chunks, {sum(report.ocr_pages.values())} pages by OCR) "
          f"in {time.perf_counter() - started:.1f} s")
    assistant = build_assistant(settings)
    right = 0
    print(f"{'file':<14} {'expected':<13} {'first citation of the file':<34} ok")
    for p in probes:
        answer = assistant.answer(p.question)
        cited = [c for c in answer.citations if c.source == p.source and p.words in c.quote]
        where = (cited[0].unit or (f"p. {cited[0].page}" if cited[0].page else "")) if cited else None
        ok = cited and where == p.where
        right += bool(ok)
        shown = cited[0].location() if cited else (answer.citations[0].location() if answer.citations else "-")
        print(f"{p.source:<14} {p.where or 'lines':<13} {shown:<34} {'yes' if ok else 'NO'}")
    print(f"{right}/{len(probes)} answered from the right file at the right place")
    return right == len(probes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=8, help="documents per format")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-questions", action="store_true", help="skip indexing and asking")
    args = parser.parse_args(argv)
    assert set(FORMATS)  # the registry is what is measured
    with tempfile.TemporaryDirectory(prefix="ingest-bench-") as tmp:
        root = Path(tmp)
        kinds = generate(root / "corpus", args.files, random.Random(args.seed))
        print(f"corpus: {sum(map(len, kinds.values()))} files of {len(kinds)} kinds in {root / 'corpus'}",
              file=sys.stderr)
        show(measure(kinds, args.repeats))
        return 0 if args.no_questions or ask_each(root / "qa") else 1


if __name__ == "__main__":
    sys.exit(main())
